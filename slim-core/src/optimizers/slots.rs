//! Slot variables: per-variable optimizer state named `<var>/<Optimizer>`, `<var>/<Optimizer>_1`, … as TF names
//! them, created in the variable's store as global, non-trainable variables.

use tch::Tensor;

use super::GradientAndVariable;
use crate::Result;
use crate::error::TorchContext;
use crate::variables::{VarStore, Variable};

/// The slots of one variable, in creation order.
pub(crate) struct Slots {
    variable: String,
    pub(crate) tensors: Vec<Tensor>,
}

/// The slots of each variable an optimizer updates, cached by position so a step does no name lookups.
#[derive(Default)]
pub(crate) struct SlotTable {
    rows: Vec<Slots>,
}

impl SlotTable {
    /// The slots of the `index`-th updated variable, created (with `initial` values, one per slot) when new.
    /// The position is checked against the variable's name, so a changed variable list rebuilds the row.
    pub(crate) fn row(
        &mut self,
        store: &VarStore,
        index: usize,
        variable: &Variable,
        optimizer: &str,
        initial: &[f64],
    ) -> Result<&mut Slots> {
        let fresh = self.rows.get(index).is_none_or(|row| row.variable != variable.name());
        if fresh {
            let tensors = initial
                .iter()
                .enumerate()
                .map(|(slot, value)| get_or_create_slot(store, variable, &slot_name(optimizer, slot), *value))
                .collect::<Result<Vec<_>>>()?;
            let row = Slots { variable: variable.name().to_string(), tensors };
            match self.rows.get_mut(index) {
                Some(existing) => *existing = row,
                None => self.rows.push(row),
            }
        }
        Ok(&mut self.rows[index])
    }

    /// The slots of the variables of `updates` as columns: one list per slot (`initial` holds each slot's
    /// starting value), each with one tensor (a shallow clone) per update, created when new as
    /// [`SlotTable::row`] does.
    pub(crate) fn columns<const N: usize>(
        &mut self,
        store: &VarStore,
        updates: &[GradientAndVariable],
        optimizer: &str,
        initial: &[f64; N],
    ) -> Result<[Vec<Tensor>; N]> {
        let mut columns: [Vec<Tensor>; N] = std::array::from_fn(|_| Vec::with_capacity(updates.len()));
        for (index, update) in updates.iter().enumerate() {
            let row = self.row(store, index, &update.variable, optimizer, initial)?;
            for (column, tensor) in columns.iter_mut().zip(&row.tensors) {
                column.push(tensor.shallow_clone());
            }
        }
        Ok(columns)
    }
}

/// `Adam`, `Adam_1`, `Adam_2`, …
fn slot_name(optimizer: &str, slot: usize) -> String {
    match slot {
        0 => optimizer.to_string(),
        n => format!("{optimizer}_{n}"),
    }
}

/// The slot `<var>/<name>`, created filled with `value` unless the store has it (restored from a checkpoint).
/// It is laid out like the variable in memory too (a channels-last weight gets channels-last slots), so updates
/// run densely.
fn get_or_create_slot(store: &VarStore, variable: &Variable, name: &str, value: f64) -> Result<Tensor> {
    let name = format!("{}/{name}", variable.name());
    store.get_or_insert_global(&name, || variable.tensor().detach().f_full_like(value).context(&name))
}

/// The global, non-trainable variable `name` of `store`, created filled with `value` when missing.
pub(crate) fn get_or_create_global(store: &VarStore, name: &str, shape: &[i64], value: f64) -> Result<Tensor> {
    store.get_or_insert_global(name, || Ok(Tensor::full(shape, value, (tch::Kind::Float, store.device()))))
}
