//! A map between another framework's state dict (torchvision's) and slim's variables, used both ways: to
//! restore their weights into slim, and to export slim's under their names and shapes.

use crate::variables::VarStore;
use crate::{Error, Result};

use super::VariableMap;

/// One tensor of the other framework's state dict and the slim variable it corresponds to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MappedName {
    /// The name in their state dict (`features.0.weight`).
    pub theirs: String,
    /// The slim variable's full name (`vgg_16/conv1/conv1_1/weights`).
    pub slim: String,
    /// Theirs is a matrix (an `nn.Linear`'s `[out, in]`) where slim's is a convolution holding the same elements
    /// in the same order (VGG's `fc6` `[4096, 512, 7, 7]`, a 1×1 logits layer): flattened to `[out, rest]` on
    /// export, reshaped on import (`reshape_variables`).
    pub matrix: bool,
}

/// `(their name, slim name)` pairs, plus the counters their state dict holds that slim has no variable for
/// (batch norm's `num_batches_tracked`). Built with [`tensor`](StateDictMap::tensor),
/// [`matrix`](StateDictMap::matrix) and [`counter`](StateDictMap::counter); restored with
/// [`variable_map`](StateDictMap::variable_map) + `assign_from_checkpoint`, exported with
/// [`export_state_dict`](super::export_state_dict).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StateDictMap {
    names: Vec<MappedName>,
    counters: Vec<String>,
}

impl StateDictMap {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds their `theirs` as slim's `slim`, of the same shape.
    pub fn tensor(self, theirs: impl Into<String>, slim: impl Into<String>) -> Self {
        self.with(theirs.into(), slim.into(), false)
    }

    /// Adds their matrix `theirs` as slim's convolution `slim` (see [`MappedName::matrix`]).
    pub fn matrix(self, theirs: impl Into<String>, slim: impl Into<String>) -> Self {
        self.with(theirs.into(), slim.into(), true)
    }

    /// Adds a counter of theirs that slim has no variable for: an int64 scalar, exported as 0 (torch's
    /// `BatchNorm`'s `num_batches_tracked` matters only with `momentum=None`); ignored on import.
    pub fn counter(mut self, theirs: impl Into<String>) -> Self {
        self.counters.push(theirs.into());
        self
    }

    fn with(mut self, theirs: String, slim: String, matrix: bool) -> Self {
        self.names.push(MappedName { theirs, slim, matrix });
        self
    }

    /// The mapped tensors, in the order they were added (their state dict's order).
    pub fn names(&self) -> &[MappedName] {
        &self.names
    }

    /// Their counters, in the order they were added.
    pub fn counters(&self) -> &[String] {
        &self.counters
    }

    /// Their name for slim's variable `slim`, if the map has it.
    pub fn theirs(&self, slim: &str) -> Option<&str> {
        self.names.iter().find(|name| name.slim == slim).map(|name| name.theirs.as_str())
    }

    /// The [`VariableMap`] that restores their state dict into `vs`'s variables (with `reshape_variables` when
    /// the map has matrices). A slim variable the store lacks is an error naming every one missing.
    pub fn variable_map(&self, vs: &VarStore) -> Result<VariableMap> {
        let missing: Vec<&str> =
            self.names.iter().filter(|name| vs.variable(&name.slim).is_none()).map(|n| n.slim.as_str()).collect();
        if !missing.is_empty() {
            return Err(Error::NotFound(format!(
                "the state dict map names {} variable(s) the store lacks (built in another scope or depth?): {}",
                missing.len(),
                missing.join(", ")
            )));
        }
        let pairs = self.names.iter().filter_map(|name| Some((name.theirs.clone(), vs.variable(&name.slim)?)));
        Ok(VariableMap::from_pairs(pairs.collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::variables::Variable;
    use crate::variables::collections::GLOBAL_VARIABLES;
    use tch::{Device, Kind, Tensor};

    #[test]
    fn a_map_restores_into_the_variables_it_names_and_says_which_are_missing() {
        let vs = VarStore::new(Device::Cpu);
        let weights = Tensor::zeros([2, 3], (Kind::Float, Device::Cpu));
        vs.insert(Variable::new("net/fc/weights".into(), weights, vec![GLOBAL_VARIABLES.to_string()])).unwrap();
        let map = StateDictMap::new().matrix("fc.weight", "net/fc/weights").counter("bn.num_batches_tracked");
        assert_eq!(map.theirs("net/fc/weights"), Some("fc.weight"));
        assert_eq!(map.counters(), ["bn.num_batches_tracked"]);
        assert!(map.names()[0].matrix);
        assert!(map.variable_map(&vs).is_ok());
        let wider = map.tensor("fc.bias", "net/fc/biases").tensor("other", "net/other");
        let message = wider.variable_map(&vs).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(message.contains("2 variable(s)") && message.contains("net/fc/biases, net/other"), "{message}");
    }
}
