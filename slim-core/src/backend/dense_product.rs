//! The fully connected product `x·Wᵀ + b`. libtorch sends float32 `linear` to MKL's GEMM, which on AMD CPUs
//! runs its generic code path well below oneDNN's speed; for large products on such CPUs slim computes the same
//! product as a oneDNN 1×1 convolution with the roles swapped (the weight matrix is the image, the inputs are the
//! filters), which copies neither the weights nor, for 2-D inputs, the inputs. Its backward pass is slim's own
//! (C++ in `csrc/dense_product.cpp`): the input gradient as a forward convolution, which oneDNN runs about three
//! times as fast as the weight-gradient convolution ATen's backward would use. Where no gradient is recorded
//! (inference) the same products take oneDNN's matrix product instead, which was faster there. Smaller float32
//! products in training (where autograd records them) take slim's register-tiled kernels for the product and its
//! gradients (`csrc/tiled_dense.cpp`), on AMD and on Intel CPUs: on Intel MKL's own kernels win most of these
//! products in isolation, but inside training steps the tiled kernels made the steps faster.

use std::sync::OnceLock;

use tch::{Device, Kind, Tensor};

use super::{CpuPath, reduced_precision_cast};
use crate::Result;
use crate::error::TorchContext;
use crate::native;

/// Multiply-adds (`rows · in · out`) from which the convolution pays for its fixed cost. On the project's Zen 4
/// cores a training step of 32×784→128 (3.2 M) took 1.16× as long through the convolution, 1×4096→4096 (16.8 M)
/// 0.76×, and 64×3136→1024 (205 M) 0.64×.
const MIN_MULTIPLY_ADDS: i64 = 8 << 20;

/// Whether large float32 CPU products go through oneDNN: as [`Config::onednn_dense`](super::Config::onednn_dense)
/// asks (on AMD CPUs by default, where MKL runs its generic code path), and never without oneDNN (said once when
/// it was asked for explicitly).
pub(crate) fn onednn_dense_enabled() -> bool {
    static HAS_ONEDNN: OnceLock<bool> = OnceLock::new();
    let wanted = CpuPath::OnednnDense.enabled();
    let has_onednn = *HAS_ONEDNN.get_or_init(tch::utils::has_mkldnn);
    if wanted && !has_onednn {
        CpuPath::OnednnDense
            .switch()
            .decline(|| "this libtorch has no oneDNN; fully connected products stay on `linear` (same results)".into());
    }
    wanted && has_onednn
}

/// `x·Wᵀ + b` for `x` of shape `[…, in]` and `weights` `[out, in]`, as `linear` computes it; torch errors name
/// `scope`.
pub(crate) fn dense(scope: &str, x: &Tensor, weights: &Tensor, biases: Option<&Tensor>) -> Result<Tensor> {
    if let Some(cast) = reduced_precision_cast(x.device()) {
        // autocast's reduced-precision `linear`, with the weights' casts kept between inference calls
        let (weights, biases) = (cast(weights).context(scope)?, biases.map(&cast).transpose().context(scope)?);
        return x.f_linear(&weights, biases.as_ref()).context(scope);
    }
    if !takes_convolution_route(x, weights) {
        if takes_tiled_route(x, weights, biases) {
            return tiled_product(x, weights, biases).context(scope);
        }
        return x.f_linear(weights, biases).context(scope);
    }
    over_rows(x, weights, |rows| {
        let product = native::dense_product(rows, weights)?;
        match biases {
            Some(biases) => product.f_add(biases),
            None => Ok(product),
        }
    })
    .context(scope)
}

/// `product` of `x`'s rows (`[rows, in]`, a view where the layout allows; a 2-D `x` as it is), its `[rows, out]`
/// result given `x`'s leading dimensions back.
fn over_rows(
    x: &Tensor,
    weights: &Tensor,
    product: impl FnOnce(&Tensor) -> tch::Result<Tensor>,
) -> tch::Result<Tensor> {
    if x.dim() == 2 {
        return product(x);
    }
    let (outputs, inputs) = weights.size2()?;
    let mut shape = x.size();
    let result = product(&x.f_reshape([-1, inputs])?)?;
    if let Some(last) = shape.last_mut() {
        *last = outputs;
    }
    result.f_reshape(shape.as_slice())
}

