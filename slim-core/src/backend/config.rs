//! [`Config`]: every on/off CPU path of slim in one value, read from the environment, set for the process, or
//! overridden for a scope on one thread (so tests and libraries can change a path without touching others).

use super::cpu_path::CpuPath;
use super::dense_product::onednn_dense_enabled;
use crate::switch::{environment_flag, with_scoped_settings};

/// slim's CPU paths. Each is on (`Some(true)`), off (`Some(false)`) or left as it is (`None`). Every path gives
/// the same results either way, to float rounding; they differ in speed.
///
/// A setting comes from, first to last: the innermost [`Config::scoped`] on the calling thread, then a
/// process-wide [`Config::apply`], then its `SLIM_*` environment variable (read once), then slim's default.
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
    /// Fused C++ updates for gradient descent, momentum, Adam, RMSProp and Adadelta (`SLIM_FUSED_OPTIMIZER`;
    /// default on).
    pub fused_optimizer: Option<bool>,
    /// Large fully connected products through oneDNN (`SLIM_ONEDNN_DENSE`; default on AMD CPUs).
    pub onednn_dense: Option<bool>,
    /// Dropout masks from slim's hashed, parallel generator (`SLIM_HASHED_DROPOUT`; default on).
    pub hashed_dropout: Option<bool>,
    /// Convolution bias gradients summed by slim's kernel (`SLIM_SUMMED_BIAS_GRADIENT`; default on).
    pub summed_bias_gradient: Option<bool>,
    /// The thread trial of `TrainOp::step` (`SLIM_TUNE_STEP_THREADS`; default on).
    pub tune_step_threads: Option<bool>,
    /// A convolution and its ReLU as one oneDNN call where no gradient is recorded (`SLIM_FUSED_CONVOLUTION`;
    /// default on).
    pub fused_convolution: Option<bool>,
    /// Where no gradient is recorded, what layers derive from their variables — reduced-precision casts, a batch
    /// norm folded into a convolution — kept from one call to the next while the variables are unchanged
    /// (`SLIM_KEPT_WEIGHTS`; default on; see [`clear_kept_weights`](super::clear_kept_weights)).
    pub kept_weights: Option<bool>,
    /// Training-mode batch norm over channels-last activations (or a fully connected layer's [N, C]), with the
    /// ReLU that follows it, as one C++ autograd function: three passes over the activations forward and two
    /// backward, where libtorch runs separate ops (`SLIM_FUSED_BATCH_NORM`; default on).
    pub fused_batch_norm: Option<bool>,
    /// 2-D max pooling of channels-last float32/bfloat16 activations over windows that do not overlap, by slim's
    /// kernel, which keeps 4 or 2 bytes per output for its backward pass where libtorch keeps 8
    /// (`SLIM_MAX_POOL_KERNEL`; default on).
    pub max_pool_kernel: Option<bool>,
    /// The L2 regularizer's `Σw²/2` (TF's `l2_loss`) as one autograd function: one pass over the weights forward,
    /// one product backward (`SLIM_FUSED_L2_LOSS`; default on).
    pub fused_l2_loss: Option<bool>,
    /// Float32 fully connected products below the oneDNN route's size, in training, by slim's register-tiled
    /// kernels (the product and its gradients `dW = dyᵀ·x`, `dx = dy·W`) instead of MKL's
    /// (`SLIM_TILED_DENSE`; default on AMD and Intel CPUs, where they were measured faster inside training steps).
    pub tiled_dense: Option<bool>,
    /// Local response normalization (TF's `tf.nn.lrn`, CifarNet's) of float32/float64 activations
    /// by slim's kernel, one pass per pixel forward and backward, where libtorch's ops take a 3-D average pool,
    /// a power and a division each way (`SLIM_LRN_KERNEL`; default on).
    pub lrn_kernel: Option<bool>,
}

impl Config {
    /// What the `SLIM_*` environment variables say (`1`, `true`, `on` / `0`, `false`, `off`); `None` for a
    /// variable that is unset or holds anything else.
    pub fn from_env() -> Config {
        Config::from_paths(|path| environment_flag(path.switch().variable()))
    }

    /// The settings in force on the calling thread now, every field `Some`: what each path will do (oneDNN's
    /// dense products stay off where libtorch lacks oneDNN, whatever was asked).
    pub fn effective() -> Config {
        Config::from_paths(|path| match path {
            CpuPath::OnednnDense => Some(onednn_dense_enabled()),
            _ => Some(path.enabled()),
        })
    }

    /// Runs `f` with this configuration's settings (the `Some` fields) in force on the calling thread, over
    /// every other source; the thread's previous settings come back when `f` returns or panics. Other threads
    /// are not affected.
    pub fn scoped<R>(&self, f: impl FnOnce() -> R) -> R {
        let settings: Vec<(&'static str, bool)> =
            self.settings().map(|(path, on)| (path.switch().variable(), on)).collect();
        with_scoped_settings(&settings, f)
    }

    /// Makes this configuration's settings (the `Some` fields) the process-wide ones, over the environment, from
    /// the next use of each path on.
    pub fn apply(&self) {
        for (path, on) in self.settings() {
            path.switch().set(on);
        }
    }

    /// A configuration with each path's field taken from `setting`.
    fn from_paths(setting: impl Fn(CpuPath) -> Option<bool>) -> Config {
        Config {
            channels_last: setting(CpuPath::ChannelsLast),
            fused_optimizer: setting(CpuPath::FusedOptimizer),
            onednn_dense: setting(CpuPath::OnednnDense),
            hashed_dropout: setting(CpuPath::HashedDropout),
            summed_bias_gradient: setting(CpuPath::SummedBiasGradient),
            tune_step_threads: setting(CpuPath::TuneStepThreads),
            fused_convolution: setting(CpuPath::FusedConvolution),
            kept_weights: setting(CpuPath::KeptWeights),
            fused_batch_norm: setting(CpuPath::FusedBatchNorm),
            max_pool_kernel: setting(CpuPath::MaxPoolKernel),
            fused_l2_loss: setting(CpuPath::FusedL2Loss),
            tiled_dense: setting(CpuPath::TiledDense),
            lrn_kernel: setting(CpuPath::LrnKernel),
        }
    }

    /// The field that holds `path`'s setting.
    fn field(&self, path: CpuPath) -> Option<bool> {
        match path {
            CpuPath::ChannelsLast => self.channels_last,
            CpuPath::FusedOptimizer => self.fused_optimizer,
            CpuPath::OnednnDense => self.onednn_dense,
            CpuPath::HashedDropout => self.hashed_dropout,
            CpuPath::SummedBiasGradient => self.summed_bias_gradient,
            CpuPath::TuneStepThreads => self.tune_step_threads,
            CpuPath::FusedConvolution => self.fused_convolution,
            CpuPath::KeptWeights => self.kept_weights,
            CpuPath::FusedBatchNorm => self.fused_batch_norm,
            CpuPath::MaxPoolKernel => self.max_pool_kernel,
            CpuPath::FusedL2Loss => self.fused_l2_loss,
            CpuPath::TiledDense => self.tiled_dense,
            CpuPath::LrnKernel => self.lrn_kernel,
        }
    }

    /// The paths this configuration sets, with their settings.
    fn settings(&self) -> impl Iterator<Item = (CpuPath, bool)> + '_ {
        CpuPath::ALL.into_iter().filter_map(|path| Some((path, self.field(path)?)))
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
