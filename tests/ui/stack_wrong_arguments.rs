use slim::prelude::*;

fn main() -> slim::Result<()> {
    let x = Tensor::zeros([1, 3, 8, 8], (Kind::Float, Device::Cpu));
    let _ = stack!(x, conv2d, [(32, [3, 3]), (64)], scope = "core");
    Ok(())
}
