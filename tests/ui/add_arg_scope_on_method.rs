use slim::prelude::*;

struct Blocks;

impl Blocks {
    #[slim::add_arg_scope]
    fn block(&self, inputs: &Tensor) -> Result<Tensor> {
        Ok(inputs.shallow_clone())
    }
}

fn main() {}
