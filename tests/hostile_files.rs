//! Hostile files: for each format slim reads, thousands of deterministic mutations of a valid file (bit flips,
//! extreme values written over length and count fields, truncations, repeated and deleted runs; for framed and
//! checksummed formats also mutations of the payload re-framed with valid checksums), each read through the
//! public reader. Every outcome must be a value or an error naming the file: never a panic, an abort or a hang.
//! The same seeds give the same inputs on every run, so a failure names a case that can be replayed. Crafted
//! pickles check the pickle machine's nesting and copy budgets.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use slim::checkpoint::CheckpointReader;
use slim::data::{Split, SplitMix64, read_idx, tfrecord_dataset};
use slim::io::frame_record;

#[path = "common/tf_example.rs"]
mod tf_example;
use tf_example::{example, png};

/// Mutations per format and kind; each format sees a few thousand inputs in all.
const CASES: u64 = 1500;

/// Values that break length, count and offset fields when written over them.
const EXTREME_U32: [u32; 7] = [0, 1, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff, 0xffff, 0x0100_0000];
const EXTREME_U64: [u64; 5] = [0, u64::MAX, i64::MAX as u64, 1 << 40, 1 << 32];

/// `seed` with one to four random mutations.
fn mutate(seed: &[u8], rng: &mut SplitMix64) -> Vec<u8> {
    let mut bytes = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = |rng: &mut SplitMix64, len: usize| rng.below(len.max(1) as u64) as usize;
        match rng.below(7) {
            0 if !bytes.is_empty() => {
                let i = at(rng, bytes.len());
                bytes[i] ^= 1 << rng.below(8);
            }
            1 if !bytes.is_empty() => {
                let i = at(rng, bytes.len());
                bytes[i] = [0x00, 0xff, 0x7f, 0x80][rng.below(4) as usize];
            }
            2 if bytes.len() >= 4 => {
                let i = at(rng, bytes.len() - 3);
                let value = EXTREME_U32[rng.below(EXTREME_U32.len() as u64) as usize];
                let encoded = if rng.below(2) == 0 { value.to_le_bytes() } else { value.to_be_bytes() };
                bytes[i..i + 4].copy_from_slice(&encoded);
            }
            3 if bytes.len() >= 8 => {
                let i = at(rng, bytes.len() - 7);
                let value = EXTREME_U64[rng.below(EXTREME_U64.len() as u64) as usize];
                bytes[i..i + 8].copy_from_slice(&value.to_le_bytes());
            }
            4 => bytes.truncate(at(rng, bytes.len())),
            5 if !bytes.is_empty() => {
                let start = at(rng, bytes.len());
                let end = (start + 1 + at(rng, 64)).min(bytes.len());
                let run = bytes[start..end].to_vec();
                let times = 1 + rng.below(8) as usize;
                bytes.splice(start..start, run.iter().copied().cycle().take(run.len() * times).collect::<Vec<u8>>());
            }
            _ if !bytes.is_empty() => {
                let start = at(rng, bytes.len());
                let end = (start + 1 + at(rng, 64)).min(bytes.len());
                bytes.drain(start..end);
            }
            _ => {}
        }
    }
    bytes
}

/// Writes `CASES` mutations of `seed` (one at a time, to `file` inside a fresh directory) and reads each with
/// `read`; every read must return, and an error must name the file.
fn survive(format: &str, seed: &[u8], file: &str, read: impl Fn(&Path) -> slim::Result<()>) {
    survive_made(format, file, |rng| mutate(seed, rng), read);
}

