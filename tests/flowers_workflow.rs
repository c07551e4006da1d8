//! TF-Slim's flowers workflow on a generated folder: a few hundred JPEGs of many sizes in 5 class folders are
//! converted into TFRecord shards and labels.txt (`convert_image_folder`), a mobilenet_v1 is trained on them
//! and exported as a TF V2 checkpoint (TF's layouts, as TF-Slim's model zoo ships them), fine-tuned from it
//! with the logits excluded and only the logits trained,
//! and evaluated on the validation shards; the image folder also trains directly. The examples run as a user
//! runs them (a plain `cargo test` builds them first; with a filter run `cargo build --examples` first).
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use slim::checkpoint::{Format, export_checkpoint};
use slim::data::{Provider, Split, SplitMix64, StreamOptions};
use slim::datasets::get_data_source;
use slim::learning::train;
use slim::nets::{MobilenetV1, mobilenet_v1_arg_scope};
use slim::optimizers::Adam;
use slim::prelude::*;
use slim::preprocessing::get_preprocessing;

/// The classes: a name and a colour each, so that a small net can tell them apart.
const CLASSES: [(&str, [u8; 3]); 5] = [
    ("daisy", [230, 220, 60]),
    ("dandelion", [240, 140, 20]),
    ("roses", [200, 30, 50]),
    ("sunflowers", [60, 170, 60]),
    ("tulips", [70, 80, 210]),
];

/// The debug build of example `name`, beside this test's executable.
fn example(name: &str) -> Command {
    let exe = std::env::current_exe().unwrap();
    let binary = exe.parent().and_then(Path::parent).unwrap().join("examples").join(name);
    assert!(binary.is_file(), "{} is missing: run `cargo build --examples` first", binary.display());
    Command::new(binary)
}

fn run(command: &mut Command) -> String {
    let Output { status, stdout, stderr } = command.output().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&stdout), String::from_utf8_lossy(&stderr));
    assert!(status.success(), "{command:?} failed:\n{stdout}\n{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stdout.into_owned()
}

/// A JPEG of `width`×`height`: the class colour with a random brightness, a diagonal stripe pattern and noise.
fn photo(colour: [u8; 3], width: u16, height: u16, random: &mut SplitMix64) -> Vec<u8> {
    let brightness = random.uniform(0.7, 1.2);
    let period = 6 + random.below(10) as usize;
    let mut pixels = Vec::with_capacity(width as usize * height as usize * 3);
    for y in 0..height as usize {
        for x in 0..width as usize {
            let stripe = if ((x + y) / period).is_multiple_of(2) { 1.0 } else { 0.75 };
            for channel in colour {
                let value = channel as f64 * brightness * stripe + random.uniform(-20.0, 20.0);
                pixels.push(value.clamp(0.0, 255.0) as u8);
            }
        }
    }
    let mut jpeg = Vec::new();
    let encoder = jpeg_encoder::Encoder::new(&mut jpeg, 85);
    encoder.encode(&pixels, width, height, jpeg_encoder::ColorType::Rgb).unwrap();
    jpeg
}

