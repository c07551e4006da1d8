//! Atomic file writes: write a temporary file beside the target, flush it to disk, rename it over the target,
//! and flush the directory, so the target is either the old file or the complete new one.

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// Writes `path` atomically: `write` fills a temporary path in the same directory, which then replaces `path`.
pub fn write_atomically(path: &Path, write: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let temporary = temporary_path(path)?;
    let outcome = write(&temporary).and_then(|()| sync_file(&temporary)).and_then(|()| {
        fs::rename(&temporary, path).map_err(|e| io_error(path, "cannot move the finished file into place", e))
    });
    if outcome.is_err() {
        let _ = fs::remove_file(&temporary);
        return outcome;
    }
    sync_directory(path)
}

/// The file a temporary of [`write_atomically`] named `file_name` was to replace, when a process other than
/// this one made it: a write that process never finished (it was killed, or it failed to clean up).
pub(crate) fn abandoned_temporary_target(file_name: &str) -> Option<&str> {
    let (target, pid) = file_name.strip_prefix('.')?.rsplit_once(".tmp-")?;
    let pid: u32 = pid.parse().ok()?;
    (pid != std::process::id() && !target.is_empty()).then_some(target)
}

fn temporary_path(path: &Path) -> Result<PathBuf> {
    let name = path.file_name().ok_or_else(|| Error::NotFound(format!("{} names no file", path.display())))?;
    Ok(path.with_file_name(format!(".{}.tmp-{}", name.to_string_lossy(), std::process::id())))
}

fn sync_file(path: &Path) -> Result<()> {
    File::open(path).and_then(|file| file.sync_all()).map_err(|e| io_error(path, "cannot flush to disk", e))
}

fn sync_directory(path: &Path) -> Result<()> {
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    File::open(directory)
        .and_then(|dir| dir.sync_all())
        .map_err(|e| io_error(directory, "cannot flush the directory", e))
}

/// An I/O error naming the file.
pub(crate) fn io_error(path: &Path, what: &str, error: std::io::Error) -> Error {
    Error::Io { path: path.display().to_string(), message: format!("{what}: {error}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporaries_of_other_processes_name_their_target() {
        assert_eq!(abandoned_temporary_target(".checkpoint.tmp-1"), Some("checkpoint"));
        assert_eq!(abandoned_temporary_target(".model.ckpt-3.safetensors.tmp-77"), Some("model.ckpt-3.safetensors"));
        let own = format!(".checkpoint.tmp-{}", std::process::id());
        assert_eq!(abandoned_temporary_target(&own), None);
        assert_eq!(abandoned_temporary_target("checkpoint.tmp-1"), None);
        assert_eq!(abandoned_temporary_target(".checkpoint.tmp-x"), None);
    }

    #[test]
    fn a_failed_write_leaves_the_old_file_and_no_temporary() {
        let dir = std::env::temp_dir().join(format!("slim-atomic-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let target = dir.join("state");
        write_atomically(&target, |tmp| fs::write(tmp, "old").map_err(|e| io_error(tmp, "write", e))).unwrap();
        let failed = write_atomically(&target, |tmp| {
            fs::write(tmp, "half").map_err(|e| io_error(tmp, "write", e))?;
            Err(Error::invalid("test", "interrupted"))
        });
        assert!(failed.is_err());
        assert_eq!(fs::read_to_string(&target).unwrap(), "old");
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1, "the temporary file is gone");
        fs::remove_dir_all(&dir).unwrap();
    }
}
