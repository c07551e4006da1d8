//! TF-Slim's ImageNet ResNets (`nets/resnet_v1.py`, `nets/resnet_v2.py`): a 7×7 root conv and pool, four
//! blocks of bottleneck units (the stride sits in each block's last unit), global average pooling and 1×1-conv
//! logits. `output_stride` trades strides for atrous rates (dense features for segmentation); `num_classes =
//! None` returns the pooled features.

use super::logits::{predictions_end_point, squeeze_logits};
use super::resnet_utils::{conv2d_same, subsample};
use crate::checkpoint::StateDictMap;
use crate::prelude::*;

/// v1's bottleneck unit (post-activation): 1×1 conv, 3×3 conv carrying the stride (atrous at `rate`), 1×1 conv
/// without activation, plus the shortcut (the input subsampled, or a strided 1×1 projection when the depth
/// changes), then relu. TF-Slim's scope is `bottleneck_v1`.
#[crate::add_arg_scope]
pub fn bottleneck_v1(
    inputs: &Tensor,
    depth: i64,
    depth_bottleneck: i64,
    #[default(1)] stride: i64,
    #[default(1)] rate: i64,
) -> Result<Tensor> {
    let shortcut = match inputs.size()[1] == depth {
        true => subsample(inputs, stride, "shortcut")?,
        false => conv2d(inputs, depth, [1, 1], stride = stride, activation_fn = None, scope = "shortcut"),
    };
    let residual = conv2d(inputs, depth_bottleneck, [1, 1], scope = "conv1");
    let residual = conv2d_same(&residual, depth_bottleneck, 3, stride, rate, "conv2")?;
    let residual = conv2d(residual, depth, [1, 1], activation_fn = None, scope = "conv3");
    Ok((shortcut + residual).relu())
}

/// v2's bottleneck unit (pre-activation): batch norm and relu (`preact`) first, then 1×1, 3×3 (strided or
/// atrous) and 1×1 convs, the last without batch norm or activation, plus the shortcut (the input subsampled,
/// or a strided 1×1 projection of the pre-activation). TF-Slim's scope is `bottleneck_v2`.
#[crate::add_arg_scope]
pub fn bottleneck_v2(
    inputs: &Tensor,
    depth: i64,
    depth_bottleneck: i64,
    #[default(1)] stride: i64,
    #[default(1)] rate: i64,
) -> Result<Tensor> {
    let preact = batch_norm(inputs, activation_fn = relu, scope = "preact");
    let shortcut = match inputs.size()[1] == depth {
        true => subsample(inputs, stride, "shortcut")?,
        false => conv2d(
            &preact,
            depth,
            [1, 1],
            stride = stride,
            normalizer_fn = None,
            activation_fn = None,
            scope = "shortcut",
        ),
    };
    let residual = conv2d(&preact, depth_bottleneck, [1, 1], scope = "conv1");
    let residual = conv2d_same(&residual, depth_bottleneck, 3, stride, rate, "conv2")?;
    let residual = conv2d(residual, depth, [1, 1], normalizer_fn = None, activation_fn = None, scope = "conv3");
    Ok(shortcut + residual)
}

/// v1 (post-activation, He et al. 2015) or v2 (pre-activation, He et al. 2016).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResNetVersion {
    /// `resnet_v1_*`.
    V1,
    /// `resnet_v2_*`.
    V2,
}

/// How many bottleneck units each of the four blocks has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResNetDepth {
    /// 3, 4, 6, 3.
    R50,
    /// 3, 4, 23, 3.
    R101,
    /// 3, 8, 36, 3.
    R152,
    /// 3, 24, 36, 3.
    R200,
}

impl ResNetDepth {
    /// Units per block.
    pub fn units(self) -> [usize; 4] {
        match self {
            ResNetDepth::R50 => [3, 4, 6, 3],
            ResNetDepth::R101 => [3, 4, 23, 3],
            ResNetDepth::R152 => [3, 8, 36, 3],
            ResNetDepth::R200 => [3, 24, 36, 3],
        }
    }

