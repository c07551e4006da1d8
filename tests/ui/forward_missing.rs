use slim::prelude::*;

#[slim::model]
struct Net;

#[slim::model]
impl Net {
    fn call(&self, inputs: &Tensor) -> Result<Tensor> {
        Ok(inputs.shallow_clone())
    }
}

fn main() {
    let vs = VarStore::new(Device::Cpu);
    let _ = Net.build(&vs, "net", &[1, 3]);
}
