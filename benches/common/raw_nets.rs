//! The benchmarks' networks written in raw `tch::nn`, the baseline each slim variant is compared with.

use slim::Result;
use slim::backend::memory_format::to_channels_last;
use slim::tch::nn::{self, Module, ModuleT};
use slim::tch::{Kind, Tensor};

/// TF-Slim's MNIST LeNet: conv5×5×32, pool, conv5×5×64, pool, fc1024, dropout 0.5, fc10 (SAME convs).
pub struct RawLenet {
    conv1: nn::Conv2D,
    conv2: nn::Conv2D,
    fc1: nn::Linear,
    fc2: nn::Linear,
}

impl RawLenet {
    /// The layers under `vs`.
    pub fn new(vs: &nn::Path) -> Self {
        let conv = nn::ConvConfig { padding: 2, ..Default::default() };
        RawLenet {
            conv1: nn::conv2d(vs / "conv1", 1, 32, 5, conv),
            conv2: nn::conv2d(vs / "conv2", 32, 64, 5, conv),
            fc1: nn::linear(vs / "fc3", 7 * 7 * 64, 1024, Default::default()),
            fc2: nn::linear(vs / "fc4", 1024, 10, Default::default()),
        }
    }

    /// The logits of a training pass (dropout on).
    pub fn forward(&self, x: &Tensor) -> Tensor {
        let x = self.conv1.forward(x).relu().max_pool2d([2, 2], [2, 2], [0, 0], [1, 1], false);
        let x = self.conv2.forward(&x).relu().max_pool2d([2, 2], [2, 2], [0, 0], [1, 1], false);
        let x = self.fc1.forward(&x.flatten(1, -1)).relu().dropout(0.5, true);
        self.fc2.forward(&x)
    }
}

/// A pre-activation residual block: bn-relu, a 3×3 conv, bn-relu, a 3×3 conv, plus the input or a 1×1
/// projection of the pre-activation. `biased` gives the second conv and the projection biases (as slim's
/// `nets::CifarResNet`, where they have no normalizer); the peers' workload has none.
struct RawBlock {
    preact: nn::BatchNorm,
    conv1: nn::Conv2D,
    norm1: nn::BatchNorm,
    conv2: nn::Conv2D,
    shortcut: Option<nn::Conv2D>,
}

impl RawBlock {
    fn new(vs: &nn::Path, inputs: i64, filters: i64, stride: i64, biased: bool) -> Self {
        let conv = |stride, padding, bias| nn::ConvConfig { stride, padding, bias, ..Default::default() };
        RawBlock {
            preact: nn::batch_norm2d(vs / "preact", inputs, Default::default()),
            conv1: nn::conv2d(vs / "conv1", inputs, filters, 3, conv(stride, 1, false)),
            norm1: nn::batch_norm2d(vs / "norm1", filters, Default::default()),
            conv2: nn::conv2d(vs / "conv2", filters, filters, 3, conv(1, 1, biased)),
            shortcut: (stride != 1 || inputs != filters)
                .then(|| nn::conv2d(vs / "shortcut", inputs, filters, 1, conv(stride, 0, biased))),
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

/// CIFAR ResNet-32 v2: a 3×3 conv, three stages of five blocks (16, 32, 64 filters), bn-relu, global average
/// pooling, the logits. Batch norm in train mode.
pub struct RawResNet {
    conv1: nn::Conv2D,
    blocks: Vec<RawBlock>,
    postnorm: nn::BatchNorm,
    logits: nn::Linear,
}

impl RawResNet {
    /// The layers under `vs`; `biased` as [`RawBlock`], and for the first conv.
    pub fn new(vs: &nn::Path, biased: bool) -> Self {
        let mut blocks = Vec::new();
        let mut inputs = 16;
        for (stage, filters) in [16, 32, 64].into_iter().enumerate() {
            for i in 0..5 {
                let stride = if i == 0 && stage > 0 { 2 } else { 1 };
                blocks.push(RawBlock::new(&(vs / format!("block{stage}_{i}")), inputs, filters, stride, biased));
                inputs = filters;
            }
        }
        RawResNet {
            conv1: nn::conv2d(
                vs / "conv1",
                3,
                16,
                3,
                nn::ConvConfig { padding: 1, bias: biased, ..Default::default() },
            ),
            blocks,
            postnorm: nn::batch_norm2d(vs / "postnorm", 64, Default::default()),
            logits: nn::linear(vs / "logits", 64, 10, Default::default()),
        }
    }

    /// The logits of a training pass.
    pub fn forward(&self, x: &Tensor) -> Tensor {
        let mut net = x.apply(&self.conv1);
        for block in &self.blocks {
            net = block.forward(&net);
        }
        let net = self.postnorm.forward_t(&net, true).relu();
        net.mean_dim(&[2i64, 3][..], false, Kind::Float).apply(&self.logits)
    }
}

/// An MLP 784-128-10 with a ReLU between.
pub fn raw_mlp(vs: &nn::Path) -> nn::Sequential {
    nn::seq().add(nn::linear(vs / "fc1", 784, 128, Default::default())).add_fn(|x| x.relu()).add(nn::linear(
        vs / "fc2",
        128,
        10,
        Default::default(),
    ))
}

/// VGG-16 (configuration D) for inference: thirteen 3×3 convs with ReLU in five pooled stages, then fc 4096,
/// 4096, 1000 (dropout is off at inference).
pub fn raw_vgg16(vs: &nn::Path) -> nn::Sequential {
    let mut net = nn::seq();
    let mut inputs = 3;
    for (stage, (convs, width)) in [(2, 64), (2, 128), (3, 256), (3, 512), (3, 512)].into_iter().enumerate() {
        for i in 0..convs {
            let conv = nn::ConvConfig { padding: 1, ..Default::default() };
            net = net.add(nn::conv2d(vs / format!("conv{stage}_{i}"), inputs, width, 3, conv)).add_fn(|x| x.relu());
            inputs = width;
        }
        net = net.add_fn(|x| x.max_pool2d([2, 2], [2, 2], [0, 0], [1, 1], false));
    }
    net.add_fn(|x| x.flatten(1, -1))
        .add(nn::linear(vs / "fc6", 512 * 7 * 7, 4096, Default::default()))
        .add_fn(|x| x.relu())
        .add(nn::linear(vs / "fc7", 4096, 4096, Default::default()))
        .add_fn(|x| x.relu())
        .add(nn::linear(vs / "fc8", 4096, 1000, Default::default()))
}

/// Raw tch in channels-last: the 4-D input and every 4-D weight moved into NHWC memory (PyTorch's
/// `model.to(memory_format=torch.channels_last)`); otherwise the input as is.
pub fn raw_layout(store: &nn::VarStore, channels_last: bool, inputs: &Tensor) -> Result<Tensor> {
    if !channels_last || inputs.dim() != 4 {
        return Ok(inputs.shallow_clone());
    }
    for mut variable in store.trainable_variables().into_iter().filter(|v| v.dim() == 4) {
        let nhwc = to_channels_last(&variable.detach())?;
        tch::no_grad(|| variable.set_data(&nhwc));
    }
    to_channels_last(inputs)
}
