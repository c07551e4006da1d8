//! The streaming input pipeline: TFRecord shards of JPEGs of many sizes read through 4 readers and a shuffle
//! buffer, each image decoded and given inception's training preprocessing to 224×224, batches of 32; images/s
//! on 1 and 2 threads, the resident memory while streaming, and how long a mobilenet_v1 training step waits for its batch.
//! `benches/peers/tf_input_pipeline.py` times TF's `tf.data` on the same files (`SLIM_BENCH_TF=python` runs it
//! here, one process at a time, interleaved).
//!
//! `cargo bench --bench streaming -- [IMAGES [DIR]]` (default 2,000 images of 300–799 pixels a side in
//! `target/bench/streaming-IMAGES`, made once; 14,000 make about 2 GB).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use slim::data::{Provider, SplitMix64, StreamOptions, TfRecordSet, image_to_tfexample};
use slim::io::{frame_record, write_atomically};
use slim::nets::get_network;
use slim::prelude::*;
use slim::preprocessing::InceptionPreprocessing;

const BATCH: i64 = 32;
const SHARDS: usize = 8;
const READERS: usize = 4;

fn main() -> Result<()> {
    tch::set_num_threads(2);
    slim::backend::allocator::keep_freed_memory();
    let mut args = std::env::args().skip(1).filter(|arg| arg != "--bench");
    let images: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(2000);
    let dir = args.next().map(PathBuf::from).unwrap_or_else(|| format!("target/bench/streaming-{images}").into());
    let files = make_set(&dir, images)?;
    let bytes: u64 = files.iter().filter_map(|file| std::fs::metadata(file).ok()).map(|m| m.len()).sum();
    println!("{images} JPEGs, {:.0} MB in {SHARDS} shards in {}", bytes as f64 / 1e6, dir.display());
    let set = Arc::new(TfRecordSet::open("bench", &files, 5, StreamOptions::default())?);
    let batches = (images as i64 / BATCH).min(150) as usize;
    for threads in [1, 2] {
        let rate = pipeline_rate(&set, threads, batches)?;
        println!(
            "{{\"bench\":\"input_pipeline\",\"framework\":\"slim\",\"threads\":{threads},\"images_per_s\":{rate:.1}}}"
        );
        if let Ok(python) = std::env::var("SLIM_BENCH_TF") {
            let status = std::process::Command::new(python)
                .args(["benches/peers/tf_input_pipeline.py", "--threads", &threads.to_string()])
                .args(["--batches", &batches.to_string(), "--dir"])
                .arg(&dir)
                .status();
            if !status.is_ok_and(|status| status.success()) {
                println!("(the TF pipeline did not run)");
            }
        }
    }
    let largest = epoch_resident_mb(&set)?;
    println!("one whole epoch on 2 threads: largest resident memory {largest:.0} MB (sampled each batch)");
    stall(&set)
}

/// Images/s of `batches` batches made on `threads` threads (after 5 batches of warm-up).
fn pipeline_rate(set: &Arc<TfRecordSet>, threads: usize, batches: usize) -> Result<f64> {
    let preprocessing = InceptionPreprocessing { size: 224, training: true, seed: 1 };
    let provider = Provider::streaming(set.clone(), BATCH)?.shuffle(1).num_readers(READERS);
    let mut stream = provider.shuffle_buffer(10 * BATCH as usize).preprocess(preprocessing).prefetch(threads, 4);
    for _ in 0..5 {
        stream.next().transpose()?;
    }
    let start = Instant::now();
    let mut count = 0;
    for batch in stream.by_ref().take(batches) {
        count += batch?.len();
    }
    Ok(count as f64 / start.elapsed().as_secs_f64())
}

/// Streams one whole epoch on 2 threads and returns the largest resident memory seen, in MB.
fn epoch_resident_mb(set: &Arc<TfRecordSet>) -> Result<f64> {
    let preprocessing = InceptionPreprocessing { size: 224, training: true, seed: 1 };
    let provider = Provider::streaming(set.clone(), BATCH)?.shuffle(1).num_readers(READERS).num_epochs(1);
    let mut largest = 0.0f64;
    for batch in provider.shuffle_buffer(10 * BATCH as usize).preprocess(preprocessing).prefetch(2, 4) {
        batch?;
        largest = largest.max(resident_mb());
    }
    Ok(largest)
}

