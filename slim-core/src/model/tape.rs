//! Record and replay of a model's layers: building a model records every layer its forward pass calls; each
//! later pass replays them in order, with no scope, name or arg-scope work per step.

use std::any::Any;
use std::cell::RefCell;
use std::sync::{Arc, Mutex, MutexGuard};

use tch::Tensor;

use crate::context::ReplayScope;
use crate::variables::{ScopeGuard, VariableScope, current_scope_name, scope_mark};
use crate::{Error, Result};

/// A built layer: what a layer call returns from `build()` and a model's tape applies again on every pass, with
/// no scope, name or variable lookup.
pub trait Layer: Send + std::fmt::Debug {
    /// The layer's full scope name, the key of its end point.
    fn name(&self) -> &str;

    /// Applies the layer to `x` in the current [`Mode`](crate::mode::Mode).
    fn forward(&self, x: &Tensor) -> Result<Tensor>;
}

/// The layers a model's forward pass called while it was built, in call order.
#[derive(Debug, Default)]
pub struct Tape {
    layers: Vec<Recorded>,
    /// How many entries are layers (counted once, when recording ends).
    layer_count: usize,
}

/// One recorded step and the op that made it (`conv2d`), so a replay can check it calls the same ops.
#[derive(Debug)]
struct Recorded {
    op: &'static str,
    entry: Entry,
}

/// What a step recorded.
enum Entry {
    /// A built layer, applied again on replay.
    Layer(Box<dyn Layer>),
    /// Arguments a `#[slim::add_arg_scope]` function resolved against the arg scopes, handed back on replay
    /// (arg scopes are not entered during a replay), and the full scope name its body ran in, which the replay
    /// runs the body under (see [`crate::context`]).
    Value { value: Box<dyn Any + Send>, scope: Arc<str> },
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Entry::Layer(layer) => layer.fmt(f),
            Entry::Value { scope, .. } => write!(f, "resolved arguments (scope {scope})"),
        }
    }
}

impl Tape {
    /// The number of recorded layers.
    pub fn len(&self) -> usize {
        self.layer_count
    }

    /// The recorded layers' ops and full scope names, in call order.
    pub fn layers(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.layers.iter().filter_map(|recorded| match &recorded.entry {
            Entry::Layer(layer) => Some((recorded.op, layer.name())),
            Entry::Value { .. } => None,
        })
    }

    /// Starts recording the layers built on this thread until the guard finishes.
    pub fn record() -> RecordGuard {
        FRAMES.with(|frames| frames.borrow_mut().push(Frame::Recording(Vec::new())));
        RecordGuard { finished: false }
    }

    /// Replays this tape: until the guard finishes, each layer call on this thread applies the next layer.
    /// (Tensors are not `Sync`, so a shared tape sits behind a mutex; each layer locks it, uncontended.)
    pub fn replay(tape: &SharedTape) -> ReplayGuard {
        let outputs = Vec::with_capacity(lock(tape).len());
        let tape = tape.clone();
        FRAMES.with(|frames| frames.borrow_mut().push(Frame::Replaying { tape, cursor: 0, outputs }));
        ReplayGuard { finished: false }
    }
}

/// A tape that a built model owns and that replays can share: `Send` and `Sync` like the model.
pub type SharedTape = Arc<Mutex<Tape>>;

fn lock(tape: &SharedTape) -> MutexGuard<'_, Tape> {
    tape.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

enum Frame {
    Recording(Vec<Recorded>),
    Replaying { tape: SharedTape, cursor: usize, outputs: Vec<Tensor> },
}

thread_local! {
    static FRAMES: RefCell<Vec<Frame>> = const { RefCell::new(Vec::new()) };
}

/// Whether layer calls on this thread are being replayed (so scopes and arg scopes need not be entered).
pub fn is_replaying() -> bool {
    FRAMES.with(|frames| matches!(frames.borrow().last(), Some(Frame::Replaying { .. })))
}

/// When a tape is replaying, applies its next layer (which must have been built by `op`) to `input`;
/// otherwise `None`, and the caller builds the layer.
pub fn replay_layer(op: &'static str, input: &Tensor) -> Result<Option<Tensor>> {
    let Some((tape, index)) = next_step() else { return Ok(None) };
    let tape = lock(&tape);
    let Some(Recorded { entry: Entry::Layer(layer), op: recorded_op }) = tape.layers.get(index) else {
        return Err(diverged(&tape, index, op));
    };
    if *recorded_op != op {
        return Err(diverged(&tape, index, op));
    }
    let out = layer.forward(input)?;
    FRAMES.with(|frames| {
        if let Some(Frame::Replaying { outputs, .. }) = frames.borrow_mut().last_mut() {
            outputs.push(out.shallow_clone());
        }
    });
    Ok(Some(out))
}

