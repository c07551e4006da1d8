//! The train_image_classifier and eval_image_classifier examples as a user runs them: train on the synthetic
//! dataset, resume (also after SIGKILLs), evaluate (plain, moving averages, test-time flips), and the bad inputs
//! that must end in one clear line and a non-zero exit, never a panic. A plain `cargo test` builds the examples
//! before it runs this; with a target filter (`--test image_classifier_scripts`) run `cargo build --examples`
//! first, or the binaries may be missing or stale.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

#[path = "common/tf_example.rs"]
mod tf_example;

/// The debug build of example `name`, beside this test's executable.
fn example(name: &str) -> Command {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(Path::parent).unwrap().join("examples");
    let binary = dir.join(name);
    assert!(
        binary.is_file(),
        "{} is missing: run `cargo test` without a filter, or `cargo build --examples` first",
        binary.display()
    );
    let mut command = Command::new(binary);
    command.env_remove("SLIM_FASHION_MNIST");
    command
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("slim-scripts-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn run(command: &mut Command) -> (bool, String, String) {
    let Output { status, stdout, stderr } = command.output().unwrap();
    (status.success(), String::from_utf8_lossy(&stdout).into_owned(), String::from_utf8_lossy(&stderr).into_owned())
}

/// train_image_classifier on the synthetic set for `steps` steps with `extra` flags; the test's defaults fill
/// in the flags `extra` does not give (clap, unlike absl, refuses a flag given twice).
fn train(dir: &Path, steps: i64, extra: &[&str]) -> Command {
    let mut command = example("train_image_classifier");
    let steps = steps.to_string();
    let defaults = [
        ("--model_name", "lenet"),
        ("--dataset_name", "synthetic"),
        ("--batch_size", "32"),
        ("--optimizer", "adam"),
        ("--learning_rate", "0.001"),
        ("--opt_epsilon", "1e-8"),
        ("--device", "cpu"),
        ("--max_number_of_steps", &steps),
        ("--log_every_n_steps", "10"),
    ];
    for (flag, value) in defaults {
        if !extra.contains(&flag) {
            command.args([flag, value]);
        }
    }
    command.arg("--train_dir").arg(dir).args(extra);
    command
}

fn eval(checkpoint: &Path, eval_dir: &Path, extra: &[&str]) -> Command {
    let mut command = example("eval_image_classifier");
    command.args(["--dataset_name", "synthetic", "--model_name", "lenet", "--device", "cpu"]);
    command.arg("--checkpoint_path").arg(checkpoint).arg("--eval_dir").arg(eval_dir).args(extra);
    command
}

/// The value printed for `eval/<name>`.
fn metric(stdout: &str, name: &str) -> f64 {
    let line = stdout.lines().find(|l| l.trim_start().starts_with(&format!("eval/{name}"))).unwrap();
    line.split_whitespace().last().unwrap().parse().unwrap()
}

#[test]
fn training_resumes_and_evaluation_scores_weights_and_their_moving_averages() {
    let (train_dir, eval_dir) = (temp("train"), temp("eval"));
    let (ok, stdout, stderr) =
        run(&mut train(&train_dir, 40, &["--moving_average_decay", "0.9", "--trace_every_n_steps", "25"]));
    assert!(ok, "{stdout}\n{stderr}");
    assert!(stdout.contains("trained to global step 40"), "{stdout}");
    let trace = std::fs::read_to_string(train_dir.join("tf_trace-26.json")).unwrap();
    assert!(
        trace.contains("aten::convolution") || trace.contains("aten::conv2d"),
        "{}",
        &trace[..trace.len().min(500)]
    );
    // The resumed part trains in bfloat16 autocast: same variables, same checkpoint.
    let (ok, stdout, stderr) =
        run(&mut train(&train_dir, 60, &["--moving_average_decay", "0.9", "--precision", "bf16"]));
    assert!(ok, "{stderr}");
    assert!(stderr.contains("restored") && stdout.contains("trained to global step 60"), "{stdout}\n{stderr}");
    let names = slim::checkpoint::list_variables(train_dir.join("model.ckpt-60.safetensors")).unwrap();
    assert!(names.iter().any(|v| v.name == "LeNet/fc4/weights/ExponentialMovingAverage"), "{names:?}");
    // TF-Slim's script summaries: each end point's histogram and zero fraction, each model variable's histogram.
    let tags = summary_tags(&train_dir);
    for tag in ["activations/LeNet/conv1", "sparsity/LeNet/conv1", "activations/LeNet/Predictions", "LeNet/fc3/weights"]
    {
        assert!(tags.iter().any(|t| t == tag), "{tag} missing from {tags:?}");
    }
    assert!(tags.iter().any(|t| t == "total_loss") && tags.iter().any(|t| t == "learning_rate"));
    assert!(!tags.iter().any(|t| t.ends_with("/image")), "lenet's preprocessing summarizes no image: {tags:?}");

    let (ok, stdout, stderr) = run(&mut eval(&train_dir, &eval_dir, &[]));
    assert!(ok, "{stderr}");
    let accuracy = metric(&stdout, "Accuracy");
    assert!(accuracy > 0.5 && metric(&stdout, "Recall_5") >= accuracy, "{stdout}");
    assert!(stdout.contains("on 1000 synthetic images"), "{stdout}");
    let averages_in_bf16 = ["--moving_average_decay", "0.9", "--precision", "bf16"];
    let (ok, averaged, stderr) = run(&mut eval(&train_dir, &eval_dir, &averages_in_bf16));
    assert!(ok, "{stderr}");
    assert!(metric(&averaged, "Accuracy") > 0.5, "the averages of trained weights classify too (bf16): {averaged}");
    let (ok, flipped, stderr) = run(&mut eval(&train_dir, &eval_dir, &["--test_time_flip"]));
    assert!(ok, "{stderr}");
    let flipped_accuracy = metric(&flipped, "Accuracy");
    assert!((0.0..=1.0).contains(&flipped_accuracy) && flipped.contains("on 1000 synthetic images"), "{flipped}");
    assert!(std::fs::read_dir(&eval_dir).unwrap().count() >= 1, "eval summaries are written");
    std::fs::remove_dir_all(&train_dir).unwrap();
    std::fs::remove_dir_all(&eval_dir).unwrap();
}

/// The tags of every summary in the event files of `dir`.
fn summary_tags(dir: &Path) -> Vec<String> {
    use prost::Message;
    let mut tags = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().unwrap().to_string_lossy().starts_with("events.out.tfevents.") {
            for record in slim::io::read_records(&std::fs::read(&path).unwrap()).unwrap() {
                let event = slim::summary::Event::decode(record.as_slice()).unwrap();
                tags.extend(event.summary.into_iter().flat_map(|s| s.value).map(|value| value.tag));
            }
        }
    }
    tags
}

