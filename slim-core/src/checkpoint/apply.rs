//! The one apply step of every restore: checkpoint entries matched to the variables that asked for them,
//! converted to their layout, shapes checked, unrequested entries created when a resume wants them, and a full
//! account kept. Everything is checked before anything is copied, so a refused restore changes nothing.

use std::collections::{HashMap, HashSet};

use tch::Tensor;

use super::layout::Layout;
use super::report::AssignReport;
use crate::error::TorchContext;
use crate::variables::collections::GLOBAL_VARIABLES;
use crate::variables::{VarStore, Variable, is_valid_variable_name};
use crate::{Error, Result};

/// How strict an apply is, and what becomes of entries no variable asked for.
#[derive(Clone, Copy)]
pub(crate) struct ApplyOptions<'a> {
    /// Leave variables whose entry is missing as they are, instead of refusing.
    pub(crate) ignore_missing: bool,
    /// Accept an entry of another shape with the same number of elements, reshaped.
    pub(crate) reshape: bool,
    /// Where entries no variable asked for are created as global variables (how a resumed run gets its
    /// optimizer slots and global step back); `None` reports them unused.
    pub(crate) create_unrequested_in: Option<&'a VarStore>,
}

/// What an apply did: the report, and the entries it created as new variables (sorted).
#[derive(Debug)]
pub(crate) struct Applied {
    pub(crate) report: AssignReport,
    pub(crate) created: Vec<String>,
}

/// Fills each requested `(entry, variable)` from the checkpoint's `entries` (in `layout`), after checking them
/// all: a missing entry (unless `ignore_missing`) or a shape that differs (unless `reshape` applies) refuses the
/// whole restore with one error naming the checkpoint and listing every problem.
pub(crate) fn apply(
    checkpoint: &str,
    entries: Vec<(String, Tensor)>,
    layout: Layout,
    requests: Vec<(String, Variable)>,
    options: ApplyOptions<'_>,
) -> Result<Applied> {
    let mut report = AssignReport { checkpoint: checkpoint.to_string(), ..AssignReport::default() };
    let mut entries: HashMap<String, Tensor> = entries.into_iter().collect();
    let mut copies = Vec::new();
    let mut asked = HashSet::new();
    for (entry, variable) in requests {
        asked.insert(entry.clone());
        let Some(value) = entries.get(&entry) else {
            report.missing.push((variable.name().to_string(), entry));
            continue;
        };
        let shape = variable.shape();
        let value = layout.to_torch(&entry, value, &shape);
        let found = value.size();
        let reshapable = options.reshape && numel(&shape) == numel(&found);
        if shape == found || reshapable {
            copies.push((variable.clone(), value.reshape(&shape)));
            report.applied.push((variable.name().to_string(), entry));
        } else {
            report.mismatched.push((variable.name().to_string(), entry, shape, found));
        }
    }
    entries.retain(|name, _| !asked.contains(name));
    if (!options.ignore_missing && !report.missing.is_empty()) || !report.mismatched.is_empty() {
        report.unused = sorted_names(&entries);
        return Err(Error::invalid(checkpoint, format!("cannot restore: {}", report.problems())));
    }
    let creations = match options.create_unrequested_in {
        Some(store) => unrequested_to_create(store, &mut entries, layout)?,
        None => Vec::new(),
    };
    report.unused = sorted_names(&entries);
    for (variable, value) in copies {
        copy_into(&variable, &value)?;
    }
    let mut created = Vec::with_capacity(creations.len());
    if let Some(store) = options.create_unrequested_in {
        for (name, value) in creations {
            store.insert(Variable::new(name.clone(), value, vec![GLOBAL_VARIABLES.to_string()]))?;
            created.push(name);
        }
    }
    created.sort();
    Ok(Applied { report, created })
}

/// Takes out of `entries` those that can become new global variables of `store`: a name the store lacks and
/// accepts. An entry `<variable>/<slot>` of a variable the store has (an optimizer slot) is converted to that
/// variable's layout and laid out like it in memory, as the optimizer would have created it.
fn unrequested_to_create(
    store: &VarStore,
    entries: &mut HashMap<String, Tensor>,
    layout: Layout,
) -> Result<Vec<(String, Tensor)>> {
    let names: Vec<String> =
        entries.keys().filter(|name| is_valid_variable_name(name) && store.variable(name).is_none()).cloned().collect();
    let mut created = Vec::with_capacity(names.len());
    for name in names {
        let Some(value) = entries.remove(&name) else { continue };
        let value = match slot_owner(store, &name) {
            Some(owner) => like_owner(&owner, layout, &name, &value)?,
            None => value.to_device(store.device()),
        };
        created.push((name, value));
    }
    Ok(created)
}

/// The variable `name` is a slot of: the longest `<variable>` of the store with `name = <variable>/<slot>`.
fn slot_owner(store: &VarStore, name: &str) -> Option<Variable> {
    name.rmatch_indices('/').find_map(|(at, _)| store.variable(&name[..at]))
}

/// A slot's value in its owner's layout, shape, device and memory format when it has the owner's size; as read
/// otherwise (a slot of another shape, such as a factored accumulator).
fn like_owner(owner: &Variable, layout: Layout, name: &str, value: &Tensor) -> Result<Tensor> {
    let shape = owner.shape();
    let converted = layout.to_torch(owner.name(), value, &shape);
    if converted.size() != shape || converted.kind() != owner.tensor().kind() {
        return Ok(value.to_device(owner.tensor().device()));
    }
    let mut slot = owner.tensor().detach().empty_like();
    tch::no_grad(|| slot.f_copy_(&converted)).context(name)?;
    Ok(slot)
}

/// Copies `value` into `variable`'s tensor, outside autograd; libtorch's refusal names the variable.
pub(crate) fn copy_into(variable: &Variable, value: &Tensor) -> Result<()> {
    let mut target = variable.tensor().shallow_clone();
    tch::no_grad(|| target.f_copy_(value)).context(variable.name()).map(|_| ())
}

fn sorted_names(entries: &HashMap<String, Tensor>) -> Vec<String> {
    let mut names: Vec<String> = entries.keys().cloned().collect();
    names.sort();
    names
}

fn numel(shape: &[i64]) -> i64 {
    shape.iter().product()
}
