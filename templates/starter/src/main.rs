//! A starter: a small conv net defined with `#[slim::model]`, trained with `learning::train` on generated
//! images (checkpoints and TensorBoard events in `logs/starter`; run it again and it resumes), then scored with
//! a streaming accuracy on new images.

use slim::learning::train;
use slim::metrics::{Accuracy, StreamingMetric};
use slim::prelude::*;

const SIDE: i64 = 12;

/// Images with a bright patch in the top-left (label 0) or the bottom-right (label 1) corner, plus noise.
fn batch(size: i64) -> (Tensor, Tensor) {
    let labels = Tensor::randint(2, [size], (Kind::Int64, Device::Cpu));
    let images = Tensor::randn([size, 1, SIDE, SIDE], (Kind::Float, Device::Cpu)) * 0.3;
    for (i, label) in Vec::<i64>::try_from(&labels).unwrap_or_default().into_iter().enumerate() {
        let corner = if label == 0 { 1 } else { SIDE - 5 };
        let _ = images.get(i as i64).narrow(1, corner, 4).narrow(2, corner, 4).fill_(1.0);
    }
    (images, labels)
}

#[slim::model]
struct Net {
    num_classes: i64,
}

#[slim::model]
impl Net {
    fn forward(&self, images: &Tensor) -> Result<Tensor> {
        arg_scope!([conv2d, fully_connected], weights_regularizer = l2_regularizer(1e-4) => {
            let net = conv2d(images, 8, [3, 3], scope = "conv1");
            let net = max_pool2d(net, [2, 2], scope = "pool1");
            let net = flatten(net);
            fully_connected(net, self.num_classes, activation_fn = None, scope = "logits")
        })
    }
}

fn main() -> slim::Result<()> {
    let vs = VarStore::new(Device::Cpu);
    let net = Net { num_classes: 2 }.build(&vs, "net", &[1, 1, SIDE, SIDE])?;
    let mut train_op = create_train_op(&vs, Momentum::new(0.9)?, 0.05).build()?;
    let _store = vs.as_default();
    let loss = train(&mut train_op, "logs/starter", |_step| {
        let (images, labels) = batch(32);
        let logits = net.forward_t(&images, Mode::Train)?.output;
        let _ = sparse_softmax_cross_entropy(&logits, &labels).call()?;
        get_total_loss(true)
    })
    .number_of_steps(60)
    .log_every_n_steps(20)
    .run()?;
    let mut accuracy = Accuracy::default();
    for _ in 0..4 {
        let (images, labels) = batch(64);
        let logits = net.forward_t(&images, Mode::Eval)?.output;
        accuracy.update(&logits, &labels, None)?;
    }
    println!("trained to step {} (loss {loss:.3}); accuracy {:.3}", train_op.global_step(), accuracy.value());
    Ok(())
}
