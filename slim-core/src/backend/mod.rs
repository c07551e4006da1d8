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
pub(crate) use precision::{autocast_convolution_inputs, autocast_inputs, autocast_kind, full_precision};
