//! What the macros' expansions name: the record-and-replay tape, the traits that adapt a forward pass's inputs
//! and result, and the builder protocol of `repeat` and `stack`. Not part of slim's API; it may change in any
//! release.

pub use crate::layers::repeat::{LayerCall, RepeatScope};
pub use crate::model::forward_result::IntoForwardResult;
pub use crate::model::layer_input::LayerInput;
pub use crate::model::tape::{FunctionScope, is_replaying, record_value, replay_value};
