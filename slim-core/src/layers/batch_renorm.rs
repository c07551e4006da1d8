//! Batch renormalization (Ioffe 2017; TF-Slim's `batch_norm(renorm=True)`, which runs Keras' layer): in training
//! the batch-normalized values are corrected by `r = σ_B / σ` and `d = (μ_B − μ) / σ` against averages `μ`
//! (`renorm_mean`) and `σ` (`renorm_stddev`), clipped and without gradient, so training sees what inference
//! will. The moving variance follows a moving standard deviation (`moving_stddev`), as Keras tracks it.

use tch::Tensor;

use super::params::layer_statistic;
use crate::Result;
use crate::error::TorchContext;
use crate::initializers::Initializer;

/// Bounds of the renorm corrections (TF's `renorm_clipping` dict): `r` to `[rmin, rmax]`, `d` to
/// `[-dmax, dmax]`; `None` leaves that side unbounded (the default: no clipping).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RenormClipping {
    /// The smallest `r`.
    pub rmin: Option<f64>,
    /// The largest `r`.
    pub rmax: Option<f64>,
    /// The largest `|d|`.
    pub dmax: Option<f64>,
}

/// The `renorm_mean`, `renorm_stddev` and `moving_stddev` variables of one batch norm and how they move.
#[derive(Debug)]
pub(crate) struct Renorm {
    mean: Tensor,
    stddev: Tensor,
    moving_stddev: Tensor,
    clipping: RenormClipping,
    /// The weight of a batch in the renorm averages (1 − `renorm_decay`).
    fraction: f64,
}

/// One training step's renormalization: the output before `gamma` and `beta`, and the variables' next values.
pub(crate) struct RenormStep {
    pub(crate) normalized: Tensor,
    /// The moving mean's, moving variance's, `moving_stddev`'s, `renorm_mean`'s and `renorm_stddev`'s.
    pub(crate) moving_mean: Tensor,
    pub(crate) moving_variance: Tensor,
    pub(crate) moving_stddev: Tensor,
    pub(crate) renorm_mean: Tensor,
    pub(crate) renorm_stddev: Tensor,
}

impl Renorm {
    /// Gets or creates `renorm_mean` (zeros), `renorm_stddev` and `moving_stddev` (ones), `[channels]`, not
    /// trainable, global variables only, in the current (layer) scope.
    pub(crate) fn create(channels: i64, clipping: RenormClipping, renorm_decay: f64) -> Result<Self> {
        Ok(Renorm {
            mean: layer_statistic("renorm_mean", &[channels], Initializer::Zeros)?,
            stddev: layer_statistic("renorm_stddev", &[channels], Initializer::Ones)?,
            moving_stddev: layer_statistic("moving_stddev", &[channels], Initializer::Ones)?,
            clipping,
            fraction: 1.0 - renorm_decay,
        })
    }

    /// The renormalized `x` (`[N, C, …]`, channels on axis 1), as Keras computes it with the batch mean `μ_B`
    /// and biased variance `v_B`: `((x − μ_B) / σ_B) · r + d` with `σ_B = √(v_B + ε)`,
    /// `r = clip(σ_B / max(σ, √ε))`, `d = clip((μ_B − μ) / max(σ, √ε))`; and the next values: the renorm
    /// averages move towards `μ_B` and `σ_B` by `fraction` (1 − `renorm_decay`), the moving mean towards `μ_B`
    /// and `moving_stddev` towards `σ_B` by `moving_fraction` (1 − `decay`), the moving variance becomes
    /// `max(moving_stddev² − ε, 0)`.
    pub(crate) fn step(
        &self,
        x: &Tensor,
        (moving_mean, epsilon, moving_fraction): (&Tensor, f64, f64),
        scope: &str,
    ) -> Result<RenormStep> {
        let compute = || -> tch::Result<RenormStep> {
            let axes: Vec<i64> = (0..x.dim() as i64).filter(|axis| *axis != 1).collect();
            let (batch_variance, batch_mean) = x.f_var_mean_correction(Some(axes.as_slice()), 0, false)?;
            let batch_stddev = batch_variance.f_add_scalar(epsilon)?.f_sqrt()?;
            let (mean, stddev) = (self.mean.detach(), self.stddev.detach().f_clamp_min(epsilon.sqrt())?);
            let r = clip(batch_stddev.detach().f_div(&stddev)?, self.clipping.rmin, self.clipping.rmax)?;
            let d = batch_mean.detach().f_sub(&mean)?.f_div(&stddev)?;
            let d = clip(d, self.clipping.dmax.map(|dmax| -dmax), self.clipping.dmax)?;
            let per_channel = |t: &Tensor| {
                let shape: Vec<i64> = (0..x.dim()).map(|axis| if axis == 1 { -1 } else { 1 }).collect();
                t.f_view(shape.as_slice())
            };
            let normalized = x.f_sub(&per_channel(&batch_mean)?)?.f_div(&per_channel(&batch_stddev)?)?;
            let normalized = normalized.f_mul(&per_channel(&r)?)?.f_add(&per_channel(&d)?)?;
            let moved = |average: &Tensor, batch: &Tensor, fraction: f64| {
                average.detach().f_sub(&average.detach().f_sub(&batch.detach())?.f_mul_scalar(fraction)?)
            };
            let moving_stddev = moved(&self.moving_stddev, &batch_stddev, moving_fraction)?;
            Ok(RenormStep {
                normalized,
                moving_mean: moved(moving_mean, &batch_mean, moving_fraction)?,
                moving_variance: moving_stddev.f_square()?.f_sub_scalar(epsilon)?.f_clamp_min(0.0)?,
                moving_stddev,
                renorm_mean: moved(&self.mean, &batch_mean, self.fraction)?,
                renorm_stddev: moved(&self.stddev, &batch_stddev, self.fraction)?,
            })
        };
        compute().context(scope)
    }

    /// The `renorm_mean`, `renorm_stddev` and `moving_stddev` variables, in that order.
    pub(crate) fn variables(&self) -> (&Tensor, &Tensor, &Tensor) {
        (&self.mean, &self.stddev, &self.moving_stddev)
    }
}

/// `value` bounded below by `low` and above by `high`, where given.
fn clip(value: Tensor, low: Option<f64>, high: Option<f64>) -> tch::Result<Tensor> {
    let value = match low {
        Some(low) => value.f_clamp_min(low)?,
        None => value,
    };
    match high {
        Some(high) => value.f_clamp_max(high),
        None => Ok(value),
    }
}
