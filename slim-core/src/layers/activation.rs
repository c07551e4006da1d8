//! Activation functions a layer applies last (`activation_fn`).

use std::fmt;
use std::sync::Arc;

use tch::Tensor;

/// A user-supplied activation.
pub type CustomActivation = Arc<dyn Fn(&Tensor) -> Tensor + Send + Sync>;

/// An activation function. Layers take `Option<Activation>`: `None` means linear (TF's `activation_fn=None`).
#[derive(Clone)]
pub enum Activation {
    /// `max(x, 0)`.
    Relu,
    /// `min(max(x, 0), 6)`.
    Relu6,
    /// Exponential linear unit.
    Elu,
    /// Logistic sigmoid.
    Sigmoid,
    /// Hyperbolic tangent.
    Tanh,
    /// `log(1 + exp(x))`.
    Softplus,
    /// `max(x, 0.2·x)`: TF's `tf.nn.leaky_relu` with its default slope (the GAN nets' activation).
    LeakyRelu,
    /// `x · relu6(x + 3) / 6`: MobileNet v3's hard swish (`mobilenet_v3.hard_swish`).
    HardSwish,
    /// A named user function.
    Custom(&'static str, CustomActivation),
}

impl fmt::Debug for Activation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Activation {
    /// A named user-defined activation.
    pub fn custom(name: &'static str, f: impl Fn(&Tensor) -> Tensor + Send + Sync + 'static) -> Self {
        Activation::Custom(name, Arc::new(f))
    }

    /// The function's name, as TF names the op (`Relu`, `Elu`, …).
    pub fn name(&self) -> &'static str {
        match self {
            Activation::Relu => "Relu",
            Activation::Relu6 => "Relu6",
            Activation::Elu => "Elu",
            Activation::Sigmoid => "Sigmoid",
            Activation::Tanh => "Tanh",
            Activation::Softplus => "Softplus",
            Activation::LeakyRelu => "LeakyRelu",
            Activation::HardSwish => "hard_swish",
            Activation::Custom(name, _) => name,
        }
    }

    /// Applies the function.
    pub fn apply(&self, x: &Tensor) -> Tensor {
        match self {
            Activation::Relu => x.relu(),
            Activation::Relu6 => x.clamp(0.0, 6.0),
            Activation::Elu => x.elu(),
            Activation::Sigmoid => x.sigmoid(),
            Activation::Tanh => x.tanh(),
            Activation::Softplus => x.softplus(),
            Activation::LeakyRelu => x.maximum(&(x * 0.2)),
            Activation::HardSwish => x * (x + 3.0).clamp(0.0, 6.0) * (1.0 / 6.0),
            Activation::Custom(_, f) => f(x),
        }
    }
}

/// `Activation::Relu`, under TF's name (`activation_fn = relu`).
#[allow(non_upper_case_globals)]
pub const relu: Activation = Activation::Relu;

/// `Activation::Relu6`.
#[allow(non_upper_case_globals)]
pub const relu6: Activation = Activation::Relu6;

/// `Activation::Elu`.
#[allow(non_upper_case_globals)]
pub const elu: Activation = Activation::Elu;

/// `Activation::Sigmoid`.
#[allow(non_upper_case_globals)]
pub const sigmoid: Activation = Activation::Sigmoid;

/// `Activation::Tanh`.
#[allow(non_upper_case_globals)]
pub const tanh: Activation = Activation::Tanh;

/// `Activation::LeakyRelu`, under TF's name (`activation_fn = leaky_relu`).
#[allow(non_upper_case_globals)]
pub const leaky_relu: Activation = Activation::LeakyRelu;

/// `Activation::HardSwish`, under MobileNet v3's name (`activation_fn = hard_swish`).
#[allow(non_upper_case_globals)]
pub const hard_swish: Activation = Activation::HardSwish;

pub(crate) fn apply_activation(activation: &Option<Activation>, x: Tensor) -> Tensor {
    match activation {
        Some(f) => f.apply(&x),
        None => x,
    }
}
