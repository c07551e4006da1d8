//! One CIFAR ResNet-32 v2 training step (forward in train mode with batch norm, loss, backward, momentum SGD
//! with weight decay 2e-4; batch 128 of 32×32×3), interleaved: raw `tch::nn` against slim's
//! `nets::CifarResNet` built once (its batch-norm updates run each step). The peers' w2 workload
//! (`shared/bench`) is the same network. Prints medians and ratios.
//!
//! `cargo bench --bench resnet32_step [-- STEPS [BATCH]]`

mod common;

use common::{Variant, compare, numeric_arg, steps_arg};
use slim::nets::CifarResNet;
use slim::prelude::*;
use slim::tch::nn::{self, ModuleT, OptimizerConfig};

/// A pre-activation residual block in raw tch, as slim's v2 block: bn-relu, a 3×3 conv with batch norm and
/// relu, a biased 3×3 conv, plus the input or a biased 1×1 projection of the pre-activation.
struct RawBlock {
    preact: nn::BatchNorm,
    conv1: nn::Conv2D,
    norm1: nn::BatchNorm,
    conv2: nn::Conv2D,
    shortcut: Option<nn::Conv2D>,
}

impl RawBlock {
    fn new(vs: &nn::Path, inputs: i64, filters: i64, stride: i64) -> Self {
        let conv = |stride, padding, bias| nn::ConvConfig { stride, padding, bias, ..Default::default() };
        RawBlock {
            preact: nn::batch_norm2d(vs / "preact", inputs, Default::default()),
            conv1: nn::conv2d(vs / "conv1", inputs, filters, 3, conv(stride, 1, false)),
            norm1: nn::batch_norm2d(vs / "norm1", filters, Default::default()),
            conv2: nn::conv2d(vs / "conv2", filters, filters, 3, conv(1, 1, true)),
            shortcut: (stride != 1 || inputs != filters)
                .then(|| nn::conv2d(vs / "shortcut", inputs, filters, 1, conv(stride, 0, true))),
        }
    }

    fn forward(&self, x: &Tensor) -> Tensor {
        let preact = self.preact.forward_t(x, true).relu();
        let shortcut = match &self.shortcut {
            Some(projection) => preact.apply(projection),
            None => x.shallow_clone(),
        };
        let h = self.norm1.forward_t(&preact.apply(&self.conv1), true).relu().apply(&self.conv2);
        h + shortcut
    }
}

/// ResNet-32 v2 in raw tch: a biased 3×3 conv, three stages of five blocks (16, 32, 64 filters), bn-relu,
/// global average pooling, the logits.
struct RawResNet {
    conv1: nn::Conv2D,
    blocks: Vec<RawBlock>,
    postnorm: nn::BatchNorm,
    logits: nn::Linear,
}

impl RawResNet {
    fn new(vs: &nn::Path) -> Self {
        let mut blocks = Vec::new();
        let mut inputs = 16;
        for (stage, filters) in [16, 32, 64].into_iter().enumerate() {
            for i in 0..5 {
                let stride = if i == 0 && stage > 0 { 2 } else { 1 };
                blocks.push(RawBlock::new(&(vs / format!("block{stage}_{i}")), inputs, filters, stride));
                inputs = filters;
            }
        }
        RawResNet {
            conv1: nn::conv2d(vs / "conv1", 3, 16, 3, nn::ConvConfig { padding: 1, ..Default::default() }),
            blocks,
            postnorm: nn::batch_norm2d(vs / "postnorm", 64, Default::default()),
            logits: nn::linear(vs / "logits", 64, 10, Default::default()),
        }
    }

    fn forward(&self, x: &Tensor) -> Tensor {
        let mut net = x.apply(&self.conv1);
        for block in &self.blocks {
            net = block.forward(&net);
        }
        let net = self.postnorm.forward_t(&net, true).relu();
        net.mean_dim(&[2i64, 3][..], false, Kind::Float).apply(&self.logits)
    }
}

fn main() -> Result<()> {
    tch::set_num_threads(2);
    tch::manual_seed(0);
    let batch = numeric_arg(1).unwrap_or(128) as i64;
    let images = Tensor::rand([batch, 3, 32, 32], (Kind::Float, Device::Cpu));
    let labels = Tensor::randint(10, [batch], (Kind::Int64, Device::Cpu));
    let sgd = nn::Sgd { momentum: 0.9, wd: 2e-4, ..Default::default() };

    let raw_vs = nn::VarStore::new(Device::Cpu);
    let raw = RawResNet::new(&raw_vs.root());
    let mut raw_opt = sgd.build(&raw_vs, 0.1)?;

    let model_vs = VarStore::new(Device::Cpu);
    let net = CifarResNet { n: 5, filters: 16, version: 2, num_classes: 10, weight_decay: 2e-4 };
    let model = net.build(&model_vs, "resnet_cifar_32", &[1, 3, 32, 32])?;
    let mut model_opt = sgd.build(model_vs.tch(), 0.1)?;

    let mut variants = [
        Variant {
            name: "raw tch::nn",
            step: Box::new(|| {
                raw_opt.backward_step(&raw.forward(&images).cross_entropy_for_logits(&labels));
                Ok(())
            }),
        },
        Variant {
            name: "slim nets::CifarResNet, built once",
            step: Box::new(|| {
                let logits = model.forward_t(&images, Mode::Train)?.output;
                model_vs.run_update_ops();
                model_opt.backward_step(&logits.cross_entropy_for_logits(&labels));
                Ok(())
            }),
        },
    ];
    compare(&format!("CIFAR ResNet-32 v2 train step, batch {batch}, 2 threads"), steps_arg(20), 3, &mut variants)
}
