//! [`Precision`]: mixed precision for a model's forward pass, through libtorch's autocast: convolutions and
//! matrix products in bfloat16, weights, optimizer state and losses in float32.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use tch::{Device, Kind, Tensor};

use super::{CpuPath, cpu_path};
use crate::error::TorchContext;
use crate::native::{self, AutocastScope, AutocastType, autocast_type};
use crate::{Error, Result};

/// The float precision a forward pass computes in.
///
/// [`Precision::Bf16`] is PyTorch's `torch.autocast(dtype=torch.bfloat16)`: inside
/// [`Precision::scoped`] (or a train op built with
/// [`TrainOpBuilder::precision`](crate::learning::TrainOpBuilder::precision)), convolutions, transposed
/// convolutions and matrix products cast their float32 inputs and weights to bfloat16 and return bfloat16 (on
/// the CPU through oneDNN's bfloat16 kernels); reductions, normalizations' statistics and losses stay in float32
/// (slim's losses take reduced-precision predictions in float32). The variables stay float32 — they are the
/// master weights the gradients (float32, through the casts) and the optimizer update — so checkpoints do not
/// change. bfloat16 keeps float32's range with an 8-bit mantissa: a product's relative error is about 2⁻⁸.
///
/// Where a device cannot run bfloat16 at speed — a CPU without bfloat16 instructions (AVX512-BF16, AMX, or
/// Arm's BF16) or a libtorch without oneDNN — the forward pass runs in float32, and slim says so once
/// (`log::warn!`; [`Precision::fallback_reason`] tells a program beforehand).
///
/// ```
/// use slim_core::backend::Precision;
/// use tch::{Device, Kind, Tensor};
///
/// let (a, b) = (Tensor::ones([2, 2], (Kind::Float, Device::Cpu)), Tensor::ones([2, 2], (Kind::Float, Device::Cpu)));
/// let product = Precision::Bf16.scoped(Device::Cpu, || a.mm(&b));
/// let expected = if Precision::Bf16.runs_on(Device::Cpu) { Kind::BFloat16 } else { Kind::Float };
/// assert_eq!(product.kind(), expected);
/// assert_eq!("bf16".parse::<Precision>().unwrap(), Precision::Bf16);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Precision {
    /// Everything in float32 (the default).
    #[default]
    F32,
    /// bfloat16 autocast: convolutions and matrix products in bfloat16, the rest in float32.
    Bf16,
    /// float16 autocast (IEEE half precision), as bfloat16's but with float16's narrow range: a train op in this
    /// precision scales its loss ([`DynamicLossScale`](crate::learning::DynamicLossScale), on by default) so
    /// that small gradients do not flush to zero. CUDA's usual mixed precision; on a CPU it needs float16
    /// instructions that oneDNN runs training at speed on (AMX-FP16 or Arm's half-precision arithmetic). With
    /// AVX512-FP16 alone it falls back to float32: there libtorch 2.13's oneDNN takes its reference code for
    /// convolution weight gradients (a LeNet step took 2.8 s against 21 ms in float32 on an Intel Xeon).
    F16,
}

impl Precision {
    /// Runs `f` with this precision in force for operations on `device` on the calling thread (other threads
    /// and devices are not affected); the previous setting comes back when `f` returns or unwinds. `F32` turns
    /// an enclosing scope's autocast off. A device that cannot run the precision at speed runs `f` in float32
    /// (said once).
    pub fn scoped<R>(self, device: Device, f: impl FnOnce() -> R) -> R {
        let dtype = match self {
            Precision::Bf16 if self.runs_on(device) => Some(AutocastType::BFloat16),
            Precision::F16 if self.runs_on(device) => Some(AutocastType::Half),
            _ => None,
        };
        let _scope = AutocastScope::enter(device, dtype);
        f()
    }

    /// The precision in force on the calling thread for operations on `device`.
    pub fn current(device: Device) -> Precision {
        match autocast_type(device) {
            Some(AutocastType::BFloat16) => Precision::Bf16,
            Some(AutocastType::Half) => Precision::F16,
            None => Precision::F32,
        }
    }

    /// Whether `device` runs this precision (float32 everywhere; bfloat16 and float16 on CUDA, and on CPUs with
    /// instructions for them under a libtorch with oneDNN). When not, says why once per precision
    /// (`log::warn!`).
    pub fn runs_on(self, device: Device) -> bool {
        match self.fallback_reason(device) {
            None => true,
            Some(reason) => {
                if FALLBACKS_SAID.first(self) {
                    log::warn!("slim: {self} asked for, but {reason}: running float32");
                }
                false
            }
        }
    }

