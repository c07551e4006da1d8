//! The peers' four CPU workloads (`shared/bench`: w1 LeNet, w2 CIFAR ResNet-32 v2 and w3 MLP training steps,
//! w4 VGG-16 inference), each written with slim and in raw `tch::nn`, timed interleaved in one process. slim's
//! training step is the whole TF-Slim recipe (`#[slim::model]` forward, `sparse_softmax_cross_entropy`,
//! `get_total_loss` with the regularizers, `create_train_op` with momentum 0.9, its update ops and
//! `check_numerics`); raw tch's is forward, cross entropy and `nn::Sgd`. Convolutional workloads run each side
//! channels-last (`slim`, `tch-cl`) and plain NCHW (`slim-nchw`, `tch`); the MLP also runs slim without
//! `check_numerics` (`slim-unchecked`); every workload also runs slim channels-last in bfloat16 autocast
//! (`slim-bf16`, `Precision::Bf16`), and VGG-16 also without the fused convolution and ReLU (`slim-unfused`) and
//! in bfloat16 casting its weights afresh in every call (`slim-bf16-recast`).
//! Prints one JSON line per variant in the peers' format
//! (`scripts/bench-workloads.sh` tabulates them beside the peers').
//!
//! `cargo bench --bench workloads -- [w1|w2|w3|w4 ...] [--steps N] [--warmup N] [--threads N]`

mod common;

use std::time::Instant;

use common::peer_nets::PeerResNet32;
use common::raw_nets::{RawLenet, RawResNet, raw_layout, raw_mlp, raw_vgg16};
use slim::backend::{Config, Precision};
use slim::nets::{Lenet, Vgg, VggDepth};
use slim::prelude::*;
use slim::tch::nn::{self, Module, OptimizerConfig};

/// The peers' w3: 784-128-10 with a ReLU.
#[slim::model]
struct Mlp {}

#[slim::model]
impl Mlp {
    fn forward(&self, inputs: &Tensor) -> Result<Tensor> {
        let net = fully_connected(inputs, 128, scope = "fc1");
        fully_connected(net, 10, activation_fn = None, scope = "fc2")
    }
}

/// One timed variant: its name in the peers' `fw` field, whether it runs channels-last, and its step, which
/// returns the loss it read back (None for inference).
struct Variant<'a> {
    fw: &'static str,
    channels_last: bool,
    step: Box<dyn FnMut() -> Result<Option<f64>> + 'a>,
    params: i64,
}

/// How slim's variant runs: its default (channels-last), plain NCHW, or (for the MLP, which has no
/// convolutions) without `check_numerics`, to show what the loss and gradient checks cost.
#[derive(Clone, Copy, PartialEq, Eq)]
enum SlimLayout {
    ChannelsLast,
    Nchw,
    Unchecked,
    /// Channels-last with bfloat16 autocast (`Precision::Bf16`).
    Bf16,
    /// Channels-last inference without the fused convolution and ReLU (`Config::fused_convolution` off).
    Unfused,
    /// bfloat16 inference that casts every weight afresh in each call (`Config::kept_weights` off).
    Bf16Recast,
}

impl SlimLayout {
    fn of(channels_last: bool) -> Self {
        if channels_last { SlimLayout::ChannelsLast } else { SlimLayout::Nchw }
    }

    /// The name in the JSON line's `fw` field.
    fn fw(self) -> &'static str {
        match self {
            SlimLayout::ChannelsLast => "slim",
            SlimLayout::Nchw => "slim-nchw",
            SlimLayout::Unchecked => "slim-unchecked",
            SlimLayout::Bf16 => "slim-bf16",
            SlimLayout::Unfused => "slim-unfused",
            SlimLayout::Bf16Recast => "slim-bf16-recast",
        }
    }

    fn channels_last(self) -> bool {
        matches!(self, SlimLayout::ChannelsLast | SlimLayout::Bf16 | SlimLayout::Unfused | SlimLayout::Bf16Recast)
    }

    fn precision(self) -> Precision {
        match self {
            SlimLayout::Bf16 | SlimLayout::Bf16Recast => Precision::Bf16,
            _ => Precision::F32,
        }
    }
}

/// What one variant measured.
#[derive(Default)]
struct Samples {
    times_ms: Vec<f64>,
    loss_init: Option<f64>,
    loss_first: Option<f64>,
    loss_last: Option<f64>,
}

struct Settings {
    steps: usize,
    warmup: usize,
    threads: i32,
}

