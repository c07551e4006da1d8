//! Restoring a checkpoint into a store: shapes checked, and a report of what was applied.

use std::path::Path;

use tch::Tensor;

use crate::variables::collections::GLOBAL_VARIABLES;
use crate::variables::{VarStore, Variable};
use crate::{Error, Result};

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

/// Reads the checkpoint at `path` into `vs`: every entry naming a variable of the store is copied into it (its
/// shape must match); an entry the store lacks is created as a global, non-trainable variable when
/// `create_missing` (how a resumed run gets its optimizer slots and global step back), else reported unused.
/// An [`Error::Io`] when the file cannot be read as a checkpoint; an [`Error::InvalidArgument`] naming the file
/// when a shape differs.
pub fn restore(vs: &VarStore, path: &Path, create_missing: bool) -> Result<RestoreReport> {
    let mut entries = Tensor::read_safetensors(path).map_err(|e| Error::Io {
        path: path.display().to_string(),
        message: format!("not a readable checkpoint: {e}"),
    })?;
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    let mut report = RestoreReport::default();
    for (name, value) in &entries {
        match vs.variable(name) {
            Some(variable) => {
                copy_into(path, &variable, value)?;
                report.applied.push(name.clone());
            }
            None if create_missing => {
                vs.insert(Variable::new(
                    name.clone(),
                    value.to_device(vs.device()),
                    vec![GLOBAL_VARIABLES.to_string()],
                ))?;
                report.created.push(name.clone());
            }
            None => report.unused.push(name.clone()),
        }
    }
    report.missing = vs
        .collection(GLOBAL_VARIABLES)
        .iter()
        .map(|v| v.name().to_string())
        .filter(|name| !entries.iter().any(|(entry, _)| entry == name))
        .collect();
    Ok(report)
}

fn copy_into(path: &Path, variable: &Variable, value: &Tensor) -> Result<()> {
    let (expected, found) = (variable.shape(), value.size());
    if expected != found {
        return Err(Error::invalid(
            path.display().to_string(),
            format!("holds {} with shape {found:?}, but the variable has shape {expected:?}", variable.name()),
        ));
    }
    let mut target = variable.tensor().shallow_clone();
    tch::no_grad(|| target.f_copy_(value)).map_err(|e| Error::Torch { context: variable.name().to_string(), source: e })
}