    /// Why `device` runs this precision's scopes in float32 instead, or `None` when it runs the precision.
    pub fn fallback_reason(self, device: Device) -> Option<Cow<'static, str>> {
        match (self, device) {
            (Precision::F32, _) | (Precision::Bf16 | Precision::F16, Device::Cuda(_)) => None,
            (Precision::Bf16 | Precision::F16, Device::Cpu) => cpu_fallback_reason(self).map(Cow::Borrowed),
            (_, other) => Some(format!("slim's {self} autocast is not built for {other:?}").into()),
        }
    }

    /// The name the scripts' `--precision` takes: `fp32`, `bf16` or `fp16`.
    pub fn name(self) -> &'static str {
        match self {
            Precision::F32 => "fp32",
            Precision::Bf16 => "bf16",
            Precision::F16 => "fp16",
        }
    }
}

impl fmt::Display for Precision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Precision {
    type Err = Error;

    /// `fp32` (or `f32`, `float32`), `bf16` (or `bfloat16`) or `fp16` (or `f16`, `float16`, `half`), in any
    /// case.
    fn from_str(text: &str) -> Result<Precision> {
        match text.to_ascii_lowercase().as_str() {
            "fp32" | "f32" | "float32" => Ok(Precision::F32),
            "bf16" | "bfloat16" => Ok(Precision::Bf16),
            "fp16" | "f16" | "float16" | "half" => Ok(Precision::F16),
            _ => Err(Error::invalid("precision", format!("expected fp32, bf16 or fp16, got `{text}`"))),
        }
    }
}

/// `t` in float32 when it is a reduced-precision float (an autocast output), else `t` itself: how slim's losses
/// take their inputs.
pub(crate) fn full_precision(t: &Tensor) -> Tensor {
    match t.kind() {
        Kind::BFloat16 | Kind::Half => t.to_kind(Kind::Float),
        _ => t.shallow_clone(),
    }
}

/// What autocast hands a convolution or product on `device` for each input (float32 cast to autocast's type; any
/// tensor itself when autocast is off), for slim's own kernels, which the autocast dispatch does not reach, and
/// for weights cast before slim reshapes them. Where no gradient is recorded, a variable's cast is kept between
/// calls while the variable is unchanged (see [`clear_kept_weights`](super::clear_kept_weights);
/// `Config::kept_weights`);
/// elsewhere it is autocast's own cast. The autocast state is read once, here, for all the inputs of one call.
pub(crate) fn autocast_inputs(device: Device) -> impl Fn(&Tensor) -> tch::Result<Tensor> {
    let cast = reduced_precision_cast(device);
    move |t: &Tensor| match &cast {
        Some(cast) => cast(t),
        None => Ok(t.shallow_clone()),
    }
}

/// [`autocast_inputs`] when autocast is on for `device` on the calling thread, else `None`: for callers that take
/// another path without it.
pub(crate) fn reduced_precision_cast(device: Device) -> Option<impl Fn(&Tensor) -> tch::Result<Tensor>> {
    let dtype = autocast_type(device)?;
    let keep = CpuPath::KeptWeights.enabled();
    Some(move |t: &Tensor| match t.kind() {
        Kind::Float => native::autocast_cast(t, device, dtype, keep),
        _ => Ok(t.shallow_clone()),
    })
}

/// A convolution's input, weights and biases as autocast hands them to its convolution ops, for layers that call
/// `aten::convolution`, which autocast does not cover (`conv1d`, `conv3d`, the transposed convolutions): without
/// this, a reduced-precision input from an autocast layer before them meets float32 weights. `window` holds the
/// kernel's (dilated) extent per spatial axis, for the one case that runs float32 instead: a 3-D convolution on
/// the CPU whose kernel is larger than its input on some axis, where oneDNN's bfloat16 backward pass writes
/// garbage weight gradients (NaN or huge; libtorch 2.13, seen with a 2-frame input under a 3-frame kernel) —
/// said once. Errors name `scope`.
pub(crate) fn autocast_convolution_inputs(
    scope: &str,
    x: &Tensor,
    weights: &Tensor,
    biases: Option<&Tensor>,
    window: &[i64],
) -> Result<(Tensor, Tensor, Option<Tensor>)> {
    let Some(cast) = reduced_precision_cast(x.device()) else {
        return Ok((x.shallow_clone(), weights.shallow_clone(), biases.map(Tensor::shallow_clone)));
    };
    if kernel_overhangs_3d_cpu_input(x, window) {
        OVERHANG_SAID.get_or_init(|| {
            log::warn!(
                "slim: {scope}: a 3-D convolution whose kernel {window:?} is larger than its input {:?} runs float32 \
                 (oneDNN's reduced-precision backward pass is wrong there)",
                x.size()
            )
        });
        return Ok((full_precision(x), weights.shallow_clone(), biases.map(Tensor::shallow_clone)));
    }
    let biases = biases.map(&cast).transpose().context(scope)?;
    Ok((cast(x).context(scope)?, cast(weights).context(scope)?, biases))
}

