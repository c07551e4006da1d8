use slim::prelude::*;

fn main() -> slim::Result<()> {
    let x = Tensor::zeros([1, 3, 8, 8], (Kind::Float, Device::Cpu));
    let _ = arg_scope!([conv2d, dropout], keep_prob = 0.5 => { conv2d(&x, 4, 3).call()? });
    Ok(())
}
