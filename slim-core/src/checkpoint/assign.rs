//! `assign_from_checkpoint`: restoring chosen variables, possibly under other names, with a report of what
//! was applied, missing, unused or mismatched. Everything is checked before anything is copied, so a failed
//! restore leaves the variables as they were.

use std::path::Path;

use tch::Tensor;

use super::apply::{ApplyOptions, apply, copy_into};
use super::reader::CheckpointReader;
use super::report::AssignReport;
use crate::variables::{VarStore, Variable};
use crate::{Error, Result};

/// Which variables a restore fills, each with the checkpoint name it is read from.
#[derive(Clone, Debug)]
pub struct VariableMap {
    entries: Vec<(String, Variable)>,
}

impl From<Vec<Variable>> for VariableMap {
    /// Each variable from the checkpoint entry of the same name.
    fn from(variables: Vec<Variable>) -> Self {
        VariableMap { entries: variables.into_iter().map(|v| (v.name().to_string(), v)).collect() }
    }
}

impl VariableMap {
    /// Explicit `(checkpoint name, variable)` pairs.
    pub fn from_pairs(pairs: Vec<(String, Variable)>) -> Self {
        VariableMap { entries: pairs }
    }

    /// Each variable from the checkpoint entry `rename(variable name)` (e.g. a different top scope).
    pub fn renamed(variables: Vec<Variable>, rename: impl Fn(&str) -> String) -> Self {
        VariableMap { entries: variables.into_iter().map(|v| (rename(v.name()), v)).collect() }
    }
}

/// How strict a restore is.
#[derive(Clone, Copy, Debug, Default)]
pub struct AssignOptions {
    /// Leave variables whose entry is missing as they are, instead of failing.
    pub ignore_missing_vars: bool,
    /// Accept an entry of another shape with the same number of elements, reshaped.
    pub reshape_variables: bool,
}

/// TF-Slim's `assign_from_checkpoint`: fills `variables` from the checkpoint at `path` (a slim checkpoint file,
/// a TF checkpoint prefix such as `model.ckpt-1000`, a PyTorch `torch.save` file or safetensors state dict, or a
/// directory's latest). TF checkpoints are converted to
/// slim's layouts: conv weights HWIO → OIHW, depthwise weights, fully connected `[in, out]` → `[out, in]`. Without `ignore_missing_vars` a missing entry is an error; a shape mismatch always is (unless
/// `reshape_variables` applies); either error lists every problem at once, and nothing is copied then.
pub fn assign_from_checkpoint(
    path: impl AsRef<Path>,
    variables: impl Into<VariableMap>,
    options: AssignOptions,
) -> Result<AssignReport> {
    let reader = CheckpointReader::open(path)?;
    let entries = reader.read_all()?;
    let apply_options = ApplyOptions {
        ignore_missing: options.ignore_missing_vars,
        reshape: options.reshape_variables,
        create_unrequested_in: None,
    };
    let checkpoint = reader.path().display().to_string();
    let applied = apply(&checkpoint, entries, reader.layout(), variables.into().entries, apply_options)?;
    Ok(applied.report)
}

/// TF-Slim's `assign_from_checkpoint_fn`: an `init_fn` for `learning::train` that restores `variables` from the
/// checkpoint and prints the report's first line to standard error.
pub fn assign_from_checkpoint_fn(
    path: impl AsRef<Path>,
    variables: impl Into<VariableMap>,
    options: AssignOptions,
) -> impl FnOnce(&VarStore) -> Result<()> {
    let (path, variables) = (path.as_ref().to_path_buf(), variables.into());
    move |_store: &VarStore| {
        let report = assign_from_checkpoint(&path, variables, options)?;
        eprintln!("{}", report.to_string().lines().next().unwrap_or_default());
        Ok(())
    }
}

/// TF-Slim's `assign_from_values`: copies each `(variable name, value)` into the store's variable; every unknown
/// name or wrong shape is reported at once, before anything is copied.
pub fn assign_from_values(vs: &VarStore, values: &[(&str, Tensor)]) -> Result<()> {
    let mut problems = Vec::new();
    let mut copies = Vec::new();
    for (name, value) in values {
        match vs.variable(name) {
            None => problems.push(format!("no variable {name}")),
            Some(variable) if variable.shape() != value.size() => {
                problems.push(format!("{name} has shape {:?}, the value {:?}", variable.shape(), value.size()))
            }
            Some(variable) => copies.push((variable, value)),
        }
    }
    if !problems.is_empty() {
        return Err(Error::invalid("assign_from_values", problems.join("; ")));
    }
    for (variable, value) in copies {
        copy_into(&variable, value)?;
    }
    Ok(())
}