/// Set once a 3-D convolution has fallen back to float32 for its kernel's size.
static OVERHANG_SAID: OnceLock<()> = OnceLock::new();

/// `convolve(x)` for a convolution of `weights` in `groups` groups, in float32 with autocast off where it is a
/// depthwise one (one input channel per group, more than one group) on the CPU under autocast — said once: on
/// the CPU, oneDNN's reduced-precision depthwise convolutions are slower than its float32 ones (libtorch 2.13 on
/// an Intel Xeon with AMX, bfloat16 against float32: forward 1.4–1.7×, forward and backward 1.2–7.8×), so
/// MobileNets and NASNets trained slower in bfloat16 than in float32. Anything else runs `convolve(x)` as is.
pub(crate) fn depthwise_in_float32<R>(
    scope: &str,
    x: &Tensor,
    weights: &Tensor,
    groups: i64,
    convolve: impl FnOnce(&Tensor) -> Result<R>,
) -> Result<R> {
    let depthwise = groups > 1 && weights.size().get(1) == Some(&1);
    if !depthwise || x.device() != Device::Cpu || autocast_type(Device::Cpu).is_none() {
        return convolve(x);
    }
    DEPTHWISE_SAID.get_or_init(|| {
        log::warn!(
            "slim: {scope}: depthwise convolutions run float32 under autocast on the CPU (oneDNN's \
             reduced-precision ones are slower there)"
        )
    });
    let _float32 = AutocastScope::enter(Device::Cpu, None);
    convolve(&full_precision(x))
}

/// Set once a depthwise convolution has run float32 under autocast on the CPU.
static DEPTHWISE_SAID: OnceLock<()> = OnceLock::new();

/// Whether `x` is a CPU batch of 3-D volumes ([N, C, D, H, W]) smaller than `window` on some axis.
fn kernel_overhangs_3d_cpu_input(x: &Tensor, window: &[i64]) -> bool {
    let size = x.size();
    x.device() == Device::Cpu
        && size.len() == 5
        && window.len() == 3
        && size[2..].iter().zip(window).any(|(extent, kernel)| extent < kernel)
}

/// Which precisions' fallbacks to float32 have been logged.
static FALLBACKS_SAID: SaidOnce = SaidOnce::new();

/// One flag per precision, each set the first time it is asked for.
struct SaidOnce([OnceLock<()>; 3]);

impl SaidOnce {
    const fn new() -> SaidOnce {
        SaidOnce([OnceLock::new(), OnceLock::new(), OnceLock::new()])
    }

    /// True the first time `precision` is asked for, false after.
    fn first(&self, precision: Precision) -> bool {
        let index = match precision {
            Precision::F32 => 0,
            Precision::Bf16 => 1,
            Precision::F16 => 2,
        };
        self.0[index].set(()).is_ok()
    }
}

/// The `/proc/cpuinfo` flags (x86's, Arm's) of the instruction sets that run `precision`'s products at speed.
/// AVX512-FP16 is not among float16's: oneDNN's float16 convolutions there were slower than float32 forward
/// (6.1 against 2.8 ms for LeNet's conv2) and took its reference code for weight gradients (2.7 s).
fn cpu_flags_for(precision: Precision) -> &'static [&'static str] {
    match precision {
        Precision::Bf16 => &["avx512_bf16", "amx_bf16", "bf16"],
        Precision::F16 => &["amx_fp16", "asimdhp"],
        Precision::F32 => &[],
    }
}

/// Why this CPU cannot run reduced `precision` at speed (no instructions for it, or a libtorch without oneDNN),
/// or `None`; read once per precision (a train op asks at every step).
fn cpu_fallback_reason(precision: Precision) -> Option<&'static str> {
    static BF16: OnceLock<Option<&'static str>> = OnceLock::new();
    static F16: OnceLock<Option<&'static str>> = OnceLock::new();
    let (cell, missing) = match precision {
        Precision::F32 => return None,
        Precision::Bf16 => (&BF16, "this CPU has no bfloat16 instructions (AVX512-BF16, AMX or Arm BF16)"),
        Precision::F16 => (
            &F16,
            "this CPU has no float16 instructions oneDNN trains at speed on (AMX-FP16 or Arm FP16; with AVX512-FP16 \
             alone, convolution weight gradients take its reference code)",
        ),
    };
    *cell.get_or_init(|| {
        if !tch::utils::has_mkldnn() {
            return Some("this libtorch has no oneDNN for reduced-precision kernels");
        }
        match cpu_flags_have(cpu_path::cpuinfo(), cpu_flags_for(precision)) {
            true => None,
            false => Some(missing),
        }
    })
}