fn main() -> Result<()> {
    let (workloads, settings) = parse_args();
    tch::set_num_interop_threads(1);
    tch::set_num_threads(settings.threads);
    slim::backend::allocator::keep_freed_memory();
    for workload in workloads {
        tch::manual_seed(0);
        match workload.as_str() {
            "w1" => lenet(&settings)?,
            "w2" => resnet32(&settings)?,
            "w3" => mlp(&settings)?,
            "w4" => vgg16(&settings)?,
            other => return Err(Error::invalid("workloads", format!("unknown workload {other}; use w1..w4"))),
        }
    }
    Ok(())
}

fn parse_args() -> (Vec<String>, Settings) {
    let mut settings = Settings { steps: 30, warmup: 5, threads: 2 };
    let mut workloads = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().and_then(|v| v.parse::<usize>().ok());
        match arg.as_str() {
            "--steps" => settings.steps = value().unwrap_or(settings.steps),
            "--warmup" => settings.warmup = value().unwrap_or(settings.warmup),
            "--threads" => settings.threads = value().map_or(settings.threads, |v| v as i32),
            "--bench" => {}
            name if name.starts_with('w') => workloads.push(name.to_string()),
            _ => {}
        }
    }
    if workloads.is_empty() {
        workloads = ["w1", "w2", "w3", "w4"].map(String::from).to_vec();
    }
    (workloads, settings)
}

/// w1: LeNet, batch 64 of 28×28×1, momentum SGD at 0.01.
fn lenet(settings: &Settings) -> Result<()> {
    let images = Tensor::randn([64, 1, 28, 28], (Kind::Float, Device::Cpu));
    let labels = Tensor::randint(10, [64], (Kind::Int64, Device::Cpu));
    let stores: Vec<VarStore> = (0..3).map(|_| VarStore::new(Device::Cpu)).collect();
    let raw_stores: Vec<nn::VarStore> = (0..2).map(|_| nn::VarStore::new(Device::Cpu)).collect();
    let lenet = Lenet { num_classes: Some(10), dropout_keep_prob: 0.5 };
    let mut variants = Vec::new();
    for (i, channels_last) in [true, false].into_iter().enumerate() {
        let raw = RawLenet::new(&raw_stores[i].root());
        variants.push(raw_train(&raw_stores[i], channels_last, &images, &labels, 0.0, 0.01, move |x| raw.forward(x))?);
        set_channels_last(channels_last);
        let model = lenet.clone().build(&stores[i], "LeNet", &[1, 1, 28, 28])?;
        variants.push(slim_train(&stores[i], SlimLayout::of(channels_last), &images, &labels, 0.01, model)?);
    }
    set_channels_last(true);
    let model = lenet.build(&stores[2], "LeNet", &[1, 1, 28, 28])?;
    variants.push(slim_train(&stores[2], SlimLayout::Bf16, &images, &labels, 0.01, model)?);
    report("w1", 64, settings, variants)
}

/// w2: CIFAR ResNet-32 v2, batch 128 of 32×32×3, momentum SGD at 0.1, weight decay 2e-4.
fn resnet32(settings: &Settings) -> Result<()> {
    let images = Tensor::randn([128, 3, 32, 32], (Kind::Float, Device::Cpu));
    let labels = Tensor::randint(10, [128], (Kind::Int64, Device::Cpu));
    let stores: Vec<VarStore> = (0..3).map(|_| VarStore::new(Device::Cpu)).collect();
    let raw_stores: Vec<nn::VarStore> = (0..2).map(|_| nn::VarStore::new(Device::Cpu)).collect();
    let mut variants = Vec::new();
    for (i, channels_last) in [true, false].into_iter().enumerate() {
        let raw = RawResNet::new(&raw_stores[i].root(), false);
        variants.push(raw_train(&raw_stores[i], channels_last, &images, &labels, 2e-4, 0.1, move |x| raw.forward(x))?);
        set_channels_last(channels_last);
        let model = PeerResNet32 { weight_decay: 2e-4 }.build(&stores[i], "resnet_v2_32", &[1, 3, 32, 32])?;
        variants.push(slim_train(&stores[i], SlimLayout::of(channels_last), &images, &labels, 0.1, model)?);
    }
    set_channels_last(true);
    let model = PeerResNet32 { weight_decay: 2e-4 }.build(&stores[2], "resnet_v2_32", &[1, 3, 32, 32])?;
    variants.push(slim_train(&stores[2], SlimLayout::Bf16, &images, &labels, 0.1, model)?);
    report("w2", 128, settings, variants)
}

