use slim::prelude::*;

fn main() -> slim::Result<()> {
    let x = Tensor::zeros([1, 3, 8, 8], (Kind::Float, Device::Cpu));
    let _ = repeat!(x, 2, flatten());
    Ok(())
}
