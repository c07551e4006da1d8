//! What `train_image_classifier`, `eval_image_classifier` and `export_inference_graph` share: the device flag
//! (and what a precision falls back to on it), datasets with a label offset, zoo nets and their preprocessing by
//! name, and an exit status instead of a panic.
#![allow(dead_code)] // each script uses some of them

use std::path::PathBuf;
use std::process::ExitCode;

use slim::backend::Precision;
use slim::data::{DataSource, Provider, Split, StreamOptions};
use slim::datasets::get_data_source;
use slim::nets::{Network, default_image_size, get_network};
use slim::prelude::*;
use slim::preprocessing::{RandomErasing, get_preprocessing};

/// Says on standard error when `--precision` falls back to float32 on `device` (the library logs it through
/// `log`, which a script does not route).
pub fn say_precision_fallback(precision: Precision, device: Device) {
    if let Some(reason) = precision.fallback_reason(device) {
        eprintln!("--precision {precision}: {reason}; running float32");
    }
}

/// Where to run: `cpu`, `cuda`, or `auto` (CUDA when libtorch sees a GPU).
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum DeviceFlag {
    /// The CPU.
    Cpu,
    /// The first CUDA GPU; an error when there is none.
    Cuda,
    /// CUDA when available, else the CPU.
    Auto,
}

impl DeviceFlag {
    /// The libtorch device, or an error when `cuda` is asked for and libtorch sees no GPU.
    pub fn device(self) -> Result<Device> {
        match self {
            DeviceFlag::Cpu => Ok(Device::Cpu),
            DeviceFlag::Auto => Ok(Device::cuda_if_available()),
            DeviceFlag::Cuda if tch::Cuda::is_available() => Ok(Device::Cuda(0)),
            DeviceFlag::Cuda => Err(Error::invalid(
                "--device cuda",
                "libtorch sees no CUDA device; use a CUDA libtorch (see the README) or --device cpu",
            )),
        }
    }
}

/// The net and its preprocessing, which both scripts take.
#[derive(Clone, Debug, clap::Args)]
#[command(rename_all = "snake_case")]
pub struct ModelFlags {
    /// The zoo net: lenet, cifarnet, alexnet_v2, vgg_a/16/19, inception_v1/v3, mobilenet_v1{,_075,_050,_025},
    /// resnet_v1_50 … resnet_v2_200, resnet_cifar_<6n+2> (k times as wide: resnet_cifar_<6n+2>_x<k>).
    #[arg(long, default_value = "lenet")]
    pub model_name: String,
    /// The preprocessing: lenet, cifarnet, vgg, inception (the model's own when not given).
    #[arg(long)]
    pub preprocessing_name: Option<String>,
}

impl ModelFlags {
    /// The preprocessing's name: the one given, else the model's.
    pub fn preprocessing(&self) -> &str {
        self.preprocessing_name.as_deref().unwrap_or(&self.model_name)
    }
}

/// The dataset flags both scripts take.
#[derive(Clone, Debug, clap::Args)]
#[command(rename_all = "snake_case")]
pub struct DatasetFlags {
    /// fashion_mnist, mnist, cifar10, cifar100, synthetic (read into memory), or the name of a TFRecord set in
    /// --dataset_dir (`<name>_train*.tfrecord` shards and `labels.txt`, as TF-Slim's converters write them), or
    /// any name for a --dataset_dir of class folders of images (with `train/` and `validation/` in it, or not);
    /// both streamed from disk.
    #[arg(long, default_value = "fashion_mnist")]
    pub dataset_name: String,
    /// train or test.
    #[arg(long)]
    pub dataset_split_name: Option<String>,
    /// The folder with the dataset's files (Fashion-MNIST: else $SLIM_FASHION_MNIST, else Debian's folder).
    #[arg(long)]
    pub dataset_dir: Option<PathBuf>,
    /// Subtracted from every label (1 for datasets whose class 0 is a background class).
    #[arg(long, default_value_t = 0)]
    pub labels_offset: i64,
    /// Skip and count records that are damaged, images that do not decode and labels out of range, with a
    /// warning, instead of stopping with an error (streamed sets).
    #[arg(long)]
    pub skip_bad_records: bool,
}