/// `per_class` photos of sizes from 40 to 119 pixels a side in each class folder of `dir`, and a file that is
/// not an image.
fn photo_folder(dir: &Path, per_class: usize) {
    let mut random = SplitMix64::new(7, 0);
    for (name, colour) in CLASSES {
        let class = dir.join(name);
        std::fs::create_dir_all(&class).unwrap();
        for i in 0..per_class {
            let (width, height) = (40 + random.below(80) as u16, 40 + random.below(80) as u16);
            std::fs::write(class.join(format!("{name}_{i:03}.jpg")), photo(colour, width, height, &mut random))
                .unwrap();
        }
    }
    std::fs::write(dir.join("LICENSE.txt"), "not an image").unwrap();
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("slim-flowers-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// The checkpoint to start from, in place of TF-Slim's ImageNet one: mobilenet_v1_025 trained on the shards for
/// 150 steps in this process (the library's API end to end: streaming provider, train loop, TF-Slim's names).
/// Its batch norms keep a fast moving average (decay 0.9 in place of mobilenet's 0.9997, which takes
/// thousands of steps to settle), so that the statistics it saves are those of the data, as an ImageNet
/// checkpoint's are.
fn pretrain(records: &Path, logdir: &Path) -> Result<f64> {
    let source = get_data_source("flowers", Split::Train, Some(records), StreamOptions::default())?;
    let vs = VarStore::new(Device::Cpu);
    let net = slim::arg_scope!(mobilenet_v1_arg_scope(0.0, 0.09) => {
        slim::arg_scope!([batch_norm], decay = 0.9 => {
            MobilenetV1::classifier(Some(5), 0.25).build(&vs, "MobilenetV1", &[1, 3, 64, 64])
        })
    })?;
    let preprocessing = get_preprocessing("mobilenet_v1_025", true, 64, 1)?;
    let provider = Provider::from_source(&source, 16)?.shuffle(1).shuffle_buffer(64).num_readers(2);
    let mut batches = provider.preprocess(preprocessing).prefetch(2, 2);
    let mut train_op = create_train_op(&vs, Adam::default().epsilon(1e-8), 0.005).build()?;
    let _store = vs.as_default();
    train(&mut train_op, logdir, |_| {
        let batch = batches.next().ok_or_else(|| Error::invalid("pretrain", "the data ended"))??;
        let logits = net.forward_t(&batch.images, Mode::Train)?.output;
        let _ = sparse_softmax_cross_entropy(&logits, &batch.labels).call()?;
        get_total_loss(true)
    })
    .number_of_steps(150)
    .seed(1)
    .log_every_n_steps(50)
    .run()
}

/// train_image_classifier on the converted shards: mobilenet_v1_025 at 64×64, batch 16.
fn train_script(records: &Path, train_dir: &Path, steps: &str, extra: &[&str]) -> Command {
    let mut command = example("train_image_classifier");
    command.args(["--dataset_name", "flowers", "--model_name", "mobilenet_v1_025", "--train_image_size", "64"]);
    command.args(["--batch_size", "16", "--optimizer", "adam", "--learning_rate", "0.005", "--opt_epsilon", "1e-8"]);
    command.args(["--device", "cpu", "--num_readers", "2", "--num_preprocessing_threads", "2", "--seed", "1"]);
    command.args(["--max_number_of_steps", steps, "--log_every_n_steps", "20"]);
    command.arg("--dataset_dir").arg(records).arg("--train_dir").arg(train_dir).args(extra);
    command
}

#[test]
fn a_folder_of_photos_is_converted_fine_tuned_from_a_checkpoint_and_scored() {
    let root = temp("workflow");
    let (photos, records) = (root.join("flower_photos"), root.join("flowers"));
    photo_folder(&photos, 60);
    let converted = run(example("convert_image_folder")
        .arg("--dataset_dir")
        .arg(&photos)
        .arg("--output_dir")
        .arg(&records)
        .args(["--dataset_name", "flowers", "--num_validation", "50", "--num_shards", "3"]));
    assert!(converted.contains("wrote 250 training and 50 validation images of 5 classes as 6 shards"), "{converted}");
    let labels = std::fs::read_to_string(records.join("labels.txt")).unwrap();
    assert_eq!(labels, "0:daisy\n1:dandelion\n2:roses\n3:sunflowers\n4:tulips\n");
    for split in ["train", "validation"] {
        for shard in 0..3 {
            assert!(records.join(format!("flowers_{split}_{shard:05}-of-00003.tfrecord")).is_file());
        }
    }

    let pretrained = root.join("pretrained");
    let loss = pretrain(&records, &pretrained).unwrap();
    assert!(loss.is_finite(), "{loss}");
    // As TF-Slim's model zoo ships it: a TF V2 checkpoint, weights in TF's layouts, no optimizer slots.
    let tf_checkpoint = root.join("mobilenet_v1_025").join("mobilenet_v1_025.ckpt");
    std::fs::create_dir_all(tf_checkpoint.parent().unwrap()).unwrap();
    let keep_model = |name: &str| (!name.ends_with("/Adam") && !name.ends_with("/Adam_1")).then(|| name.to_string());
    let exported = export_checkpoint(&pretrained, &tf_checkpoint, Format::TfBundle, keep_model).unwrap();
    assert!(exported > 0);
    // Fine-tuning: everything but the logits restored, only the logits trained.
    let fine_tuned = root.join("fine_tuned");
    let warm = ["--checkpoint_exclude_scopes", "MobilenetV1/Logits", "--trainable_scopes", "MobilenetV1/Logits"];
    let mut command = train_script(&records, &fine_tuned, "60", &warm);
    let trained = run(command.arg("--checkpoint_path").arg(&tf_checkpoint));
    assert!(trained.contains("MobilenetV1/Logits"), "the warm-start report names the excluded scope: {trained}");

    let evaluated = run(example("eval_image_classifier")
        .args(["--dataset_name", "flowers", "--dataset_split_name", "validation", "--model_name", "mobilenet_v1_025"])
        .args(["--eval_image_size", "64", "--batch_size", "25", "--device", "cpu"])
        .arg("--dataset_dir")
        .arg(&records)
        .arg("--checkpoint_path")
        .arg(&fine_tuned)
        .arg("--eval_dir")
        .arg(root.join("eval")));
    assert!(evaluated.contains("on 50 flowers images"), "{evaluated}");
    let accuracy: f64 = evaluated
        .lines()
        .find(|line| line.trim_start().starts_with("eval/Accuracy"))
        .and_then(|line| line.split_whitespace().last()?.parse().ok())
        .unwrap();
    println!("validation accuracy after fine-tuning the logits: {accuracy}");
    assert!(accuracy > 0.6, "accuracy {accuracy} (chance is 0.2):\n{evaluated}");

    // The photo folder itself is a dataset too.
    let direct = run(&mut train_script(&photos, &root.join("direct"), "3", &[]));
    assert!(direct.contains("(300 images, 5 classes)"), "{direct}");
    std::fs::remove_dir_all(&root).unwrap();
}
