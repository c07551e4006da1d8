use slim::prelude::*;

fn main() -> slim::Result<()> {
    let x = Tensor::zeros([1, 3, 8, 8], (Kind::Float, Device::Cpu));
    let _ = arg_scope!([flatten], padding = Valid => { flatten(&x)? });
    Ok(())
}
