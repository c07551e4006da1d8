use slim::prelude::*;

fn main() -> slim::Result<()> {
    let x = Tensor::zeros([1, 3, 8, 8], (Kind::Float, Device::Cpu));
    let sizes = [(32, [3, 3]), (64, [1, 1])];
    let _ = stack!(x, conv2d, sizes, scope = "core");
    Ok(())
}
