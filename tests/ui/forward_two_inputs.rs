use slim::prelude::*;

#[slim::model]
struct Net;

#[slim::model]
impl Net {
    fn forward(&self, inputs: &Tensor, labels: &Tensor) -> Result<Tensor> {
        Ok(inputs + labels)
    }
}

fn main() {}
