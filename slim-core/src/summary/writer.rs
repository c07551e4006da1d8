//! `SummaryWriter`: appends events to `logdir/events.out.tfevents.<time>.<host>`. Each record carries its own
//! checksums, so a killed writer leaves at most a truncated last record, which TensorBoard skips
//! (`slim::io::read_records` reports it).

use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use prost::Message;
use tch::{Kind, Tensor};

use super::png::encode_png;
use super::proto::{Event, HistogramProto, Image, Summary, SummaryValue};
use crate::io::frame_record;
use crate::io::write_atomically;
use crate::{Error, Result};

/// Writes TensorBoard event files.
pub struct SummaryWriter {
    path: PathBuf,
    file: BufWriter<File>,
}

fn io(path: &Path, what: &str, error: std::io::Error) -> Error {
    Error::Io { path: path.display().to_string(), message: format!("{what}: {error}") }
}

fn now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

fn hostname() -> String {
    let name = fs::read_to_string("/etc/hostname").ok().map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    name.or_else(|| std::env::var("HOSTNAME").ok()).unwrap_or_else(|| "localhost".into())
}

impl SummaryWriter {
    /// A new event file in `logdir` (created if needed), starting with the `brain.Event:2` version record.
    pub fn new(logdir: impl AsRef<Path>) -> Result<SummaryWriter> {
        let logdir = logdir.as_ref();
        fs::create_dir_all(logdir).map_err(|e| io(logdir, "cannot create the logdir", e))?;
        let path = logdir.join(format!("events.out.tfevents.{}.{}", now() as u64, hostname()));
        // The file appears complete (with its version record) or not at all.
        let first = frame_record(
            &Event { wall_time: now(), file_version: Some("brain.Event:2".into()), ..Event::default() }.encode_to_vec(),
        );
        write_atomically(&path, |tmp| fs::write(tmp, &first).map_err(|e| io(tmp, "cannot write", e)))?;
        let file = OpenOptions::new().append(true).open(&path).map_err(|e| io(&path, "cannot open", e))?;
        Ok(SummaryWriter { path, file: BufWriter::new(file) })
    }

    /// The event file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one event holding `values` at `step`.
    pub fn add_summary(&mut self, values: Vec<SummaryValue>, step: i64) -> Result<()> {
        let event = Event { wall_time: now(), step, file_version: None, summary: Some(Summary { value: values }) };
        self.file.write_all(&frame_record(&event.encode_to_vec())).map_err(|e| io(&self.path, "cannot write", e))
    }

    /// Appends scalars `(tag, value)` at `step`.
    pub fn add_scalars(&mut self, scalars: &[(&str, f64)], step: i64) -> Result<()> {
        let values = scalars
            .iter()
            .map(|(tag, value)| SummaryValue {
                tag: tag.to_string(),
                simple_value: Some(*value as f32),
                ..SummaryValue::default()
            })
            .collect();
        self.add_summary(values, step)
    }

    /// Appends a histogram of `tensor`'s values at `step`, with TF's default buckets.
    pub fn add_histogram(&mut self, tag: &str, tensor: &Tensor, step: i64) -> Result<()> {
        let histogram = histogram(tensor)?;
        self.add_summary(
            vec![SummaryValue { tag: tag.to_string(), histo: Some(histogram), ..SummaryValue::default() }],
            step,
        )
    }

    /// Appends up to `max_images` images of a `[N, C, H, W]` (or `[C, H, W]`) batch with 1, 3 or 4 channels at
    /// `step`, as TF's image summary: tags `<tag>/image` for one image, `<tag>/image/<i>` for several. Float
    /// values are rescaled per image, as TF does: the largest to 255 when none is negative, else 0 to 127.
    pub fn add_images(&mut self, tag: &str, images: &Tensor, max_images: usize, step: i64) -> Result<()> {
        let images = match images.dim() {
            3 => images.unsqueeze(0),
            4 => images.shallow_clone(),
            _ => {
                return Err(Error::invalid(
                    tag,
                    format!("images must be [N, C, H, W] or [C, H, W], got {:?}", images.size()),
                ));
            }
        };
        let count = (images.size()[0] as usize).min(max_images);
        let values = (0..count)
            .map(|i| {
                let image = image_proto(&images.get(i as i64))?;
                let tag = if count == 1 { format!("{tag}/image") } else { format!("{tag}/image/{i}") };
                Ok(SummaryValue { tag, image: Some(image), ..SummaryValue::default() })
            })
            .collect::<Result<Vec<_>>>()?;
        self.add_summary(values, step)
    }

