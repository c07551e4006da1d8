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
}
