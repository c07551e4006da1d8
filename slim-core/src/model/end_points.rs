//! A forward pass's end points: every layer's output keyed by the layer's full scope name, as TF-Slim's
//! `end_points` dictionaries are.

use std::collections::HashMap;
use std::sync::Arc;

use tch::Tensor;

/// The layers' outputs of one forward pass (and the tensors the net named with
/// [`end_point`](crate::layers::end_point)), keyed by full scope name (`vgg_16/conv1/conv1_1`), in call order.
/// A layer applied twice (a reused scope) keeps its last output, as TF-Slim's dictionaries do.
#[derive(Debug)]
pub struct EndPoints {
    names: Arc<[String]>,
    index: Arc<HashMap<String, usize>>,
    outputs: Vec<Tensor>,
    /// The full scope name the model ran in, which [`EndPoints::get`] puts before a relative name.
    scope: Arc<str>,
}

impl EndPoints {
    /// The end points of `outputs`, one per name, of a model that ran in scope `scope`.
    pub(crate) fn new(
        names: Arc<[String]>,
        index: Arc<HashMap<String, usize>>,
        outputs: Vec<Tensor>,
        scope: Arc<str>,
    ) -> Self {
        EndPoints { names, index, outputs, scope }
    }

    /// The name → position index of `names` (the last position of a repeated name).
    pub(crate) fn index_of(names: &[String]) -> HashMap<String, usize> {
        names.iter().enumerate().map(|(position, name)| (name.clone(), position)).collect()
    }

    /// The output of the layer with this full scope name (`InceptionV3/Mixed_5b`), or with this name relative
    /// to the model's scope (`Mixed_5b`, TF-Slim's key in its nets' `end_points`).
    pub fn get(&self, name: &str) -> Option<&Tensor> {
        self.position(name).and_then(|position| self.outputs.get(position))
    }

    /// Whether a layer of this name (full, or relative to the model's scope) ran.
    pub fn contains(&self, name: &str) -> bool {
        self.position(name).is_some()
    }

    fn position(&self, name: &str) -> Option<usize> {
        let relative = || match self.scope.is_empty() {
            true => None,
            false => self.index.get(&format!("{}/{name}", self.scope)),
        };
        self.index.get(name).or_else(relative).copied()
    }

    /// Every (name, output) pair in call order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Tensor)> {
        self.names.iter().map(String::as_str).zip(&self.outputs)
    }

    /// The layers' names in call order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(String::as_str)
    }

    /// The number of layer outputs.
    pub fn len(&self) -> usize {
        self.outputs.len()
    }

    /// Whether no layer ran.
    pub fn is_empty(&self) -> bool {
        self.outputs.is_empty()
    }
}
