//! `assign_from_checkpoint`: restoring chosen variables, possibly under other names, with a report of what
//! was applied, missing, unused or mismatched. Everything is checked before anything is copied, so a failed
//! restore leaves the variables as they were.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;

use tch::Tensor;

use super::listing::resolve_checkpoint;
use super::tf_bundle::{read_tf_checkpoint, tf_index_path, to_slim_layout};
use super::torch_file::{is_torch_zip, read_torch_file};
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

/// What an `assign_from_checkpoint` did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AssignReport {
    /// The checkpoint read.
    pub checkpoint: String,
    /// `(variable, checkpoint entry)` pairs applied.
    pub applied: Vec<(String, String)>,
    /// `(variable, checkpoint entry)` pairs whose entry the checkpoint lacks.
    pub missing: Vec<(String, String)>,
    /// Checkpoint entries no variable asked for.
    pub unused: Vec<String>,
    /// `(variable, entry, variable shape, entry shape)` for entries of another shape.
    pub mismatched: Vec<(String, String, Vec<i64>, Vec<i64>)>,
}

impl fmt::Display for AssignReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "restore from {}: {} applied, {} missing, {} unused, {} mismatched",
            self.checkpoint,
            self.applied.len(),
            self.missing.len(),
            self.unused.len(),
            self.mismatched.len()
        )?;
        for (variable, entry) in &self.applied {
            writeln!(f, "  applied     {variable:<48} <- {entry}")?;
        }
        for (variable, entry) in &self.missing {
            writeln!(f, "  missing     {variable:<48} (no {entry} in the checkpoint)")?;
        }
        for entry in &self.unused {
            writeln!(f, "  unused      {entry}")?;
        }
        for (variable, entry, shape, found) in &self.mismatched {
            writeln!(f, "  mismatched  {variable:<48} {shape:?} but {entry} is {found:?}")?;
        }
        Ok(())
    }
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
    let path = resolve_checkpoint(path)?;
    let (read, tf_layout) = read_checkpoint(&path)?;
    let entries: HashMap<String, Tensor> = read.into_iter().collect();
    let (report, copies) = plan(&path, &entries, variables.into(), options, tf_layout);
    let fatal_missing = !options.ignore_missing_vars && !report.missing.is_empty();
    if fatal_missing || !report.mismatched.is_empty() {
        return Err(Error::invalid(&report.checkpoint, format!("cannot restore:\n{report}")));
    }
    for (variable, value) in copies {
        let mut target = variable.tensor().shallow_clone();
        tch::no_grad(|| target.f_copy_(&value))
            .map_err(|e| Error::Torch { context: variable.name().into(), source: e })?;
    }
    Ok(report)
}

/// The report, and the copies to make if the restore goes ahead.
fn plan(
    path: &Path,
    entries: &HashMap<String, Tensor>,
    map: VariableMap,
    options: AssignOptions,
    tf_layout: bool,
) -> (AssignReport, Vec<(Variable, Tensor)>) {
    let mut report = AssignReport { checkpoint: path.display().to_string(), ..AssignReport::default() };
    let mut copies = Vec::new();
    for (entry, variable) in map.entries {
        let Some(value) = entries.get(&entry) else {
            report.missing.push((variable.name().to_string(), entry));
            continue;
        };
        let shape = variable.shape();
        let value = if tf_layout { to_slim_layout(&entry, value, &shape) } else { value.shallow_clone() };
        let found = value.size();
        let reshapable = options.reshape_variables && shape.iter().product::<i64>() == found.iter().product::<i64>();
        if shape == found || reshapable {
            copies.push((variable.clone(), value.reshape(&shape)));
            report.applied.push((variable.name().to_string(), entry));
        } else {
            report.mismatched.push((variable.name().to_string(), entry, shape, found));
        }
    }
    let used: Vec<&str> = report.applied.iter().chain(&report.missing).map(|(_, e)| e.as_str()).collect();
    let mismatched: Vec<&str> = report.mismatched.iter().map(|(_, e, _, _)| e.as_str()).collect();
    report.unused =
        entries.keys().filter(|k| !used.contains(&k.as_str()) && !mismatched.contains(&k.as_str())).cloned().collect();
    report.unused.sort();
    (report, copies)
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
        let mut target = variable.tensor().shallow_clone();
        tch::no_grad(|| target.f_copy_(value))
            .map_err(|e| Error::Torch { context: variable.name().into(), source: e })?;
    }
    Ok(())
}

/// Every tensor of a checkpoint file in any format slim reads, and whether it is in TF's layouts: a TF V2
/// checkpoint (prefix, `.index` or shard), a `torch.save` archive, or a safetensors file (slim's or PyTorch's).
pub(crate) fn read_checkpoint(path: &Path) -> Result<(Vec<(String, Tensor)>, bool)> {
    if let Some(index) = tf_index_path(path) {
        return Ok((read_tf_checkpoint(&index)?, true));
    }
    if is_torch_zip(path) {
        return Ok((read_torch_file(path)?, false));
    }
    let read = Tensor::read_safetensors(path).map_err(|e| Error::Io {
        path: path.display().to_string(),
        message: format!("not a readable checkpoint: {e}"),
    })?;
    Ok((read, false))
}

/// TF's `load_variable`: one tensor of a checkpoint in any format slim reads, in the file's own layout.
pub fn load_variable(path: impl AsRef<Path>, name: &str) -> Result<Tensor> {
    let path = resolve_checkpoint(path)?;
    let (entries, _) = read_checkpoint(&path)?;
    let found = entries.into_iter().find(|(entry, _)| entry == name).map(|(_, tensor)| tensor);
    found.ok_or_else(|| Error::NotFound(format!("{} holds no tensor {name}", path.display())))
}

/// Writes the tensors of the checkpoint at `checkpoint` (any format slim reads; a directory's latest) to a
/// safetensors file at `output`, atomically, each under `rename(name)`; entries renamed to `None` (the global
/// step, optimizer slots) are left out. With a map back to PyTorch's names, the file is a state dict PyTorch's
/// `safetensors.torch.load_file` reads. Returns how many tensors were written.
pub fn export_checkpoint(
    checkpoint: impl AsRef<Path>,
    output: impl AsRef<Path>,
    rename: impl Fn(&str) -> Option<String>,
) -> Result<usize> {
    let path = resolve_checkpoint(checkpoint)?;
    let (entries, _) = read_checkpoint(&path)?;
    let renamed: Vec<(String, Tensor)> =
        entries.into_iter().filter_map(|(name, tensor)| rename(&name).map(|new| (new, tensor))).collect();
    let output = output.as_ref();
    super::atomic::write_atomically(output, |tmp| {
        Tensor::write_safetensors(&renamed, tmp)
            .map_err(|e| Error::Torch { context: output.display().to_string(), source: e })
    })?;
    Ok(renamed.len())
}
