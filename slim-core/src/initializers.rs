//! Variable initializers with TF-Slim's semantics: constants, normal, truncated normal, uniform,
//! variance scaling (xavier) with TF's fan rules, and orthogonal.

use std::f64::consts::SQRT_2;
use std::fmt;
use std::sync::Arc;

use tch::{Device, Kind, Tensor};

use crate::error::TorchContext;
use crate::{Error, Result};

/// Which fan variance scaling divides by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FanMode {
    /// The number of inputs of a unit.
    FanIn,
    /// The number of outputs of a unit.
    FanOut,
    /// The mean of the two.
    FanAvg,
}

/// The fans of a weight tensor, as TF-Slim computes them from its TF layout.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Fans {
    /// Inputs per output unit.
    pub fan_in: f64,
    /// Outputs per input unit.
    pub fan_out: f64,
}

impl Fans {
    /// The fans of a tensor in slim's (libtorch's) layout: `[out, in, kh, kw]` for convolutions, `[out, in]` for
    /// fully connected weights, `[in, out, kh, kw]` for transposed convolutions. These give the same numbers as
    /// TF-Slim's rule on the TF layouts (`[kh, kw, in, out]`, `[in, out]`, `[kh, kw, out, in]`). A vector uses its
    /// length for both fans, a scalar 1.
    pub fn of_shape(shape: &[i64]) -> Fans {
        match shape {
            [] => Fans { fan_in: 1.0, fan_out: 1.0 },
            [n] => Fans { fan_in: *n as f64, fan_out: *n as f64 },
            [out, inp, receptive @ ..] => {
                let receptive: i64 = receptive.iter().product();
                Fans { fan_in: (inp * receptive) as f64, fan_out: (out * receptive) as f64 }
            }
        }
    }

    fn get(self, mode: FanMode) -> f64 {
        match mode {
            FanMode::FanIn => self.fan_in,
            FanMode::FanOut => self.fan_out,
            FanMode::FanAvg => (self.fan_in + self.fan_out) / 2.0,
        }
    }
}

type CustomInit = Arc<dyn Fn(&[i64], Kind, Device) -> Result<Tensor> + Send + Sync>;

/// How a variable's first value is made.
#[derive(Clone)]
pub enum Initializer {
    /// All zeros.
    Zeros,
    /// All ones.
    Ones,
    /// Every element equal to the value.
    Constant(f64),
    /// Normal samples.
    RandomNormal {
        /// Mean.
        mean: f64,
        /// Standard deviation.
        stddev: f64,
    },
    /// Normal samples redrawn until within two standard deviations of the mean.
    TruncatedNormal {
        /// Mean.
        mean: f64,
        /// Standard deviation before truncation.
        stddev: f64,
    },
    /// Uniform samples in `[min, max)`.
    RandomUniform {
        /// Lower bound.
        min: f64,
        /// Upper bound.
        max: f64,
    },
    /// TF-Slim's `variance_scaling_initializer`: variance `factor / n` with `n` chosen by `mode`; uniform in
    /// `±sqrt(3·factor/n)`, or truncated normal with stddev `sqrt(1.3·factor/n)`.
    VarianceScaling {
        /// The scale factor.
        factor: f64,
        /// Which fan `n` is.
        mode: FanMode,
        /// Uniform rather than truncated normal.
        uniform: bool,
    },
    /// A (semi-)orthogonal matrix over the flattened shape, times `gain`.
    Orthogonal {
        /// Multiplier.
        gain: f64,
    },
    /// A user function of shape, kind and device.
    Custom(CustomInit),
}

impl fmt::Debug for Initializer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Initializer::Zeros => write!(f, "zeros"),
            Initializer::Ones => write!(f, "ones"),
            Initializer::Constant(v) => write!(f, "constant({v})"),
            Initializer::RandomNormal { mean, stddev } => write!(f, "random_normal({mean}, {stddev})"),
            Initializer::TruncatedNormal { mean, stddev } => write!(f, "truncated_normal({mean}, {stddev})"),
            Initializer::RandomUniform { min, max } => write!(f, "random_uniform({min}, {max})"),
            Initializer::VarianceScaling { factor, mode, uniform } => {
                write!(f, "variance_scaling(factor={factor}, mode={mode:?}, uniform={uniform})")
            }
            Initializer::Orthogonal { gain } => write!(f, "orthogonal({gain})"),
            Initializer::Custom(_) => write!(f, "custom"),
        }
    }
}

/// All zeros (the default biases initializer).
pub fn zeros_initializer() -> Initializer {
    Initializer::Zeros
}

