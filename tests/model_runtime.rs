//! Built models without macros: a hand-written `Model` impl, its variables from an example shape, replayed
//! forward passes, end points, divergence errors, summaries, and a layer written on slim's layer protocol.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use slim::model::{Built, Model};
use slim::prelude::*;

struct TinyNet {
    num_classes: i64,
    extra_layer: std::cell::Cell<bool>,
}

impl Model for TinyNet {
    const NAME: &'static str = "TinyNet";

    fn forward(&self, inputs: &Tensor) -> Result<Tensor> {
        let _scope = ArgScope::current().with(conv2d::Args::default().padding(Padding::Valid)).enter();
        let net = conv2d(inputs, 4, 3).scope("conv1").call()?;
        let net = repeat(&net, 2, Some("conv2"), |x| conv2d(x, 4, 1))?;
        let net = max_pool2d(&net, 2).scope("pool1").call()?;
        let net = flatten(&net)?;
        let net = if self.extra_layer.get() { fully_connected(&net, 8).call()? } else { net };
        fully_connected(&net, self.num_classes).activation_fn(None).scope("logits").call()
    }
}

fn tiny(vs: &VarStore) -> Built<TinyNet> {
    TinyNet { num_classes: 3, extra_layer: false.into() }.build(vs, "tiny", &[1, 2, 6, 6]).unwrap()
}

#[test]
fn build_creates_every_variable_from_the_example_shape() {
    let vs = VarStore::new(Device::Cpu);
    let net = tiny(&vs);
    let names: Vec<String> = net.variables().iter().map(|v| v.name().to_string()).collect();
    assert_eq!(
        names,
        [
            "tiny/conv1/weights",
            "tiny/conv1/biases",
            "tiny/conv2/conv2_1/weights",
            "tiny/conv2/conv2_1/biases",
            "tiny/conv2/conv2_2/weights",
            "tiny/conv2/conv2_2/biases",
            "tiny/logits/weights",
            "tiny/logits/biases",
        ]
    );
    assert_eq!(vs.variable("tiny/logits/weights").unwrap().shape(), [3, 16], "4 channels × 2 × 2 after the pool");
    assert_eq!(net.num_parameters(), (4 * 2 * 9 + 4) + 2 * (4 * 4 + 4) + (3 * 16 + 3));
    let layers: Vec<&str> = net.layer_names().collect();
    assert_eq!(layers, ["tiny/conv1", "tiny/conv2/conv2_1", "tiny/conv2/conv2_2", "tiny/pool1", "tiny/logits"]);
    let summary = net.summary().to_string();
    assert!(summary.contains("tiny/conv1/weights (4x2x3x3) [72]"), "{summary}");
    assert!(summary.contains(&format!("Total size of variables: {}", net.num_parameters())), "{summary}");
}

#[test]
fn forward_replays_the_same_variables_and_gives_end_points() {
    let vs = VarStore::new(Device::Cpu);
    let net = tiny(&vs);
    let x = Tensor::rand([5, 2, 6, 6], (Kind::Float, Device::Cpu));
    let count = vs.variables().len();
    let first = net.forward_t(&x, Mode::Train).unwrap();
    let second = net.forward_t(&x, Mode::Eval).unwrap();
    assert_eq!(vs.variables().len(), count, "replays create nothing");
    assert_eq!(first.output.size(), [5, 3]);
    assert!(first.output.allclose(&second.output, 1e-6, 1e-6, false));
    assert_eq!(first.end_points.len(), 5);
    assert_eq!(first.end_points.get("tiny/conv1").unwrap().size(), [5, 4, 4, 4]);
    assert_eq!(first.end_points.get("tiny/pool1").unwrap().size(), [5, 4, 2, 2]);
    assert!(first.end_points.get("tiny/logits").unwrap().equal(&first.output));
    // The replayed layers use the stored variables: a change to them shows in the next pass.
    let _ = tch::no_grad(|| vs.variable("tiny/logits/biases").unwrap().tensor().shallow_clone().fill_(1.0));
    let third = net.forward(&x).unwrap();
    assert!(third.allclose(&(&second.output + 1.0), 1e-5, 1e-5, false));
}

#[test]
fn bad_inputs_and_diverging_passes_are_errors() {
    let vs = VarStore::new(Device::Cpu);
    let net = tiny(&vs);
    let err = net.forward_t(&Tensor::rand([5, 2, 6], (Kind::Float, Device::Cpu)), Mode::Eval).unwrap_err();
    assert!(err.to_string().contains("tiny") && err.to_string().contains("rank 4, got shape [5, 2, 6]"), "{err}");
    let err = net.forward_t(&Tensor::rand([5, 3, 6, 6], (Kind::Float, Device::Cpu)), Mode::Eval).unwrap_err();
    assert!(err.to_string().contains("tiny/conv1") && err.to_string().contains("expects 2 input channels"), "{err}");
    net.definition().extra_layer.set(true);
    let err = net.forward_t(&Tensor::rand([5, 2, 6, 6], (Kind::Float, Device::Cpu)), Mode::Eval).unwrap_err();
    assert!(err.to_string().contains("same layers in the same order"), "{err}");
    net.definition().extra_layer.set(false);
    assert!(net.forward_t(&Tensor::rand([5, 2, 6, 6], (Kind::Float, Device::Cpu)), Mode::Eval).is_ok());
    let again = TinyNet { num_classes: 3, extra_layer: false.into() }.build(&vs, "tiny", &[1, 2, 6, 6]);
    assert!(matches!(again, Err(Error::DuplicateVariable { .. })), "building twice in one scope is an error");
}