    /// The layer count in the name (50, 101, 152, 200).
    pub fn layers(self) -> usize {
        3 * self.units().iter().sum::<usize>() + 2
    }
}

/// A TF-Slim ImageNet ResNet for `[N, 3, 224, 224]` images (any size works); build it in
/// [`ResNet::default_scope`] (`resnet_v1_50`, …) inside [`resnet_arg_scope`](super::resnet_arg_scope) to get
/// TF-Slim's names and defaults.
#[crate::model]
#[derive(Clone, Debug)]
pub struct ResNet {
    /// v1 or v2.
    pub version: ResNetVersion,
    /// 50, 101, 152 or 200 layers.
    pub depth: ResNetDepth,
    /// Classes of the logits; `None` returns the (pooled) features before them.
    pub num_classes: Option<i64>,
    /// Average the last feature map over space (true for classification).
    pub global_pool: bool,
    /// The input-to-output resolution ratio (8, 16 or 32, a multiple of 4); `None` is the nominal 32. Below
    /// 32, the later blocks use atrous convolutions instead of strides.
    pub output_stride: Option<i64>,
    /// Return `[N, classes]` logits instead of `[N, classes, 1, 1]` (needs a 1×1 map, so `global_pool`).
    pub spatial_squeeze: bool,
}

impl ResNet {
    /// A classifier with TF-Slim's defaults: global pooling, nominal stride, squeezed logits.
    pub fn classifier(version: ResNetVersion, depth: ResNetDepth, num_classes: Option<i64>) -> Self {
        ResNet { version, depth, num_classes, global_pool: true, output_stride: None, spatial_squeeze: true }
    }

    /// TF-Slim's scope name: `resnet_v1_50`, `resnet_v2_101`, …
    pub fn default_scope(&self) -> String {
        let version = match self.version {
            ResNetVersion::V1 => 1,
            ResNetVersion::V2 => 2,
        };
        format!("resnet_v{version}_{}", self.depth.layers())
    }

    /// The stride each unit uses and its atrous rate, as `stack_blocks_dense` assigns them for `output_stride`
    /// (after the root's factor of 4); an error when the blocks cannot reach it exactly.
    fn unit_strides(&self) -> Result<Vec<Vec<(i64, i64)>>> {
        let target = match self.output_stride {
            Some(stride) if stride <= 0 || stride % 4 != 0 => {
                return Err(Error::invalid(
                    self.default_scope(),
                    format!("output_stride must be a multiple of 4, got {stride}"),
                ));
            }
            other => other.map(|stride| stride / 4),
        };
        let (mut current, mut rate) = (1, 1);
        let mut blocks = Vec::new();
        for (block, units) in self.depth.units().into_iter().enumerate() {
            let block_stride = if block == 3 { 1 } else { 2 };
            let mut strides = Vec::with_capacity(units);
            for unit in 0..units {
                let stride = if unit + 1 == units { block_stride } else { 1 };
                if target == Some(current) {
                    strides.push((1, rate));
                    rate *= stride;
                } else {
                    strides.push((stride, 1));
                    current *= stride;
                }
            }
            blocks.push(strides);
        }
        match target {
            Some(target) if target != current => Err(Error::invalid(
                self.default_scope(),
                format!("output_stride {} is out of reach: the blocks stride 4 to 32", target * 4),
            )),
            _ => Ok(blocks),
        }
    }
}

