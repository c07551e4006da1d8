//! TF-Slim's `labels.txt` (`dataset_utils.LABELS_FILENAME`): the class names a converted set ships with.

use std::path::Path;

use slim_core::{Error, Result};

/// TF-Slim's `dataset_utils.LABELS_FILENAME`.
pub(super) const LABELS_FILE: &str = "labels.txt";

/// TF-Slim's `labels.txt`: one `index:name` line per class, indices 0, 1, 2, … in order.
pub(super) fn read_labels_file(path: &Path) -> Result<Vec<String>> {
    let bad = |message: String| Error::Io { path: path.display().to_string(), message };
    let text = std::fs::read_to_string(path).map_err(|e| bad(format!("cannot read: {e}")))?;
    let mut names = Vec::new();
    for (number, line) in text.lines().enumerate().filter(|(_, line)| !line.trim().is_empty()) {
        let (index, name) =
            line.split_once(':').ok_or_else(|| bad(format!("line {}: no ':' in {line:?}", number + 1)))?;
        if index.trim().parse::<usize>().ok() != Some(names.len()) {
            return Err(bad(format!("line {}: expected index {}, got {index:?}", number + 1, names.len())));
        }
        names.push(name.to_string());
    }
    if names.is_empty() {
        return Err(bad("names no class".into()));
    }
    Ok(names)
}
