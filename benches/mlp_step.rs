//! One training step of a tiny MLP (784-128-10, batch 32), where per-call overhead dominates: raw `tch::nn`
//! against the same net as a `#[slim::model]`, interleaved. Prints medians and the ratio.
//!
//! `cargo bench --bench mlp_step [-- STEPS]`

mod common;

use common::{Variant, compare, steps_arg};
use slim::prelude::*;
use slim::tch::nn::{self, Module, OptimizerConfig};

const BATCH: i64 = 32;

#[slim::model]
struct Mlp {
    hidden: i64,
    num_classes: i64,
}

#[slim::model]
impl Mlp {
    fn forward(&self, inputs: &Tensor) -> Result<Tensor> {
        let net = fully_connected(inputs, self.hidden, scope = "fc1");
        fully_connected(net, self.num_classes, activation_fn = None, scope = "fc2")
    }
}

fn main() -> Result<()> {
    tch::set_num_threads(2);
    slim::backend::allocator::keep_freed_memory();
    tch::manual_seed(0);
    let inputs = Tensor::rand([BATCH, 784], (Kind::Float, Device::Cpu));
    let labels = Tensor::randint(10, [BATCH], (Kind::Int64, Device::Cpu));
    let sgd = nn::Sgd::default();

    let raw_vs = nn::VarStore::new(Device::Cpu);
    let raw = nn::seq()
        .add(nn::linear(raw_vs.root() / "fc1", 784, 128, Default::default()))
        .add_fn(|x| x.relu())
        .add(nn::linear(raw_vs.root() / "fc2", 128, 10, Default::default()));
    let mut raw_opt = sgd.build(&raw_vs, 0.01)?;

    let model_vs = VarStore::new(Device::Cpu);
    let model = Mlp { hidden: 128, num_classes: 10 }.build(&model_vs, "mlp", &[1, 784])?;
    let mut model_opt = sgd.build(model_vs.tch(), 0.01)?;

    let mut variants = [
        Variant {
            name: "raw tch::nn",
            step: Box::new(|| {
                raw_opt.backward_step(&raw.forward(&inputs).cross_entropy_for_logits(&labels));
                Ok(())
            }),
        },
        Variant {
            name: "#[slim::model], built once",
            step: Box::new(|| {
                let logits = model.forward_t(&inputs, Mode::Train)?.output;
                model_opt.backward_step(&logits.cross_entropy_for_logits(&labels));
                Ok(())
            }),
        },
    ];
    compare(&format!("MLP 784-128-10 train step, batch {BATCH}, 2 threads"), steps_arg(2000), 200, &mut variants)
}
