//! Helpers the integration tests share: random and zero inputs, and reading and copying a store's variables.
#![allow(dead_code)] // each test crate uses some of them

use slim::prelude::*;

/// Uniform [0, 1) floats of `shape` on the CPU.
pub fn rand(shape: &[i64]) -> Tensor {
    Tensor::rand(shape, (Kind::Float, Device::Cpu))
}

/// Zeros of `shape` on the CPU.
pub fn zeros(shape: &[i64]) -> Tensor {
    Tensor::zeros(shape, (Kind::Float, Device::Cpu))
}

/// Every variable's full name, in creation order.
pub fn names(vs: &VarStore) -> Vec<String> {
    vs.variables().iter().map(|v| v.name().to_string()).collect()
}

/// Copies every variable of `from` into the variable of the same name in `to`.
pub fn copy_variables(from: &VarStore, to: &VarStore) {
    tch::no_grad(|| {
        for variable in from.variables() {
            let target = to.variable(variable.name()).unwrap_or_else(|| panic!("no variable {}", variable.name()));
            target.tensor().shallow_clone().copy_(variable.tensor());
        }
    });
}

/// The shape of the variable `name`; panics (failing the test) when there is none.
pub fn shape_of(vs: &VarStore, name: &str) -> Vec<i64> {
    vs.variable(name).unwrap_or_else(|| panic!("no variable {name}")).shape()
}

/// The fixtures' tiny net (tests/fixtures/tf and torch): a 3×3 conv to 3 channels, a spatial mean, 4 logits.
#[slim::model]
pub struct Tiny;

#[slim::model]
impl Tiny {
    fn forward(&self, inputs: &Tensor) -> Result<Tensor> {
        let net = conv2d(inputs, 3, [3, 3], scope = "conv1");
        let net = net.mean_dim(&[2i64, 3][..], false, Kind::Float);
        fully_connected(net, 4, activation_fn = None, scope = "logits")
    }
}

/// Asserts that `vs` holds every variable of `names`.
pub fn assert_variables(vs: &VarStore, names: &[&str]) {
    let missing: Vec<&&str> = names.iter().filter(|name| vs.variable(name).is_none()).collect();
    assert!(missing.is_empty(), "missing variables: {missing:?}");
}

/// Asserts each end point's shape: `(name, shape)` pairs.
pub fn assert_end_points(out: &ModelOutput, expected: &[(&str, [i64; 4])]) {
    for (name, shape) in expected {
        assert_eq!(out.end_points.get(name).map(Tensor::size), Some(shape.to_vec()), "{name}");
    }
}

/// Runs the peer script `benches/peers/<script>` with `python` on `case` (written into `dir` as JSON, the
/// script's one argument), asserting it succeeds; prints what it printed.
pub fn run_peer_script(python: &str, script: &str, dir: &std::path::Path, case: &serde_json::Value) {
    let case_path = dir.join(format!("{script}.json"));
    std::fs::write(&case_path, case.to_string()).unwrap();
    let output =
        std::process::Command::new(python).arg(format!("benches/peers/{script}")).arg(&case_path).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    println!("{stdout}");
}

/// A tensor's values, flattened, for a peer script's case.
pub fn float_values(tensor: &Tensor) -> Vec<f32> {
    Vec::<f32>::try_from(tensor.flatten(0, -1)).unwrap()
}

/// torchvision loads slim's exported state dict strictly (and gives slim's logits when `case` has them):
/// `benches/peers/torchvision_loads_slim_state_dict.py`.
pub fn torchvision_loads(python: &str, dir: &std::path::Path, case: &serde_json::Value) {
    run_peer_script(python, "torchvision_loads_slim_state_dict.py", dir, case);
}

/// PyTorch's `torch.jit.load` runs the module at `module` on `input` and must give `output` (1e-5):
/// `benches/peers/torch_jit_runs_slim_export.py`.
pub fn torch_jit_runs(python: &str, dir: &std::path::Path, module: &std::path::Path, input: &Tensor, output: &Tensor) {
    let case = serde_json::json!({
        "module": module, "input": float_values(input), "input_shape": input.size(), "output": float_values(output),
    });
    run_peer_script(python, "torch_jit_runs_slim_export.py", dir, &case);
}
