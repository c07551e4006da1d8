//! `local_response_normalization`: TF's `tf.nn.lrn` across channels (NCHW), as CifarNet and AlexNet use it.

use tch::{Kind, Tensor};

use super::layer_scope::check_rank;
use crate::backend::CpuPath;
use crate::error::TorchContext;
use crate::native;
use crate::{Error, Result};

/// TF's `tf.nn.lrn(x, depth_radius, bias, alpha, beta)` over the channels of an NCHW tensor:
/// `x / (bias + alpha · Σ x²)^beta`, the sum over the `2·depth_radius + 1` neighbouring channels (TF does not
/// divide alpha by the window size, as torch's `local_response_norm` does). On the CPU, float32 and float64
/// activations (bfloat16 and float16 ones as float32, as libtorch's ops promote them) go through slim's kernel
/// (`Config::lrn_kernel`): the same values to float rounding.
pub fn local_response_normalization(
    inputs: &Tensor,
    depth_radius: i64,
    bias: f64,
    alpha: f64,
    beta: f64,
) -> Result<Tensor> {
    check_rank("local_response_normalization", "Local response normalization", inputs, &[4])?;
    if depth_radius < 0 {
        return Err(Error::invalid(
            "local_response_normalization",
            format!("depth_radius must be ≥ 0, got {depth_radius}"),
        ));
    }
    if CpuPath::LrnKernel.enabled() {
        let promoted = match inputs.kind() {
            Kind::BFloat16 | Kind::Half => inputs.f_to_kind(Kind::Float).context("local_response_normalization")?,
            _ => inputs.shallow_clone(),
        };
        let kernel = native::local_response_norm(&promoted, depth_radius, bias, alpha, beta);
        if let Some(output) = kernel.context("local_response_normalization")? {
            return Ok(output);
        }
    }
    let window = 2 * depth_radius + 1;
    let squares = inputs.to_kind(Kind::Float).square().unsqueeze(1);
    let sums = squares
        .f_avg_pool3d([window, 1, 1], [1, 1, 1], [depth_radius, 0, 0], false, true, None::<i64>)
        .context("local_response_normalization")?
        .squeeze_dim(1)
        * window as f64;
    Ok(inputs / (sums * alpha + bias).pow_tensor_scalar(beta))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_definition_at_the_edges_and_inside() {
        let x = Tensor::arange(5, (Kind::Float, tch::Device::Cpu)).view([1, 5, 1, 1]) + 1.0;
        let out: Vec<f32> =
            local_response_normalization(&x, 1, 1.0, 0.5, 0.75).unwrap().flatten(0, -1).try_into().unwrap();
        let values = [1.0f32, 2.0, 3.0, 4.0, 5.0];
        for (c, got) in out.iter().enumerate() {
            let window = values[c.saturating_sub(1)..(c + 2).min(5)].iter().map(|v| v * v).sum::<f32>();
            let expected = values[c] / (1.0 + 0.5 * window).powf(0.75);
            assert!((got - expected).abs() < 1e-5, "channel {c}: {got} vs {expected}");
        }
    }

    #[test]
    fn the_kernel_and_libtorchs_ops_agree_for_every_input_dtype() {
        use crate::backend::Config;
        let x = Tensor::randn([2, 12, 5, 5], (Kind::Float, tch::Device::Cpu)) * 3.0;
        for kind in [Kind::Float, Kind::Double, Kind::BFloat16] {
            let input = x.to_kind(kind);
            let with = |on: bool| {
                Config { lrn_kernel: Some(on), ..Config::default() }
                    .scoped(|| local_response_normalization(&input, 4, 1.0, 0.001 / 9.0, 0.75).unwrap())
            };
            let (kernel, ops) = (with(true), with(false));
            assert_eq!(kernel.kind(), ops.kind(), "{kind:?}");
            let error = (&kernel - &ops).abs().max().double_value(&[]);
            assert!(error < 1e-5, "{kind:?}: {error}");
        }
    }
}
