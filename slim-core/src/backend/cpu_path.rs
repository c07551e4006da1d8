//! The table of slim's switchable CPU paths: each one's environment variable, default and process-wide switch,
//! in one place. [`Config`](super::Config) is the public face of this table.

use crate::switch::Switch;

/// One of slim's CPU paths that a [`Config`](super::Config) turns on or off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CpuPath {
    /// Convolutions and their weights in NHWC memory (`backend::memory_format`).
    ChannelsLast,
    /// Fused C++ optimizer updates (`optimizers::fused`).
    FusedOptimizer,
    /// Large fully connected products through oneDNN (`backend::dense_product`).
    OnednnDense,
    /// Dropout masks from slim's hashed generator (`layers::dropout`).
    HashedDropout,
    /// Convolution bias gradients summed by slim's kernel (`backend::conv_bias`).
    SummedBiasGradient,
    /// The one-thread trial of `TrainOp::step` (`learning::step_threads`).
    TuneStepThreads,
    /// Convolution and ReLU as one oneDNN call where no gradient is recorded (`backend::fused_convolution`).
    FusedConvolution,
    /// Weights' reduced-precision casts kept between inference calls (`backend::precision::autocast_inputs`).
    KeptWeights,
    /// Training-mode batch norm, and the ReLU after it, as one C++ autograd function (`layers::batch_norm`).
    FusedBatchNorm,
    /// Max pooling of channels-last activations by slim's kernel (`layers::pool`).
    MaxPoolKernel,
    /// The L2 regularizer's Σw²/2 as one autograd function (`regularizers`).
    FusedL2Loss,
    /// Smaller fully connected products in training by slim's tiled kernels (`backend::dense_product`).
    TiledDense,
    /// Local response normalization by slim's kernel (`layers::lrn`).
    LrnKernel,
}

/// One switch per path, in the order of [`CpuPath::ALL`].
static SWITCHES: [Switch; 13] = [
    Switch::new("SLIM_CHANNELS_LAST"),
    Switch::new("SLIM_FUSED_OPTIMIZER"),
    Switch::new("SLIM_ONEDNN_DENSE"),
    Switch::new("SLIM_HASHED_DROPOUT"),
    Switch::new("SLIM_SUMMED_BIAS_GRADIENT"),
    Switch::new("SLIM_TUNE_STEP_THREADS"),
    Switch::new("SLIM_FUSED_CONVOLUTION"),
    Switch::new("SLIM_KEPT_WEIGHTS"),
    Switch::new("SLIM_FUSED_BATCH_NORM"),
    Switch::new("SLIM_MAX_POOL_KERNEL"),
    Switch::new("SLIM_FUSED_L2_LOSS"),
    Switch::new("SLIM_TILED_DENSE"),
    Switch::new("SLIM_LRN_KERNEL"),
];

impl CpuPath {
    /// Every path, in the order of the switches.
    pub(crate) const ALL: [CpuPath; 13] = [
        CpuPath::ChannelsLast,
        CpuPath::FusedOptimizer,
        CpuPath::OnednnDense,
        CpuPath::HashedDropout,
        CpuPath::SummedBiasGradient,
        CpuPath::TuneStepThreads,
        CpuPath::FusedConvolution,
        CpuPath::KeptWeights,
        CpuPath::FusedBatchNorm,
        CpuPath::MaxPoolKernel,
        CpuPath::FusedL2Loss,
        CpuPath::TiledDense,
        CpuPath::LrnKernel,
    ];

    /// The path's switch (which also names its environment variable).
    pub(crate) fn switch(self) -> &'static Switch {
        &SWITCHES[self as usize]
    }

    /// Whether the path is asked for: by a scope, a call or the environment, else by default (every path is on
    /// by default, except oneDNN's dense products, which are on where MKL runs its generic code — AMD CPUs —
    /// and slim's tiled ones, which are on the x86-64 CPUs they were measured on: AMD's and Intel's).
    pub(crate) fn enabled(self) -> bool {
        self.switch().requested().unwrap_or_else(|| match self {
            CpuPath::OnednnDense => cpu_vendor() == CpuVendor::Amd,
            CpuPath::TiledDense => cpu_vendor() != CpuVendor::Other,
            _ => true,
        })
    }
}

/// Who made the CPU, as far as slim's defaults care.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CpuVendor {
    /// `AuthenticAMD`.
    Amd,
    /// `GenuineIntel`.
    Intel,
    /// Any other vendor, or no `/proc/cpuinfo` to read.
    Other,
}

/// The text of `/proc/cpuinfo` (empty where there is no such file), read once for every default that asks.
pub(crate) fn cpuinfo() -> &'static str {
    static TEXT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TEXT.get_or_init(|| std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default())
}

/// The vendor `/proc/cpuinfo` names.
fn cpu_vendor() -> CpuVendor {
    vendor_of(cpuinfo())
}

/// The vendor named by the first `vendor_id` line of `cpuinfo`'s text.
fn vendor_of(cpuinfo: &str) -> CpuVendor {
    match cpuinfo.lines().find(|line| line.starts_with("vendor_id")) {
        Some(line) if line.contains("AuthenticAMD") => CpuVendor::Amd,
        Some(line) if line.contains("GenuineIntel") => CpuVendor::Intel,
        _ => CpuVendor::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_path_has_its_own_switch_in_table_order() {
        let variables: Vec<&str> = CpuPath::ALL.iter().map(|path| path.switch().variable()).collect();
        assert_eq!(
            variables,
            [
                "SLIM_CHANNELS_LAST",
                "SLIM_FUSED_OPTIMIZER",
                "SLIM_ONEDNN_DENSE",
                "SLIM_HASHED_DROPOUT",
                "SLIM_SUMMED_BIAS_GRADIENT",
                "SLIM_TUNE_STEP_THREADS",
                "SLIM_FUSED_CONVOLUTION",
                "SLIM_KEPT_WEIGHTS",
                "SLIM_FUSED_BATCH_NORM",
                "SLIM_MAX_POOL_KERNEL",
                "SLIM_FUSED_L2_LOSS",
                "SLIM_TILED_DENSE",
                "SLIM_LRN_KERNEL"
            ]
        );
    }

    #[test]
    fn the_vendor_comes_from_the_first_vendor_id_line() {
        assert_eq!(vendor_of("processor\t: 0\nvendor_id\t: AuthenticAMD\n"), CpuVendor::Amd);
        assert_eq!(vendor_of("vendor_id\t: GenuineIntel\nvendor_id\t: AuthenticAMD\n"), CpuVendor::Intel);
        assert_eq!(vendor_of("processor\t: 0\nCPU implementer\t: 0x41\n"), CpuVendor::Other);
        assert_eq!(vendor_of(""), CpuVendor::Other);
    }
}
