//! The building blocks of TF-Slim's video nets (`nets/i3d_utils.py` and `s3dg.self_gating`): the spatiotemporal
//! convolution (full, or separable into a spatial and a centred temporal one), S3D-G's self-gating, and the 3-D
//! Inception v1 block.

use crate::prelude::*;

/// TF-Slim's `center_initializer`: for `[channels, channels, t, 1, 1]` temporal weights with odd `t`, the identity
/// on the middle frame, so a new temporal conv starts as a pass-through. Other shapes are an error.
fn center_initializer() -> Initializer {
    Initializer::custom(|shape, kind, device| {
        let fits = matches!(shape, [out, input, t, 1, 1] if out == input && t % 2 == 1);
        if !fits {
            return Err(Error::invalid(
                "center_initializer",
                format!("needs [c, c, odd t, 1, 1] weights (a pointwise temporal conv), got {shape:?}"),
            ));
        }
        let (channels, frames) = (shape[0], shape[2]);
        let identity = Tensor::f_eye(channels, (kind, device))?.view([channels, channels, 1, 1, 1]);
        let mut frames_mask = vec![0f32; frames as usize];
        frames_mask[(frames / 2) as usize] = 1.0;
        let middle = Tensor::from_slice(&frames_mask).to_kind(kind).to_device(device).view([1, 1, frames, 1, 1]);
        Ok(identity * middle)
    })
}

/// How a block's convs with a temporal extent are built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Spatiotemporal {
    /// Frames the kernels span (1 for a 2-D conv applied per frame).
    pub frames: i64,
    /// Split `[t, k, k]` convs into `[1, k, k]` and a centred `[t, 1, 1]` (S3D's separable convs).
    pub separable: bool,
}

impl Spatiotemporal {
    /// TF-Slim's `conv3d_spatiotemporal(x, depth, [frames, side, side], stride)` under `scope`: one conv3d, or, when
    /// separable and `frames` > 1, a spatial conv3d (`scope`, the arg scope's normalizer) and a temporal one
    /// (`scope/temporal`: biases instead of the normalizer, centred identity weights).
    pub(super) fn conv(self, x: &Tensor, depth: i64, side: i64, stride: i64, scope: &str) -> Result<Tensor> {
        let frames = self.frames;
        if !self.separable || frames == 1 {
            return conv3d(x, depth, [frames, side, side]).stride(stride).scope(scope).call();
        }
        let spatial = conv3d(x, depth, [1, side, side]).stride([1, stride, stride]).scope(scope).call()?;
        let temporal = conv3d(&spatial, depth, [frames, 1, 1]).stride([stride, 1, 1]).normalizer_fn(None);
        temporal.weights_initializer(center_initializer()).scope(format!("{scope}/temporal")).call()
    }
}

/// S3D-G's `self_gating` under `scope`: the features averaged over frames and pixels, a bias-free 1×1×1 conv
/// (`scope/self_gating/transformer_W`, truncated normal σ 0.01, no activation or normalizer), and `x` scaled by
/// its sigmoid. (TF-Slim pools with a `[t, w, h]` window, which equals this mean for the square frames its nets
/// take.)
pub(super) fn self_gating(x: &Tensor, scope: &str) -> Result<Tensor> {
    let channels = x.size()[1];
    let average = x.f_mean_dim(&[2i64, 3, 4][..], true, x.kind())?;
    let weights = conv3d(&average, channels, 1)
        .activation_fn(None)
        .normalizer_fn(None)
        .biases_initializer(None)
        .weights_initializer(truncated_normal(0.0, 0.01))
        .scope(format!("{scope}/self_gating/transformer_W"))
        .call()?;
    Ok(x.f_mul(&weights.f_sigmoid()?)?)
}

/// The output depths of a 3-D Inception block: branch 0's 1×1, branch 1's 1×1 and 3×3, branch 2's 1×1 and 3×3,
/// branch 3's 1×1 after the pool.
pub(super) type BlockDepths = [i64; 6];

/// TF-Slim's `inception_block_v1_3d` under `scope`: four branches (1×1×1; 1×1×1 then spatiotemporal 3×3; the same;
/// a 3×3×3 max pool then 1×1×1), each conv self-gated when `gating`, concatenated over the channels. Strides and
/// padding come from the enclosing arg scope (1 and SAME in the nets).
pub(super) fn inception_block_3d(
    x: &Tensor,
    depths: BlockDepths,
    convs: Spatiotemporal,
    gating: bool,
    scope: &str,
) -> Result<Tensor> {
    let gate = |net: Tensor, conv_scope: &str| match gating {
        true => self_gating(&net, conv_scope),
        false => Ok(net),
    };
    let pointwise = |x: &Tensor, depth: i64, name: &str| conv3d(x, depth, 1).scope(name).call();
    let branch_0 = format!("{scope}/Branch_0/Conv2d_0a_1x1");
    let branch_0 = gate(pointwise(x, depths[0], &branch_0)?, &branch_0)?;
    let mut branches = vec![branch_0];
    for (branch, (reduce, depth)) in [(1, (depths[1], depths[2])), (2, (depths[3], depths[4]))] {
        let net = pointwise(x, reduce, &format!("{scope}/Branch_{branch}/Conv2d_0a_1x1"))?;
        let conv_scope = format!("{scope}/Branch_{branch}/Conv2d_0b_3x3");
        branches.push(gate(convs.conv(&net, depth, 3, 1, &conv_scope)?, &conv_scope)?);
    }
    let pooled = max_pool3d(x, 3).scope(format!("{scope}/Branch_3/MaxPool_0a_3x3")).call()?;
    let branch_3 = format!("{scope}/Branch_3/Conv2d_0b_1x1");
    branches.push(gate(pointwise(&pooled, depths[5], &branch_3)?, &branch_3)?);
    Ok(Tensor::f_cat(&branches, 1)?)
}

#[cfg(test)]
mod tests {
    use super::center_initializer;
    use tch::{Device, Kind, Tensor};

    #[test]
    fn the_center_initializer_passes_the_middle_frame_through() {
        let weights = center_initializer().initialize(&[4, 4, 3, 1, 1], Kind::Float, Device::Cpu).unwrap();
        let clip = Tensor::rand([2, 4, 5, 3, 3], (Kind::Float, Device::Cpu));
        let out = clip.conv3d(&weights, None::<Tensor>, [1, 1, 1], [1, 0, 0], [1, 1, 1], 1);
        assert!(out.equal(&clip), "identity on the middle frame");
        let error = center_initializer().initialize(&[4, 4, 2, 1, 1], Kind::Float, Device::Cpu).unwrap_err();
        assert!(error.to_string().contains("odd t"), "{error}");
    }
}
