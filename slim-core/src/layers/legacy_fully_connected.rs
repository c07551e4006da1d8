//! `legacy_fully_connected`: TF-Slim's older dense layer, kept for models written against it: `weights` and
//! `bias` (not `biases`) in the `weights` and `biases` collections rather than the model variables, no
//! normalizer, linear by default, its output in the `activations` collection.

use tch::{Kind, Tensor};

use super::activation::{Activation, apply_activation};
use super::layer_scope::{LayerScope, collect};
use super::protocol::{BuildLayer, HasVariables};
use super::types::Collections;
use crate::arg_scope::scope_args;
use crate::backend::dense_product::dense;
use crate::initializers::{Initializer, xavier_initializer};
use crate::model::tape::Layer;
use crate::regularizers::Regularizer;
use crate::variables::{VarStore, VariableOptions, get_or_create};
use crate::{Error, Result};

scope_args! {
    /// The arguments of [`legacy_fully_connected`](fn@legacy_fully_connected).
    pub struct Args => Options for "legacy_fully_connected" [Call] {
        /// Activation (default none: linear).
        activation_fn: Option<Activation> = None,
        /// Weights initializer (default xavier uniform).
        weight_init: Initializer = xavier_initializer(true),
        /// Bias initializer (default zeros; `None` for no bias).
        bias_init: Option<Initializer> = Some(Initializer::Zeros),
        /// Collections of the weights besides the global variables (default `weights`).
        weight_collections: Collections = Collections::from("weights"),
        /// Collections of the bias besides the global variables (default `biases`).
        bias_collections: Collections = Collections::from("biases"),
        /// Collections the output is added to (default `activations`).
        output_collections: Collections = Collections::from("activations"),
        /// Whether the variables are trainable (default true).
        trainable: bool = true,
        /// Weights regularizer (default none).
        weight_regularizer: Option<Regularizer> = None,
        /// Bias regularizer (default none).
        bias_regularizer: Option<Regularizer> = None,
    }
}

/// A call of [`legacy_fully_connected`](fn@legacy_fully_connected) being configured; finish it with
/// [`Call::call`](super::Call::call).
pub type Call = super::Call<LegacyFullyConnected>;

/// TF-Slim's `legacy_fully_connected(x, num_output_units, …)` on the last axis of an input of rank 2 or more, scope
/// `fully_connected` (made unique). `weights` are `[num_output_units, in_features]` (TF's `[in, out]` in slim's
/// layout) and `bias` `[num_output_units]`; TF-Slim's `legacy_relu` is this with `activation_fn = relu`.
pub fn legacy_fully_connected(x: &Tensor, num_output_units: i64) -> Call {
    Call::new(x, num_output_units, Args::default())
}

impl BuildLayer for LegacyFullyConnected {
    type Args = Args;
    type Positional = i64;
    const DEFAULT_SCOPE: &'static str = "fully_connected";
    const REPEAT_NAME: &'static str = "legacy_fully_connected";

    fn build(scope: &LayerScope, x: &Tensor, num_output_units: i64, args: Args) -> Result<(Self, Tensor)> {
        let o = args.resolve();
        let shape = x.size();
        let in_features = match shape.last() {
            Some(&features) if shape.len() >= 2 => features,
            _ => return Err(Error::invalid(&scope.name, format!("rank of x must be at least 2, got shape {shape:?}"))),
        };
        if num_output_units < 1 {
            return Err(Error::invalid(
                &scope.name,
                format!("num_output_units must be positive, got {num_output_units}"),
            ));
        }
        let variable = |name: &str,
                        shape: &[i64],
                        initializer: &Initializer,
                        regularizer: &Option<Regularizer>,
                        collections: &Collections| {
            let options = VariableOptions {
                kind: Kind::Float,
                initializer: initializer.clone(),
                regularizer: regularizer.clone(),
                trainable: o.trainable,
                collections: collections.0.clone(),
            };
            get_or_create(name, shape, &options, false, None).map(|v| v.tensor().shallow_clone())
        };
        let weights = variable(
            "weights",
            &[num_output_units, in_features],
            &o.weight_init,
            &o.weight_regularizer,
            &o.weight_collections,
        )?;
        let bias = match &o.bias_init {
            Some(init) => Some(variable("bias", &[num_output_units], init, &o.bias_regularizer, &o.bias_collections)?),
            None => None,
        };
        let layer = LegacyFullyConnected {
            name: scope.name.clone(),
            weights,
            bias,
            in_features,
            activation: o.activation_fn,
            outputs: o.output_collections,
            store: scope.store.clone(),
        };
        let out = layer.forward(x)?;
        Ok((layer, out))
    }
}

