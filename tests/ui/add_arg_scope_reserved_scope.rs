use slim::prelude::*;

#[slim::add_arg_scope]
fn block(inputs: &Tensor, #[default(None)] scope: Option<String>) -> Result<Tensor> {
    let _ = scope;
    Ok(inputs.shallow_clone())
}

fn main() {}