/// Whether the product is large enough, the route is on, and it is float32 on the CPU with contiguous 2-D
/// weights (so the image is a view). When the user asked for the route and a large product cannot take it,
/// slim says so once.
fn takes_convolution_route(x: &Tensor, weights: &Tensor) -> bool {
    if x.dim() < 2 || weights.dim() != 2 {
        return false;
    }
    let (outputs, inputs) = (weights.size()[0], weights.size()[1]);
    let large = x.size().last() == Some(&inputs) && x.numel() as i64 * outputs >= MIN_MULTIPLY_ADDS;
    if !large || !onednn_dense_enabled() {
        return false;
    }
    let on_cpu_f32 = |t: &Tensor| t.device() == Device::Cpu && t.kind() == Kind::Float;
    let supported = on_cpu_f32(x) && on_cpu_f32(weights) && weights.is_contiguous();
    if !supported {
        CpuPath::OnednnDense.switch().decline(|| {
            "the oneDNN route covers contiguous float32 CPU weights and inputs only; others stay on `linear` (same \
             results)"
                .into()
        });
    }
    supported
}

/// Inputs a product needs at least for slim's tiled kernels, unless it is tiny. The kernels sum each output over
/// its inputs in vector registers and then across lanes, which pays where the inputs are many and the rows few: on
/// the project's Zen 4 a training product (forward and backward) of 32×784→128 took 0.48× `linear`'s time,
/// 16×2048→200 0.48×, 100×1000→80 0.70×, while 512×256→64 took 1.07×, 256×128→128 1.26×, 64×128→128 1.03× and
/// 1×4096→1000 1.29× (docs/performance.md, change 23). On a 2-core Intel Xeon with AMX, whole training steps of
/// an MLP `rows×in→out→10` took 0.78–0.90× the time with 32×784→128, 64×784→128 and 48×1000→100, 0.92–0.97×
/// with 16×2048→200, 8×512→512, 64×1024→64 and 96×1536→32, and 1.02–1.10× with 100×1000→80 (change 24).
const TILED_MIN_INPUTS: i64 = 256;

/// Multiply-adds up to which a product takes slim's tiled kernels with fewer than [`TILED_MIN_INPUTS`] inputs:
/// there the fixed costs of libtorch's path weigh most (32×128→10 took 0.62× `linear`'s time, 32×64→64 0.81×).
const TILED_TINY_MULTIPLY_ADDS: i64 = 1 << 18;

/// Inputs per row of `x` a product needs at least for slim's tiled kernels (see [`TILED_MIN_INPUTS`]).
const TILED_INPUTS_PER_ROW: i64 = 2;

/// Whether the product takes slim's tiled kernels: the path is on, autograd records the product (a training
/// step), the operands are float32 CPU tensors with contiguous 2-D weights (and biases), and the shape is one the
/// kernels are faster for: at least two rows, at least [`TILED_MIN_INPUTS`] inputs (or at most
/// [`TILED_TINY_MULTIPLY_ADDS`]) and [`TILED_INPUTS_PER_ROW`] per row, below the convolution route's
/// [`MIN_MULTIPLY_ADDS`] (measured up to there; larger products keep `linear` when the route is off).
fn takes_tiled_route(x: &Tensor, weights: &Tensor, biases: Option<&Tensor>) -> bool {
    let [outputs, inputs] = weights.size()[..] else {
        return false;
    };
    if x.dim() < 2 || x.size().last() != Some(&inputs) || inputs == 0 {
        return false;
    }
    let rows = x.numel() as i64 / inputs;
    let multiply_adds = rows.saturating_mul(inputs).saturating_mul(outputs);
    let many_inputs = inputs >= TILED_MIN_INPUTS || multiply_adds <= TILED_TINY_MULTIPLY_ADDS;
    let wide = rows >= 2 && many_inputs && inputs >= TILED_INPUTS_PER_ROW * rows;
    let dense_f32_cpu = |t: &Tensor| t.device() == Device::Cpu && t.kind() == Kind::Float && t.is_contiguous();
    // Asked only of shapes that qualify: each is a call into libtorch on every fully connected layer's forward.
    let recorded = || {
        native::grad_mode_enabled()
            && (x.requires_grad() || weights.requires_grad() || biases.is_some_and(Tensor::requires_grad))
    };
    wide && multiply_adds < MIN_MULTIPLY_ADDS
        && recorded()
        && x.device() == Device::Cpu
        && x.kind() == Kind::Float
        && dense_f32_cpu(weights)
        && biases.is_none_or(dense_f32_cpu)
        && CpuPath::TiledDense.enabled()
}

