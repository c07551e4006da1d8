//! Waiting for checkpoints: polling a directory for a checkpoint newer than the last one seen.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::Result;
use crate::checkpoint::latest_checkpoint;

/// TF's `wait_for_new_checkpoint`: polls `dir` every `poll` until its latest checkpoint differs from `last`;
/// `None` when `timeout` passes first.
pub fn wait_for_new_checkpoint(
    dir: &Path,
    last: Option<&Path>,
    poll: Duration,
    timeout: Option<Duration>,
) -> Result<Option<PathBuf>> {
    let started = Instant::now();
    loop {
        if let Some(latest) = latest_checkpoint(dir)?
            && Some(latest.as_path()) != last
        {
            return Ok(Some(latest));
        }
        if timeout.is_some_and(|timeout| started.elapsed() >= timeout) {
            return Ok(None);
        }
        std::thread::sleep(poll);
    }
}

/// TF's `checkpoints_iterator`: yields each new checkpoint of a directory, at least `min_interval` apart. When
/// `timeout` passes without one it stops, unless `timeout_fn` says to keep waiting (returns false).
pub struct CheckpointsIterator {
    dir: PathBuf,
    last: Option<PathBuf>,
    min_interval: Duration,
    timeout: Option<Duration>,
    timeout_fn: Option<Box<dyn FnMut() -> bool>>,
    poll: Duration,
    last_yield: Option<Instant>,
}

/// Iterates over the new checkpoints of `dir`; see [`CheckpointsIterator`].
pub fn checkpoints_iterator(
    dir: impl AsRef<Path>,
    min_interval: Duration,
    timeout: Option<Duration>,
) -> CheckpointsIterator {
    CheckpointsIterator {
        dir: dir.as_ref().to_path_buf(),
        last: None,
        min_interval,
        timeout,
        timeout_fn: None,
        poll: Duration::from_millis(200),
        last_yield: None,
    }
}

impl CheckpointsIterator {
    /// Called on each timeout: return `true` to stop, `false` to keep waiting (TF's `timeout_fn`).
    pub fn timeout_fn(mut self, timeout_fn: impl FnMut() -> bool + 'static) -> Self {
        self.timeout_fn = Some(Box::new(timeout_fn));
        self
    }

    /// How often to look (default 200 ms).
    pub fn poll_every(mut self, poll: Duration) -> Self {
        self.poll = poll;
        self
    }
}

impl Iterator for CheckpointsIterator {
    type Item = Result<PathBuf>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(since) = self.last_yield {
            std::thread::sleep(self.min_interval.saturating_sub(since.elapsed()));
        }
        loop {
            match wait_for_new_checkpoint(&self.dir, self.last.as_deref(), self.poll, self.timeout) {
                Err(error) => return Some(Err(error)),
                Ok(Some(path)) => {
                    self.last = Some(path.clone());
                    self.last_yield = Some(Instant::now());
                    return Some(Ok(path));
                }
                Ok(None) => {
                    let keep_waiting = self.timeout_fn.as_mut().is_some_and(|timeout_fn| !timeout_fn());
                    if !keep_waiting {
                        return None;
                    }
                }
            }
        }
    }
}
