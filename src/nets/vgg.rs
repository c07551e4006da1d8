//! TF-Slim's VGG nets (`vgg_a`, `vgg_16`, `vgg_19` of `nets/vgg.py`): repeated 3×3 convs and 2×2 pools, then
//! the fully connected layers as convolutions (`fc6` a 7×7 VALID conv, `fc7` and `fc8` 1×1), so the variables
//! and their shapes are those of TF-Slim's checkpoints. Also the map from torchvision's names.

use crate::checkpoint::StateDictMap;
use crate::prelude::*;

/// Which VGG: the number of convs in each of the five blocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VggDepth {
    /// `vgg_a` (VGG-11): 1, 1, 2, 2, 2.
    A,
    /// `vgg_16`: 2, 2, 3, 3, 3.
    D16,
    /// `vgg_19`: 2, 2, 4, 4, 4.
    E19,
}

impl VggDepth {
    /// Convs per block.
    pub fn blocks(self) -> [usize; 5] {
        match self {
            VggDepth::A => [1, 1, 2, 2, 2],
            VggDepth::D16 => [2, 2, 3, 3, 3],
            VggDepth::E19 => [2, 2, 4, 4, 4],
        }
    }

    /// TF-Slim's default scope (`vgg_a`, `vgg_16`, `vgg_19`).
    pub fn scope(self) -> &'static str {
        match self {
            VggDepth::A => "vgg_a",
            VggDepth::D16 => "vgg_16",
            VggDepth::E19 => "vgg_19",
        }
    }
}

/// A VGG net for `[N, 3, 224, 224]` images; build it in `depth.scope()` to get TF-Slim's names.
#[crate::model]
#[derive(Clone, Debug)]
pub struct Vgg {
    /// The variant.
    pub depth: VggDepth,
    /// Classes of the logits (1000 for ImageNet); `None` returns `fc7`'s 4096 features (before dropout), as
    /// TF-Slim does.
    pub num_classes: Option<i64>,
    /// Dropout's keep probability in training (0.5).
    pub dropout_keep_prob: f64,
    /// Squeeze the 1×1 spatial dimensions of the logits (true: logits are `[N, num_classes]`).
    pub spatial_squeeze: bool,
}

#[crate::model]
impl Vgg {
    fn forward(&self, inputs: &Tensor) -> Result<Tensor> {
        let filters = [64, 128, 256, 512, 512];
        let mut net = inputs.shallow_clone();
        for (block, (convs, width)) in self.depth.blocks().into_iter().zip(filters).enumerate() {
            let name = format!("conv{}", block + 1);
            net = repeat!(net, convs, conv2d(width, [3, 3]), scope = name);
            net = max_pool2d(net, [2, 2], scope = format!("pool{}", block + 1));
        }
        let net = conv2d(net, 4096, [7, 7], padding = Valid, scope = "fc6");
        let net = dropout(net, self.dropout_keep_prob, scope = "dropout6");
        let net = conv2d(net, 4096, [1, 1], scope = "fc7");
        let Some(num_classes) = self.num_classes else { return Ok(net) };
        let net = dropout(net, self.dropout_keep_prob, scope = "dropout7");
        let logits = conv2d(net, num_classes, [1, 1], activation_fn = None, normalizer_fn = None, scope = "fc8");
        match self.spatial_squeeze {
            true => Ok(logits.f_squeeze_dims([2, 3])?),
            false => Ok(logits),
        }
    }
}

/// TF-Slim's `vgg_arg_scope(weight_decay)`: relu, l2 weight decay and zero biases for convs and fully connected
/// layers, SAME padding for convs. Enter it around `build` (arg scopes act when layers are created).
pub fn vgg_arg_scope(weight_decay: f64) -> ArgScope {
    crate::arg_scope!([conv2d, fully_connected],
                      activation_fn = relu,
                      weights_regularizer = l2_regularizer(weight_decay),
                      biases_initializer = zeros_initializer() => {
        crate::arg_scope!([conv2d], padding = Same => { ArgScope::current() })
    })
}

/// The map between torchvision's `vgg11` / `vgg16` / `vgg19` state dict (without batch norm) and the slim net
/// built in `scope`, both ways: restore torchvision's weights with `map.variable_map(&vs)` and
/// `reshape_variables` (its classifier's `Linear`s fill the fully connected convolutions: `[4096, 25088]` is
/// `fc6`'s `[4096, 512, 7, 7]` in the same element order), or write slim's as a state dict torchvision's model
/// loads strictly with `export_state_dict`. The nets compute the same function, so the logits agree.
pub fn torchvision_vgg_map(depth: VggDepth, scope: &str) -> StateDictMap {
    let mut map = StateDictMap::new();
    let mut index = 0;
    for (block, convs) in depth.blocks().into_iter().enumerate() {
        for conv in 1..=convs {
            let slim = format!("{scope}/conv{0}/conv{0}_{conv}", block + 1);
            map = map
                .tensor(format!("features.{index}.weight"), format!("{slim}/weights"))
                .tensor(format!("features.{index}.bias"), format!("{slim}/biases"));
            index += 2; // the conv and its ReLU
        }
        index += 1; // the max pool
    }
    for (layer, fc) in [(0, "fc6"), (3, "fc7"), (6, "fc8")] {
        map = map
            .matrix(format!("classifier.{layer}.weight"), format!("{scope}/{fc}/weights"))
            .tensor(format!("classifier.{layer}.bias"), format!("{scope}/{fc}/biases"));
    }
    map
}