/// `x·Wᵀ + b` through [`native::tiled_dense_product`], over `x`'s rows made contiguous.
fn tiled_product(x: &Tensor, weights: &Tensor, biases: Option<&Tensor>) -> tch::Result<Tensor> {
    over_rows(x, weights, |rows| native::tiled_dense_product(&rows.f_contiguous()?, weights, biases))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::Config;

    #[test]
    fn small_and_foreign_products_stay_on_linear() {
        let weights = Tensor::zeros([10, 20], (Kind::Float, Device::Cpu));
        assert!(!takes_convolution_route(&Tensor::zeros([4, 20], (Kind::Float, Device::Cpu)), &weights));
        let big = Tensor::zeros([2048, 2048], (Kind::Double, Device::Cpu));
        assert!(!takes_convolution_route(&Tensor::zeros([64, 2048], (Kind::Double, Device::Cpu)), &big));
        let transposed = Tensor::zeros([2048, 2048], (Kind::Float, Device::Cpu)).tr();
        assert!(!takes_convolution_route(&Tensor::zeros([64, 2048], (Kind::Float, Device::Cpu)), &transposed));
    }

    #[test]
    fn wide_training_products_take_the_tiled_kernels_when_the_path_is_on() {
        let options = (Kind::Float, Device::Cpu);
        let weights = Tensor::zeros([128, 784], options).set_requires_grad(true);
        let biases = Tensor::zeros([128], options);
        let batch = Tensor::zeros([32, 784], options);
        let on = Config { tiled_dense: Some(true), ..Config::default() };
        on.scoped(|| {
            assert!(takes_tiled_route(&batch, &weights, Some(&biases)), "the MLP's first layer");
            assert!(takes_tiled_route(&Tensor::zeros([4, 8, 784], options), &weights, None), "3-D inputs");
            assert!(!tch::no_grad(|| takes_tiled_route(&batch, &weights, None)), "nothing recorded");
            assert!(!takes_tiled_route(&batch, &weights.detach(), None), "no operand needs a gradient");
            assert!(!takes_tiled_route(&Tensor::zeros([1, 784], options), &weights, None), "one row");
            assert!(!takes_tiled_route(&Tensor::zeros([512, 784], options), &weights, None), "more rows than inputs/2");
            let narrow = Tensor::zeros([128, 128], options).set_requires_grad(true);
            assert!(!takes_tiled_route(&Tensor::zeros([32, 128], options), &narrow, None), "128 inputs, 0.5 M");
            let logits = Tensor::zeros([10, 128], options).set_requires_grad(true);
            assert!(takes_tiled_route(&Tensor::zeros([32, 128], options), &logits, None), "the MLP's second layer");
            assert!(!takes_tiled_route(&Tensor::zeros([128, 128], options), &logits, None), "more rows than inputs/2");
            assert!(!takes_tiled_route(&batch.to_kind(Kind::Double), &weights.to_kind(Kind::Double), None));
            assert!(!takes_tiled_route(&batch, &weights.tr().contiguous().tr(), None), "transposed weights");
            let large = Tensor::zeros([1024, 3136], options).set_requires_grad(true);
            assert!(!takes_tiled_route(&Tensor::zeros([32, 3136], options), &large, None), "the route's sizes");
        });
        let off = Config { tiled_dense: Some(false), ..Config::default() };
        assert!(!off.scoped(|| takes_tiled_route(&batch, &weights, None)));
    }

    #[test]
    fn the_tiled_route_gives_linear_values_and_gradients_through_dense() {
        let options = (Kind::Float, Device::Cpu);
        let x = Tensor::randn([3, 5, 300], options);
        let weights = Tensor::randn([20, 300], options).set_requires_grad(true);
        let biases = Tensor::randn([20], options).set_requires_grad(true);
        let run = |tiled: bool| {
            let config = Config { tiled_dense: Some(tiled), onednn_dense: Some(false), ..Config::default() };
            let y = config.scoped(|| dense("fc", &x, &weights, Some(&biases))).unwrap();
            let grads = Tensor::run_backward(&[y.square().sum(Kind::Float)], &[&weights, &biases], false, false);
            (y.detach(), grads)
        };
        let ((tiled, tiled_grads), (plain, plain_grads)) = (run(true), run(false));
        assert_eq!(tiled.size(), [3, 5, 20]);
        crate::native::assert_close_at_scale(&tiled, &plain, 1e-5, "y");
        crate::native::assert_close_at_scale(&tiled_grads[0], &plain_grads[0], 1e-5, "dW");
        crate::native::assert_close_at_scale(&tiled_grads[1], &plain_grads[1], 1e-5, "db");
    }
}