#[crate::model]
impl ResNet {
    fn forward(&self, inputs: &Tensor) -> Result<Tensor> {
        let strides = self.unit_strides()?;
        let v1 = self.version == ResNetVersion::V1;
        let mut net = match v1 {
            true => conv2d_same(inputs, 64, 7, 2, 1, "conv1")?,
            false => arg_scope!([conv2d], activation_fn = None, normalizer_fn = None => {
                conv2d_same(inputs, 64, 7, 2, 1, "conv1")
            })?,
        };
        net = max_pool2d(net, [3, 3], stride = 2, scope = "pool1");
        for (block, (units, base)) in strides.iter().zip([64, 128, 256, 512]).enumerate() {
            for (unit, (stride, rate)) in units.iter().enumerate() {
                let unit = format!("block{}/unit_{}", block + 1, unit + 1);
                net = match v1 {
                    true => bottleneck_v1(
                        net,
                        base * 4,
                        base,
                        stride = *stride,
                        rate = *rate,
                        scope = format!("{unit}/bottleneck_v1"),
                    ),
                    false => bottleneck_v2(
                        net,
                        base * 4,
                        base,
                        stride = *stride,
                        rate = *rate,
                        scope = format!("{unit}/bottleneck_v2"),
                    ),
                };
            }
        }
        if !v1 {
            net = batch_norm(net, activation_fn = relu, scope = "postnorm");
        }
        if self.global_pool {
            net = net.f_mean_dim(&[2i64, 3][..], true, Kind::Float)?;
        }
        let Some(num_classes) = self.num_classes else { return Ok(net) };
        let logits = conv2d(net, num_classes, [1, 1], activation_fn = None, normalizer_fn = None, scope = "logits");
        let logits = squeeze_logits(logits, self.spatial_squeeze, &self.default_scope())?;
        predictions_end_point(&logits, "predictions")?;
        logits
    }
}

/// The map between torchvision's `resnet50` / `resnet101` / `resnet152` state dict (the depth's; torchvision has
/// no 200) and slim's `resnet_v1` built in `scope`, both ways: convs, batch norms (`weight`/`bias`/
/// `running_mean`/`running_var` ↔ `gamma`/`beta`/`moving_mean`/`moving_variance`; `num_batches_tracked` is a
/// counter: ignored on import, written as 0 on export), projection shortcuts (`downsample`), and `fc` ↔ `logits`
/// (a matrix: `[1000, 2048]` ↔ `[1000, 2048, 1, 1]`, so restore with `reshape_variables`). Export with
/// `export_state_dict`: torchvision's model loads the result strictly.
///
/// The shapes match one to one, but the nets differ: torchvision strides in each stage's *first* unit, TF-Slim's
/// resnet_v1 in each block's *last* (block 4 not at all). torchvision's weights are then a starting point for
/// fine-tuning, not torchvision's predictions, and the same holds the other way.
pub fn torchvision_resnet_map(depth: ResNetDepth, scope: &str) -> StateDictMap {
    let norm = |map: StateDictMap, torch: &str, slim: &str| {
        [("weight", "gamma"), ("bias", "beta"), ("running_mean", "moving_mean"), ("running_var", "moving_variance")]
            .into_iter()
            .fold(map, |map, (t, s)| map.tensor(format!("{torch}.{t}"), format!("{slim}/BatchNorm/{s}")))
            .counter(format!("{torch}.num_batches_tracked"))
    };
    let map = StateDictMap::new().tensor("conv1.weight", format!("{scope}/conv1/weights"));
    let mut map = norm(map, "bn1", &format!("{scope}/conv1"));
    for (block, units) in depth.units().into_iter().enumerate() {
        for unit in 0..units {
            let torch = format!("layer{}.{unit}", block + 1);
            let slim = format!("{scope}/block{}/unit_{}/bottleneck_v1", block + 1, unit + 1);
            for conv in 1..=3 {
                map = map.tensor(format!("{torch}.conv{conv}.weight"), format!("{slim}/conv{conv}/weights"));
                map = norm(map, &format!("{torch}.bn{conv}"), &format!("{slim}/conv{conv}"));
            }
            if unit == 0 {
                map = map.tensor(format!("{torch}.downsample.0.weight"), format!("{slim}/shortcut/weights"));
                map = norm(map, &format!("{torch}.downsample.1"), &format!("{slim}/shortcut"));
            }
        }
    }
    map.matrix("fc.weight", format!("{scope}/logits/weights")).tensor("fc.bias", format!("{scope}/logits/biases"))
}
