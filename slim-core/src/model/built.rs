//! [`Built`]: a model whose variables exist, applied by replaying the layers its definition called.

use std::collections::HashMap;
use std::sync::Arc;

use tch::{Kind, Tensor};

use super::end_points::EndPoints;
use super::summary::ModelSummary;
use super::tape::{SharedTape, Tape};
use crate::context::ReplayScope;
use crate::mode::Mode;
use crate::variables::{VarStore, Variable, VariableScope, current_scope_name, scope_mark};
use crate::{Error, Result};

/// A network definition: hyper-parameters plus a forward pass written with slim layers. `#[slim::model]`
/// implements it; a hand-written impl works the same way.
pub trait Model: Sized {
    /// The definition's type name, for summaries and errors.
    const NAME: &'static str;

    /// The forward pass: layer calls (which create their variables the first time) on `inputs`.
    fn forward(&self, inputs: &Tensor) -> Result<Tensor>;

    /// Creates every variable under `scope` in `vs` from a zero input of `example_shape` (float), so a
    /// checkpoint can be restored before the first step; see [`Built::new`].
    fn build(self, vs: &VarStore, scope: &str, example_shape: &[i64]) -> Result<Built<Self>> {
        let example = Tensor::f_zeros(example_shape, (Kind::Float, vs.device())).map_err(|e| {
            Error::invalid(scope, format!("cannot make an example input of shape {example_shape:?}: {e}"))
        })?;
        Built::new(self, vs, scope, &example)
    }
}

/// The output of one forward pass and every layer's output on the way.
#[derive(Debug)]
pub struct ModelOutput {
    /// What the definition's forward returned (the logits, for a classifier).
    pub output: Tensor,
    /// Each layer's output keyed by its full scope name.
    pub end_points: EndPoints,
}

/// A model with its variables created. Its forward pass runs the definition again, but each layer call applies
/// the layer recorded when the model was built: no scope, name or arg-scope work happens per step.
pub struct Built<M: Model> {
    model: M,
    store: VarStore,
    scope: String,
    input_rank: usize,
    tape: SharedTape,
    /// The full scope name the forward pass ran in while building, which replays run under.
    scope_name: Arc<str>,
    names: Arc<[String]>,
    index: Arc<HashMap<String, usize>>,
}

impl<M: Model> Built<M> {
    /// Runs `model`'s forward pass once on `example` in eval mode, inside variable scope `scope` (none when
    /// empty) of `vs`: every variable is created and every layer recorded. Building twice in the same scope is an
    /// error (the variables exist).
    pub fn new(model: M, vs: &VarStore, scope: &str, example: &Tensor) -> Result<Self> {
        let _store = vs.as_default();
        let _mode = Mode::Eval.enter();
        let recording = Tape::record();
        let scope_name: Arc<str> = {
            let _scope = if scope.is_empty() { None } else { Some(VariableScope::new(scope).enter()?) };
            let _output = model.forward(example)?;
            current_scope_name().into()
        };
        let tape = recording.finish();
        let names: Arc<[String]> = tape.layers().map(|(_, name)| name.to_string()).collect();
        let index = Arc::new(EndPoints::index_of(&names));
        Ok(Built {
            model,
            store: vs.clone(),
            scope: scope.to_string(),
            input_rank: example.dim(),
            tape: Arc::new(std::sync::Mutex::new(tape)),
            scope_name,
            names,
            index,
        })
    }

    /// Applies the model to `inputs` in `mode`; returns the output and the end points.
    pub fn forward_t(&self, inputs: &Tensor, mode: Mode) -> Result<ModelOutput> {
        if inputs.dim() != self.input_rank {
            return Err(Error::invalid(
                self.scope_label(),
                format!("{} was built for inputs of rank {}, got shape {:?}", M::NAME, self.input_rank, inputs.size()),
            ));
        }
        let _store = self.store.as_default();
        let _mode = mode.enter();
        let _scope = ReplayScope::enter(self.scope_name.clone(), scope_mark());
        let replay = Tape::replay(&self.tape);
        let output = self.model.forward(inputs)?;
        let outputs = replay.finish()?;
        Ok(ModelOutput {
            output,
            end_points: EndPoints::new(self.names.clone(), self.index.clone(), outputs, self.scope_name.clone()),
        })
    }

    /// Applies the model to `inputs` in the current [`Mode`]; returns the output only.
    pub fn forward(&self, inputs: &Tensor) -> Result<Tensor> {
        self.forward_t(inputs, Mode::current()).map(|out| out.output)
    }

    /// The hyper-parameters.
    pub fn definition(&self) -> &M {
        &self.model
    }

    /// The store holding the variables.
    pub fn store(&self) -> &VarStore {
        &self.store
    }

    /// The variable scope the model was built in.
    pub fn scope(&self) -> &str {
        &self.scope
    }

    /// The full scope names of the recorded layers, in call order.
    pub fn layer_names(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(String::as_str)
    }

    /// The variables under the model's scope, in creation order.
    pub fn variables(&self) -> Vec<Variable> {
        let prefix = format!("{}/", self.scope);
        let all = self.store.variables();
        if self.scope.is_empty() {
            return all;
        }
        all.into_iter().filter(|v| v.name().starts_with(&prefix)).collect()
    }

    /// The model variables (weights, biases, batch-norm statistics) under the model's scope.
    pub fn model_variables(&self) -> Vec<Variable> {
        self.variables().into_iter().filter(Variable::is_model_variable).collect()
    }

    /// The trainable variables under the model's scope.
    pub fn trainable_variables(&self) -> Vec<Variable> {
        self.variables().into_iter().filter(Variable::is_trainable).collect()
    }

    /// Elements in the model's variables (TF's "total size of variables").
    pub fn num_parameters(&self) -> i64 {
        self.variables().iter().map(Variable::numel).sum()
    }

    /// The variables with shapes and sizes, like `model_analyzer.analyze_vars`.
    pub fn summary(&self) -> ModelSummary {
        ModelSummary::new(M::NAME, &self.variables())
    }

    pub(super) fn scope_label(&self) -> &str {
        if self.scope.is_empty() { M::NAME } else { &self.scope }
    }
}

impl<M: Model> std::fmt::Debug for Built<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.summary())
    }
}
