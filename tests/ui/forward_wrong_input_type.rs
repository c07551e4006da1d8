use slim::prelude::*;

#[slim::model]
struct Net;

#[slim::model]
impl Net {
    fn forward(&self, inputs: Vec<f32>) -> Result<Tensor> {
        Ok(Tensor::from_slice(&inputs))
    }
}

fn main() {}