/// w3: MLP 784-128-10, batch 32, momentum SGD at 0.01.
fn mlp(settings: &Settings) -> Result<()> {
    let inputs = Tensor::randn([32, 784], (Kind::Float, Device::Cpu));
    let labels = Tensor::randint(10, [32], (Kind::Int64, Device::Cpu));
    let (store, unchecked_store, bf16_store) =
        (VarStore::new(Device::Cpu), VarStore::new(Device::Cpu), VarStore::new(Device::Cpu));
    let raw_store = nn::VarStore::new(Device::Cpu);
    let raw = raw_mlp(&raw_store.root());
    let model = Mlp {}.build(&store, "mlp", &[1, 784])?;
    let unchecked = Mlp {}.build(&unchecked_store, "mlp", &[1, 784])?;
    let bf16 = Mlp {}.build(&bf16_store, "mlp", &[1, 784])?;
    let variants = vec![
        raw_train(&raw_store, false, &inputs, &labels, 0.0, 0.01, move |x| raw.forward(x))?,
        slim_train(&store, SlimLayout::ChannelsLast, &inputs, &labels, 0.01, model)?,
        slim_train(&unchecked_store, SlimLayout::Unchecked, &inputs, &labels, 0.01, unchecked)?,
        slim_train(&bf16_store, SlimLayout::Bf16, &inputs, &labels, 0.01, bf16)?,
    ];
    report("w3", 32, settings, variants)
}

/// w4: VGG-16 inference on one 224×224×3 image.
fn vgg16(settings: &Settings) -> Result<()> {
    let image = Tensor::randn([1, 3, 224, 224], (Kind::Float, Device::Cpu));
    let stores: Vec<VarStore> = (0..5).map(|_| VarStore::new(Device::Cpu)).collect();
    let raw_stores: Vec<nn::VarStore> = (0..2).map(|_| nn::VarStore::new(Device::Cpu)).collect();
    let vgg = Vgg { depth: VggDepth::D16, num_classes: Some(1000), dropout_keep_prob: 0.5, spatial_squeeze: true };
    let mut variants = Vec::new();
    for (i, channels_last) in [true, false].into_iter().enumerate() {
        let raw = raw_vgg16(&raw_stores[i].root());
        let raw_input = raw_layout(&raw_stores[i], channels_last, &image)?;
        variants.push(Variant {
            fw: if channels_last { "tch-cl" } else { "tch" },
            channels_last,
            params: count(&raw_stores[i].trainable_variables()),
            step: Box::new(move || {
                let logits = tch::no_grad(|| raw.forward(&raw_input));
                check_shape(&logits, &[1, 1000])
            }),
        });
        set_channels_last(channels_last);
        let model = vgg.clone().build(&stores[i], "vgg_16", &[1, 3, 224, 224])?;
        variants.push(slim_infer(&stores[i], SlimLayout::of(channels_last), &image, model));
    }
    set_channels_last(true);
    let model = vgg.clone().build(&stores[2], "vgg_16", &[1, 3, 224, 224])?;
    variants.push(slim_infer(&stores[2], SlimLayout::Bf16, &image, model));
    let model = vgg.clone().build(&stores[3], "vgg_16", &[1, 3, 224, 224])?;
    variants.push(slim_infer(&stores[3], SlimLayout::Unfused, &image, model));
    let model = vgg.build(&stores[4], "vgg_16", &[1, 3, 224, 224])?;
    variants.push(slim_infer(&stores[4], SlimLayout::Bf16Recast, &image, model));
    report("w4", 1, settings, variants)
}

/// slim's inference step: the built model's forward in eval mode without gradients, in the layout's precision.
fn slim_infer<'a, M: Model + 'a>(store: &VarStore, layout: SlimLayout, image: &Tensor, model: Built<M>) -> Variant<'a> {
    let image = image.shallow_clone();
    Variant {
        fw: layout.fw(),
        channels_last: layout.channels_last(),
        params: count(&store.tch().trainable_variables()),
        step: Box::new(move || {
            let fused = Config {
                fused_convolution: Some(layout != SlimLayout::Unfused),
                kept_weights: Some(layout != SlimLayout::Bf16Recast),
                ..Config::default()
            };
            let forward = || fused.scoped(|| tch::no_grad(|| model.forward_t(&image, Mode::Eval)));
            let logits = layout.precision().scoped(Device::Cpu, forward)?.output;
            check_shape(&logits, &[1, 1000])
        }),
    }
}

fn check_shape(logits: &Tensor, expected: &[i64]) -> Result<Option<f64>> {
    match logits.size() == expected {
        true => Ok(None),
        false => Err(Error::invalid("workloads", format!("logits {:?}, expected {expected:?}", logits.size()))),
    }
}