/// Whether `/proc/cpuinfo`'s flag lines (x86's `flags`, Arm's `Features`) name one of `wanted`.
fn cpu_flags_have(cpuinfo: &str, wanted: &[&str]) -> bool {
    cpuinfo
        .lines()
        .filter(|line| line.starts_with("flags") || line.starts_with("Features"))
        .flat_map(|line| line.split_whitespace())
        .any(|flag| wanted.contains(&flag))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_precisions_fallback_is_said_once() {
        let said = SaidOnce::new();
        assert!(said.first(Precision::Bf16), "bf16's first fallback is said");
        assert!(!said.first(Precision::Bf16), "and not again");
        assert!(said.first(Precision::F16), "fp16's is said after bf16's");
        assert!(!said.first(Precision::F16));
    }

    #[test]
    fn names_parse_both_ways_and_others_are_refused() {
        for precision in [Precision::F32, Precision::Bf16, Precision::F16] {
            assert_eq!(precision.name().parse::<Precision>().unwrap(), precision);
        }
        assert_eq!("BFloat16".parse::<Precision>().unwrap(), Precision::Bf16);
        assert_eq!("Half".parse::<Precision>().unwrap(), Precision::F16);
        let refused = "fp8".parse::<Precision>().unwrap_err().to_string();
        assert!(refused.contains("expected fp32, bf16 or fp16, got `fp8`"), "{refused}");
    }

    #[test]
    fn float32_runs_everywhere_and_bf16_names_why_it_falls_back() {
        assert_eq!(Precision::F32.fallback_reason(Device::Vulkan), None);
        assert_eq!(Precision::Bf16.fallback_reason(Device::Cuda(0)), None);
        let vulkan = Precision::Bf16.fallback_reason(Device::Vulkan).unwrap();
        assert!(vulkan.contains("not built for Vulkan"), "{vulkan}");
        assert!(!Precision::Bf16.runs_on(Device::Vulkan));
        let cpuinfo = cpu_path::cpuinfo();
        for precision in [Precision::Bf16, Precision::F16] {
            let expected_on_cpu = cpu_flags_have(cpuinfo, cpu_flags_for(precision)) && tch::utils::has_mkldnn();
            assert_eq!(precision.runs_on(Device::Cpu), expected_on_cpu, "{precision}");
            assert_eq!(precision.fallback_reason(Device::Cuda(0)), None);
        }
        if !Precision::F16.runs_on(Device::Cpu) {
            let reason = Precision::F16.fallback_reason(Device::Cpu).unwrap();
            assert!(reason.contains("float16 instructions") || reason.contains("oneDNN"), "{reason}");
        }
    }

    #[test]
    fn cpu_flags_are_read_from_flag_lines_only() {
        let bf16 = cpu_flags_for(Precision::Bf16);
        assert!(cpu_flags_have("processor : 0\nflags : fpu avx512f avx512_bf16 sse\n", bf16));
        assert!(cpu_flags_have("Features : fp asimd bf16 i8mm\n", bf16));
        assert!(!cpu_flags_have("flags : fpu avx2 avx512f\nmodel name : bf16 inside\n", bf16));
        let f16 = cpu_flags_for(Precision::F16);
        assert!(cpu_flags_have("flags : fpu avx512f avx512_fp16 amx_fp16\n", f16));
        assert!(!cpu_flags_have("flags : fpu avx512f avx512_fp16 amx_bf16\n", f16), "AVX512-FP16 alone is slow");
        assert!(cpu_flags_have("Features : fp asimd asimdhp\n", f16));
        assert!(!cpu_flags_have("flags : fpu avx512f avx512_bf16 f16c\n", f16), "F16C only converts");
    }

    #[test]
    fn a_scope_sets_the_precision_of_its_thread_and_device_until_it_ends() {
        assert_eq!(Precision::current(Device::Cpu), Precision::F32);
        let expected = if Precision::Bf16.runs_on(Device::Cpu) { Precision::Bf16 } else { Precision::F32 };
        Precision::Bf16.scoped(Device::Cpu, || {
            assert_eq!(Precision::current(Device::Cpu), expected);
            Precision::F32.scoped(Device::Cpu, || assert_eq!(Precision::current(Device::Cpu), Precision::F32));
            assert_eq!(Precision::current(Device::Cpu), expected);
        });
        assert_eq!(Precision::current(Device::Cpu), Precision::F32);
    }

    #[test]
    fn reduced_floats_come_back_in_float32_and_others_untouched() {
        let bf16 = Tensor::ones([2], (Kind::BFloat16, Device::Cpu));
        assert_eq!(full_precision(&bf16).kind(), Kind::Float);
        let int = Tensor::ones([2], (Kind::Int64, Device::Cpu));
        assert_eq!(full_precision(&int).kind(), Kind::Int64);
    }
}
