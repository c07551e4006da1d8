//! Hostile files: for each format slim reads, the committed corpus (`fuzz/corpus/<format>/`: crafted seeds and
//! what cargo-fuzz found; see fuzz/README.md) replayed, then thousands of deterministic mutations of it (bit
//! flips, extreme values written over length and count fields, truncations, repeated and deleted runs; for
//! framed and checksummed formats also mutations of the payload re-framed with valid checksums), each read
//! through the public reader (`common/readers.rs`, which the fuzz targets share). Every outcome must be a value
//! or an error naming the file: never a panic, an abort or a hang. The same seeds give the same inputs on every
//! run, so a failure names a case that can be replayed. Crafted pickles check the pickle machine's nesting and
//! copy budgets.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use slim::data::SplitMix64;
use slim::io::frame_record;

#[path = "common/readers.rs"]
mod readers;
#[path = "common/tf_example.rs"]
mod tf_example;
use tf_example::{example, png};

/// Mutations per format and kind: each format sees a few thousand inputs beside its corpus.
const CASES: u64 = 3000;

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

/// The committed corpus of `format`: every file in `fuzz/corpus/<format>/` (the crafted seeds of [`seeds`] and
/// the inputs cargo-fuzz found worth keeping), by name.
fn corpus(format: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus").join(format);
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("{}: {error}", dir.display()))
        .map(|entry| {
            let path = entry.unwrap().path();
            (path.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&path).unwrap())
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} is empty", dir.display());
    files
}

