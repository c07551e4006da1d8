//! The variable store: slim's graph of named variables, their collections and the per-step side effects
//! (losses, deferred updates, collected outputs) that TF-Slim kept in graph collections.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use tch::{Device, Tensor, nn};

use super::collections::{GLOBAL_VARIABLES, TRAINABLE_VARIABLES};
use super::update_ops::UpdateOp;
use super::variable::Variable;
use crate::regularizers::RegularizationLoss;
use crate::{Error, Result};

/// Holds every variable of a model with its TF-Slim metadata, beside a [`tch::nn::VarStore`] that holds the
/// global variables (so tch's own optimizers and serialisation work on it). Cloning gives another handle to the
/// same store.
#[derive(Clone)]
pub struct VarStore {
    tch: Arc<nn::VarStore>,
    state: Arc<Mutex<StoreState>>,
}

#[derive(Default)]
struct StoreState {
    variables: Vec<Variable>,
    index: HashMap<String, usize>,
    regularization_losses: Vec<RegularizationLoss>,
    losses: Vec<CollectedLoss>,
    update_ops: Vec<UpdateOp>,
    outputs: HashMap<String, Vec<(String, Tensor)>>,
    scope_counts: HashMap<String, usize>,
}

/// A loss added to a loss collection.
struct CollectedLoss {
    collection: String,
    name: String,
    value: Tensor,
}

impl std::fmt::Debug for VarStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.lock();
        f.debug_struct("VarStore")
            .field("device", &self.device())
            .field("variables", &state.variables.iter().map(Variable::name).collect::<Vec<_>>())
            .finish()
    }
}

impl VarStore {
    /// An empty store whose variables live on `device`.
    pub fn new(device: Device) -> Self {
        VarStore { tch: Arc::new(nn::VarStore::new(device)), state: Arc::default() }
    }

    /// The device new variables are created on.
    pub fn device(&self) -> Device {
        self.tch.device()
    }

    /// The tch store holding the global variables under their slim names.
    pub fn tch(&self) -> &nn::VarStore {
        &self.tch
    }

    fn lock(&self) -> MutexGuard<'_, StoreState> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Whether two handles refer to the same store.
    pub fn same_store(&self, other: &VarStore) -> bool {
        Arc::ptr_eq(&self.state, &other.state)
    }

    /// Every variable, global and local, in creation order.
    pub fn variables(&self) -> Vec<Variable> {
        self.lock().variables.clone()
    }

    /// The variable with exactly this full name.
    pub fn variable(&self, name: &str) -> Option<Variable> {
        let state = self.lock();
        state.index.get(name).map(|&i| state.variables[i].clone())
    }

    /// The variables in `collection`, in creation order.
    pub fn collection(&self, collection: &str) -> Vec<Variable> {
        self.lock().variables.iter().filter(|v| v.in_collection(collection)).cloned().collect()
    }

    /// Adds an existing variable to a collection (a no-op when it is already there).
    pub fn add_to_collection(&self, name: &str, collection: &str) -> Result<()> {
        let mut state = self.lock();
        let index = *state
            .index
            .get(name)
            .ok_or_else(|| Error::NotFound(format!("add_to_collection: no variable named {name}")))?;
        state.variables[index].join(collection);
        Ok(())
    }

    /// Whether any variable's name starts with `prefix/` (or equals `prefix`).
    pub fn has_scope(&self, prefix: &str) -> bool {
        let nested = format!("{prefix}/");
        self.lock().variables.iter().any(|v| v.name() == prefix || v.name().starts_with(&nested))
    }

    /// The number of scalar parameters in the model variables.
    pub fn num_model_parameters(&self) -> i64 {
        self.collection(super::collections::MODEL_VARIABLES).iter().map(Variable::numel).sum()
    }

    /// The global, non-trainable variable `name` (an optimizer slot, a moving-average shadow), made by `initial`
    /// and inserted when the store does not have it yet (a restored checkpoint may have made it already).
    pub(crate) fn get_or_insert_global(&self, name: &str, initial: impl FnOnce() -> Result<Tensor>) -> Result<Tensor> {
        if let Some(existing) = self.variable(name) {
            return Ok(existing.tensor().shallow_clone());
        }
        let created = self.insert(Variable::new(name.to_string(), initial()?, vec![GLOBAL_VARIABLES.to_string()]))?;
        Ok(created.tensor().shallow_clone())
    }

