//! Learning-rate schedules driven by the global step, with TF's formulas.

use crate::{Error, Result};

/// The learning rate as a function of the global step.
#[derive(Clone, Debug, PartialEq)]
pub enum LearningRate {
    /// The same rate at every step.
    Fixed(f64),
    /// TF's `piecewise_constant`: `values[0]` up to and including `boundaries[0]`, `values[i]` after
    /// `boundaries[i-1]` up to and including `boundaries[i]`, the last value after the last boundary.
    PiecewiseConstant {
        /// Increasing steps where the rate changes.
        boundaries: Vec<i64>,
        /// One more value than boundaries.
        values: Vec<f64>,
    },
    /// TF's `exponential_decay`: `initial · rate^(step / decay_steps)`, the exponent floored when `staircase`.
    ExponentialDecay {
        /// The rate at step 0.
        initial: f64,
        /// Steps per factor of `decay_rate`.
        decay_steps: i64,
        /// The factor.
        decay_rate: f64,
        /// Decay in whole steps of `decay_steps`.
        staircase: bool,
    },
    /// TF's `polynomial_decay`: from `initial` to `end` over `decay_steps` as `(1 − step/decay_steps)^power`;
    /// with `cycle` the decay restarts at each multiple of `decay_steps`.
    PolynomialDecay {
        /// The rate at step 0.
        initial: f64,
        /// Steps to reach `end`.
        decay_steps: i64,
        /// The final rate.
        end: f64,
        /// The exponent (1 is linear).
        power: f64,
        /// Restart after `decay_steps`.
        cycle: bool,
    },
    /// TF's `cosine_decay`: `initial · ((1 − alpha)·½(1 + cos(π·step/decay_steps)) + alpha)`, held after
    /// `decay_steps`.
    CosineDecay {
        /// The rate at step 0.
        initial: f64,
        /// Steps of the half cosine.
        decay_steps: i64,
        /// The floor, as a fraction of `initial`.
        alpha: f64,
    },
    /// A linear warm-up: `then`'s rate scaled by `step / steps` for the first `steps` steps.
    Warmup {
        /// Length of the warm-up.
        steps: i64,
        /// The schedule warmed up into.
        then: Box<LearningRate>,
    },
}

impl From<f64> for LearningRate {
    fn from(rate: f64) -> Self {
        LearningRate::Fixed(rate)
    }
}

impl LearningRate {
    /// TF's `piecewise_constant`, checked: `values` has one more entry than the increasing `boundaries`.
    pub fn piecewise_constant(boundaries: Vec<i64>, values: Vec<f64>) -> Result<Self> {
        let schedule = LearningRate::PiecewiseConstant { boundaries, values };
        schedule.validate()?;
        Ok(schedule)
    }

    /// Checks the schedule's parameters.
    pub fn validate(&self) -> Result<()> {
        let problem = match self {
            LearningRate::PiecewiseConstant { boundaries, values } if values.len() != boundaries.len() + 1 => {
                Some(format!("{} values for {} boundaries: need one more value", values.len(), boundaries.len()))
            }
            LearningRate::PiecewiseConstant { boundaries, .. } if boundaries.windows(2).any(|w| w[0] >= w[1]) => {
                Some(format!("boundaries {boundaries:?} must increase"))
            }
            LearningRate::ExponentialDecay { decay_steps, .. }
            | LearningRate::PolynomialDecay { decay_steps, .. }
            | LearningRate::CosineDecay { decay_steps, .. }
                if *decay_steps <= 0 =>
            {
                Some(format!("decay_steps must be positive, got {decay_steps}"))
            }
            LearningRate::Warmup { steps, .. } if *steps <= 0 => {
                Some(format!("warm-up steps must be positive, got {steps}"))
            }
            LearningRate::Warmup { then, .. } => return then.validate(),
            _ => None,
        };
        match problem {
            Some(problem) => Err(Error::invalid("learning_rate", problem)),
            None => Ok(()),
        }
    }

    /// The rate at `step`.
    pub fn at(&self, step: i64) -> f64 {
        let step_f = step as f64;
        match self {
            LearningRate::Fixed(rate) => *rate,
            LearningRate::PiecewiseConstant { boundaries, values } => {
                let index = boundaries.iter().take_while(|boundary| step > **boundary).count();
                values.get(index).or(values.last()).copied().unwrap_or(0.0)
            }
            LearningRate::ExponentialDecay { initial, decay_steps, decay_rate, staircase } => {
                let exponent = step_f / *decay_steps as f64;
                initial * decay_rate.powf(if *staircase { exponent.floor() } else { exponent })
            }
            LearningRate::PolynomialDecay { initial, decay_steps, end, power, cycle } => {
                let (decay_steps, step_f) = match cycle {
                    true => (*decay_steps as f64 * (step_f / *decay_steps as f64).ceil().max(1.0), step_f),
                    false => (*decay_steps as f64, step_f.min(*decay_steps as f64)),
                };
                (initial - end) * (1.0 - step_f / decay_steps).powf(*power) + end
            }
            LearningRate::CosineDecay { initial, decay_steps, alpha } => {
                let progress = step_f.min(*decay_steps as f64) / *decay_steps as f64;
                let cosine = 0.5 * (1.0 + (std::f64::consts::PI * progress).cos());
                initial * ((1.0 - alpha) * cosine + alpha)
            }
            LearningRate::Warmup { steps, then } => then.at(step) * (step_f / *steps as f64).min(1.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn piecewise_constant_switches_after_each_boundary() {
        let schedule = LearningRate::piecewise_constant(vec![100, 200], vec![1.0, 0.1, 0.01]).unwrap();
        let rates: Vec<f64> = [0, 100, 101, 200, 201, 10_000].iter().map(|s| schedule.at(*s)).collect();
        assert_eq!(rates, [1.0, 1.0, 0.1, 0.1, 0.01, 0.01]);
        assert!(LearningRate::piecewise_constant(vec![100], vec![1.0]).is_err());
        assert!(LearningRate::piecewise_constant(vec![200, 100], vec![1.0, 0.1, 0.01]).is_err());
    }

    #[test]
    fn decays_follow_tfs_formulas() {
        let exponential =
            |staircase| LearningRate::ExponentialDecay { initial: 0.1, decay_steps: 10, decay_rate: 0.5, staircase };
        assert!((exponential(false).at(15) - 0.1 * 0.5f64.powf(1.5)).abs() < 1e-12);
        assert!((exponential(true).at(15) - 0.05).abs() < 1e-12);
        let linear =
            LearningRate::PolynomialDecay { initial: 0.1, decay_steps: 100, end: 0.01, power: 1.0, cycle: false };
        assert!((linear.at(50) - 0.055).abs() < 1e-12);
        assert!((linear.at(500) - 0.01).abs() < 1e-12);
        let cyclic =
            LearningRate::PolynomialDecay { initial: 0.1, decay_steps: 100, end: 0.0, power: 1.0, cycle: true };
        assert!((cyclic.at(150) - 0.1 * 0.25).abs() < 1e-12, "decay_steps doubles to 200 after the first cycle");
        let cosine = LearningRate::CosineDecay { initial: 1.0, decay_steps: 100, alpha: 0.1 };
        assert!((cosine.at(50) - 0.55).abs() < 1e-12);
        assert!((cosine.at(100) - 0.1).abs() < 1e-12);
        let warmup = LearningRate::Warmup { steps: 10, then: Box::new(LearningRate::Fixed(0.5)) };
        assert_eq!([warmup.at(0), warmup.at(5), warmup.at(20)], [0.0, 0.25, 0.5]);
    }
}