/// All ones.
pub fn ones_initializer() -> Initializer {
    Initializer::Ones
}

/// Every element equal to `value`.
pub fn constant_initializer(value: f64) -> Initializer {
    Initializer::Constant(value)
}

/// Normal samples with this mean and standard deviation.
pub fn random_normal(mean: f64, stddev: f64) -> Initializer {
    Initializer::RandomNormal { mean, stddev }
}

/// Normal samples within two standard deviations of the mean (TF's `truncated_normal_initializer`).
pub fn truncated_normal(mean: f64, stddev: f64) -> Initializer {
    Initializer::TruncatedNormal { mean, stddev }
}

/// Uniform samples in `[min, max)`.
pub fn random_uniform(min: f64, max: f64) -> Initializer {
    Initializer::RandomUniform { min, max }
}

/// Glorot/Xavier: variance scaling with factor 1 over the average fan; uniform unless `uniform` is false.
/// This is every layer's default weights initializer.
pub fn xavier_initializer(uniform: bool) -> Initializer {
    Initializer::VarianceScaling { factor: 1.0, mode: FanMode::FanAvg, uniform }
}

/// TF-Slim's `variance_scaling_initializer(factor, mode, uniform)`; its defaults are `(2.0, FanIn, false)`.
pub fn variance_scaling_initializer(factor: f64, mode: FanMode, uniform: bool) -> Initializer {
    Initializer::VarianceScaling { factor, mode, uniform }
}

/// An orthogonal matrix over the flattened shape, times `gain`.
pub fn orthogonal_initializer(gain: f64) -> Initializer {
    Initializer::Orthogonal { gain }
}

impl Initializer {
    /// A user-defined initializer.
    pub fn custom(init: impl Fn(&[i64], Kind, Device) -> Result<Tensor> + Send + Sync + 'static) -> Self {
        Initializer::Custom(Arc::new(init))
    }

    /// A new tensor of `shape`, with the fans of slim's layout ([`Fans::of_shape`]).
    pub fn initialize(&self, shape: &[i64], kind: Kind, device: Device) -> Result<Tensor> {
        self.initialize_with_fans(shape, Fans::of_shape(shape), kind, device)
    }

    /// A new tensor of `shape`, with explicitly given fans (layers whose layout differs from TF's, such as
    /// depthwise convolutions, pass TF's fans here).
    pub fn initialize_with_fans(&self, shape: &[i64], fans: Fans, kind: Kind, device: Device) -> Result<Tensor> {
        let options = (kind, device);
        let context = "initializer";
        let tensor = match self {
            Initializer::Zeros => Tensor::f_zeros(shape, options).context(context)?,
            Initializer::Ones => Tensor::f_ones(shape, options).context(context)?,
            Initializer::Constant(v) => Tensor::f_full(shape, *v, options).context(context)?,
            Initializer::RandomNormal { mean, stddev } => {
                (Tensor::f_randn(shape, options).context(context)? * *stddev) + *mean
            }
            Initializer::TruncatedNormal { mean, stddev } => truncated_normal_sample(shape, *mean, *stddev, options)?,
            Initializer::RandomUniform { min, max } => {
                Tensor::f_rand(shape, options).context(context)? * (max - min) + *min
            }
            Initializer::VarianceScaling { factor, mode, uniform } => {
                let n = fans.get(*mode).max(1.0);
                if *uniform {
                    let limit = (3.0 * factor / n).sqrt();
                    Tensor::f_rand(shape, options).context(context)? * (2.0 * limit) - limit
                } else {
                    truncated_normal_sample(shape, 0.0, (1.3 * factor / n).sqrt(), options)?
                }
            }
            Initializer::Orthogonal { gain } => orthogonal_sample(shape, *gain, options)?,
            Initializer::Custom(init) => init(shape, kind, device)?,
        };
        if tensor.size() != shape {
            return Err(Error::invalid(
                "initializer",
                format!("produced shape {:?}, expected {shape:?}", tensor.size()),
            ));
        }
        Ok(tensor)
    }
}

/// Samples of N(mean, stddev²) conditioned on lying within two standard deviations, by inverting the CDF.
fn truncated_normal_sample(shape: &[i64], mean: f64, stddev: f64, options: (Kind, Device)) -> Result<Tensor> {
    let context = "truncated_normal";
    // Φ(±2) in terms of erf: u ∈ [Φ(-2), Φ(2)] maps to x = √2·erfinv(2u - 1) ∈ [-2, 2].
    let erf_limit = Tensor::from(2.0 / SQRT_2).erf().double_value(&[]);
    let u = Tensor::f_rand(shape, (Kind::Double, options.1)).context(context)?;
    let standard = (u * (2.0 * erf_limit) - erf_limit).erfinv() * SQRT_2;
    Ok((standard * stddev + mean).to_kind(options.0))
}

