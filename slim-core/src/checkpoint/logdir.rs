//! The checkpoints of a logdir: slim's file names, finding them newest first (those the state file lists and any
//! complete checkpoint it missed), and telling slim's own files from anything else.

use std::fs;
use std::path::{Path, PathBuf};

use super::format::Format;
use super::state::CheckpointState;
use super::tf_bundle;
use crate::Result;
use crate::io::io_error;

const PREFIX: &str = "model.ckpt-";
const SUFFIX: &str = ".safetensors";

/// The name of slim's checkpoint at `step` in `format`: `model.ckpt-<step>.safetensors`, or the prefix
/// `model.ckpt-<step>` of a TF checkpoint (its `.index` and `.data-00000-of-00001` files).
pub(crate) fn checkpoint_name(step: i64, format: Format) -> String {
    match format {
        Format::TfBundle => format!("{PREFIX}{step}"),
        _ => format!("{PREFIX}{step}{SUFFIX}"),
    }
}

/// The step of a checkpoint named as slim names them: `model.ckpt-<step>.safetensors`, or a TF checkpoint's
/// prefix `model.ckpt-<step>`.
pub fn checkpoint_step(path: &Path) -> Option<i64> {
    let name = path.file_name()?.to_str()?;
    let name = name.strip_prefix(PREFIX)?;
    name.strip_suffix(SUFFIX).unwrap_or(name).parse().ok()
}

/// The format of a checkpoint name of slim's pattern (`None` for any other name).
fn format_of_name(name: &str) -> Option<Format> {
    checkpoint_step(Path::new(name))?;
    Some(if name.ends_with(SUFFIX) { Format::SafeTensors } else { Format::TfBundle })
}

/// Whether `name` (as a state file lists it) is one of the checkpoints a saver writing `format` owns directly
/// inside the logdir: the only ones it ever removes. A safetensors saver owns `model.ckpt-<step>.safetensors`;
/// a TF saver the prefixes `model.ckpt-<step>` (TF-Slim's names too: asking for TF checkpoints in a logdir makes
/// its TF checkpoints of that pattern the run's own).
pub(crate) fn is_own_checkpoint_name(name: &str, format: Format) -> bool {
    Path::new(name).file_name().and_then(|file| file.to_str()) == Some(name) && format_of_name(name) == Some(format)
}

/// The checkpoint (by its name) that a file of the logdir belongs to, when it is one of slim's: a safetensors
/// checkpoint itself, or a TF checkpoint's index or data file.
pub(crate) fn checkpoint_of_file(file: &str) -> Option<(String, Format)> {
    let checkpoint = tf_bundle::FILE_SUFFIXES.iter().find_map(|suffix| file.strip_suffix(suffix)).unwrap_or(file);
    let format = format_of_name(checkpoint)?;
    let whole = checkpoint.len() == file.len();
    (whole == (format == Format::SafeTensors)).then(|| (checkpoint.to_string(), format))
}

/// The step in a checkpoint's name: slim's `model.ckpt-<step>.safetensors` or TF's prefix `…-<step>`.
fn step_in_name(path: &Path) -> Option<i64> {
    let name = path.file_name()?.to_str()?;
    let name = name.strip_suffix(SUFFIX).unwrap_or(name);
    name.rsplit_once('-')?.1.parse().ok()
}

/// slim's checkpoints in `logdir` written in `format` (for TF, the prefixes whose index file is there).
pub(crate) fn own_checkpoints(logdir: &Path, format: Format) -> Result<Vec<PathBuf>> {
    let entries = match fs::read_dir(logdir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_error(logdir, "cannot list the logdir", e)),
    };
    let names = entries.flatten().filter_map(|entry| entry.file_name().to_str().map(str::to_string));
    let checkpoint = |file: String| -> Option<String> {
        let name = match format {
            Format::TfBundle => file.strip_suffix(tf_bundle::FILE_SUFFIXES[0])?.to_string(),
            _ => file,
        };
        (format_of_name(&name) == Some(format)).then_some(name)
    };
    Ok(names.filter_map(checkpoint).map(|name| logdir.join(name)).collect())
}

