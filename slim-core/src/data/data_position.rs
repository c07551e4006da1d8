//! A provider's position shared between the training step that takes its batches and the training loop that
//! saves it with each checkpoint and hands it back on a resume.

use std::sync::{Arc, Mutex, PoisonError};

use super::plan::Position;
use crate::{Error, Result};

/// A provider's position as a checkpoint keeps it: set by the step after each batch it takes
/// (`provider.position()`), written into every checkpoint by a loop given it
/// ([`Train::data_position`](crate::learning::Train::data_position)), and set back from the checkpoint the loop
/// restores, so that the resumed step continues the stream there (`Provider::starting_at`). Clones share one
/// position.
#[derive(Clone, Debug, Default)]
pub struct DataPosition(Arc<Mutex<Option<Position>>>);

impl DataPosition {
    /// A position not yet known (a fresh run, or a checkpoint saved without one).
    pub fn new() -> Self {
        Self::default()
    }

    /// The position, when one was set or restored.
    pub fn get(&self) -> Option<Position> {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Sets the position (where the next batch starts).
    pub fn set(&self, position: Position) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(position);
    }
}

impl Position {
    /// The metadata key under which a checkpoint keeps a provider's position.
    pub const CHECKPOINT_KEY: &'static str = "slim.data_position";

    /// The position as a checkpoint's metadata holds it: `{"epoch":E,"index":I}`.
    pub fn to_metadata(self) -> String {
        serde_json::json!({ "epoch": self.epoch, "index": self.index }).to_string()
    }

    /// The position a checkpoint's metadata holds; anything but an epoch and a non-negative index is an error
    /// quoting it.
    pub fn from_metadata(text: &str) -> Result<Position> {
        let bad =
            || Error::invalid(Self::CHECKPOINT_KEY, format!("expected {{\"epoch\":E,\"index\":I}}, got {text:?}"));
        let value: serde_json::Value = serde_json::from_str(text).map_err(|_| bad())?;
        let epoch = value.get("epoch").and_then(serde_json::Value::as_u64).ok_or_else(bad)?;
        let index = value.get("index").and_then(serde_json::Value::as_i64).filter(|i| *i >= 0).ok_or_else(bad)?;
        Ok(Position { epoch, index })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_round_trip_through_metadata_and_bad_text_is_an_error() -> Result<()> {
        let position = Position { epoch: 3, index: 128 };
        assert_eq!(position.to_metadata(), r#"{"epoch":3,"index":128}"#);
        assert_eq!(Position::from_metadata(&position.to_metadata())?, position);
        for bad in ["", "{}", r#"{"epoch":-1,"index":0}"#, r#"{"epoch":1,"index":-5}"#, "[1,2]", r#"{"epoch":"1"}"#] {
            let message = Position::from_metadata(bad).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(message.contains("slim.data_position"), "{bad:?}: {message}");
        }
        let shared = DataPosition::new();
        assert_eq!(shared.get(), None);
        shared.clone().set(position);
        assert_eq!(shared.get(), Some(position), "clones share one position");
        Ok(())
    }
}
