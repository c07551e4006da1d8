use slim::prelude::*;

#[slim::model]
struct Net;

#[slim::model]
impl Net {
    fn forward(&self, inputs: &Tensor) -> Result<Tensor> {
        conv2d(inputs, 64, [3, 3], padding = 3.5)
    }
}

fn main() {}
