use slim::prelude::*;

fn main() -> slim::Result<()> {
    let x = Tensor::zeros([1, 3, 8, 8], (Kind::Float, Device::Cpu));
    let _scope = arg_scope!([conv2d], padding = Valid);
    Ok(())
}
