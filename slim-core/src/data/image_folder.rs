//! A streaming dataset of image files: a folder of class folders (`flower_photos/daisy/*.jpg`, as TF-Slim's
//! flowers converter and torchvision's `ImageFolder` read them). Opening it lists the files (one path a file in
//! memory); a provider reads, decodes and preprocesses each image when its batch is made.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::image::decode_image;
use super::record_set::{Example, StreamOptions};
use crate::io::io_error;
use crate::{Error, Result};

/// The extensions of the files an [`ImageFolder`] takes (any case).
pub const IMAGE_EXTENSIONS: [&str; 3] = ["jpg", "jpeg", "png"];

/// The largest image file read (128 MiB): decoded images are bounded at 64 MiB, and no encoding is larger.
const MAX_FILE_BYTES: u64 = 128 << 20;

/// A folder of class folders of PNG and JPEG images; classes are the folders' names, sorted, numbered from 0.
#[derive(Debug)]
pub struct ImageFolder {
    /// Its name (the folder's).
    pub name: String,
    /// The class names, in label order.
    pub labels_to_names: Vec<String>,
    files: Vec<(PathBuf, i64)>,
    channels: usize,
    skip_bad_records: bool,
    skipped: AtomicU64,
}

impl ImageFolder {
    /// Lists `dir`'s class folders (hidden ones and files beside them left out) and their image files (by
    /// extension: [`IMAGE_EXTENSIONS`]; sub-folders of a class folder are not entered). The channels are
    /// `options.channels`, else 3 (TF-Slim's `Image` default).
    pub fn open(dir: &Path, options: StreamOptions) -> Result<Self> {
        let mut classes: Vec<PathBuf> = list(dir)?.into_iter().filter(|path| path.is_dir()).collect();
        classes.sort();
        let mut files = Vec::new();
        let mut labels_to_names = Vec::new();
        for class in classes {
            let mut images: Vec<PathBuf> = list(&class)?.into_iter().filter(|path| is_image(path)).collect();
            if images.is_empty() {
                continue;
            }
            images.sort();
            let label = labels_to_names.len() as i64;
            files.extend(images.into_iter().map(|path| (path, label)));
            labels_to_names.push(file_name(&class));
        }
        if labels_to_names.is_empty() {
            return Err(Error::NotFound(format!(
                "{} holds no class folder of images ({})",
                dir.display(),
                IMAGE_EXTENSIONS.join(", ")
            )));
        }
        Ok(ImageFolder {
            name: file_name(dir),
            labels_to_names,
            files,
            channels: options.channels.unwrap_or(3),
            skip_bad_records: options.skip_bad_records,
            skipped: AtomicU64::new(0),
        })
    }

    /// The image files and their labels, by class, then by name.
    pub fn files(&self) -> &[(PathBuf, i64)] {
        &self.files
    }

    /// The number of images.
    pub fn len(&self) -> i64 {
        self.files.len() as i64
    }

    /// Whether it holds no image.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// The number of classes.
    pub fn num_classes(&self) -> i64 {
        self.labels_to_names.len() as i64
    }

    /// The channels every image is decoded to.
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// How many bad images were skipped so far.
    pub fn skipped_records(&self) -> u64 {
        self.skipped.load(Ordering::Relaxed)
    }

    /// Whether bad images are skipped rather than errors.
    pub(crate) fn skips_bad_records(&self) -> bool {
        self.skip_bad_records
    }

    /// Counts a skipped image and warns about it.
    pub(crate) fn skip(&self, error: &Error) {
        self.skipped.fetch_add(1, Ordering::Relaxed);
        log::warn!("skipping a bad image: {error}");
    }

    /// The bytes of image file `index` as they are on disk (PNG or JPEG), and its label.
    pub fn encoded(&self, index: usize) -> Result<(Vec<u8>, i64)> {
        let (path, label) =
            self.files.get(index).ok_or_else(|| Error::invalid(&self.name, format!("no image {index}")))?;
        Ok((read_bounded(path)?, *label))
    }

    /// Image `index` (its file read and decoded to the folder's channels) and its label.
    pub(crate) fn example(&self, index: usize) -> Result<Example> {
        let (bytes, label) = self.encoded(index)?;
        let path = &self.files[index].0;
        let bad = |message: String| Error::Io { path: path.display().to_string(), message };
        let image = decode_image(&bytes).map_err(|message| bad(format!("does not decode: {message}")))?;
        let image = image.with_channels(self.channels).and_then(|image| image.check().map(|()| image)).map_err(bad)?;
        Ok(Example { image, label, items: Vec::new() })
    }
}

/// A file's bytes, when it is no larger than [`MAX_FILE_BYTES`].
fn read_bounded(path: &Path) -> Result<Vec<u8>> {
    let size = std::fs::metadata(path).map_err(|e| io_error(path, "cannot stat", e))?.len();
    if size > MAX_FILE_BYTES {
        return Err(Error::Io {
            path: path.display().to_string(),
            message: format!("{size} bytes is larger than an image slim reads (128 MiB)"),
        });
    }
    std::fs::read(path).map_err(|e| io_error(path, "cannot read", e))
}

/// The entries of `dir` that are not hidden.
fn list(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir).map_err(|e| io_error(dir, "cannot list", e))?;
    let mut paths = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| io_error(dir, "cannot list", e))?.path();
        if !file_name(&path).starts_with('.') {
            paths.push(path);
        }
    }
    Ok(paths)
}

fn is_image(path: &Path) -> bool {
    let extension = path.extension().map(|e| e.to_string_lossy().to_lowercase()).unwrap_or_default();
    path.is_file() && IMAGE_EXTENSIONS.contains(&extension.as_str())
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_else(|| path.display().to_string())
}
