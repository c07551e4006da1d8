//! Every file format slim parses, each fed from bytes through its public reader: shared by
//! `tests/hostile_files.rs` (which replays the committed corpus in `fuzz/corpus/<format>/` and mutations of it)
//! and the cargo-fuzz targets in `fuzz/` (one per format, same names). Included with `#[path]`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use slim::checkpoint::CheckpointReader;
use slim::data::{Provider, Split, StreamOptions, TfRecordSet, read_idx, tfrecord_dataset};
use slim::datasets::imagenet_decoder;
use slim::preprocessing::InceptionPreprocessing;

/// The formats, named as their corpus folders and fuzz targets.
pub const FORMATS: [&str; 9] =
    ["safetensors", "torch_zip", "tf_index", "tf_data", "idx", "idx_gz", "cifar", "tfrecord", "tf_example"];

/// The intact data shard that a fuzzed TensorFlow index is read beside.
const TF_DATA: &[u8] = include_bytes!("../fixtures/tf/tiny.ckpt.data-00000-of-00001");

/// The intact index that a fuzzed TensorFlow data shard is read beside.
const TF_INDEX: &[u8] = include_bytes!("../fixtures/tf/tiny.ckpt.index");

/// The file name an input of `format` is written under (readers pick the format by name, as users' files are).
pub fn file_name(format: &str) -> &'static str {
    match format {
        "safetensors" => "model.safetensors",
        "torch_zip" => "model.pt",
        "tf_index" => "tiny.ckpt.index",
        "tf_data" => "tiny.ckpt.data-00000-of-00001",
        "idx" => "images-idx3-ubyte",
        "idx_gz" => "images-idx3-ubyte.gz",
        "cifar" => "test_batch.bin",
        "tfrecord" | "tf_example" => "train.tfrecord",
        other => panic!("no format {other}"),
    }
}

/// Writes `bytes` as a file of `format` into `dir` (beside the intact companion file a TensorFlow checkpoint
/// needs; `tf_example` bytes are one record's payload, framed with valid checksums so that what is behind the
/// framing is reached) and reads it completely with slim's public reader. Returns the path written and the
/// outcome.
pub fn read(format: &str, dir: &Path, bytes: &[u8]) -> (PathBuf, slim::Result<()>) {
    let path = dir.join(file_name(format));
    let framed;
    let contents = if format == "tf_example" {
        framed = slim::io::frame_record(bytes);
        &framed[..]
    } else {
        bytes
    };
    std::fs::write(&path, contents).expect("writing a fuzz input");
    let companion = match format {
        "tf_index" => Some(("tiny.ckpt.data-00000-of-00001", TF_DATA)),
        "tf_data" => Some(("tiny.ckpt.index", TF_INDEX)),
        _ => None,
    };
    if let Some((name, companion)) = companion {
        std::fs::write(dir.join(name), companion).expect("writing a fuzz input's companion");
    }
    let outcome = match format {
        "safetensors" | "torch_zip" => read_checkpoint(&path),
        "tf_index" | "tf_data" => read_checkpoint(&dir.join("tiny.ckpt")),
        "idx" | "idx_gz" => read_idx(&path).map(drop),
        "cifar" => slim::datasets::cifar10(dir, Split::Test).map(drop),
        "tf_example" => tfrecord_dataset("fuzzed", std::slice::from_ref(&path), 10)
            .map(drop)
            .and(stream_records(&path))
            .and(decode_items(&path, bytes)),
        _ => tfrecord_dataset("fuzzed", std::slice::from_ref(&path), 10).map(drop).and(stream_records(&path)),
    };
    (path, outcome)
}

/// Streams every record of the TFRecord file at `path` as a training run would: each image decoded and given
/// inception's training preprocessing on its own.
pub fn stream_records(path: &Path) -> slim::Result<()> {
    let set = TfRecordSet::open("fuzzed", std::slice::from_ref(&path.to_path_buf()), 10, StreamOptions::default())?;
    let preprocessing = InceptionPreprocessing { size: 8, training: true, seed: 0 };
    let mut provider = Provider::streaming(Arc::new(set), 1)?.num_epochs(1).preprocess(preprocessing);
    provider.try_for_each(|batch| batch.map(drop))
}

/// Decodes one Example's items as TF-Slim's ImageNet set declares them (the image, the label, the class text,
/// the object boxes and labels), and streams the file at `path` through that decoder into batches carrying every
/// item.
pub fn decode_items(path: &Path, record: &[u8]) -> slim::Result<()> {
    let decoded = imagenet_decoder()?
        .decode(record, None)
        .map_err(|error| slim::Error::Io { path: path.display().to_string(), message: error.to_string() });
    let files = [path.to_path_buf()];
    let items = ["label_text", "object/bbox", "object/label"];
    let options = StreamOptions::default();
    let set = TfRecordSet::open_with_decoder("fuzzed", &files, 1001, options, imagenet_decoder()?, &items)?;
    let preprocessing = InceptionPreprocessing { size: 8, training: false, seed: 0 };
    let mut provider = Provider::streaming(Arc::new(set), 1)?.num_epochs(1).preprocess(preprocessing);
    decoded.and(provider.try_for_each(|batch| batch.map(drop)))
}

/// Opens a checkpoint and reads every tensor in it.
pub fn read_checkpoint(path: &Path) -> slim::Result<()> {
    CheckpointReader::open(path)?.read_all().map(drop)
}
