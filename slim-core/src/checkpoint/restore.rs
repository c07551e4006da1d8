//! Restoring a whole checkpoint into a store, as a resumed run does: shapes checked, slots and the global step
//! created, and a report of what was applied.

use std::path::Path;

use super::apply::{Applied, ApplyOptions, apply};
use super::reader::CheckpointReader;
use crate::Result;
use crate::variables::VarStore;
use crate::variables::collections::GLOBAL_VARIABLES;

/// What a restore did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RestoreReport {
    /// Variables of the store given the checkpoint's values (each list is sorted by name).
    pub applied: Vec<String>,
    /// Variables the store lacked and the restore created (optimizer slots, the global step).
    pub created: Vec<String>,
    /// Global variables of the store the checkpoint does not hold (left as they were).
    pub missing: Vec<String>,
    /// Checkpoint entries nothing used.
    pub unused: Vec<String>,
}

/// Reads the checkpoint at `path` (any format slim reads; a directory's latest) into `vs`: every entry naming a
/// variable of the store is copied into it, converted from the file's layout (its shape must then match); an
/// entry the store lacks is created as a global, non-trainable variable when `create_missing` (how a resumed run
/// gets its optimizer slots and global step back; a slot is laid out like its variable), else reported unused.
/// An [`Error::Io`](crate::Error::Io) when the file cannot be read as a checkpoint; an
/// [`Error::InvalidArgument`](crate::Error::InvalidArgument) naming the file and listing every variable whose
/// shape differs, and then nothing is copied.
pub fn restore(vs: &VarStore, path: &Path, create_missing: bool) -> Result<RestoreReport> {
    let reader = CheckpointReader::open(path)?;
    let entries = reader.read_all()?;
    // Every global variable asks for its entry; any other variable of the store only when the file has one.
    let others =
        entries.iter().filter_map(|(name, _)| vs.variable(name)).filter(|v| !v.in_collection(GLOBAL_VARIABLES));
    let others: Vec<_> = others.collect();
    let requests =
        vs.collection(GLOBAL_VARIABLES).into_iter().chain(others).map(|v| (v.name().to_string(), v)).collect();
    let options =
        ApplyOptions { ignore_missing: true, reshape: false, create_unrequested_in: create_missing.then_some(vs) };
    let Applied { report, created } =
        apply(&reader.path().display().to_string(), entries, reader.layout(), requests, options)?;
    let mut applied: Vec<String> = report.applied.into_iter().map(|(variable, _)| variable).collect();
    applied.sort();
    Ok(RestoreReport {
        applied,
        created,
        missing: report.missing.into_iter().map(|(variable, _)| variable).collect(),
        unused: report.unused,
    })
}
