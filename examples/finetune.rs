//! Fine-tuning as the TF-Slim tutorials describe it: train a small conv net on classes 0–4, then start a new
//! net for classes 5–9 from that checkpoint, restoring everything but the logits scope and training only the
//! logits. Prints the restore report and the accuracies before and after. The images are generated (a bright
//! patch whose place encodes the class); the Fashion-MNIST reader comes with the data issue.
//!
//! `cargo run --release --example finetune -- [LOGDIR]` (default `target/finetune`).

use slim::checkpoint::{AssignOptions, assign_from_checkpoint};
use slim::learning::train;
use slim::prelude::*;

#[slim::model]
struct SmallNet {
    num_classes: i64,
}

#[slim::model]
impl SmallNet {
    fn forward(&self, images: &Tensor) -> Result<Tensor> {
        arg_scope!([conv2d, fully_connected], weights_regularizer = l2_regularizer(1e-4) => {
            let net = conv2d(images, 16, [3, 3], scope = "conv1");
            let net = max_pool2d(net, [2, 2], scope = "pool1");
            let net = conv2d(net, 32, [3, 3], scope = "conv2");
            let net = max_pool2d(net, [2, 2], scope = "pool2");
            let net = fully_connected(flatten(net), 64, scope = "fc3");
            fully_connected(net, self.num_classes, activation_fn = None, scope = "logits")
        })
    }
}

/// 28×28 images of classes `first..first + 5` (a 6×6 patch on a 2×5 grid), labelled `0..5`.
fn batch(first: i64, size: i64) -> (Tensor, Tensor) {
    let labels = Tensor::randint(5, [size], (Kind::Int64, Device::Cpu));
    let images = Tensor::randn([size, 1, 28, 28], (Kind::Float, Device::Cpu)) * 0.3;
    for (i, label) in Vec::<i64>::try_from(&labels).unwrap_or_default().into_iter().enumerate() {
        let class = first + label;
        let (row, column) = (2 + 14 * (class / 5), 1 + 5 * (class % 5));
        let _ = images.get(i as i64).narrow(1, row, 6).narrow(2, column, 4).fill_(1.5);
    }
    (images, labels)
}

fn accuracy(net: &Built<SmallNet>, first: i64) -> Result<f64> {
    let (images, labels) = batch(first, 500);
    let predictions = net.forward_t(&images, Mode::Eval)?.output.argmax(-1, false);
    Ok(predictions.eq_tensor(&labels).to_kind(Kind::Float).mean(Kind::Float).double_value(&[]))
}

/// Trains `net` in `logdir` for `steps` steps on classes `first..first + 5`, updating `variables_to_train`.
fn fit(net: &Built<SmallNet>, vs: &VarStore, logdir: &str, first: i64, variables: Vec<Variable>) -> Result<f64> {
    let mut train_op = create_train_op(vs, Momentum::new(0.9)?, 0.02).variables_to_train(variables).build()?;
    let _store = vs.as_default();
    train(&mut train_op, logdir, |_| {
        let (images, labels) = batch(first, 32);
        let logits = net.forward_t(&images, Mode::Train)?.output;
        let _ = sparse_softmax_cross_entropy(&logits, &labels).call()?;
        get_total_loss(true)
    })
    .number_of_steps(150)
    .seed(0)
    .log_every_n_steps(50)
    .run()
}

fn main() -> Result<()> {
    let root = std::env::args().nth(1).unwrap_or_else(|| "target/finetune".into());
    let (pretrain_dir, finetune_dir) = (format!("{root}/pretrain"), format!("{root}/finetune"));

    println!("== pre-training on classes 0-4");
    let vs = VarStore::new(Device::Cpu);
    let net = SmallNet { num_classes: 5 }.build(&vs, "net", &[1, 1, 28, 28])?;
    fit(&net, &vs, &pretrain_dir, 0, vs.collection(TRAINABLE_VARIABLES))?;
    println!("accuracy on classes 0-4: {:.3}", accuracy(&net, 0)?);

    println!("== fine-tuning on classes 5-9, restoring all but the logits");
    let vs = VarStore::new(Device::Cpu);
    let net = SmallNet { num_classes: 5 }.build(&vs, "net", &[1, 1, 28, 28])?;
    let (to_restore, logits) = {
        let _store = vs.as_default();
        (get_variables_to_restore(&[], &["logits".into()])?, get_trainable_variables(Some("net/logits"), None)?)
    };
    let report = assign_from_checkpoint(&pretrain_dir, to_restore, AssignOptions::default())?;
    print!("{report}");
    println!("accuracy on classes 5-9 before fine-tuning: {:.3}", accuracy(&net, 5)?);
    fit(&net, &vs, &finetune_dir, 5, logits)?;
    println!("accuracy on classes 5-9 after fine-tuning the logits: {:.3}", accuracy(&net, 5)?);
    Ok(())
}
