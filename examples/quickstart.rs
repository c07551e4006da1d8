//! Quickstart: a small conv net from slim layers, trained on generated images until the loss falls.
//!
//! Run with `make run` (or `cargo run --release --example quickstart`).

use slim::prelude::*;
use slim::tch::nn::{self, OptimizerConfig};

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

/// No input sizes anywhere: every variable's shape comes from the first input.
fn quicknet(images: &Tensor) -> Result<Tensor> {
    let _scope = VariableScope::new("quicknet").reuse(Reuse::Auto).enter()?;
    let _defaults = ArgScope::current()
        .with(Conv2dArgs::default().weights_regularizer(l2_regularizer(1e-4)))
        .with(FullyConnectedArgs::default().weights_regularizer(l2_regularizer(1e-4)))
        .enter();
    let net = conv2d(images, 8, [3, 3]).scope("conv1").call()?;
    let net = max_pool2d(&net, [2, 2]).scope("pool1").call()?;
    let net = conv2d(&net, 16, [3, 3]).scope("conv2").call()?;
    let net = max_pool2d(&net, [2, 2]).scope("pool2").call()?;
    let net = flatten(&net)?;
    let net = fully_connected(&net, 32).scope("fc3").call()?;
    let net = dropout(&net, 0.8).scope("dropout3").call()?;
    fully_connected(&net, 2).activation_fn(None).scope("logits").call()
}

fn main() -> Result<()> {
    slim::tch::manual_seed(0);
    let vs = VarStore::new(Device::Cpu);
    let _store = vs.as_default();
    let (images, _) = generated_batch(2);
    let _ = quicknet(&images)?;
    println!("variables of quicknet ({} model parameters):", vs.num_model_parameters());
    for v in vs.variables() {
        println!("  {:<28} {:?}", v.name(), v.shape());
    }
    let mut optimizer = nn::Sgd { momentum: 0.9, ..Default::default() }
        .build(vs.tch(), 0.05)
        .map_err(|e| Error::Torch { context: "optimizer".into(), source: e })?;
    for step in 1..=60 {
        let (images, labels) = generated_batch(32);
        let logits = quicknet(&images)?;
        let loss = logits.cross_entropy_for_logits(&labels);
        let regularization: Tensor =
            vs.regularization_losses().iter().map(|l| l.value()).fold(Tensor::from(0f32), |a, b| a + b);
        optimizer.backward_step(&(&loss + regularization));
        if step % 10 == 0 || step == 1 {
            println!("step {step:>3}  loss {:.4}", loss.double_value(&[]));
        }
    }
    let _eval = Mode::Eval.enter();
    let (images, labels) = generated_batch(256);
    let accuracy = quicknet(&images)?.argmax(-1, false).eq_tensor(&labels).to_kind(Kind::Float).mean(Kind::Float);
    println!("eval accuracy on 256 fresh images: {:.3}", accuracy.double_value(&[]));
    Ok(())
}
