//! The cost of streaming metrics in an evaluation step: LeNet on a batch of 100 28×28 images, forward only,
//! against forward plus updating accuracy and recall@5, interleaved. Prints medians, the ratio, and images/s.
//!
//! `cargo bench --bench eval_step [-- STEPS]`

mod common;

use common::{Variant, compare, steps_arg};
use slim::metrics::{Accuracy, RecallAtK, StreamingMetric, aggregate_metric_map};
use slim::prelude::*;

#[slim::model]
struct Lenet;

#[slim::model]
impl Lenet {
    fn forward(&self, images: &Tensor) -> Result<Tensor> {
        let net = conv2d(images, 32, [5, 5], scope = "conv1");
        let net = max_pool2d(net, [2, 2], scope = "pool1");
        let net = conv2d(net, 64, [5, 5], scope = "conv2");
        let net = max_pool2d(net, [2, 2], scope = "pool2");
        let net = fully_connected(flatten(net), 1024, scope = "fc3");
        let net = dropout(net, 0.5, scope = "dropout3");
        fully_connected(net, 10, activation_fn = None, scope = "fc4")
    }
}

fn main() -> Result<()> {
    tch::set_num_threads(2);
    tch::manual_seed(0);
    let images = Tensor::rand([100, 1, 28, 28], (Kind::Float, Device::Cpu));
    let labels = Tensor::randint(10, [100], (Kind::Int64, Device::Cpu));
    let vs = VarStore::new(Device::Cpu);
    let model = Lenet.build(&vs, "lenet", &[1, 1, 28, 28])?;
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
