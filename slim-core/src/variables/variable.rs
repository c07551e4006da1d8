//! A named variable: a tensor plus the TF-Slim metadata beside it.

use tch::Tensor;

use super::collections::{GLOBAL_VARIABLES, LOCAL_VARIABLES, MODEL_VARIABLES, TRAINABLE_VARIABLES};

/// A variable of a [`VarStore`](super::VarStore): its full TF-style name (`conv1/weights`), its tensor (shared with
/// the store, so updates are seen everywhere) and the collections it belongs to.
#[derive(Debug)]
pub struct Variable {
    name: String,
    tensor: Tensor,
    collections: Vec<String>,
}

impl Clone for Variable {
    fn clone(&self) -> Self {
        Variable { name: self.name.clone(), tensor: self.tensor.shallow_clone(), collections: self.collections.clone() }
    }
}

impl Variable {
    pub(crate) fn new(name: String, tensor: Tensor, collections: Vec<String>) -> Self {
        Variable { name, tensor, collections }
    }

    /// The full name, as a checkpoint stores it (`vgg_16/conv1/conv1_1/weights`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The last component of the name (`weights`).
    pub fn short_name(&self) -> &str {
        self.name.rsplit('/').next().unwrap_or(&self.name)
    }

    /// The tensor; it shares storage with the store's copy.
    pub fn tensor(&self) -> &Tensor {
        &self.tensor
    }

    /// The shape.
    pub fn shape(&self) -> Vec<i64> {
        self.tensor.size()
    }

    /// The number of elements.
    pub fn numel(&self) -> i64 {
        self.shape().iter().product()
    }

    /// The collections this variable belongs to, in the order it joined them.
    pub fn collections(&self) -> &[String] {
        &self.collections
    }

    /// Whether it belongs to `collection`.
    pub fn in_collection(&self, collection: &str) -> bool {
        self.collections.iter().any(|c| c == collection)
    }

    /// Whether an optimizer updates it.
    pub fn is_trainable(&self) -> bool {
        self.in_collection(TRAINABLE_VARIABLES)
    }

    /// Whether it is a model variable.
    pub fn is_model_variable(&self) -> bool {
        self.in_collection(MODEL_VARIABLES)
    }

    /// Whether it is saved in checkpoints (a global variable).
    pub fn is_global(&self) -> bool {
        self.in_collection(GLOBAL_VARIABLES)
    }

    /// Whether it is a local (never saved) variable.
    pub fn is_local(&self) -> bool {
        self.in_collection(LOCAL_VARIABLES)
    }

    pub(crate) fn join(&mut self, collection: &str) {
        if !self.in_collection(collection) {
            self.collections.push(collection.to_string());
        }
    }
}