impl HasVariables for LegacyFullyConnected {}

/// A built `legacy_fully_connected` layer.
#[derive(Debug)]
pub struct LegacyFullyConnected {
    name: String,
    weights: Tensor,
    bias: Option<Tensor>,
    in_features: i64,
    activation: Option<Activation>,
    outputs: Collections,
    store: VarStore,
}

impl Layer for LegacyFullyConnected {
    fn name(&self) -> &str {
        &self.name
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let shape = x.size();
        if shape.len() < 2 || shape.last() != Some(&self.in_features) {
            return Err(Error::invalid(
                &self.name,
                format!(
                    "expects input of rank 2 or more with {} features on the last axis, got {shape:?}",
                    self.in_features
                ),
            ));
        }
        let y = apply_activation(&self.activation, dense(&self.name, x, &self.weights, self.bias.as_ref())?);
        collect(&self.store, self.outputs.names(), &self.name, &y);
        Ok(y)
    }
}

#[cfg(test)]
mod tests {
    use tch::{Device, Kind, Tensor};

    use super::legacy_fully_connected;
    use crate::initializers::Initializer;
    use crate::layers::relu;
    use crate::variables::VarStore;
    use crate::variables::collections::{MODEL_VARIABLES, TRAINABLE_VARIABLES};

    fn input() -> Tensor {
        Tensor::from_slice(&[1.0f32, 2.0, 3.0, -4.0, 15.0, -6.0]).view([2, 3])
    }

    /// TF-Slim's `test_custom_initializers` and `test_custom_initializers_multi_dim`.
    #[test]
    fn custom_initializers_give_tf_slims_numbers() {
        let vs = VarStore::new(Device::Cpu);
        let _store = vs.as_default();
        let relu_layer = |x: &Tensor| {
            legacy_fully_connected(x, 2)
                .activation_fn(relu)
                .weight_init(Initializer::Constant(2.0))
                .bias_init(Initializer::Constant(1.0))
                .call()
                .unwrap()
        };
        let y = relu_layer(&input());
        assert!(y.allclose(&Tensor::from_slice(&[13.0f32, 13.0, 11.0, 11.0]).view([2, 2]), 1e-6, 1e-6, false), "{y}");
        let rows: Vec<f32> = (1..=8).flat_map(|row| [row as f32, row as f32 + 0.1, row as f32 + 0.2]).collect();
        let x = Tensor::from_slice(&rows).view([2, 4, 3]);
        let y = relu_layer(&x);
        let expected: Vec<f32> = (0..8).flat_map(|row| [7.6 + 6.0 * row as f32; 2]).collect();
        assert!(y.allclose(&Tensor::from_slice(&expected).view([2, 4, 2]), 1e-5, 1e-5, false), "{y}");
    }

    #[test]
    fn collections_bias_and_errors() {
        let vs = VarStore::new(Device::Cpu);
        let _store = vs.as_default();
        let y = legacy_fully_connected(&input(), 2).call().unwrap();
        assert_eq!(y.size(), [2, 2]);
        assert!(vs.variable("fully_connected/bias").is_some(), "TF-Slim names it bias");
        assert_eq!(vs.collection("weights").len(), 1);
        assert_eq!(vs.collection("biases").len(), 1);
        assert_eq!(vs.variables().len(), 2);
        assert_eq!(vs.collection(TRAINABLE_VARIABLES).len(), 2);
        assert!(vs.collection(MODEL_VARIABLES).is_empty(), "not model variables");
        assert_eq!(vs.outputs("activations").len(), 1);
        let _no_bias = legacy_fully_connected(&input(), 2).bias_init(None).scope("nobias").call().unwrap();
        assert!(vs.variable("nobias/bias").is_none());
        let empty = legacy_fully_connected(&Tensor::zeros([0, 3], (Kind::Float, Device::Cpu)), 2).scope("e").call();
        assert_eq!(empty.unwrap().size(), [0, 2], "an empty batch gives an empty output");
        let error = legacy_fully_connected(&Tensor::ones([3], (Kind::Float, Device::Cpu)), 2).call().unwrap_err();
        assert!(error.to_string().contains("rank of x must be at least 2"), "{error}");
    }
}