    pub(crate) fn insert(&self, mut variable: Variable) -> Result<Variable> {
        let mut state = self.lock();
        if state.index.contains_key(variable.name()) {
            return Err(Error::DuplicateVariable { name: variable.name().to_string() });
        }
        if !is_valid_variable_name(variable.name()) {
            return Err(Error::invalid(variable.name(), "variable names may not contain '.'"));
        }
        if variable.in_collection(GLOBAL_VARIABLES) {
            let trainable = variable.in_collection(TRAINABLE_VARIABLES);
            let registered = self.tch.root().add(variable.name(), variable.tensor().shallow_clone(), trainable);
            variable = Variable::new(variable.name().to_string(), registered, variable.collections().to_vec());
        }
        let index = state.variables.len();
        state.index.insert(variable.name().to_string(), index);
        state.variables.push(variable.clone());
        Ok(variable)
    }

    /// The regularization losses registered so far, one per regularized variable, in creation order.
    pub fn regularization_losses(&self) -> Vec<RegularizationLoss> {
        self.lock().regularization_losses.clone()
    }

    pub(crate) fn add_regularization_loss(&self, loss: RegularizationLoss) {
        self.lock().regularization_losses.push(loss);
    }

    /// Adds a loss named `name` (`softmax_cross_entropy_loss/value`) to the loss collection `collection`
    /// (TF-Slim's `add_loss`; the default collection is `LOSSES`).
    pub fn add_loss(&self, collection: &str, name: &str, loss: &Tensor) {
        let loss =
            CollectedLoss { collection: collection.to_string(), name: name.to_string(), value: loss.shallow_clone() };
        self.lock().losses.push(loss);
    }

    /// The `(name, loss)` pairs of a loss collection added since the last [`VarStore::clear_losses`], in order.
    pub fn losses(&self, collection: &str) -> Vec<(String, Tensor)> {
        let state = self.lock();
        let in_collection = state.losses.iter().filter(|loss| loss.collection == collection);
        in_collection.map(|loss| (loss.name.clone(), loss.value.shallow_clone())).collect()
    }

    /// Empties every loss collection (the train op does this after each step: an eager forward pass adds its
    /// losses again every step).
    pub fn clear_losses(&self) {
        self.lock().losses.clear();
    }

    /// Records a deferred update (the `UPDATE_OPS` collection).
    pub fn add_update_op(&self, op: UpdateOp) {
        self.lock().update_ops.push(op);
    }

    /// How many deferred updates are pending.
    pub fn update_op_count(&self) -> usize {
        self.lock().update_ops.len()
    }

    /// Removes and returns the pending deferred updates, in the order they were recorded.
    pub fn take_update_ops(&self) -> Vec<UpdateOp> {
        std::mem::take(&mut self.lock().update_ops)
    }

    /// Applies and clears the pending deferred updates; returns how many were applied.
    pub fn run_update_ops(&self) -> usize {
        let ops = self.take_update_ops();
        ops.iter().for_each(UpdateOp::apply);
        ops.len()
    }

    /// Adds `tensor` under `alias` to the outputs collection `collection` (TF-Slim's `collect_named_outputs`).
    /// A later tensor with the same alias replaces the earlier one, so calling a network every step does not
    /// grow the collection.
    pub fn collect_output(&self, collection: &str, alias: &str, tensor: &Tensor) {
        let mut state = self.lock();
        let entries = state.outputs.entry(collection.to_string()).or_default();
        match entries.iter_mut().find(|(a, _)| a == alias) {
            Some(entry) => entry.1 = tensor.shallow_clone(),
            None => entries.push((alias.to_string(), tensor.shallow_clone())),
        }
    }

    /// The `(alias, tensor)` pairs of an outputs collection in insertion order (`convert_collection_to_dict`).
    pub fn outputs(&self, collection: &str) -> Vec<(String, Tensor)> {
        self.lock()
            .outputs
            .get(collection)
            .map(|entries| entries.iter().map(|(a, t)| (a.clone(), t.shallow_clone())).collect())
            .unwrap_or_default()
    }

    /// Empties an outputs collection.
    pub fn clear_outputs(&self, collection: &str) {
        self.lock().outputs.remove(collection);
    }

    /// How often a scope with this full name has been opened since its parent was last entered.
    pub(crate) fn scope_count(&self, full_name: &str) -> usize {
        self.lock().scope_counts.get(full_name).copied().unwrap_or(0)
    }

    /// Records that the scope `full_name` was opened, and forgets the counts of its sub-scopes so that default
    /// names (`Conv`, `Conv_1`) start again when a network is called anew inside it.
    pub(crate) fn open_scope(&self, full_name: &str) {
        let mut state = self.lock();
        *state.scope_counts.entry(full_name.to_string()).or_default() += 1;
        let nested = format!("{full_name}/");
        state.scope_counts.retain(|name, _| !name.starts_with(&nested));
    }
}

/// Whether a store accepts `name` for a variable: TF's names hold no '.', which keeps them apart from PyTorch's.
pub(crate) fn is_valid_variable_name(name: &str) -> bool {
    !name.contains('.')
}