/// A fresh scratch folder for `label`.
fn scratch(label: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("slim-hostile-{label}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Reads `bytes` as `format` in `dir`: it must return, and an error must name the file.
fn survive_one(format: &str, dir: &Path, bytes: &[u8], case: &str) -> bool {
    match catch_unwind(AssertUnwindSafe(|| readers::read(format, dir, bytes))) {
        Ok((_, Ok(()))) => true,
        Ok((path, Err(error))) => {
            let message = error.to_string();
            let file = path.file_name().unwrap().to_string_lossy();
            assert!(
                message.contains(&*file) || message.contains(&*dir.to_string_lossy()),
                "{format} {case}: the error does not name the file: {message}"
            );
            false
        }
        Err(_) => panic!("{format} {case} panicked (input kept at {})", dir.display()),
    }
}

/// Replays every corpus file of `format`, then `CASES` mutations of corpus files picked at random.
fn survive_corpus(format: &str) {
    let files = corpus(format);
    let dir = scratch(format);
    for (name, bytes) in &files {
        survive_one(format, &dir, bytes, &format!("corpus file {name}"));
    }
    let mut rng = SplitMix64::new(0x5eed, format.len() as u64);
    survive_made(format, &dir, |rng| mutate(&files[rng.below(files.len() as u64) as usize].1, rng), &mut rng);
    eprintln!("{format}: {} corpus files replayed", files.len());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Reads `CASES` inputs made by `make` as `format` in `dir`.
fn survive_made(format: &str, dir: &Path, make: impl Fn(&mut SplitMix64) -> Vec<u8>, rng: &mut SplitMix64) {
    let mut accepted = 0;
    for case in 0..CASES {
        let input = make(rng);
        accepted += usize::from(survive_one(format, dir, &input, &format!("case {case}")));
    }
    eprintln!("{format}: {CASES} mutated inputs, {accepted} read, {} refused with an error", CASES as usize - accepted);
}

/// Like [`survive_made`] in a scratch folder of its own, with a generator seeded by `label`.
fn survive_structured(format: &str, label: &str, make: impl Fn(&mut SplitMix64) -> Vec<u8>) {
    let dir = scratch(label);
    let mut rng = SplitMix64::new(0x5eed, label.len() as u64);
    survive_made(format, &dir, make, &mut rng);
    std::fs::remove_dir_all(&dir).unwrap();
}

fn fixture(path: &str) -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap()
}

/// The crafted seeds of each format's corpus, by file name: valid files of each kind slim reads, and files
/// crafted to break one rule each. `SLIM_BLESS=1 cargo test --test hostile_files` writes them into
/// `fuzz/corpus/` (scripts/make-fuzz-corpus.sh); otherwise the test below checks the corpus holds them.
fn seeds(format: &str) -> Vec<(&'static str, Vec<u8>)> {
    match format {
        "safetensors" => vec![("tiny.safetensors", fixture("tests/fixtures/torch/tiny.safetensors"))],
        "torch_zip" => vec![
            ("tiny_torch.pt", fixture("tests/fixtures/torch/tiny_torch.pt")),
            ("tiny.pt", fixture("tests/fixtures/torch/tiny.pt")),
            ("nested-150.pt", torch_zip(&nested_pickle(150))),
            ("expanding-8.pt", torch_zip(&expanding_pickle(8))),
        ],
        "tf_index" => vec![("tiny.ckpt.index", fixture("tests/fixtures/tf/tiny.ckpt.index"))],
        "tf_data" => vec![("tiny.ckpt.data", fixture("tests/fixtures/tf/tiny.ckpt.data-00000-of-00001"))],
        "idx" => vec![("six-4x4.idx", idx(6)), ("empty.idx", idx(0)), ("huge-count.idx", idx_declaring(u32::MAX))],
        "idx_gz" => vec![("six-4x4.idx.gz", gzip(&idx(6))), ("trailing-16mib-zeros.idx.gz", gzip(&zeros_bomb()))],
        "cifar" => vec![("four-images.bin", cifar_batch(4)), ("short.bin", cifar_batch(1)[..100].to_vec())],
        "tfrecord" => vec![
            ("png-jpeg-raw.tfrecord", tfrecord_examples()),
            ("jpeg-16000x16000.tfrecord", frame_record(&example(huge_jpeg(), "jpeg", 1, None))),
            (
                "raw-overflowing-dims.tfrecord",
                frame_record(&example(vec![7; 12], "raw", 1, Some([1 << 31, 1 << 31, 3]))),
            ),
        ],
        "tf_example" => {
            let [png, jpeg, raw] = examples();
            vec![
                ("png.example", png),
                ("jpeg.example", jpeg),
                ("raw.example", raw),
                ("jpeg-16000x16000.example", example(huge_jpeg(), "jpeg", 1, None)),
                ("png-1000000x1000000.example", example(huge_png(), "png", 1, None)),
            ]
        }
        other => panic!("no seeds for {other}"),
    }
}

#[test]
fn the_committed_corpus_holds_every_crafted_seed() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    let bless = std::env::var_os("SLIM_BLESS").is_some();
    for format in readers::FORMATS {
        for (name, bytes) in seeds(format) {
            let path = root.join(format).join(name);
            if bless {
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(&path, &bytes).unwrap();
            }
            let committed = std::fs::read(&path).unwrap_or_default();
            assert!(committed == bytes, "{} is missing or stale: run scripts/make-fuzz-corpus.sh", path.display());
        }
    }
}

#[test]
fn safetensors_checkpoints() {
    survive_corpus("safetensors");
    // The header's numbers (dtypes' sizes, shapes, offsets) replaced by extreme ones, its length kept right.
    let seed = fixture("tests/fixtures/torch/tiny.safetensors");
    let header_len = u64::from_le_bytes(seed[..8].try_into().unwrap()) as usize;
    let (header, data) = (String::from_utf8(seed[8..8 + header_len].to_vec()).unwrap(), &seed[8 + header_len..]);
    let numbers: Vec<(usize, usize)> = digit_runs(&header);
    let extremes = ["0", "-1", "18446744073709551615", "4294967296", "99999999999999999999999", "1e30", "2147483648"];
    survive_structured("safetensors", "safetensors-header", |rng| {
        let (start, end) = numbers[rng.below(numbers.len() as u64) as usize];
        let extreme = extremes[rng.below(extremes.len() as u64) as usize];
        let header = format!("{}{extreme}{}", &header[..start], &header[end..]);
        [&(header.len() as u64).to_le_bytes()[..], header.as_bytes(), data].concat()
    });
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
    survive_corpus("torch_zip");
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

/// A pickle of lists nested `depth` deep.
fn nested_pickle(depth: usize) -> Vec<u8> {
    let mut pickle = vec![0x80, 2];
    pickle.extend(std::iter::repeat_n(b']', depth));
    pickle.extend(std::iter::repeat_n(b'a', depth - 1));
    pickle.push(b'.');
    pickle
}

/// A pickle that memoizes a pair of copies of a pair of copies …, `levels` deep (2^levels values).
fn expanding_pickle(levels: u8) -> Vec<u8> {
    let mut pickle = vec![0x80, 2, b'N', b'N', 0x86, 0x94];
    for level in 0..levels {
        pickle.extend([b'h', level, b'h', level, 0x86, 0x94]);
    }
    pickle.push(b'.');
    pickle
}

/// Pickles that nest lists two hundred thousand deep (dropping them recursively would overflow the stack), and
/// that memoize 2^40 values from a few hundred bytes: errors, at once, naming the file and the budget.
#[test]
fn pickles_that_nest_too_deep_or_expand_are_refused() {
    let dir = scratch("pickles");
    for (pickle, expected) in
        [(nested_pickle(200_000), "nest deeper than 100 levels"), (expanding_pickle(40), "self-expanding")]
    {
        let (path, outcome) = readers::read("torch_zip", &dir, &torch_zip(&pickle));
        let message = outcome.unwrap_err().to_string();
        assert!(message.contains(&*path.to_string_lossy()) && message.contains(expected), "{message}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn tensorflow_checkpoints() {
    // The index mutated beside an intact data shard, then the shard beside an intact index.
    survive_corpus("tf_index");
    survive_corpus("tf_data");
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

/// An IDX header declaring `count` images of 4×4 over sixteen bytes of pixels.
fn idx_declaring(count: u32) -> Vec<u8> {
    let mut bytes = idx(1);
    bytes[4..8].copy_from_slice(&count.to_be_bytes());
    bytes
}

/// An IDX file of one 4×4 image followed by 16 MiB of zeros: a few kilobytes gzipped, which the reader must not
/// inflate past what the header declares.
fn zeros_bomb() -> Vec<u8> {
    let mut bytes = idx(1);
    bytes.resize(bytes.len() + (16 << 20), 0);
    bytes
}

#[test]
fn idx_files() {
    survive_corpus("idx");
    survive_corpus("idx_gz");
}

/// A CIFAR-10 batch file of `images` labelled images.
fn cifar_batch(images: u8) -> Vec<u8> {
    let mut batch = Vec::new();
    for label in 0..images {
        batch.push(label);
        batch.extend((0..3072u32).map(|i| (i as u8).wrapping_add(label)));
    }
    batch
}

#[test]
fn cifar_batches() {
    survive_corpus("cifar");
}

/// The Examples of the TFRecord seed: a PNG, a JPEG and raw pixels.
fn examples() -> [Vec<u8>; 3] {
    [
        example(png(1), "png", 1, None),
        example(fixture("tests/fixtures/images/tiny.jpg"), "jpeg", 2, None),
        example(vec![7; 12], "raw", 3, Some([2, 2, 3])),
    ]
}

/// A TFRecord file of [`examples`].
fn tfrecord_examples() -> Vec<u8> {
    examples().iter().flat_map(|data| frame_record(data)).collect()
}

/// A JPEG whose header declares 16000×16000 pixels (768 MB decoded) over a few hundred bytes of data.
fn huge_jpeg() -> Vec<u8> {
    let mut huge = fixture("tests/fixtures/images/tiny.jpg");
    let sof = huge.windows(2).position(|pair| pair == [0xff, 0xc0]).unwrap();
    huge[sof + 5..sof + 9].copy_from_slice(&[0x3e, 0x80, 0x3e, 0x80]);
    huge
}

/// A PNG whose header (its checksum right) declares 1000000×1000000 pixels (1 TB decoded) over 6 pixels of data.
fn huge_png() -> Vec<u8> {
    let mut huge = png(1);
    // The IHDR chunk: length (4), type (4), width and height (8) at bytes 16..24, then its data and CRC-32.
    huge[16..24].copy_from_slice(&[&1_000_000u32.to_be_bytes()[..], &1_000_000u32.to_be_bytes()[..]].concat());
    let mut crc = flate2::Crc::new();
    crc.update(&huge[12..29]);
    huge[29..33].copy_from_slice(&crc.sum().to_be_bytes());
    huge
}

#[test]
fn tfrecords_of_examples_and_their_images() {
    survive_corpus("tfrecord");
    // The framing intact and its checksums right: the Example, then the image inside it, mutated.
    survive_corpus("tf_example");
    let images = [(png(1), "png"), (fixture("tests/fixtures/images/tiny.jpg"), "jpeg")];
    survive_structured("tfrecord", "tfrecord-image", |rng| {
        let (image, format) = &images[rng.below(2) as usize];
        frame_record(&example(mutate(image, rng), format, 1, None))
    });
    let dir = scratch("huge-images");
    for (image, format, declared) in [(huge_jpeg(), "jpeg", "16000×16000"), (huge_png(), "png", "1000000×1000000")] {
        let (path, outcome) = readers::read("tf_example", &dir, &example(image, format, 1, None));
        let message = outcome.unwrap_err().to_string();
        assert!(message.contains(&*path.to_string_lossy()) && message.contains(declared), "{message}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
    // Raw pixels whose declared height, width and channels disagree with the bytes or overflow.
    let dims = [0, -1, 1, 2, 3, 1 << 20, 1 << 31, i64::MAX];
    survive_structured("tfrecord", "tfrecord-raw-dims", |rng| {
        let mut pick = || dims[rng.below(dims.len() as u64) as usize];
        let declared = [pick(), pick(), pick()];
        frame_record(&example(vec![7; 12], "raw", 1, Some(declared)))
    });
}