/// When a tape is replaying, a copy of the arguments `op` recorded at this step, and the scope its body ran in
/// when the model was built, entered as the replay's scope name until the [`FunctionScope`] drops; otherwise
/// `None`, and the caller resolves the arguments, enters its scope ([`FunctionScope::enter`]) and records them
/// ([`record_value`]).
pub fn replay_value<T: Any + Clone + Send>(op: &'static str) -> Result<Option<(T, FunctionScope)>> {
    let Some((tape, index)) = next_step() else { return Ok(None) };
    let tape = lock(&tape);
    match tape.layers.get(index) {
        Some(Recorded { entry: Entry::Value { value, scope }, op: recorded_op }) if *recorded_op == op => {
            let value = value.downcast_ref::<T>().cloned().ok_or_else(|| diverged(&tape, index, op))?;
            Ok(Some((value, FunctionScope::Replayed(ReplayScope::enter(scope.clone(), scope_mark())))))
        }
        _ => Err(diverged(&tape, index, op)),
    }
}

/// The scope a `#[slim::add_arg_scope]` function's body runs in, left when dropped: the variable scope it was
/// called with while building, or the scope name recorded then while replaying.
#[derive(Debug)]
pub enum FunctionScope {
    /// Building: the variable scope entered, if the call named one.
    Entered(Option<ScopeGuard>),
    /// Replaying: the recorded name.
    Replayed(ReplayScope),
}

impl FunctionScope {
    /// Enters variable scope `name`, if given, for a function's body while building.
    pub fn enter(name: Option<String>) -> Result<FunctionScope> {
        let guard = name.map(|name| VariableScope::new(name).enter()).transpose()?;
        Ok(FunctionScope::Entered(guard))
    }
}

/// The replaying tape and the index of its next step, advancing the cursor; `None` when not replaying.
fn next_step() -> Option<(SharedTape, usize)> {
    FRAMES.with(|frames| match frames.borrow_mut().last_mut() {
        Some(Frame::Replaying { tape, cursor, .. }) => {
            let index = *cursor;
            *cursor += 1;
            Some((tape.clone(), index))
        }
        _ => None,
    })
}

fn diverged(tape: &Tape, index: usize, op: &str) -> Error {
    let expected = match tape.layers.get(index) {
        Some(Recorded { op, entry: Entry::Layer(layer) }) => format!("{op} (scope {})", layer.name()),
        Some(Recorded { op, entry: Entry::Value { scope, .. } }) => format!("a call of {op} (scope {scope})"),
        None => format!("nothing: the model was built with {} steps", tape.layers.len()),
    };
    Error::invalid(
        "model",
        format!(
            "the forward pass called {op} as layer {index}, but when the model was built that call was {expected}; \
             a model's forward must call the same layers in the same order on every pass"
        ),
    )
}

/// Adds a layer just built by `op` to the tape being recorded on this thread, if any.
pub fn record(op: &'static str, layer: impl Layer + 'static) {
    push(op, Entry::Layer(Box::new(layer)));
}

/// Adds the arguments `op` just resolved to the tape being recorded on this thread, if any, with the current
/// scope name (the one its body runs in).
pub fn record_value<T: Any + Send>(op: &'static str, value: T) {
    if is_recording() {
        push(op, Entry::Value { value: Box::new(value), scope: current_scope_name().into() });
    }
}

/// Whether layer calls on this thread are being recorded.
fn is_recording() -> bool {
    FRAMES.with(|frames| matches!(frames.borrow().last(), Some(Frame::Recording(_))))
}

fn push(op: &'static str, entry: Entry) {
    FRAMES.with(|frames| {
        if let Some(Frame::Recording(layers)) = frames.borrow_mut().last_mut() {
            layers.push(Recorded { op, entry });
        }
    });
}

/// Ends a recording; dropping it unfinished discards what was recorded.
#[must_use = "finish the recording to get the tape"]
pub struct RecordGuard {
    finished: bool,
}

impl RecordGuard {
    /// Stops recording and returns the tape.
    pub fn finish(mut self) -> Tape {
        self.finished = true;
        match FRAMES.with(|frames| frames.borrow_mut().pop()) {
            Some(Frame::Recording(layers)) => {
                let layer_count = layers.iter().filter(|r| matches!(r.entry, Entry::Layer(_))).count();
                Tape { layers, layer_count }
            }
            _ => Tape::default(),
        }
    }
}

impl Drop for RecordGuard {
    fn drop(&mut self) {
        if !self.finished {
            FRAMES.with(|frames| frames.borrow_mut().pop());
        }
    }
}

/// Ends a replay; dropping it unfinished (after an error) just leaves the replay.
#[must_use = "finish the replay to get the end points"]
pub struct ReplayGuard {
    finished: bool,
}

impl ReplayGuard {
    /// Stops replaying and returns each layer's output in tape order; an error if the pass called fewer layers
    /// than the tape holds.
    pub fn finish(mut self) -> Result<Vec<Tensor>> {
        self.finished = true;
        match FRAMES.with(|frames| frames.borrow_mut().pop()) {
            Some(Frame::Replaying { tape, cursor, outputs }) if cursor == lock(&tape).layers.len() => Ok(outputs),
            Some(Frame::Replaying { tape, cursor, .. }) => Err(Error::invalid(
                "model",
                format!(
                    "the forward pass took {cursor} steps, but the model was built with {}; a model's forward \
                     must call the same layers on every pass",
                    lock(&tape).layers.len()
                ),
            )),
            _ => Ok(Vec::new()),
        }
    }
}

impl Drop for ReplayGuard {
    fn drop(&mut self) {
        if !self.finished {
            FRAMES.with(|frames| frames.borrow_mut().pop());
        }
    }
}