    /// Writes buffered events out and flushes them to disk.
    pub fn flush(&mut self) -> Result<()> {
        self.file.flush().map_err(|e| io(&self.path, "cannot flush", e))?;
        self.file.get_ref().sync_data().map_err(|e| io(&self.path, "cannot flush to disk", e))
    }
}

impl Drop for SummaryWriter {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

/// One `[C, H, W]` image as an encoded PNG.
fn image_proto(image: &Tensor) -> Result<Image> {
    let (channels, height, width) = match image.size().as_slice() {
        [c, h, w] => (*c, *h, *w),
        other => return Err(Error::invalid("image summary", format!("expected [C, H, W], got {other:?}"))),
    };
    let bytes = match image.kind() {
        Kind::Uint8 => image.shallow_clone(),
        _ => {
            let image = image.detach().to_kind(Kind::Float);
            let (min, max) = (image.min().double_value(&[]), image.max().double_value(&[]));
            let scaled = match min >= 0.0 {
                true => image * (255.0 / max.max(f64::MIN_POSITIVE)),
                false => image * (127.0 / max.abs().max(min.abs())) + 127.0,
            };
            scaled.round().clamp(0.0, 255.0).to_kind(Kind::Uint8)
        }
    };
    let pixels = Vec::<u8>::try_from(bytes.permute([1, 2, 0]).contiguous().flatten(0, -1))
        .map_err(|e| Error::Torch { context: "image summary".into(), source: e })?;
    let encoded_image_string = encode_png(&pixels, height as usize, width as usize, channels as usize)?;
    Ok(Image { height: height as i32, width: width as i32, colorspace: channels as i32, encoded_image_string })
}

/// TF's default histogram bucket limits: ±1e-12·1.1^k up to 1e20, ±f64::MAX, and 0.
fn default_bucket_limits() -> &'static [f64] {
    static LIMITS: OnceLock<Vec<f64>> = OnceLock::new();
    LIMITS.get_or_init(|| {
        let mut positive = Vec::new();
        let mut v = 1.0e-12;
        while v < 1.0e20 {
            positive.push(v);
            v *= 1.1;
        }
        positive.push(f64::MAX);
        let mut limits: Vec<f64> = positive.iter().rev().map(|v| -v).collect();
        limits.push(0.0);
        limits.extend(positive);
        limits
    })
}

/// The histogram of a tensor's finite values, runs of empty buckets collapsed as TF's encoder does.
fn histogram(tensor: &Tensor) -> Result<HistogramProto> {
    let values: Vec<f64> = Vec::<f64>::try_from(tensor.detach().to_kind(Kind::Double).flatten(0, -1))
        .map_err(|e| Error::Torch { context: "histogram".into(), source: e })?;
    let limits = default_bucket_limits();
    let mut counts = vec![0.0; limits.len()];
    let mut proto = HistogramProto { min: f64::MAX, max: f64::MIN, ..HistogramProto::default() };
    for value in values.into_iter().filter(|v| v.is_finite()) {
        counts[limits.partition_point(|limit| *limit <= value).min(limits.len() - 1)] += 1.0;
        proto.min = proto.min.min(value);
        proto.max = proto.max.max(value);
        proto.num += 1.0;
        proto.sum += value;
        proto.sum_squares += value * value;
    }
    let mut i = 0;
    while i < counts.len() {
        let (mut end, mut count) = (limits[i], counts[i]);
        i += 1;
        while count <= 0.0 && i < counts.len() && counts[i] <= 0.0 {
            (end, count) = (limits[i], counts[i]);
            i += 1;
        }
        proto.bucket_limit.push(end);
        proto.bucket.push(count);
    }
    Ok(proto)
}
