//! The layouts checkpoint formats keep weights in, and the one place that converts them into slim's.

use tch::Tensor;

/// How a checkpoint format lays out weights.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// libtorch's, which slim and PyTorch use: convolutions OIHW, depthwise `[in·mult, 1, kh, kw]`, fully
    /// connected `[out, in]`.
    Torch,
    /// TensorFlow's: convolutions HWIO, depthwise `[kh, kw, in, mult]`, fully connected `[in, out]`.
    Tf,
}

impl Layout {
    /// The entry `name`'s `value` in the layout of the slim variable it fills, whose shape is `target`. Only
    /// weights (`…weights`) are converted from TF's layout; tensors whose shape already matches, and those of
    /// other ranks, are returned as they are.
    pub(crate) fn to_torch(self, name: &str, value: &Tensor, target: &[i64]) -> Tensor {
        match self {
            Layout::Torch => value.shallow_clone(),
            Layout::Tf => tf_to_torch(name, value, target),
        }
    }

    /// The entry `name`'s `value`, in this layout, in layout `to`, by its name alone (no variable to fill):
    /// weights (`…weights`) of rank 4 are convolutions, or depthwise ones when named `…depthwise_weights`
    /// (written to TF with a depth multiplier of 1, the only one their torch shape `[in·mult, 1, kh, kw]` does
    /// not hide), of rank 3 and 5 1-D and 3-D convolutions, and of rank 2 fully connected; everything else is kept
    /// as it is.
    pub(crate) fn convert(self, to: Layout, name: &str, value: &Tensor) -> Tensor {
        let (rank, is_weights, depthwise) =
            (value.dim(), name.ends_with("weights"), name.ends_with("depthwise_weights"));
        match (self, to, rank, is_weights) {
            (Layout::Tf, Layout::Torch, 4, true) if depthwise => {
                let [height, width, channels, multiplier] = value.size()[..] else { return value.shallow_clone() };
                value.permute([2, 3, 0, 1]).reshape([channels * multiplier, 1, height, width])
            }
            (Layout::Tf, Layout::Torch, 4, true) => value.permute([3, 2, 0, 1]).contiguous(),
            (Layout::Torch, Layout::Tf, 4, true) if depthwise => value.permute([2, 3, 0, 1]).contiguous(),
            (Layout::Torch, Layout::Tf, 4, true) => value.permute([2, 3, 1, 0]).contiguous(),
            (Layout::Tf, Layout::Torch, 2, true) | (Layout::Torch, Layout::Tf, 2, true) => value.tr().contiguous(),
            (Layout::Tf, Layout::Torch, 3 | 5, true) => value.permute(spatial_first_to_torch(rank)).contiguous(),
            (Layout::Torch, Layout::Tf, 3 | 5, true) => value.permute(torch_to_spatial_first(rank)).contiguous(),
            _ => value.shallow_clone(),
        }
    }
}

/// The permutation from TF's `[k…, in, out]` (1-D and 3-D convolutions; `[k…, out, in]` for transposed ones)
/// to libtorch's `[out, in, k…]` (`[in, out, k…]`): the last two axes swapped to the front.
fn spatial_first_to_torch(rank: usize) -> Vec<i64> {
    let rank = rank as i64;
    [rank - 1, rank - 2].into_iter().chain(0..rank - 2).collect()
}

/// The inverse of [`spatial_first_to_torch`]: libtorch's `[out, in, k…]` to TF's `[k…, in, out]`.
fn torch_to_spatial_first(rank: usize) -> Vec<i64> {
    let rank = rank as i64;
    (2..rank).chain([1, 0]).collect()
}

fn tf_to_torch(name: &str, value: &Tensor, target: &[i64]) -> Tensor {
    let is_weights = name.ends_with("weights");
    match (value.dim(), is_weights) {
        (4, true) => {
            let oihw = value.permute([3, 2, 0, 1]);
            if oihw.size() == target {
                return oihw.contiguous();
            }
            let depthwise = value.permute([2, 3, 0, 1]).contiguous();
            match depthwise.numel() as i64 == target.iter().product::<i64>() && target.get(1) == Some(&1) {
                true => depthwise.reshape(target),
                false => value.shallow_clone(),
            }
        }
        (2, true) => value.tr().contiguous(),
        (rank @ (3 | 5), true) => {
            let torch = value.permute(spatial_first_to_torch(rank));
            match torch.size() == target {
                true => torch.contiguous(),
                false => value.shallow_clone(),
            }
        }
        _ => value.shallow_clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind};

    fn counting(shape: &[i64]) -> Tensor {
        Tensor::arange(shape.iter().product::<i64>(), (Kind::Float, Device::Cpu)).reshape(shape)
    }

    #[test]
    fn tf_convolutions_depthwise_and_dense_weights_become_torch_layouts() {
        let hwio = counting(&[3, 3, 2, 4]);
        let oihw = Layout::Tf.to_torch("net/conv/weights", &hwio, &[4, 2, 3, 3]);
        assert!(oihw.equal(&hwio.permute([3, 2, 0, 1])));
        let depthwise = counting(&[3, 3, 2, 1]);
        let converted = Layout::Tf.to_torch("net/dw/depthwise_weights", &depthwise, &[2, 1, 3, 3]);
        assert!(converted.equal(&depthwise.permute([2, 3, 0, 1]).reshape([2, 1, 3, 3])));
        let dense = counting(&[5, 3]);
        assert!(Layout::Tf.to_torch("net/fc/weights", &dense, &[3, 5]).equal(&dense.tr()));
        let biases = counting(&[3]);
        assert!(Layout::Tf.to_torch("net/fc/biases", &biases, &[3]).equal(&biases));
        assert!(Layout::Torch.to_torch("net/fc/weights", &dense, &[5, 3]).equal(&dense));
    }

    #[test]
    fn conversions_by_name_go_both_ways_and_round_trip() {
        let cases = [
            ("net/conv/weights", counting(&[4, 2, 3, 3]), vec![3, 3, 2, 4]),
            ("net/dw/depthwise_weights", counting(&[6, 1, 3, 3]), vec![3, 3, 6, 1]),
            ("net/fc/weights", counting(&[5, 3]), vec![3, 5]),
            ("net/conv3d/weights", counting(&[4, 2, 1, 3, 5]), vec![1, 3, 5, 2, 4]),
            ("net/conv1d/weights", counting(&[4, 2, 3]), vec![3, 2, 4]),
            ("net/fc/biases", counting(&[5]), vec![5]),
            ("global_step", counting(&[]), vec![]),
        ];
        for (name, torch, tf_shape) in cases {
            let tf = Layout::Torch.convert(Layout::Tf, name, &torch);
            assert_eq!(tf.size(), tf_shape, "{name}");
            let target = torch.size();
            assert!(Layout::Tf.to_torch(name, &tf, &target).equal(&torch), "{name}: the reader takes it back");
            assert!(Layout::Tf.convert(Layout::Torch, name, &tf).equal(&torch), "{name}: and so does convert");
            assert!(Layout::Torch.convert(Layout::Torch, name, &torch).equal(&torch));
        }
        let multiplied = counting(&[3, 3, 2, 2]); // in 2, multiplier 2
        let torch = Layout::Tf.convert(Layout::Torch, "dw/depthwise_weights", &multiplied);
        assert!(torch.equal(&Layout::Tf.to_torch("dw/depthwise_weights", &multiplied, &[4, 1, 3, 3])));
    }
}