/// TF's orthogonal initializer on `[shape[0], ∏shape[1..]]`.
fn orthogonal_sample(shape: &[i64], gain: f64, options: (Kind, Device)) -> Result<Tensor> {
    let context = "orthogonal_initializer";
    if shape.len() < 2 {
        return Err(Error::invalid(context, format!("needs a shape of rank 2 or more, got {shape:?}")));
    }
    let rows = shape[0];
    let cols: i64 = shape[1..].iter().product();
    let (long, short) = (rows.max(cols), rows.min(cols));
    let a = Tensor::f_randn([long, short], (Kind::Double, options.1)).context(context)?;
    let (q, r) = Tensor::f_linalg_qr(&a, "reduced").context(context)?;
    let q = q * r.diagonal(0, 0, 1).sign().unsqueeze(0);
    let q = if rows < cols { q.transpose(0, 1) } else { q };
    Ok((q * gain).reshape(shape).to_kind(options.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn variance(init: &Initializer, shape: &[i64]) -> f64 {
        tch::manual_seed(1);
        init.initialize(shape, Kind::Float, Device::Cpu).unwrap().var(false).double_value(&[])
    }

    #[test]
    fn xavier_and_variance_scaling_match_tf_slim_variances() {
        for uniform in [true, false] {
            assert!((variance(&xavier_initializer(uniform), &[40, 100]) - 2.0 / 140.0).abs() < 1e-3);
            let fan_in = variance_scaling_initializer(2.0, FanMode::FanIn, uniform);
            assert!((variance(&fan_in, &[40, 100]) - 2.0 / 100.0).abs() < 1e-3);
            let fan_out = variance_scaling_initializer(2.0, FanMode::FanOut, uniform);
            assert!((variance(&fan_out, &[40, 100]) - 2.0 / 40.0).abs() < 1e-3);
            let fan_avg = variance_scaling_initializer(2.0, FanMode::FanAvg, uniform);
            assert!((variance(&fan_avg, &[40, 100]) - 4.0 / 140.0).abs() < 1e-3);
        }
    }

    #[test]
    fn conv_fans_use_the_receptive_field() {
        // TF shape [100, 40, 5, 7] (kh, kw, in, out) is [7, 5, 100, 40] in slim's layout.
        let expected = 2.0 / (100.0 * 40.0 * 12.0);
        assert!((variance(&xavier_initializer(true), &[7, 5, 100, 40]) - expected).abs() < 1e-6);
        assert_eq!(Fans::of_shape(&[7, 5, 100, 40]), Fans { fan_in: 20000.0, fan_out: 28000.0 });
    }

    #[test]
    fn scalar_shape_gives_zero_variance() {
        let t = xavier_initializer(true).initialize(&[], Kind::Float, Device::Cpu).unwrap();
        assert_eq!(t.size(), Vec::<i64>::new());
    }

    #[test]
    fn truncated_normal_stays_within_two_stddevs() {
        tch::manual_seed(0);
        let t = truncated_normal(1.0, 0.5).initialize(&[10_000], Kind::Float, Device::Cpu).unwrap();
        let (lo, hi) = (t.min().double_value(&[]), t.max().double_value(&[]));
        assert!(lo >= 0.0 - 1e-6 && hi <= 2.0 + 1e-6, "range [{lo}, {hi}]");
        // The variance of a standard normal truncated at ±2 is 0.7737.
        assert!((t.var(false).double_value(&[]) - 0.25 * 0.7737).abs() < 0.01);
    }

    #[test]
    fn orthogonal_rows_are_orthonormal() {
        tch::manual_seed(0);
        let q = orthogonal_initializer(1.0).initialize(&[4, 6], Kind::Float, Device::Cpu).unwrap();
        let gram = q.matmul(&q.transpose(0, 1));
        assert!(gram.allclose(&Tensor::eye(4, (Kind::Float, Device::Cpu)), 1e-5, 1e-5, false));
    }

    #[test]
    fn constants() {
        let t = constant_initializer(0.1).initialize(&[3], Kind::Float, Device::Cpu).unwrap();
        assert!(t.allclose(&Tensor::from_slice(&[0.1f32, 0.1, 0.1]), 1e-7, 1e-7, false));
    }
}
