//! Trains the starter's [`Net`] for 60 steps (in all: a second run resumes from the newest checkpoint in
//! [`LOGDIR`] and stops at once), writing checkpoints and TensorBoard summaries there.

use slim::learning::train;
use slim::prelude::*;
use slim_starter::{LOGDIR, Net, SIDE, batch};

fn main() -> slim::Result<()> {
    let vs = VarStore::new(Device::Cpu);
    let net = Net { num_classes: 2 }.build(&vs, "net", &[1, 1, SIDE, SIDE])?;
    let mut train_op = create_train_op(&vs, Momentum::new(0.9)?, 0.05).build()?;
    let _store = vs.as_default();
    let loss = train(&mut train_op, LOGDIR, |_step| {
        let (images, labels) = batch(32)?;
        let logits = net.forward_t(&images, Mode::Train)?.output;
        let _ = sparse_softmax_cross_entropy(&logits, &labels).call()?;
        get_total_loss(true)
    })
    .number_of_steps(60)
    .log_every_n_steps(20)
    .run()?;
    println!("trained to step {} (loss {loss:.3})", train_op.global_step());
    Ok(())
}
