//! Fused inference (`Config::fused_convolution`): eval-mode forward passes without gradients, each model run
//! with the fused path (batch norm folded into the convolution, the ReLU as oneDNN's post-op) and without it,
//! interleaved. CIFAR ResNet-20 v1 (conv, batch norm, ReLU) at batch 100, and VGG-16 (conv, bias, ReLU) at
//! batch 1. Then ResNet-50 v1 at batch 1, fused, with the folded (and, in bfloat16, cast) weights kept between
//! calls (`Config::kept_weights`) and derived afresh in each call, in float32 and bfloat16. Prints medians and the
//! ratios.
//!
//! `cargo bench --bench fused_inference [-- STEPS]`

mod common;

use common::{Variant, compare, steps_arg};
use slim::backend::{Config, Precision};
use slim::nets::{CifarResNet, Vgg, VggDepth, get_network};
use slim::prelude::*;

/// One forward pass of `model` on `images` in eval mode, with the fused path on or off.
fn forward<M: Model>(model: &Built<M>, images: &Tensor, fused: bool) -> Result<()> {
    let config = Config { fused_convolution: Some(fused), ..Config::default() };
    let logits = config.scoped(|| model.forward_t(images, Mode::Eval))?.output;
    let _ = logits.sum(Kind::Float).double_value(&[]);
    Ok(())
}

fn main() -> Result<()> {
    tch::set_num_threads(2);
    slim::backend::allocator::keep_freed_memory();
    tch::manual_seed(0);
    let _no_grad = tch::no_grad_guard();
    let steps = steps_arg(30);

    let vs = VarStore::new(Device::Cpu);
    let resnet = CifarResNet { n: 3, filters: 16, version: 1, num_classes: 10, weight_decay: 0.0 }.build(
        &vs,
        "resnet",
        &[1, 3, 32, 32],
    )?;
    let images = Tensor::randn([100, 3, 32, 32], (Kind::Float, Device::Cpu));
    let mut variants = [
        Variant { name: "fused", step: Box::new(|| forward(&resnet, &images, true)) },
        Variant { name: "unfused", step: Box::new(|| forward(&resnet, &images, false)) },
    ];
    compare("CIFAR ResNet-20 v1 eval, batch 100, 2 threads", steps, 5, &mut variants)?;

    let vs = VarStore::new(Device::Cpu);
    let vgg = Vgg { depth: VggDepth::D16, num_classes: Some(1000), dropout_keep_prob: 0.5, spatial_squeeze: true }
        .build(&vs, "vgg_16", &[1, 3, 224, 224])?;
    let image = Tensor::randn([1, 3, 224, 224], (Kind::Float, Device::Cpu));
    let mut variants = [
        Variant { name: "fused", step: Box::new(|| forward(&vgg, &image, true)) },
        Variant { name: "unfused", step: Box::new(|| forward(&vgg, &image, false)) },
    ];
    compare("VGG-16 inference, batch 1, 2 threads", steps, 3, &mut variants)?;

    let vs = VarStore::new(Device::Cpu);
    let resnet50 = get_network("resnet_v1_50", &vs, 1000, 0.0, 3, Some(224))?;
    let kept = |keep: bool, precision: Precision| {
        let config = Config { kept_weights: Some(keep), ..Config::default() };
        let logits = config.scoped(|| precision.scoped(Device::Cpu, || resnet50.forward_t(&image, Mode::Eval)))?;
        let _ = logits.to_kind(Kind::Float).sum(Kind::Float).double_value(&[]);
        Ok(())
    };
    let mut variants = [
        Variant { name: "fp32, kept", step: Box::new(|| kept(true, Precision::F32)) },
        Variant { name: "fp32, afresh", step: Box::new(|| kept(false, Precision::F32)) },
        Variant { name: "bf16, kept", step: Box::new(|| kept(true, Precision::Bf16)) },
        Variant { name: "bf16, afresh", step: Box::new(|| kept(false, Precision::Bf16)) },
    ];
    compare("ResNet-50 v1 inference, batch 1, 2 threads", steps, 3, &mut variants)
}
