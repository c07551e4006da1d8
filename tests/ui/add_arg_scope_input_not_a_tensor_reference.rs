use slim::prelude::*;

#[slim::add_arg_scope]
fn block(filters: i64, inputs: &Tensor) -> Result<Tensor> {
    Ok(inputs.shallow_clone() * filters)
}

fn main() {}
