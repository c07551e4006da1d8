//! The blocks of TF-Slim's MobileNet v2 and v3 (`nets/mobilenet/conv_blocks.py`): channel rounding
//! (`_make_divisible`), the inverted-residual `expanded_conv` (1×1 expansion, depthwise conv, 1×1 linear
//! projection, residual add) and v3's squeeze-and-excite gate.

use crate::prelude::*;

/// TF-Slim's `_make_divisible(v, divisor, min_value)`: `v` rounded to the nearest multiple of `divisor`, at least
/// `min_value`, and never more than 10% below `v`.
pub(super) fn make_divisible(v: f64, divisor: i64, min_value: i64) -> i64 {
    let rounded = ((v + divisor as f64 / 2.0) as i64) / divisor * divisor;
    let divisible = rounded.max(min_value);
    match (divisible as f64) < 0.9 * v {
        true => divisible + divisor,
        false => divisible,
    }
}

/// The activation of a layer or of a block's inner layers: the enclosing arg scope's, or one the net's
/// definition names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum LayerActivation {
    /// Whatever the arg scope says (relu6 in v2, relu in v3).
    Scope,
    /// `tf.nn.relu`.
    Relu,
    /// v3's hard swish.
    HardSwish,
}

impl LayerActivation {
    /// The activation the definition names, if it names one.
    pub(super) fn explicit(self) -> Option<Activation> {
        match self {
            LayerActivation::Scope => None,
            LayerActivation::Relu => Some(relu),
            LayerActivation::HardSwish => Some(hard_swish),
        }
    }

    /// `body` run with this activation in the arg scope of conv2d and separable_conv2d (as `expanded_conv` sets
    /// `inner_activation_fn`), or in the enclosing arg scope.
    fn scoped<T>(self, body: impl FnOnce() -> Result<T>) -> Result<T> {
        match self.explicit() {
            Some(activation) => {
                crate::arg_scope!([conv2d, separable_conv2d], activation_fn = activation.clone() => { body() })
            }
            None => body(),
        }
    }
}

/// One `expanded_conv` of a net's definition, before the depth multiplier.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct ExpandedConv {
    /// The expansion factor over the block's input channels (`expand_input_by_factor`).
    pub expansion: f64,
    /// The multiple the expanded channels are rounded to (8; 1 for v2's first block).
    pub expansion_divisor: i64,
    /// The projection's output channels.
    pub depth: i64,
    /// The depthwise kernel's side (the expansion conv's, when `fused`).
    pub kernel: i64,
    /// The depthwise conv's stride (the expansion conv's, when `fused`).
    pub stride: i64,
    /// The activation of the expansion and depthwise convs.
    pub activation: LayerActivation,
    /// Whether a squeeze-and-excite gate follows the depthwise conv (v3's `mbv3_op_se`).
    pub squeeze_excite: bool,
    /// EdgeTPU's `mbv3_fused`: the expansion is a `kernel`×`kernel` conv at `stride` and there is no depthwise conv.
    pub fused: bool,
    /// Whether the input is added back when the stride is 1 and the depths agree.
    pub residual: bool,
}

impl ExpandedConv {
    /// v2's block: expansion 6, relu6 from the arg scope, 3×3 depthwise.
    pub(super) const fn v2(depth: i64, stride: i64) -> Self {
        ExpandedConv::v3(6.0, depth, 3, stride, LayerActivation::Scope)
    }

    /// v3's `mbv3_op(ef, n, k, s, act)` (with `se` for `mbv3_op_se`).
    pub(super) const fn v3(expansion: f64, depth: i64, kernel: i64, stride: i64, activation: LayerActivation) -> Self {
        ExpandedConv {
            expansion,
            expansion_divisor: 8,
            depth,
            kernel,
            stride,
            activation,
            squeeze_excite: false,
            fused: false,
            residual: true,
        }
    }

    /// This block with a squeeze-and-excite gate after its depthwise conv.
    pub(super) const fn with_squeeze_excite(self) -> Self {
        ExpandedConv { squeeze_excite: true, ..self }
    }

