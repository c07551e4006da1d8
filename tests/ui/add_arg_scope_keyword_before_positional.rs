use slim::prelude::*;

#[slim::add_arg_scope]
fn block(inputs: &Tensor, #[default(1)] stride: i64, filters: i64) -> Result<Tensor> {
    Ok(inputs * (stride * filters))
}

fn main() {}