/// Every variable of the checkpoint at `path`, by name.
fn checkpoint_values(path: &Path) -> Vec<(String, slim::tch::Tensor)> {
    let mut values = slim::checkpoint::CheckpointReader::open(path).unwrap().read_all().unwrap();
    values.sort_by(|a, b| a.0.cmp(&b.0));
    values
}

/// The kill drill: a training process killed with SIGKILL at moments that vary from run to run (mid-step,
/// mid-save, between a checkpoint and its state file), resumed each time, ends with bitwise the weights, slots
/// and global step of a run never interrupted. LeNet with Adam (dropout's masks), a CIFAR ResNet with
/// momentum (batch norm's moving statistics), and LeNet streaming TFRecord shards of images of many sizes through
/// two readers, a shuffle buffer and two preprocessing threads (the resumed stream replays its order); the last
/// two with random erasing, whose draws a resumed run must replay too.
#[test]
fn a_run_killed_with_sigkill_and_resumed_ends_bitwise_where_an_uninterrupted_one_does() {
    kill_drill("lenet", &[]);
    let resnet = ["--model_name", "resnet_cifar_8", "--optimizer", "momentum", "--learning_rate", "0.01"];
    kill_drill("resnet", &[&resnet[..], &["--random_erasing", "0.5"]].concat());
    let shards = converted_shards("kill-drill");
    let streamed = ["--dataset_name", "shapes", "--batch_size", "16", "--num_readers", "2", "--random_erasing", "0.5"];
    let dir = shards.to_str().unwrap();
    kill_drill("streamed", &[&streamed[..], &["--num_preprocessing_threads", "2", "--dataset_dir", dir]].concat());
    std::fs::remove_dir_all(&shards).unwrap();
}

/// Class folders of 30 gray PNGs of 20 to 39 pixels a side each (a class's pixels brighter than the last's),
/// converted by `convert_image_folder` into 2 training shards of `shapes` and labels.txt in the folder returned.
fn converted_shards(name: &str) -> PathBuf {
    let (photos, shards) = (temp(&format!("{name}-photos")), temp(&format!("{name}-shards")));
    for (class, name) in ["circles", "squares", "stars"].iter().enumerate() {
        let folder = photos.join(name);
        std::fs::create_dir_all(&folder).unwrap();
        for i in 0..30u32 {
            let (width, height) = (20 + (i * 7) % 20, 20 + (i * 3) % 20);
            let image = tf_example::png_filled(width, height, 1, (class as u32 * 80 + i) as u8);
            std::fs::write(folder.join(format!("{i}.png")), image).unwrap();
        }
    }
    let (ok, stdout, stderr) = run(example("convert_image_folder")
        .arg("--dataset_dir")
        .arg(&photos)
        .arg("--output_dir")
        .arg(&shards)
        .args(["--dataset_name", "shapes", "--num_shards", "2"]));
    assert!(ok && stdout.contains("wrote 81 training"), "{stdout}\n{stderr}");
    std::fs::remove_dir_all(&photos).unwrap();
    shards
}

