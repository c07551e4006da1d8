//! Every built layer can be replayed from a model's tape.

use tch::Tensor;

use super::{BatchNorm, BiasAdd, Conv2d, Conv2dTranspose, Dropout, FullyConnected, LayerNorm, Pool2d, SeparableConv2d};
use crate::Result;
use crate::model::tape::TapeLayer;

macro_rules! tape_layers {
    ($($layer:ty),* $(,)?) => {
        $(
            impl TapeLayer for $layer {
                fn name(&self) -> &str {
                    <$layer>::name(self)
                }

                fn forward(&self, x: &Tensor) -> Result<Tensor> {
                    <$layer>::forward(self, x)
                }
            }
        )*
    };
}

tape_layers!(Conv2d, Conv2dTranspose, SeparableConv2d, FullyConnected, BatchNorm, LayerNorm, BiasAdd, Pool2d, Dropout);