/// A raw tch training step: forward, cross entropy, `nn::Sgd` (momentum 0.9) backward step, loss read back.
fn raw_train<'a>(
    store: &'a nn::VarStore,
    channels_last: bool,
    inputs: &Tensor,
    labels: &Tensor,
    weight_decay: f64,
    learning_rate: f64,
    forward: impl Fn(&Tensor) -> Tensor + 'a,
) -> Result<Variant<'a>> {
    let inputs = raw_layout(store, channels_last, inputs)?;
    let labels = labels.shallow_clone();
    let mut optimizer =
        nn::Sgd { momentum: 0.9, wd: weight_decay, ..Default::default() }.build(store, learning_rate)?;
    Ok(Variant {
        fw: if channels_last { "tch-cl" } else { "tch" },
        channels_last,
        params: count(&store.trainable_variables()),
        step: Box::new(move || {
            let loss = forward(&inputs).cross_entropy_for_logits(&labels);
            optimizer.backward_step(&loss);
            Ok(Some(loss.double_value(&[])))
        }),
    })
}

/// slim's training step as a TF-Slim user writes it: the built model's forward, `sparse_softmax_cross_entropy`,
/// `get_total_loss` (regularization included), and a `create_train_op` with momentum 0.9 running the update ops.
fn slim_train<'a, M: Model + 'a>(
    store: &'a VarStore,
    layout: SlimLayout,
    inputs: &Tensor,
    labels: &Tensor,
    learning_rate: f64,
    model: Built<M>,
) -> Result<Variant<'a>> {
    let (inputs, labels) = (inputs.shallow_clone(), labels.shallow_clone());
    let mut train_op = create_train_op(store, Momentum::new(0.9)?, learning_rate)
        .check_numerics(layout != SlimLayout::Unchecked)
        .precision(layout.precision())
        .build()?;
    Ok(Variant {
        fw: layout.fw(),
        channels_last: layout.channels_last(),
        params: count(&store.tch().trainable_variables()),
        step: Box::new(move || {
            let _default = store.as_default();
            let mut cross_entropy = None;
            train_op.step(|| {
                let logits = model.forward_t(&inputs, Mode::Train)?.output;
                cross_entropy = Some(sparse_softmax_cross_entropy(&logits, &labels).call()?);
                get_total_loss(true)
            })?;
            // The cross-entropy part of the loss, as the peers report it.
            Ok(cross_entropy.map(|loss| loss.double_value(&[])))
        }),
    })
}

fn count(variables: &[Tensor]) -> i64 {
    variables.iter().map(Tensor::numel).sum::<usize>() as i64
}

/// Runs the variants interleaved (each round times one step of each, with the channels-last switch set for
/// it) and prints one JSON line per variant.
fn report(workload: &str, batch: i64, settings: &Settings, mut variants: Vec<Variant<'_>>) -> Result<()> {
    let mut samples: Vec<Samples> = variants.iter().map(|_| Samples::default()).collect();
    for round in 0..settings.warmup + settings.steps {
        for (variant, samples) in variants.iter_mut().zip(&mut samples) {
            set_channels_last(variant.channels_last);
            let start = Instant::now();
            let loss = (variant.step)()?;
            let ms = start.elapsed().as_secs_f64() * 1e3;
            if round == 0 {
                samples.loss_init = loss;
            }
            if round >= settings.warmup {
                samples.times_ms.push(ms);
                samples.loss_first = samples.loss_first.or(loss);
                samples.loss_last = loss;
            }
        }
    }
    for (variant, samples) in variants.iter().zip(samples) {
        println!("{}", json_line(workload, batch, settings.threads, variant, &samples));
    }
    Ok(())
}

fn json_line(workload: &str, batch: i64, threads: i32, variant: &Variant<'_>, samples: &Samples) -> String {
    let number = |v: Option<f64>| v.map_or("null".to_string(), |v| format!("{v:.6}"));
    let times: Vec<String> = samples.times_ms.iter().map(|t| format!("{t:.4}")).collect();
    format!(
        "{{\"fw\": \"{}\", \"wl\": \"{workload}\", \"threads\": {threads}, \"batch\": {batch}, \"params\": {}, \
         \"times_ms\": [{}], \"loss_init\": {}, \"loss_first\": {}, \"loss_last\": {}, \"cpu_util\": null, \
         \"version\": \"slim {} / tch 0.26 / libtorch 2.13\"}}",
        variant.fw,
        variant.params,
        times.join(", "),
        number(samples.loss_init),
        number(samples.loss_first),
        number(samples.loss_last),
        env!("CARGO_PKG_VERSION"),
    )
}

/// Makes channels-last execution the process-wide setting (`on`) or not, from the next convolution on.
fn set_channels_last(on: bool) {
    Config { channels_last: Some(on), ..Config::default() }.apply();
}