/// Trains 30 steps with `extra` flags straight, and again killed twice and resumed; compares the two.
fn kill_drill(label: &str, extra: &[&str]) {
    let (straight, killed) = (temp(&format!("straight-{label}")), temp(&format!("killed-{label}")));
    let flags = [&["--save_interval_secs", "0.01", "--log_every_n_steps", "100"][..], extra].concat();
    let (ok, _, stderr) = run(&mut train(&straight, 30, &flags));
    assert!(ok, "{stderr}");
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    for kill in 0..2u64 {
        let mut child = train(&killed, 30, &flags)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let started = std::time::Instant::now();
        while !killed.join("checkpoint").exists() && started.elapsed().as_secs() < 120 {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        std::thread::sleep(std::time::Duration::from_millis(u64::from(nanos >> (kill * 8)) % 150));
        child.kill().unwrap(); // SIGKILL on Unix
        let _ = child.wait();
    }
    assert!(!killed.join("model.ckpt-30.safetensors").exists(), "{label}: the kills came after the run had ended");
    let (ok, stdout, stderr) = run(&mut train(&killed, 30, &flags));
    assert!(ok && stdout.contains("trained to global step 30"), "{stdout}\n{stderr}");
    assert!(stderr.contains("restored"), "{stderr}");
    let expected = checkpoint_values(&straight.join("model.ckpt-30.safetensors"));
    let resumed = checkpoint_values(&killed.join("model.ckpt-30.safetensors"));
    assert_eq!(resumed.len(), expected.len());
    for ((name, a), (other, b)) in expected.iter().zip(&resumed) {
        assert_eq!(name, other);
        assert!(a.equal(b), "{label}: {name} differs after the kills");
    }
    let leftovers: Vec<String> = std::fs::read_dir(&killed)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.contains(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "temporaries left behind: {leftovers:?}");
    std::fs::remove_dir_all(&straight).unwrap();
    std::fs::remove_dir_all(&killed).unwrap();
}

/// A streamed set whose every third record holds an image that does not decode, trained a record a batch with
/// `--skip_bad_records`: the provider passes over the empty batches, so the global step no longer says where
/// the data is. Each checkpoint keeps the provider's position, and a resumed run continues from it, ending
/// bitwise where a run never interrupted ends.
#[test]
fn a_resumed_run_continues_the_data_from_the_position_its_checkpoint_kept() {
    let shards = temp("positions-shards");
    std::fs::create_dir_all(&shards).unwrap();
    std::fs::write(shards.join("labels.txt"), "0:dark\n1:light\n").unwrap();
    let records: Vec<Vec<u8>> = (0..30u32)
        .map(|i| {
            let label = i64::from(i % 2);
            let image = match i % 3 {
                0 => b"not an image".to_vec(),
                _ => tf_example::png_filled(20 + i % 9, 24 + i % 7, 1, (label * 150 + i as i64) as u8),
            };
            slim::io::frame_record(&tf_example::example(image, "png", label, None))
        })
        .collect();
    std::fs::write(shards.join("shapes_train-00000-of-00001.tfrecord"), records.concat()).unwrap();
    let dir = shards.to_str().unwrap();
    let flags = ["--dataset_name", "shapes", "--dataset_dir", dir, "--batch_size", "1", "--skip_bad_records"];
    let (straight, resumed) = (temp("positions-straight"), temp("positions-resumed"));
    let (ok, _, stderr) = run(&mut train(&straight, 12, &flags));
    assert!(ok, "{stderr}");
    let (ok, _, stderr) = run(&mut train(&resumed, 6, &flags));
    assert!(ok, "{stderr}");
    let metadata = slim::checkpoint::checkpoint_metadata(resumed.join("model.ckpt-6.safetensors")).unwrap();
    let saved = slim::data::Position::from_metadata(&metadata[slim::data::Position::CHECKPOINT_KEY]).unwrap();
    assert!(saved.epoch == 0 && saved.index > 6, "six steps took more than six records: {saved:?}");
    let (ok, _, stderr) = run(&mut train(&resumed, 12, &flags));
    assert!(ok, "{stderr}");
    let expected = format!("the data at epoch 0, example {}", saved.index);
    assert!(stderr.contains(&expected), "{stderr}");
    let (a, b) = (straight.join("model.ckpt-12.safetensors"), resumed.join("model.ckpt-12.safetensors"));
    for ((name, x), (_, y)) in checkpoint_values(&a).iter().zip(&checkpoint_values(&b)) {
        assert!(x.equal(y), "{name} differs after the resume");
    }
    for dir in [shards, straight, resumed] {
        std::fs::remove_dir_all(dir).unwrap();
    }
}

#[test]
fn warm_start_restores_all_but_the_excluded_scope_and_another_net_is_explained() {
    let (source, target, other) = (temp("source"), temp("target"), temp("other"));
    assert!(run(&mut train(&source, 5, &[])).0);
    let warm = ["--checkpoint_exclude_scopes", "LeNet/fc4", "--trainable_scopes", "LeNet/fc4"];
    let mut command = train(&target, 5, &warm);
    let (ok, stdout, stderr) = run(command.arg("--checkpoint_path").arg(&source));
    assert!(ok, "{stdout}\n{stderr}");
    assert!(stdout.contains("warm start from") && stdout.contains("LeNet/conv1/weights"), "{stdout}");

    let (ok, _, stderr) = run(&mut eval(&source, &other, &["--moving_average_decay", "0.9"]));
    assert!(!ok && stderr.contains("LeNet/fc4/weights/ExponentialMovingAverage"), "no averages were kept: {stderr}");

    let mut command = train(&other, 5, &["--model_name", "cifarnet"]);
    let (ok, stdout, stderr) = run(command.arg("--checkpoint_path").arg(&source));
    assert!(!ok, "{stdout}");
    assert!(stderr.starts_with("train_image_classifier: error:") && stderr.contains("CifarNet/"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    for dir in [source, target, other] {
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[test]
fn bad_flags_and_names_end_in_one_clear_line_and_a_failure_status() {
    let dir = temp("bad");
    let cases: [(&[&str], &str); 14] = [
        (&["--model_name", "lenett"], "unknown network \"lenett\"; known: lenet"),
        (&["--dataset_name", "imagenet"], "unknown dataset \"imagenet\"; known: fashion_mnist"),
        (&["--dataset_name", "fashion_mnist", "--dataset_dir", "/nonexistent"], "/nonexistent holds neither"),
        (&["--checkpoint_exclude_scopes", "LeNet/fc4"], "need --checkpoint_path"),
        (&["--batch_size", "0"], "--batch_size"),
        (&["--labels_offset", "1"], "examples of synthetic have a label below 1"),
        (&["--learning_rate_decay_type", "cosine", "--max_number_of_steps", "0"], "--max_number_of_steps: must be at"),
        (&["--save_interval_secs", "nan"], "--save_interval_secs: must be a positive number, got NaN"),
        (&["--save_summaries_secs=-5"], "--save_summaries_secs: must be a positive number, got -5"),
        (&["--opt_epsilon", "0"], "--opt_epsilon: must be a positive number, got 0"),
        (&["--end_learning_rate=-1"], "--end_learning_rate: must be zero or more, got -1"),
        (&["--precision", "fp8"], "expected fp32, bf16 or fp16, got `fp8`"),
        (&["--trace_every_n_steps", "0"], "--trace_every_n_steps: must be at least 1, got 0"),
        (&["--random_erasing", "1.5"], "--random_erasing: must be in [0, 1], got 1.5"),
    ];
    for (flags, expected) in cases {
        let (ok, stdout, stderr) = run(&mut train(&dir, 3, flags));
        assert!(!ok, "{flags:?} succeeded: {stdout}");
        assert!(stderr.contains(expected), "{flags:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    let (ok, _, stderr) = run(&mut eval(&dir.join("none"), &dir, &[]));
    assert!(!ok && stderr.starts_with("eval_image_classifier: error: no checkpoint at"), "{stderr}");
    let (ok, _, stderr) = run(&mut eval(&dir.join("none"), &dir, &["--max_num_batches", "0"]));
    assert!(!ok && stderr.contains("--max_num_batches: must be at least 1"), "{stderr}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn imagenet_nets_train_on_small_images_resized_by_their_own_preprocessing() {
    let (train_dir, eval_dir) = (temp("mobilenet"), temp("mobilenet-eval"));
    let flags = ["--model_name", "mobilenet_v1_025", "--train_image_size", "64", "--optimizer", "sgd"];
    let (ok, stdout, stderr) = run(&mut train(&train_dir, 3, &flags));
    assert!(ok, "{stdout}\n{stderr}");
    let tags = summary_tags(&train_dir);
    assert!(tags.iter().any(|t| t == "final_distorted_image/image"), "inception preprocessing's image: {tags:?}");
    assert!(tags.iter().any(|t| t == "activations/MobilenetV1/Predictions"), "{tags:?}");
    let eval_flags = ["--model_name", "mobilenet_v1_025", "--eval_image_size", "64", "--max_num_batches", "2"];
    let mut command = example("eval_image_classifier");
    command.args(["--dataset_name", "synthetic", "--device", "cpu", "--checkpoint_path"]).arg(&train_dir);
    let (ok, stdout, stderr) = run(command.arg("--eval_dir").arg(&eval_dir).args(eval_flags));
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("on 200 synthetic images") && (0.0..=1.0).contains(&metric(&stdout, "Accuracy")),
        "{stdout}"
    );
    let _ = std::fs::remove_dir_all(train_dir);
    let _ = std::fs::remove_dir_all(eval_dir);
}

/// export_inference_graph on a trained LeNet: a TorchScript module of the checkpoint's weights (or, with
/// `--moving_average_decay`, their averages) whose logits are slim's for the same restored weights; a fixed
/// `--batch_size` exports too; an existing output and a batch size of 0 are refused.
#[test]
fn export_inference_graph_writes_the_checkpoints_weights_or_their_averages() {
    use slim::checkpoint::{AssignOptions, VariableMap, assign_from_checkpoint};
    use slim::prelude::*;
    let (train_dir, out) = (temp("export-train"), temp("export-out"));
    let (ok, stdout, stderr) = run(&mut train(&train_dir, 10, &["--moving_average_decay", "0.9"]));
    assert!(ok, "{stdout}\n{stderr}");
    std::fs::create_dir_all(&out).unwrap();
    let export = |file: &str, extra: &[&str]| {
        let mut command = example("export_inference_graph");
        command.args(["--dataset_name", "synthetic", "--model_name", "lenet", "--checkpoint_path"]).arg(&train_dir);
        run(command.arg("--output_file").arg(out.join(file)).args(extra))
    };
    let (ok, stdout, stderr) = export("plain.pt", &[]);
    assert!(ok && stdout.contains("input float [any, 1, 28, 28]"), "{stdout}\n{stderr}");
    let (ok, stdout, stderr) = export("averaged.pt", &["--moving_average_decay", "0.9"]);
    assert!(ok, "{stdout}\n{stderr}");
    let (ok, _, stderr) = export("plain.pt", &[]);
    assert!(!ok && stderr.contains("exists already"), "{stderr}");

    let images = (Tensor::arange(4 * 28 * 28, (Kind::Float, Device::Cpu)) * 0.11).sin().view([4, 1, 28, 28]);
    let slim_logits = |averages: bool| {
        let vs = VarStore::new(Device::Cpu);
        let net = slim::nets::get_network("lenet", &vs, 10, 0.0, 1, Some(28)).unwrap();
        let variables = vs.collection(MODEL_VARIABLES);
        let map = match averages {
            true => slim::learning::average_names(variables),
            false => VariableMap::renamed(variables, str::to_string),
        };
        assign_from_checkpoint(&train_dir, map, AssignOptions::default()).unwrap();
        net.forward_t(&images, Mode::Eval).unwrap()
    };
    for (file, averages) in [("plain.pt", false), ("averaged.pt", true)] {
        let module = slim::tch::CModule::load(out.join(file)).unwrap();
        let traced = module.forward_ts(&[&images]).unwrap();
        let expected = slim_logits(averages);
        let scale = expected.abs().max().double_value(&[]).max(1.0);
        let difference = (&traced - &expected).abs().max().double_value(&[]) / scale;
        assert!(difference <= 1e-5, "{file}: {difference}");
    }
    assert!(!slim_logits(true).allclose(&slim_logits(false), 1e-4, 1e-4, false), "the averages are other weights");

    let (ok, _, stderr) = export("fixed.pt", &["--batch_size", "3"]);
    assert!(ok, "{stderr}");
    let module = slim::tch::CModule::load(out.join("fixed.pt")).unwrap();
    assert!(module.forward_ts(&[&images.narrow(0, 0, 3)]).is_ok());
    let (ok, _, stderr) = export("none.pt", &["--batch_size", "0"]);
    assert!(!ok && stderr.contains("--batch_size: must be at least 1"), "{stderr}");
    for dir in [train_dir, out] {
        let _ = std::fs::remove_dir_all(dir);
    }
}
