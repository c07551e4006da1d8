//! Fine-tuning as the TF-Slim tutorials describe it: train a small conv net on classes 0–4, then start a new
//! net for classes 5–9 from that checkpoint, restoring everything but the logits scope and training only the
//! logits. Prints the restore report and the accuracies before and after. The images are Fashion-MNIST's when
//! it is found (`$SLIM_FASHION_MNIST` or Debian's folder; `scripts/provision-fashion-mnist.sh` fetches it), else
//! generated ones (a bright patch whose place encodes the class).
//!
//! `cargo run --release --example finetune -- [LOGDIR]` (default `target/finetune`).

use slim::checkpoint::{AssignOptions, assign_from_checkpoint};
use slim::data::{Preprocessing, Split};
use slim::datasets::fashion_mnist;
use slim::learning::train;
use slim::prelude::*;
use slim::preprocessing::LenetPreprocessing;

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

/// Where the images come from.
enum Images {
    /// Fashion-MNIST's training and test images, preprocessed as LeNet's, with their labels.
    FashionMnist { train: (Tensor, Tensor), test: (Tensor, Tensor) },
    /// Generated: a 6×6 patch on a 2×5 grid marks the class.
    Generated,
}

impl Images {
    /// Fashion-MNIST when it can be read, else generated images.
    fn find() -> Images {
        let split = |split| -> Result<(Tensor, Tensor)> {
            let dataset = fashion_mnist(None, split)?;
            Ok((LenetPreprocessing { size: 28 }.apply(&dataset.images, 0)?, dataset.labels))
        };
        match (split(Split::Train), split(Split::Test)) {
            (Ok(train), Ok(test)) => Images::FashionMnist { train, test },
            _ => Images::Generated,
        }
    }

    /// `size` images of classes `first..first + 5`, labelled `0..5` (from the test images when `test`).
    fn batch(&self, first: i64, size: i64, test: bool) -> (Tensor, Tensor) {
        match self {
            Images::FashionMnist { train, test: held_out } => {
                let (images, labels) = if test { held_out } else { train };
                let chosen = labels.ge(first).logical_and(&labels.lt(first + 5)).nonzero().view([-1]);
                let picks = match test {
                    true => chosen.narrow(0, 0, size.min(chosen.size()[0])),
                    false => {
                        chosen.index_select(0, &Tensor::randint(chosen.size()[0], [size], (Kind::Int64, Device::Cpu)))
                    }
                };
                (images.index_select(0, &picks), labels.index_select(0, &picks) - first)
            }
            Images::Generated => generated(first, size),
        }
    }
}

/// 28×28 images of classes `first..first + 5` (a 6×6 patch on a 2×5 grid), labelled `0..5`.
fn generated(first: i64, size: i64) -> (Tensor, Tensor) {
    let labels = Tensor::randint(5, [size], (Kind::Int64, Device::Cpu));
    let images = Tensor::randn([size, 1, 28, 28], (Kind::Float, Device::Cpu)) * 0.3;
    for (i, label) in Vec::<i64>::try_from(&labels).unwrap_or_default().into_iter().enumerate() {
        let class = first + label;
        let (row, column) = (2 + 14 * (class / 5), 1 + 5 * (class % 5));
        let _ = images.get(i as i64).narrow(1, row, 6).narrow(2, column, 4).fill_(1.5);
    }
    (images, labels)
}

/// Accuracy on (up to) 5,000 test images of classes `first..first + 5`.
fn accuracy(net: &Built<SmallNet>, images: &Images, first: i64) -> Result<f64> {
    let (images, labels) = images.batch(first, 5000, true);
    let predictions = net.forward_t(&images, Mode::Eval)?.output.argmax(-1, false);
    Ok(predictions.eq_tensor(&labels).to_kind(Kind::Float).mean(Kind::Float).double_value(&[]))
}

/// Trains `net` in `logdir` for `steps` steps on classes `first..first + 5`, updating `variables_to_train`.
fn fit(
    net: &Built<SmallNet>,
    images: &Images,
    vs: &VarStore,
    logdir: &str,
    first: i64,
    variables: Vec<Variable>,
) -> Result<f64> {
    let mut train_op = create_train_op(vs, Momentum::new(0.9)?, 0.02).variables_to_train(variables).build()?;
    let _store = vs.as_default();
    train(&mut train_op, logdir, |_| {
        let (images, labels) = images.batch(first, 32, false);
        let logits = net.forward_t(&images, Mode::Train)?.output;
        let _ = sparse_softmax_cross_entropy(&logits, &labels).call()?;
        get_total_loss(true)
    })
    .number_of_steps(300)
    .seed(0)
    .log_every_n_steps(50)
    .run()
}

fn main() -> Result<()> {
    slim::backend::allocator::keep_freed_memory(); // a program owns its process: malloc may keep freed memory
    let root = std::env::args().nth(1).unwrap_or_else(|| "target/finetune".into());
    let (pretrain_dir, finetune_dir) = (format!("{root}/pretrain"), format!("{root}/finetune"));
    let images = Images::find();
    match &images {
        Images::FashionMnist { .. } => println!("images: Fashion-MNIST"),
        Images::Generated => {
            println!("images: generated (Fashion-MNIST not found; see scripts/provision-fashion-mnist.sh)")
        }
    }

    println!("== pre-training on classes 0-4");
    let vs = VarStore::new(Device::Cpu);
    let net = SmallNet { num_classes: 5 }.build(&vs, "net", &[1, 1, 28, 28])?;
    fit(&net, &images, &vs, &pretrain_dir, 0, vs.collection(TRAINABLE_VARIABLES))?;
    println!("accuracy on classes 0-4: {:.3}", accuracy(&net, &images, 0)?);

    println!("== fine-tuning on classes 5-9, restoring all but the logits");
    let vs = VarStore::new(Device::Cpu);
    let net = SmallNet { num_classes: 5 }.build(&vs, "net", &[1, 1, 28, 28])?;
    let (to_restore, logits) = {
        let _store = vs.as_default();
        (get_variables_to_restore(&[], &["logits".into()])?, get_trainable_variables(Some("net/logits"), None)?)
    };
    let report = assign_from_checkpoint(&pretrain_dir, to_restore, AssignOptions::default())?;
    print!("{report}");
    println!("accuracy on classes 5-9 before fine-tuning: {:.3}", accuracy(&net, &images, 5)?);
    fit(&net, &images, &vs, &finetune_dir, 5, logits)?;
    println!("accuracy on classes 5-9 after fine-tuning the logits: {:.3}", accuracy(&net, &images, 5)?);
    Ok(())
}
