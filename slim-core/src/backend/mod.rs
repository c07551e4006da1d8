//! How slim runs on this machine: its CPU paths (channels-last memory, convolution bias gradients, oneDNN
//! dense products, convolutions fused with their ReLU, malloc's reuse of freed memory), one typed configuration
//! of them, overridable for a scope, and mixed precision.

pub mod allocator;
mod config;
pub mod conv_bias;
mod cpu_path;
pub mod dense_product;
pub(crate) mod fused_convolution;
pub mod memory_format;
mod precision;

pub use config::Config;
pub(crate) use cpu_path::CpuPath;
pub use precision::Precision;

/// Drops the weights that inference keeps between calls. Where no gradient is recorded (`tch::no_grad`:
/// evaluation, inference), convolutions and fully connected layers keep what they derive from their variables —
/// a reduced-precision cast under [`Precision::Bf16`] or [`Precision::F16`], a batch norm folded into a
/// convolution's weights — and reuse it in later calls as long as every variable it came from keeps its storage and
/// is not written in place (an optimizer step, a restore, a moving-statistics update make the next call derive
/// afresh); an entry goes when its variables do (at the next miss). This frees them now: up to about a model's
/// float32 size. [`Config::kept_weights`] switches keeping off.
pub fn clear_kept_weights() {
    crate::native::clear_kept_weights();
}
pub(crate) use precision::{
    autocast_convolution_inputs, autocast_inputs, depthwise_in_float32, full_precision, reduced_precision_cast,
};