/// Like [`survive`], with the inputs made by `make`.
fn survive_made(
    format: &str,
    file: &str,
    make: impl Fn(&mut SplitMix64) -> Vec<u8>,
    read: impl Fn(&Path) -> slim::Result<()>,
) {
    let dir = std::env::temp_dir().join(format!("slim-hostile-{format}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(file);
    let mut rng = SplitMix64::new(0x5eed, format.len() as u64);
    let (mut accepted, mut refused) = (0, 0);
    for case in 0..CASES {
        std::fs::write(&path, make(&mut rng)).unwrap();
        match catch_unwind(AssertUnwindSafe(|| read(&path))) {
            Ok(Ok(())) => accepted += 1,
            Ok(Err(error)) => {
                let message = error.to_string();
                assert!(
                    message.contains(file) || message.contains(&*dir.to_string_lossy()),
                    "{format} case {case}: the error does not name the file: {message}"
                );
                refused += 1;
            }
            Err(_) => panic!("{format} case {case} panicked (input kept at {})", path.display()),
        }
    }
    eprintln!("{format}: {CASES} mutated inputs, {accepted} read, {refused} refused with an error");
    std::fs::remove_dir_all(&dir).unwrap();
}

fn fixture(path: &str) -> Vec<u8> {
    std::fs::read(path).unwrap()
}

fn read_checkpoint(path: &Path) -> slim::Result<()> {
    CheckpointReader::open(path)?.read_all().map(drop)
}

#[test]
fn safetensors_checkpoints() {
    survive("safetensors", &fixture("tests/fixtures/torch/tiny.safetensors"), "model.safetensors", read_checkpoint);
    // The header's numbers (dtypes' sizes, shapes, offsets) replaced by extreme ones, its length kept right.
    let seed = fixture("tests/fixtures/torch/tiny.safetensors");
    let header_len = u64::from_le_bytes(seed[..8].try_into().unwrap()) as usize;
    let (header, data) = (String::from_utf8(seed[8..8 + header_len].to_vec()).unwrap(), &seed[8 + header_len..]);
    let numbers: Vec<(usize, usize)> = digit_runs(&header);
    let extremes = ["0", "-1", "18446744073709551615", "4294967296", "99999999999999999999999", "1e30", "2147483648"];
    survive_made(
        "safetensors-header",
        "model.safetensors",
        |rng| {
            let (start, end) = numbers[rng.below(numbers.len() as u64) as usize];
            let extreme = extremes[rng.below(extremes.len() as u64) as usize];
            let header = format!("{}{extreme}{}", &header[..start], &header[end..]);
            [&(header.len() as u64).to_le_bytes()[..], header.as_bytes(), data].concat()
        },
        read_checkpoint,
    );
}

/// The byte ranges of the runs of ASCII digits in `text`.
fn digit_runs(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut runs = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_digit() {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            runs.push((start, i));
        } else {
            i += 1;
        }
    }
    runs
}

#[test]
fn torch_save_zips_and_their_pickles() {
    survive("torch-zip", &fixture("tests/fixtures/torch/tiny_torch.pt"), "model.pt", read_checkpoint);
    survive("torch-zip-2", &fixture("tests/fixtures/torch/tiny.pt"), "model.pt", read_checkpoint);
}

/// A `torch.save` archive holding `pickle` as its `data.pkl`.
fn torch_zip(pickle: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let stored = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    zip.start_file("archive/data.pkl", stored).unwrap();
    zip.write_all(pickle).unwrap();
    zip.finish().unwrap().into_inner()
}

/// Pickles that nest lists two hundred thousand deep (dropping them recursively would overflow the stack), and
/// that memoize a pair of copies of a pair of copies … (2^40 values from a few hundred bytes): errors, at once.
#[test]
fn pickles_that_nest_too_deep_or_expand_are_refused() {
    const DEPTH: usize = 200_000;
    let mut nested = vec![0x80, 2];
    nested.extend(std::iter::repeat_n(b']', DEPTH));
    nested.extend(std::iter::repeat_n(b'a', DEPTH - 1));
    nested.push(b'.');
    let mut expanding = vec![0x80, 2, b'N', b'N', 0x86, 0x94];
    for level in 0..40u8 {
        expanding.extend([b'h', level, b'h', level, 0x86, 0x94]);
    }
    expanding.push(b'.');
    let dir = std::env::temp_dir().join(format!("slim-hostile-pickles-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (name, pickle, expected) in
        [("nested.pt", nested, "nest deeper than 100 levels"), ("expanding.pt", expanding, "self-expanding")]
    {
        let path = dir.join(name);
        std::fs::write(&path, torch_zip(&pickle)).unwrap();
        let message = read_checkpoint(&path).unwrap_err().to_string();
        assert!(message.contains(name) && message.contains(expected), "{message}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn tensorflow_checkpoints() {
    let index = fixture("tests/fixtures/tf/tiny.ckpt.index");
    let data = fixture("tests/fixtures/tf/tiny.ckpt.data-00000-of-00001");
    // The index mutated beside an intact data shard, then the shard beside an intact index.
    let read = |data: Vec<u8>| {
        move |index_path: &Path| {
            std::fs::write(index_path.with_file_name("tiny.ckpt.data-00000-of-00001"), &data).unwrap();
            read_checkpoint(&index_path.with_file_name("tiny.ckpt"))
        }
    };
    survive("tf-index", &index, "tiny.ckpt.index", read(data.clone()));
    survive_made("tf-data", "tiny.ckpt.index", |_| index.clone(), {
        let data = data.clone();
        let counter = std::cell::Cell::new(0u64);
        move |index_path: &Path| {
            let mut rng = SplitMix64::new(0xda7a, counter.replace(counter.get() + 1));
            std::fs::write(index_path.with_file_name("tiny.ckpt.data-00000-of-00001"), mutate(&data, &mut rng))
                .unwrap();
            read_checkpoint(&index_path.with_file_name("tiny.ckpt"))
        }
    });
}

/// An IDX file of `[count, 4, 4]` bytes, optionally gzipped.
fn idx(count: u32) -> Vec<u8> {
    let mut bytes = vec![0, 0, 0x08, 3];
    for dim in [count, 4, 4] {
        bytes.extend_from_slice(&dim.to_be_bytes());
    }
    bytes.extend((0..count * 16).map(|i| i as u8));
    bytes
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

#[test]
fn idx_files() {
    survive("idx", &idx(6), "images-idx3-ubyte", |path| read_idx(path).map(drop));
    survive("idx-gz", &gzip(&idx(6)), "images-idx3-ubyte.gz", |path| read_idx(path).map(drop));
}

#[test]
fn cifar_batches() {
    let mut batch = Vec::new();
    for label in 0..4u8 {
        batch.push(label);
        batch.extend((0..3072u32).map(|i| (i as u8).wrapping_add(label)));
    }
    survive("cifar", &batch, "test_batch.bin", |path| {
        slim::datasets::cifar10(path.parent().unwrap(), Split::Test).map(drop)
    });
}

fn read_tfrecords(path: &Path) -> slim::Result<()> {
    tfrecord_dataset("hostile", &[path.to_path_buf()], 10).map(drop)
}

#[test]
fn tfrecords_of_examples_and_their_images() {
    let examples = [
        example(png(1), "png", 1, None),
        example(fixture("tests/fixtures/images/tiny.jpg"), "jpeg", 2, None),
        example(vec![7; 12], "raw", 3, Some([2, 2, 3])),
    ];
    let file: Vec<u8> = examples.iter().flat_map(|data| frame_record(data)).collect();
    survive("tfrecord", &file, "train.tfrecord", read_tfrecords);
    // The framing intact and its checksums right: the Example, then the image inside it, mutated.
    survive_made(
        "tfrecord-example",
        "train.tfrecord",
        |rng| frame_record(&mutate(&examples[rng.below(3) as usize], rng)),
        read_tfrecords,
    );
    let images = [(png(1), "png"), (fixture("tests/fixtures/images/tiny.jpg"), "jpeg")];
    survive_made(
        "tfrecord-image",
        "train.tfrecord",
        |rng| {
            let (image, format) = &images[rng.below(2) as usize];
            frame_record(&example(mutate(image, rng), format, 1, None))
        },
        read_tfrecords,
    );
    // A JPEG whose header declares 16000×16000 pixels (768 MB decoded) over a few hundred bytes of data.
    let mut huge = fixture("tests/fixtures/images/tiny.jpg");
    let sof = huge.windows(2).position(|pair| pair == [0xff, 0xc0]).unwrap();
    huge[sof + 5..sof + 9].copy_from_slice(&[0x3e, 0x80, 0x3e, 0x80]);
    let dir = std::env::temp_dir().join(format!("slim-hostile-jpeg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("huge.tfrecord");
    std::fs::write(&path, frame_record(&example(huge, "jpeg", 1, None))).unwrap();
    let message = read_tfrecords(&path).unwrap_err().to_string();
    assert!(message.contains("huge.tfrecord") && message.contains("16000×16000"), "{message}");
    std::fs::remove_dir_all(&dir).unwrap();
    // Raw pixels whose declared height, width and channels disagree with the bytes or overflow.
    let dims = [0, -1, 1, 2, 3, 1 << 20, 1 << 31, i64::MAX];
    survive_made(
        "tfrecord-raw-dims",
        "train.tfrecord",
        |rng| {
            let mut pick = || dims[rng.below(dims.len() as u64) as usize];
            let declared = [pick(), pick(), pick()];
            frame_record(&example(vec![7; 12], "raw", 1, Some(declared)))
        },
        read_tfrecords,
    );
}
