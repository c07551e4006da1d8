//! Trains the seed tutorial's CIFAR ResNet (`slim::nets::CifarResNet`, version 2, n = 1: ResNet-8 for a quick
//! run) on generated 32×32 images with everything TF-Slim's training brings together: l2 weight decay 2e-4 on
//! the weights, batch-norm statistics updated by the train op, momentum 0.9, the seed's piecewise-constant
//! learning rate (scaled to the run's length), per-tensor gradient clipping, checkpoints, TensorBoard
//! summaries, and resuming when run again.
//!
//! `cargo run --release --example train_cifar_resnet -- [STEPS] [LOGDIR]` (defaults 200 and
//! `target/train_cifar_resnet`); then `tensorboard --logdir target/train_cifar_resnet`.

use slim::learning::train;
use slim::nets::CifarResNet;
use slim::prelude::*;

const CLASSES: i64 = 4;
const BATCH: i64 = 32;

/// Images whose class decides which horizontal band is bright, plus noise.
fn generated_batch(batch: i64) -> (Tensor, Tensor) {
    let labels = Tensor::randint(CLASSES, [batch], (Kind::Int64, Device::Cpu));
    let rows = Tensor::arange(32, (Kind::Int64, Device::Cpu)).view([1, 1, 32, 1]);
    let band = rows.divide_scalar_mode(32 / CLASSES, "floor").eq_tensor(&labels.view([batch, 1, 1, 1]));
    let images = band.to_kind(Kind::Float).expand([batch, 3, 32, 32], false)
        + Tensor::randn([batch, 3, 32, 32], (Kind::Float, Device::Cpu)) * 0.5;
    (images, labels)
}

fn main() -> Result<()> {
    slim::backend::allocator::keep_freed_memory(); // a program owns its process: malloc may keep freed memory
    let mut args = std::env::args().skip(1);
    let steps: i64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(200);
    let logdir = args.next().unwrap_or_else(|| "target/train_cifar_resnet".into());

    let vs = VarStore::new(Device::cuda_if_available());
    let definition = CifarResNet { n: 1, filters: 16, version: 2, num_classes: CLASSES, weight_decay: 2e-4 };
    let net = definition.build(&vs, "resnet", &[1, 3, 32, 32])?;
    println!("{} parameters in {} variables", net.num_parameters(), net.variables().len());

    // The seed's schedule, [10000, 15000, 20000, 25000] of 30000 steps, scaled to this run.
    let boundaries = [10, 15, 20, 25].map(|b| b * steps / 30).to_vec();
    let learning_rate = LearningRate::piecewise_constant(boundaries, vec![0.1, 0.05, 0.01, 0.005, 0.001])?;
    let mut train_op = create_train_op(&vs, Momentum::new(0.9)?, learning_rate).clip_gradient_norm(4.0).build()?;

    let _store = vs.as_default();
    let device = vs.device();
    let loss = train(&mut train_op, &logdir, |_step| {
        let (images, labels) = generated_batch(BATCH);
        let logits = net.forward_t(&images.to_device(device), Mode::Train)?.output;
        let _ = sparse_softmax_cross_entropy(&logits, &labels.to_device(device)).call()?;
        get_total_loss(true)
    })
    .number_of_steps(steps)
    .seed(0)
    .log_every_n_steps(20)
    .save_interval_steps(100)
    .save_summaries_steps(20)
    .stop_when(slim::learning::ctrl_c_flag()?)
    .run()?;
    println!("final total loss {loss:.4}; checkpoints and summaries in {logdir}");

    let (images, labels) = generated_batch(256);
    let predictions = net.forward_t(&images.to_device(device), Mode::Eval)?.output.argmax(-1, false);
    let accuracy = predictions.eq_tensor(&labels.to_device(device)).to_kind(Kind::Float).mean(Kind::Float);
    println!("eval accuracy on 256 fresh images: {:.3}", accuracy.double_value(&[]));
    Ok(())
}
