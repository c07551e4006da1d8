use slim::prelude::*;

#[slim::model]
struct Net;

#[slim::model]
impl Net {
    fn forward(&self, inputs: &Tensor) -> Result<Tensor> {
        let net = conv2d(inputs, 64, [3, 3], paddin = Valid);
        let net = max_pool2d(net, [2, 2], stride = 2, stride = 1);
        fully_connected(net, 10, keep_prob = 0.5)
    }
}

fn main() {}
