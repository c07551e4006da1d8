//! Quickstart: a small conv net defined with `#[slim::model]`, trained on generated images until the loss falls.
//!
//! Run with `cargo run --release --example quickstart`.

use slim::prelude::*;

const SIDE: i64 = 16;

/// Images with a bright 4×4 patch in the top-left (label 0) or bottom-right (label 1) quadrant, plus noise.
fn generated_batch(batch: i64) -> (Tensor, Tensor) {
    let labels = Tensor::randint(2, [batch], (Kind::Int64, Device::Cpu));
    let images = Tensor::randn([batch, 1, SIDE, SIDE], (Kind::Float, Device::Cpu)) * 0.3;
    for (i, label) in Vec::<i64>::try_from(&labels).unwrap_or_default().into_iter().enumerate() {
        let offset = if label == 0 { 2 } else { SIDE - 6 };
        let _ = images.get(i as i64).narrow(1, offset, 4).narrow(2, offset, 4).fill_(1.0);
    }
    (images, labels)
}

/// No input sizes anywhere: every variable's shape comes from the example input given to `build`.
#[slim::model]
struct QuickNet {
    num_classes: i64,
    keep_prob: f64,
}

#[slim::model]
impl QuickNet {
    fn forward(&self, images: &Tensor) -> Result<Tensor> {
        arg_scope!([conv2d, fully_connected], weights_regularizer = l2_regularizer(1e-4) => {
            let net = conv2d(images, 8, [3, 3], scope = "conv1");
            let net = max_pool2d(net, [2, 2], scope = "pool1");
            let net = conv2d(net, 16, [3, 3], scope = "conv2");
            let net = max_pool2d(net, [2, 2], scope = "pool2");
            let net = flatten(net);
            let net = fully_connected(net, 32, scope = "fc3");
            let net = dropout(net, self.keep_prob, scope = "dropout3");
            fully_connected(net, self.num_classes, activation_fn = None, scope = "logits")
        })
    }
}

fn main() -> Result<()> {
    slim::backend::allocator::keep_freed_memory(); // optional: malloc keeps freed memory between steps (faster)
    slim::tch::manual_seed(0);
    let vs = VarStore::new(Device::Cpu);
    let net = QuickNet { num_classes: 2, keep_prob: 0.8 }.build(&vs, "quicknet", &[1, 1, SIDE, SIDE])?;
    println!("{}", net.summary());
    let _store = vs.as_default();
    let mut train_op = create_train_op(&vs, Momentum::new(0.9)?, 0.05).clip_gradient_norm(4.0).build()?;
    for step in 1..=60 {
        let (images, labels) = generated_batch(32);
        let logits = net.forward_t(&images, Mode::Train)?.output;
        let _ = sparse_softmax_cross_entropy(&logits, &labels).call()?;
        let total_loss = get_total_loss(true)?; // the cross entropy plus the l2 weight decay
        let loss = train_op.run(&total_loss)?;
        if step % 10 == 0 || step == 1 {
            println!("step {step:>3}  total loss {loss:.4}");
        }
    }
    let (images, labels) = generated_batch(256);
    let predictions = net.forward_t(&images, Mode::Eval)?.output.argmax(-1, false);
    let accuracy = predictions.eq_tensor(&labels).to_kind(Kind::Float).mean(Kind::Float);
    println!("eval accuracy on 256 fresh images: {:.3}", accuracy.double_value(&[]));
    Ok(())
}
