use slim::prelude::*;

#[slim::model]
struct Net;

#[slim::model]
impl Net {
    fn forward(&self, inputs: &Tensor) -> Result<Tensor> {
        conv2d(inputs, 64, [3, 3], stride = 2, stride = 1)
    }
}

fn main() {}