    /// Applies the block to `x` under `scope` (`expanded_conv_3`), `depth` output channels after thinning, at
    /// `stride` and dilation `rate`; records the end points `<layer>/expansion_output` (when it expands),
    /// `<layer>/depthwise_output` and `<layer>/output`.
    pub(super) fn apply(
        &self,
        x: &Tensor,
        depth: i64,
        (stride, rate): (i64, i64),
        scope: &str,
        layer: &str,
    ) -> Result<Tensor> {
        let input_depth = x.size()[1];
        let inner = make_divisible(input_depth as f64 * self.expansion, self.expansion_divisor, self.expansion_divisor);
        let net = self.activation.scoped(|| {
            let mut net = x.shallow_clone();
            if inner > input_depth {
                let (kernel, expansion_stride) = match self.fused {
                    true => (self.kernel, stride),
                    false => (1, 1),
                };
                let expand = conv2d(&net, inner, [kernel, kernel]).stride(expansion_stride);
                net =
                    end_point(&expand.scope(format!("{scope}/expand")).call()?, &format!("{layer}/expansion_output"))?;
            }
            if !self.fused {
                let depthwise = separable_conv2d(&net, None, [self.kernel, self.kernel]).stride(stride).rate(rate);
                net = end_point(
                    &depthwise.scope(format!("{scope}/depthwise")).call()?,
                    &format!("{layer}/depthwise_output"),
                )?;
            }
            Ok(net)
        })?;
        let net = match self.squeeze_excite {
            true => squeeze_excite(&net, &format!("{scope}/squeeze_excite"))?,
            false => net,
        };
        let project = conv2d(&net, depth, [1, 1]).activation_fn(None).scope(format!("{scope}/project")).call()?;
        let net = match self.residual && stride == 1 && depth == input_depth {
            true => project.f_add(x)?,
            false => project,
        };
        end_point(&net, &format!("{layer}/output"))
    }
}

/// v3's gating function: TF-Slim's `relu6(x + 3) * 0.16667` (its constant, not 1/6).
fn hard_sigmoid() -> Activation {
    Activation::custom("hard_sigmoid", |x| (x + 3.0).clamp(0.0, 6.0) * 0.16667)
}

/// TF-Slim's `squeeze_excite(squeeze_factor=4, inner_activation_fn=relu, gating_fn=hard sigmoid)` on `x` under
/// `scope`: the channels averaged over the map, a 1×1 conv to a quarter of them (rounded to 8) with relu, a 1×1
/// conv back with the gate, and `x` scaled by the result. Both convs have biases and no normalizer.
fn squeeze_excite(x: &Tensor, scope: &str) -> Result<Tensor> {
    let channels = x.size()[1];
    let squeezed = make_divisible(channels as f64 / 4.0, 8, 8);
    let pooled = x.f_mean_dim(&[2i64, 3][..], true, x.kind())?;
    let squeeze = conv2d(&pooled, squeezed, [1, 1]).normalizer_fn(None).activation_fn(relu);
    let squeeze = squeeze.scope(format!("{scope}/Conv")).call()?;
    let excite = conv2d(&squeeze, channels, [1, 1]).normalizer_fn(None).activation_fn(hard_sigmoid());
    let excite = excite.scope(format!("{scope}/Conv_1")).call()?;
    Ok(x.f_mul(&excite)?)
}

#[cfg(test)]
mod tests {
    use super::make_divisible;

    #[test]
    fn make_divisible_rounds_as_tf_slim_does() {
        assert_eq!(make_divisible(24.0 * 1.4, 8, 8), 32, "33.6 rounds to 32");
        assert_eq!(make_divisible(16.0 * 0.35, 8, 8), 8, "the minimum");
        assert_eq!(make_divisible(18.0, 8, 8), 24, "16 would be more than 10% below 18");
        assert_eq!(make_divisible(24.0, 16, 32), 32);
        assert_eq!(make_divisible(32.0 * 0.35, 8, 8), 16, "11.2 rounds up to 16");
        assert_eq!(make_divisible(320.0 * 0.35, 8, 8), 112);
        assert_eq!(make_divisible(32.0, 1, 1), 32);
    }
}