/// The checkpoints of `logdir`, newest first: those the state file lists that exist (slim's files, or TF
/// checkpoint prefixes) and every `model.ckpt-<step>.safetensors` or `model.ckpt-<step>` TF checkpoint it does
/// not list (one written just before a kill, before the state file was), ordered by the step in their names; a
/// listed name without a step keeps its place after them.
pub fn checkpoints_newest_first(logdir: &Path) -> Result<Vec<PathBuf>> {
    let state = CheckpointState::read(logdir).unwrap_or_default();
    let exists = |path: &PathBuf| path.is_file() || tf_bundle::index_path(path).is_some();
    let mut found: Vec<PathBuf> = state.all.iter().rev().map(|name| logdir.join(name)).filter(exists).collect();
    let unlisted = [own_checkpoints(logdir, Format::SafeTensors)?, own_checkpoints(logdir, Format::TfBundle)?];
    for path in unlisted.concat() {
        if !found.contains(&path) {
            found.push(path);
        }
    }
    found.sort_by_key(|path| std::cmp::Reverse(step_in_name(path).unwrap_or(i64::MIN)));
    Ok(found)
}

/// Renames `path`, when it is one of slim's checkpoints directly inside `logdir`, to `<name>.unrestorable`
/// (a TF checkpoint's files each to `<file>.unrestorable`), which nothing lists, resumes or prunes; returns the
/// new path (`None` for anything else, which stays as it is).
pub(crate) fn set_aside(logdir: &Path, path: &Path) -> Result<Option<PathBuf>> {
    let Some(name) = path.file_name().and_then(|name| name.to_str()) else { return Ok(None) };
    let Some(format) = format_of_name(name).filter(|_| path.parent() == Some(logdir)) else { return Ok(None) };
    let files: Vec<String> = match format {
        Format::TfBundle => tf_bundle::FILE_SUFFIXES.iter().map(|suffix| format!("{name}{suffix}")).collect(),
        _ => vec![name.to_string()],
    };
    for file in &files {
        let (from, to) = (logdir.join(file), logdir.join(format!("{file}.unrestorable")));
        if from.exists() {
            fs::rename(&from, &to).map_err(|e| io_error(&from, "cannot set the unrestorable checkpoint aside", e))?;
        }
    }
    Ok(Some(logdir.join(format!("{}.unrestorable", files[0]))))
}

/// The newest checkpoint of `logdir`, if any (TF's `latest_checkpoint`).
pub fn latest_checkpoint(logdir: impl AsRef<Path>) -> Result<Option<PathBuf>> {
    Ok(checkpoints_newest_first(logdir.as_ref())?.into_iter().next())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_names_of_slims_pattern_in_the_savers_format_are_its_own() {
        let (safetensors, tf) = (Format::SafeTensors, Format::TfBundle);
        assert!(is_own_checkpoint_name("model.ckpt-20.safetensors", safetensors));
        assert!(!is_own_checkpoint_name("../model.ckpt-20.safetensors", safetensors));
        assert!(!is_own_checkpoint_name("/tmp/model.ckpt-20.safetensors", safetensors));
        assert!(!is_own_checkpoint_name("model.ckpt-20", safetensors), "a TF prefix is not a safetensors saver's");
        assert!(is_own_checkpoint_name("model.ckpt-20", tf));
        assert!(!is_own_checkpoint_name("model.ckpt-20.safetensors", tf));
        assert!(!is_own_checkpoint_name("notes.txt", safetensors) && !is_own_checkpoint_name("notes.txt", tf));
        assert_eq!(checkpoint_of_file("model.ckpt-3.index"), Some(("model.ckpt-3".into(), tf)));
        assert_eq!(checkpoint_of_file("model.ckpt-3.data-00000-of-00001"), Some(("model.ckpt-3".into(), tf)));
        assert_eq!(
            checkpoint_of_file("model.ckpt-3.safetensors"),
            Some(("model.ckpt-3.safetensors".into(), safetensors))
        );
        assert_eq!(checkpoint_of_file("model.ckpt-3"), None, "no file is the bare prefix");
        assert_eq!(checkpoint_of_file("model.ckpt-3.safetensors.index"), None);
        assert_eq!(
            (checkpoint_name(3, tf), checkpoint_name(3, safetensors)),
            ("model.ckpt-3".into(), "model.ckpt-3.safetensors".into())
        );
    }

    #[test]
    fn steps_are_read_from_slims_and_tfs_names() {
        assert_eq!(step_in_name(Path::new("/x/model.ckpt-20.safetensors")), Some(20));
        assert_eq!(step_in_name(Path::new("/x/model.ckpt-1500")), Some(1500));
        assert_eq!(step_in_name(Path::new("/x/final")), None);
    }
}
