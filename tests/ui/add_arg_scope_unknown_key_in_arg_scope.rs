use slim::prelude::*;

#[slim::add_arg_scope]
fn block(inputs: &Tensor, filters: i64, #[default(1)] stride: i64) -> Result<Tensor> {
    conv2d(inputs, filters, [3, 3], stride = stride, scope = "conv")
}

fn main() -> slim::Result<()> {
    let x = Tensor::zeros([1, 3, 8, 8], (Kind::Float, Device::Cpu));
    let _ = arg_scope!([block], strides = 2 => { block(&x, 4).call()? });
    Ok(())
}
