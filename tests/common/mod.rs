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

/// Runs `benches/peers/torchvision_loads_slim_state_dict.py` with `python` on `case` (written into `dir`):
/// torchvision loads slim's exported state dict strictly (and gives slim's logits when the case has them).
pub fn torchvision_loads(python: &str, dir: &std::path::Path, case: &serde_json::Value) {
    let case_path = dir.join("torchvision-case.json");
    std::fs::write(&case_path, case.to_string()).unwrap();
    let output = std::process::Command::new(python)
        .arg("benches/peers/torchvision_loads_slim_state_dict.py")
        .arg(&case_path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    println!("{stdout}");
}

/// Runs `benches/peers/torch_jit_runs_slim_export.py` with `python`: PyTorch's `torch.jit.load` runs the module
/// at `module` on `input` and must give `output` (1e-5).
pub fn torch_jit_runs(python: &str, dir: &std::path::Path, module: &std::path::Path, input: &Tensor, output: &Tensor) {
    let values = |tensor: &Tensor| Vec::<f32>::try_from(tensor.flatten(0, -1)).unwrap();
    let case = serde_json::json!({
        "module": module, "input": values(input), "input_shape": input.size(), "output": values(output),
    });
    let case_path = dir.join("torch-jit-case.json");
    std::fs::write(&case_path, case.to_string()).unwrap();
    let result = std::process::Command::new(python)
        .arg("benches/peers/torch_jit_runs_slim_export.py")
        .arg(&case_path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&result.stdout);
    assert!(result.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&result.stderr));
    println!("{stdout}");
}
