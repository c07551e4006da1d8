//! TF-Slim's `download_and_convert_flowers.py` for any folder of class folders of images: shuffles the files
//! with a seed, sets `--num_validation` of them aside, and writes both splits as
//! `<name>_{train,validation}_NNNNN-of-NNNNN.tfrecord` shards of `tf.train.Example`s (the JPEG or PNG bytes as
//! they are, `image/format`, `image/height`, `image/width`, `image/class/label`) and `labels.txt`, shards in
//! parallel, each written atomically. `train_image_classifier --dataset_name <name> --dataset_dir <output_dir>`
//! then streams them.
//!
//! `cargo run --release --example convert_image_folder -- --dataset_dir flower_photos --output_dir flowers
//! --dataset_name flowers`

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};

use clap::Parser;
use slim::data::{ImageFolder, SplitMix64, StreamOptions, image_to_tfexample};
use slim::io::{frame_record, write_atomically};
use slim::prelude::*;

/// Converts a folder of class folders of images into TFRecord shards, as TF-Slim's converters do.
#[derive(Debug, Parser)]
#[command(rename_all = "snake_case")]
struct Flags {
    /// The folder of class folders (`daisy/`, `roses/`, …) of JPEG and PNG files.
    #[arg(long)]
    dataset_dir: PathBuf,
    /// Where the shards and labels.txt go (made when missing).
    #[arg(long)]
    output_dir: PathBuf,
    /// The shards' name prefix (`flowers` gives `flowers_train_00000-of-00005.tfrecord`).
    #[arg(long, default_value = "images")]
    dataset_name: String,
    /// Images set aside for validation (TF-Slim's flowers: 350); a tenth of them when not given.
    #[arg(long)]
    num_validation: Option<usize>,
    /// Shards per split (TF-Slim's flowers: 5).
    #[arg(long, default_value_t = 5)]
    num_shards: usize,
    /// Seeds the shuffle that splits and spreads the images (TF-Slim's flowers: 0).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Threads writing shards (the machine's cores when not given).
    #[arg(long)]
    threads: Option<usize>,
}

fn main() -> ExitCode {
    match run(&Flags::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("convert_image_folder: error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run(flags: &Flags) -> Result<()> {
    if flags.num_shards == 0 {
        return Err(Error::invalid("--num_shards", "must be at least 1"));
    }
    let folder = ImageFolder::open(&flags.dataset_dir, StreamOptions::default())?;
    let mut order: Vec<usize> = (0..folder.files().len()).collect();
    let mut random = SplitMix64::new(flags.seed, 0);
    random.shuffle(&mut order);
    let num_validation = flags.num_validation.unwrap_or(order.len() / 10);
    if num_validation >= order.len() {
        let message = format!("{num_validation} of {} images would leave none to train on", order.len());
        return Err(Error::invalid("--num_validation", message));
    }
    std::fs::create_dir_all(&flags.output_dir)
        .map_err(|e| Error::Io { path: flags.output_dir.display().to_string(), message: e.to_string() })?;
    let (validation, train) = order.split_at(num_validation);
    let mut shards = shards_of(flags, "train", train);
    shards.extend(shards_of(flags, "validation", validation));
    write_shards(&folder, &shards, flags.threads.unwrap_or_else(num_cpus))?;
    write_labels(&flags.output_dir.join("labels.txt"), &folder.labels_to_names)?;
    println!(
        "wrote {} training and {num_validation} validation images of {} classes as {} shards and labels.txt in {}",
        train.len(),
        folder.num_classes(),
        shards.len(),
        flags.output_dir.display()
    );
    Ok(())
}

/// A shard to write: its path and the images (by number in the folder) it holds.
struct Shard {
    path: PathBuf,
    images: Vec<usize>,
}

/// TF-Slim's sharding: `num_shards` shards of ⌈n / num_shards⌉ images (the last ones may hold fewer).
fn shards_of(flags: &Flags, split: &str, images: &[usize]) -> Vec<Shard> {
    let per_shard = images.len().div_ceil(flags.num_shards).max(1);
    (0..flags.num_shards)
        .map(|shard| Shard {
            path: flags
                .output_dir
                .join(format!("{}_{split}_{shard:05}-of-{:05}.tfrecord", flags.dataset_name, flags.num_shards)),
            images: images.iter().copied().skip(shard * per_shard).take(per_shard).collect(),
        })
        .collect()
}

/// Writes the shards on `threads` threads, each taking the next shard not yet written.
fn write_shards(folder: &ImageFolder, shards: &[Shard], threads: usize) -> Result<()> {
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads.clamp(1, shards.len().max(1)))
            .map(|_| {
                scope.spawn(|| -> Result<()> {
                    while let Some(shard) = shards.get(next.fetch_add(1, Ordering::Relaxed)) {
                        write_shard(folder, shard)?;
                    }
                    Ok(())
                })
            })
            .collect();
        workers.into_iter().try_for_each(|worker| {
            worker.join().unwrap_or_else(|_| Err(Error::invalid("convert_image_folder", "a writer thread panicked")))
        })
    })
}

/// One shard: each image's file bytes in a `tf.train.Example`, framed as a TFRecord.
fn write_shard(folder: &ImageFolder, shard: &Shard) -> Result<()> {
    write_atomically(&shard.path, |temporary| {
        let io = |e: std::io::Error| Error::Io { path: temporary.display().to_string(), message: e.to_string() };
        let mut out = BufWriter::new(File::create(temporary).map_err(io)?);
        for &image in &shard.images {
            let (encoded, label) = folder.encoded(image)?;
            let source = folder.files()[image].0.display().to_string();
            out.write_all(&frame_record(&image_to_tfexample(&encoded, label, &source)?)).map_err(io)?;
        }
        out.flush().map_err(io)
    })
}

/// TF-Slim's `labels.txt`: `index:name` a line.
fn write_labels(path: &Path, names: &[String]) -> Result<()> {
    let text: String = names.iter().enumerate().map(|(i, name)| format!("{i}:{name}\n")).collect();
    write_atomically(path, |temporary| {
        std::fs::write(temporary, text)
            .map_err(|e| Error::Io { path: temporary.display().to_string(), message: e.to_string() })
    })
}

fn num_cpus() -> usize {
    std::thread::available_parallelism().map(usize::from).unwrap_or(1)
}
