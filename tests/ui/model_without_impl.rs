use slim::prelude::*;

#[slim::model]
struct Net;

fn main() {
    let vs = VarStore::new(Device::Cpu);
    let _ = Net.build(&vs, "net", &[1, 3, 8, 8]);
}
