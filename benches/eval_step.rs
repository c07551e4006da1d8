//! The cost of streaming metrics in an evaluation step: LeNet on a batch of 100 28×28 images, forward only,
//! against forward plus updating accuracy and recall@5, interleaved. Prints medians, the ratio, and images/s.
//!
//! `cargo bench --bench eval_step [-- STEPS]`

mod common;

use common::{Variant, compare, steps_arg};
use slim::metrics::{Accuracy, RecallAtK, StreamingMetric, aggregate_metric_map};
use slim::nets::Lenet;
use slim::prelude::*;

fn main() -> Result<()> {
    tch::set_num_threads(2);
    slim::backend::allocator::keep_freed_memory();
    tch::manual_seed(0);
    let images = Tensor::rand([100, 1, 28, 28], (Kind::Float, Device::Cpu));
    let labels = Tensor::randint(10, [100], (Kind::Int64, Device::Cpu));
    let vs = VarStore::new(Device::Cpu);
    let model = Lenet { num_classes: Some(10), dropout_keep_prob: 0.5 }.build(&vs, "lenet", &[1, 1, 28, 28])?;
    let metrics: Vec<(&str, Box<dyn StreamingMetric>)> =
        vec![("Accuracy", Box::new(Accuracy::default())), ("Recall_5", Box::new(RecallAtK::new(5)?))];
    let mut map = aggregate_metric_map(metrics)?;
    let _no_grad = tch::no_grad_guard();
    let mut variants = [
        Variant {
            name: "forward only",
            step: Box::new(|| {
                let _ = model.forward_t(&images, Mode::Eval)?.output.sum(Kind::Float).double_value(&[]);
                Ok(())
            }),
        },
        Variant {
            name: "forward + accuracy and recall@5 updates",
            step: Box::new(|| {
                let logits = model.forward_t(&images, Mode::Eval)?.output;
                map.update(&logits, &labels, None)?;
                Ok(())
            }),
        },
    ];
    compare("LeNet eval step, batch 100, 2 threads (images/s = 100 / step time)", steps_arg(200), 20, &mut variants)
}
