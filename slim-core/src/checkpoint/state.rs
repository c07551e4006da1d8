//! The `checkpoint` state file, in TF's text format: the latest checkpoint and every one kept, oldest first.

use std::fs;
use std::path::Path;

use crate::Result;
use crate::io::{io_error, write_atomically};

/// The file's name inside a logdir.
pub(crate) const STATE_FILE: &str = "checkpoint";

/// What the state file says: file names relative to the logdir.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CheckpointState {
    /// The newest checkpoint.
    pub latest: Option<String>,
    /// The kept checkpoints, oldest first (the latest last).
    pub all: Vec<String>,
}

impl CheckpointState {
    /// Parses the state file's text; lines it does not know are ignored.
    pub fn parse(text: &str) -> CheckpointState {
        let value =
            |line: &str, key: &str| line.strip_prefix(key).map(|rest| rest.trim().trim_matches('"').to_string());
        let mut state = CheckpointState::default();
        for line in text.lines() {
            if let Some(latest) = value(line, "model_checkpoint_path:") {
                state.latest = Some(latest);
            } else if let Some(kept) = value(line, "all_model_checkpoint_paths:") {
                state.all.push(kept);
            }
        }
        state
    }

    /// The state file's text.
    pub fn render(&self) -> String {
        let mut text = String::new();
        if let Some(latest) = &self.latest {
            text.push_str(&format!("model_checkpoint_path: \"{latest}\"\n"));
        }
        for kept in &self.all {
            text.push_str(&format!("all_model_checkpoint_paths: \"{kept}\"\n"));
        }
        text
    }

    /// The state of `logdir`, empty when it has no state file.
    pub fn read(logdir: &Path) -> Result<CheckpointState> {
        let path = logdir.join(STATE_FILE);
        match fs::read_to_string(&path) {
            Ok(text) => Ok(CheckpointState::parse(&text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(CheckpointState::default()),
            Err(e) => Err(io_error(&path, "cannot read the checkpoint state", e)),
        }
    }

    /// Writes the state file of `logdir` atomically.
    pub fn write(&self, logdir: &Path) -> Result<()> {
        let path = logdir.join(STATE_FILE);
        let text = self.render();
        write_atomically(&path, |tmp| fs::write(tmp, &text).map_err(|e| io_error(tmp, "cannot write", e)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_round_trips_in_tfs_format() {
        let state = CheckpointState {
            latest: Some("model.ckpt-20.safetensors".into()),
            all: vec!["model.ckpt-10.safetensors".into(), "model.ckpt-20.safetensors".into()],
        };
        let text = state.render();
        assert!(text.starts_with("model_checkpoint_path: \"model.ckpt-20.safetensors\"\n"));
        assert_eq!(CheckpointState::parse(&text), state);
    }
}
