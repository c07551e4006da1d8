//! [`Config`]: every on/off CPU path of slim in one value, read from the environment, set for the process, or
//! overridden for a scope on one thread (so tests and libraries can change a path without touching others).

use super::conv_bias::{SUMMED_BIAS_GRADIENT_ENV, summed_bias_gradient_enabled};
use super::dense_product::{ONEDNN_DENSE_ENV, onednn_dense_enabled};
use super::memory_format::{CHANNELS_LAST_ENV, channels_last_enabled};
use crate::layers::{HASHED_DROPOUT_ENV, hashed_dropout_enabled};
use crate::learning::{TUNE_STEP_THREADS_ENV, tune_step_threads_enabled};
use crate::optimizers::{FUSED_OPTIMIZER_ENV, fused_optimizer_enabled};
use crate::switch::{environment_flag, with_scoped_settings};

/// slim's CPU paths. Each is on (`Some(true)`), off (`Some(false)`) or left as it is (`None`). Every path gives
/// the same results either way, to float rounding; they differ in speed.
///
/// A setting comes from, first to last: the innermost [`Config::scoped`] on the calling thread, then a
/// process-wide [`Config::apply`] (or the path's own setter), then its `SLIM_*` environment variable, then
/// slim's default.
///
/// ```
/// use slim_core::backend::Config;
///
/// let nchw = Config { channels_last: Some(false), ..Config::default() };
/// nchw.scoped(|| assert_eq!(Config::effective().channels_last, Some(false)));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Config {
    /// Convolutions and their weights in NHWC memory (`SLIM_CHANNELS_LAST`; default on).
    pub channels_last: Option<bool>,
    /// Fused C++ updates for gradient descent, momentum and Adam (`SLIM_FUSED_OPTIMIZER`; default on).
    pub fused_optimizer: Option<bool>,
    /// Large fully connected products through oneDNN (`SLIM_ONEDNN_DENSE`; default on AMD CPUs).
    pub onednn_dense: Option<bool>,
    /// Dropout masks from slim's hashed, parallel generator (`SLIM_HASHED_DROPOUT`; default on).
    pub hashed_dropout: Option<bool>,
    /// Convolution bias gradients summed by slim's kernel (`SLIM_SUMMED_BIAS_GRADIENT`; default on).
    pub summed_bias_gradient: Option<bool>,
    /// The thread trial of `TrainOp::step` (`SLIM_TUNE_STEP_THREADS`; default on).
    pub tune_step_threads: Option<bool>,
}

/// A path's process-wide setter (`memory_format::set_channels_last`, …).
type Setter = fn(bool);

impl Config {
    /// What the `SLIM_*` environment variables say (`1`, `true`, `on` / `0`, `false`, `off`); `None` for a
    /// variable that is unset or holds anything else.
    pub fn from_env() -> Config {
        Config {
            channels_last: environment_flag(CHANNELS_LAST_ENV),
            fused_optimizer: environment_flag(FUSED_OPTIMIZER_ENV),
            onednn_dense: environment_flag(ONEDNN_DENSE_ENV),
            hashed_dropout: environment_flag(HASHED_DROPOUT_ENV),
            summed_bias_gradient: environment_flag(SUMMED_BIAS_GRADIENT_ENV),
            tune_step_threads: environment_flag(TUNE_STEP_THREADS_ENV),
        }
    }

    /// The settings in force on the calling thread now, every field `Some`.
    pub fn effective() -> Config {
        Config {
            channels_last: Some(channels_last_enabled()),
            fused_optimizer: Some(fused_optimizer_enabled()),
            onednn_dense: Some(onednn_dense_enabled()),
            hashed_dropout: Some(hashed_dropout_enabled()),
            summed_bias_gradient: Some(summed_bias_gradient_enabled()),
            tune_step_threads: Some(tune_step_threads_enabled()),
        }
    }

    /// Runs `f` with this configuration's settings (the `Some` fields) in force on the calling thread, over
    /// every other source; the thread's previous settings come back when `f` returns or panics. Other threads
    /// are not affected.
    pub fn scoped<R>(&self, f: impl FnOnce() -> R) -> R {
        with_scoped_settings(&self.settings(), f)
    }

    /// Makes this configuration's settings (the `Some` fields) the process-wide ones, over the environment, as
    /// each path's own setter does.
    pub fn apply(&self) {
        use super::{conv_bias, dense_product, memory_format};
        use crate::{layers, learning, optimizers};
        let setters: [(Option<bool>, Setter); 6] = [
            (self.channels_last, memory_format::set_channels_last),
            (self.fused_optimizer, optimizers::set_fused_optimizer),
            (self.onednn_dense, dense_product::set_onednn_dense),
            (self.hashed_dropout, layers::set_hashed_dropout),
            (self.summed_bias_gradient, conv_bias::set_summed_bias_gradient),
            (self.tune_step_threads, learning::set_tune_step_threads),
        ];
        for (setting, set) in setters {
            if let Some(on) = setting {
                set(on);
            }
        }
    }

    /// The `Some` fields as (switch variable, setting) pairs.
    fn settings(&self) -> Vec<(&'static str, bool)> {
        let all = [
            (CHANNELS_LAST_ENV, self.channels_last),
            (FUSED_OPTIMIZER_ENV, self.fused_optimizer),
            (ONEDNN_DENSE_ENV, self.onednn_dense),
            (HASHED_DROPOUT_ENV, self.hashed_dropout),
            (SUMMED_BIAS_GRADIENT_ENV, self.summed_bias_gradient),
            (TUNE_STEP_THREADS_ENV, self.tune_step_threads),
        ];
        all.into_iter().filter_map(|(variable, setting)| Some((variable, setting?))).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scoped_config_sets_only_its_fields_on_its_thread() {
        let before = Config::effective();
        let flipped = Config {
            channels_last: before.channels_last.map(|on| !on),
            fused_optimizer: before.fused_optimizer.map(|on| !on),
            ..Config::default()
        };
        flipped.scoped(|| {
            let inside = Config::effective();
            assert_eq!(
                (inside.channels_last, inside.fused_optimizer),
                (flipped.channels_last, flipped.fused_optimizer)
            );
            assert_eq!(inside.hashed_dropout, before.hashed_dropout, "a None field leaves its path alone");
            let elsewhere = std::thread::spawn(Config::effective).join().unwrap();
            assert_eq!(elsewhere.channels_last, before.channels_last, "other threads keep their settings");
        });
        assert_eq!(Config::effective(), before);
    }
}
