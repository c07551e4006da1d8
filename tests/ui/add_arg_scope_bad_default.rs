use slim::prelude::*;

#[slim::add_arg_scope]
fn block(inputs: &Tensor, #[default] stride: i64) -> Result<Tensor> {
    Ok(inputs * stride)
}

fn main() {}