/// Trains mobilenet_v1 (224×224, batch 32) for a few steps from a one-thread pipeline and reports the time a
/// step waits for its batch.
fn stall(set: &Arc<TfRecordSet>) -> Result<()> {
    let vs = VarStore::new(Device::Cpu);
    let net = get_network("mobilenet_v1", &vs, 5, 0.0, 3, Some(224))?;
    let preprocessing = InceptionPreprocessing { size: 224, training: true, seed: 1 };
    let provider = Provider::streaming(set.clone(), BATCH)?.shuffle(1).num_readers(READERS);
    let mut stream = provider.shuffle_buffer(10 * BATCH as usize).preprocess(preprocessing).prefetch(1, 4);
    let mut train_op = create_train_op(&vs, Momentum::new(0.9)?, 0.01).build()?;
    let _store = vs.as_default();
    let (mut waiting, steps) = (0.0, 8);
    let start = Instant::now();
    for step in 0..steps + 2 {
        let asked = Instant::now();
        let batch = stream.next().ok_or_else(|| Error::invalid("stall", "the data ended"))??;
        if step >= 2 {
            waiting += asked.elapsed().as_secs_f64();
        }
        train_op.step(|| {
            let logits = net.forward_t(&batch.images, Mode::Train)?;
            let _ = sparse_softmax_cross_entropy(&logits, &batch.labels).call()?;
            get_total_loss(true)
        })?;
        if step == 1 {
            waiting = 0.0;
        }
    }
    let total = start.elapsed().as_secs_f64();
    println!(
        "mobilenet_v1 training at 224×224, batch 32, input on 1 thread: {:.2} s/step, waiting for input {:.1}% of it",
        total / (steps + 2) as f64,
        100.0 * waiting / total
    );
    Ok(())
}

/// The process's resident memory now (VmRSS), in MB; 0 where /proc is missing.
fn resident_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let line = status.lines().find(|line| line.starts_with("VmRSS:")).unwrap_or_default();
    line.split_whitespace().nth(1).and_then(|kb| kb.parse::<f64>().ok()).unwrap_or(0.0) / 1e3
}

/// The shards of `images` generated JPEGs in `dir`, made unless a finished set is there.
fn make_set(dir: &Path, images: usize) -> Result<Vec<PathBuf>> {
    let files: Vec<PathBuf> =
        (0..SHARDS).map(|shard| dir.join(format!("bench_train_{shard:05}-of-{SHARDS:05}.tfrecord"))).collect();
    if files.iter().all(|file| file.is_file()) {
        return Ok(files);
    }
    std::fs::create_dir_all(dir).map_err(|e| Error::Io { path: dir.display().to_string(), message: e.to_string() })?;
    std::thread::scope(|scope| {
        let writers: Vec<_> = files
            .iter()
            .enumerate()
            .map(|(shard, file)| scope.spawn(move || write_shard(file, shard, images)))
            .collect();
        writers
            .into_iter()
            .try_for_each(|writer| writer.join().unwrap_or_else(|_| Err(Error::invalid("bench", "panic"))))
    })?;
    Ok(files)
}

/// Shard `shard`: every `SHARDS`-th image, each a JPEG of a random size with a label in 0..5.
fn write_shard(file: &Path, shard: usize, images: usize) -> Result<()> {
    write_atomically(file, |temporary| {
        let io = |e: std::io::Error| Error::Io { path: temporary.display().to_string(), message: e.to_string() };
        let mut out = BufWriter::new(File::create(temporary).map_err(io)?);
        for image in (shard..images).step_by(SHARDS) {
            let mut random = SplitMix64::new(11, image as u64);
            let (width, height) = (300 + random.below(500) as u16, 300 + random.below(500) as u16);
            let label = random.below(5) as i64;
            let jpeg = photo(width, height, &mut random)?;
            out.write_all(&frame_record(&image_to_tfexample(&jpeg, label, "generated")?)).map_err(io)?;
        }
        out.flush().map_err(io)
    })
}

/// A photo-like JPEG (quality 90): smooth colour gradients with noise.
fn photo(width: u16, height: u16, random: &mut SplitMix64) -> Result<Vec<u8>> {
    let base = [random.uniform(0.0, 255.0), random.uniform(0.0, 255.0), random.uniform(0.0, 255.0)];
    let mut pixels = Vec::with_capacity(width as usize * height as usize * 3);
    for y in 0..height as usize {
        for x in 0..width as usize {
            for (channel, &value) in base.iter().enumerate() {
                let wave = ((x * (channel + 1) + y * 2) as f64 / 40.0).sin() * 60.0;
                pixels.push((value + wave + random.uniform(-12.0, 12.0)).clamp(0.0, 255.0) as u8);
            }
        }
    }
    let mut jpeg = Vec::new();
    let encoded =
        jpeg_encoder::Encoder::new(&mut jpeg, 90).encode(&pixels, width, height, jpeg_encoder::ColorType::Rgb);
    encoded.map_err(|e| Error::invalid("jpeg-encoder", e.to_string()))?;
    Ok(jpeg)
}
