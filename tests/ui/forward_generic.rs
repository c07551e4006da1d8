use slim::prelude::*;

#[slim::model]
struct Net;

#[slim::model]
impl Net {
    fn forward<T>(&self, inputs: &Tensor) -> Result<Tensor> {
        Ok(inputs.shallow_clone())
    }
}

fn main() {}
