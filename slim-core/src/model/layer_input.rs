//! How the macros take a layer's input: `conv2d(net, …)` works whether `net` is a `Tensor`, a `&Tensor` or
//! `&net`, without moving it.

use tch::Tensor;

/// A borrowed tensor, however the call site wrote it. Used by the expansions of slim's macros.
pub trait LayerInput<'a> {
    /// The tensor, borrowed for as long as the value it came from.
    fn layer_input(self) -> &'a Tensor;
}

impl<'a> LayerInput<'a> for &'a Tensor {
    fn layer_input(self) -> &'a Tensor {
        self
    }
}

impl<'b> LayerInput<'b> for &&'b Tensor {
    fn layer_input(self) -> &'b Tensor {
        self
    }
}