impl DatasetFlags {
    /// The dataset's split (`default_split` unless `--dataset_split_name` says otherwise), labels offset.
    pub fn load(&self, default_split: Split) -> Result<DataSource> {
        let split = match self.dataset_split_name.as_deref() {
            None => default_split,
            Some("train") => Split::Train,
            Some("test" | "validation") => Split::Test,
            Some(other) => {
                return Err(Error::invalid("--dataset_split_name", format!("{other:?} is none of train, test")));
            }
        };
        let options = StreamOptions { channels: None, skip_bad_records: self.skip_bad_records };
        let mut source = get_data_source(&self.dataset_name, split, self.dataset_dir.as_deref(), options)?;
        source.offset_labels(self.labels_offset)?;
        Ok(source)
    }
}

/// The side the net sees: `image_size` when given, else an in-memory dataset's (square) images' side, else
/// the net's own (TF-Slim's `default_image_size`).
pub fn image_size(source: &DataSource, model_name: &str, image_size: Option<i64>) -> Result<i64> {
    match (image_size, source.image_size()) {
        (Some(size), _) if size < 1 => Err(Error::invalid("image size", format!("must be positive, got {size}"))),
        (Some(size), _) => Ok(size),
        (None, Some((height, width))) if height == width => Ok(height),
        (None, Some((height, width))) => Err(Error::invalid(
            source.name(),
            format!("the images are {height}×{width}; give a square size with --train_image_size / --eval_image_size"),
        )),
        (None, None) => Ok(default_image_size(model_name)),
    }
}

/// The zoo net `model_name` for `source`'s images preprocessed to `size`×`size`, built in `vs` inside its arg
/// scope.
pub fn network(model_name: &str, vs: &VarStore, source: &DataSource, weight_decay: f64, size: i64) -> Result<Network> {
    get_network(model_name, vs, source.num_classes(), weight_decay, source.channels(), Some(size))
}

/// How a provider preprocesses: for training (random draws from `seed`) or evaluation, to `size`×`size`, with
/// random erasing of probability `random_erasing` on top (training only; 0 is off).
#[derive(Clone, Copy, Debug)]
pub struct Sampling {
    /// Training's random preprocessing, or evaluation's fixed one.
    pub training: bool,
    /// The side of the preprocessed images.
    pub size: i64,
    /// The seed of the random draws.
    pub seed: u64,
    /// The probability of erasing a rectangle of a training image.
    pub random_erasing: f64,
}

impl Sampling {
    /// Evaluation's preprocessing to `size`×`size`: no random draws.
    pub fn evaluation(size: i64) -> Self {
        Sampling { training: false, size, seed: 0, random_erasing: 0.0 }
    }
}

/// A provider of `source` in batches of `batch_size`, preprocessed by `preprocessing_name` (a preprocessing's
/// or a zoo net's name) as `sampling` says.
pub fn provider(
    source: &DataSource,
    batch_size: i64,
    preprocessing_name: &str,
    sampling: Sampling,
) -> Result<Provider> {
    let Sampling { training, size, seed, random_erasing } = sampling;
    let mut preprocessing = get_preprocessing(preprocessing_name, training, size, seed)?;
    if training && random_erasing > 0.0 {
        preprocessing = Box::new(RandomErasing::new(preprocessing, random_erasing, seed)?);
    }
    Ok(Provider::from_source(source, batch_size)?.preprocess(preprocessing))
}

/// Runs `main`, printing an error as one line prefixed with the program's name and exiting with status 1.
pub fn exit_status(program: &str, main: impl FnOnce() -> Result<()>) -> ExitCode {
    match main() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{program}: error: {error}");
            ExitCode::FAILURE
        }
    }
}