#[test]
fn built_models_can_move_to_another_thread() {
    fn assert_send<T: Send>() {}
    assert_send::<Built<TinyNet>>();
}

/// A layer written outside slim on its protocol (`Layer`, `BuildLayer`, `ScopeArgs`): a learned scale whose
/// initial value arg scopes set.
mod scale {
    use slim::arg_scope::ScopeArgs;
    use slim::layers::{BuildLayer, Call, LayerScope};
    use slim::prelude::*;
    use slim::variables::{ModelVariableArgs, VariableArgs, model_variable};

    #[derive(Clone, Debug, Default)]
    pub struct Args {
        pub initial: Option<f64>,
    }

    impl ScopeArgs for Args {
        const OP_NAME: &'static str = "scale";
        const FIELDS: &'static [&'static str] = &["initial"];

        fn or(self, outer: &Self) -> Self {
            Args { initial: self.initial.or(outer.initial) }
        }

        fn set_fields(&self) -> Vec<&'static str> {
            self.initial.iter().map(|_| "initial").collect()
        }
    }

    #[derive(Debug)]
    pub struct Scale {
        name: String,
        factor: Tensor,
    }

    impl Layer for Scale {
        fn name(&self) -> &str {
            &self.name
        }

        fn forward(&self, x: &Tensor) -> Result<Tensor> {
            Ok(x * &self.factor)
        }
    }

    impl BuildLayer for Scale {
        type Args = Args;
        type Positional = ();
        const DEFAULT_SCOPE: &'static str = "Scale";
        const REPEAT_NAME: &'static str = "scale";

        fn build(scope: &LayerScope, inputs: &Tensor, (): (), args: Args) -> Result<(Self, Tensor)> {
            let initial = constant_initializer(args.initial.unwrap_or(1.0));
            let factor =
                model_variable("factor", &[1], ModelVariableArgs(VariableArgs::default().initializer(initial)))?;
            let layer = Scale { name: scope.name().to_string(), factor: factor.tensor().shallow_clone() };
            let out = layer.forward(inputs)?;
            Ok((layer, out))
        }
    }

    pub fn scale(inputs: &Tensor) -> Call<Scale> {
        Call::new(inputs, (), Args::default())
    }
}

struct Scaled;

impl Model for Scaled {
    const NAME: &'static str = "Scaled";

    fn forward(&self, inputs: &Tensor) -> Result<Tensor> {
        let _defaults = ArgScope::current().with(scale::Args { initial: Some(3.0) }).enter();
        let net = scale::scale(inputs).call()?;
        scale::scale(&net).args(scale::Args { initial: Some(0.5) }).scope("half").call()
    }
}

#[test]
fn a_layer_written_on_the_protocol_takes_arg_scopes_and_replays() -> Result<()> {
    let vs = VarStore::new(Device::Cpu);
    let built = Scaled.build(&vs, "scaled", &[1, 2])?;
    let names: Vec<String> = vs.variables().iter().map(|v| v.name().to_string()).collect();
    assert_eq!(names, ["scaled/Scale/factor", "scaled/half/factor"]);
    let out = built.forward(&Tensor::from_slice(&[2.0f32, 4.0]).view([1, 2]))?;
    assert_eq!(Vec::<f32>::try_from(out.view([-1])).unwrap(), [3.0, 6.0]);
    assert_eq!(built.layer_names().collect::<Vec<_>>(), ["scaled/Scale", "scaled/half"]);
    Ok(())
}

/// A net naming a tensor no layer returns (`end_point`): the end point is that tensor on every pass, under the
/// full scope name and relative to the model's scope; outside a model `end_point` hands its input back; an
/// empty name is an error.
struct Named;

impl Model for Named {
    const NAME: &'static str = "Named";

    fn forward(&self, inputs: &Tensor) -> Result<Tensor> {
        let net = fully_connected(inputs, 3).scope("fc").call()?;
        let doubled = end_point(&(&net * 2.0), "Doubled")?;
        Ok(doubled + 1.0)
    }
}

#[test]
fn end_point_names_a_computed_tensor_on_every_pass() {
    let vs = VarStore::new(Device::Cpu);
    let net = Named.build(&vs, "named", &[1, 2]).unwrap();
    for values in [[1.0f32, 2.0], [-3.0, 0.5]] {
        let out = net.forward_t(&Tensor::from_slice(&values).view([1, 2]), Mode::Eval).unwrap();
        let names: Vec<&str> = out.end_points.names().collect();
        assert_eq!(names, ["named/fc", "named/Doubled"]);
        let doubled = out.end_points.get("Doubled").unwrap();
        assert!(doubled.equal(out.end_points.get("named/Doubled").unwrap()));
        assert!(doubled.allclose(&(out.end_points.get("fc").unwrap() * 2.0), 1e-6, 1e-6, false));
        assert!((doubled + 1.0).equal(&out.output));
    }
    let x = Tensor::ones([2], (Kind::Float, Device::Cpu));
    assert!(end_point(&x, "free").unwrap().equal(&x), "outside a model: the input itself");
    assert!(end_point(&x, "").is_err());
}
