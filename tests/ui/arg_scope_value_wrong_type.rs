use slim::prelude::*;

fn main() -> slim::Result<()> {
    let x = Tensor::zeros([1, 3, 8, 8], (Kind::Float, Device::Cpu));
    let _ = arg_scope!([conv2d, max_pool2d], padding = "VALID" => { conv2d(&x, 4, 3).call()? });
    Ok(())
}
