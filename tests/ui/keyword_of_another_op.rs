use slim::prelude::*;

#[slim::model]
struct Net;

#[slim::model]
impl Net {
    fn forward(&self, inputs: &Tensor) -> Result<Tensor> {
        max_pool2d(inputs, [2, 2], activation_fn = None)
    }
}

fn main() {}
