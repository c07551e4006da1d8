//! Checkpoints: `logdir/model.ckpt-<step>.safetensors` files holding every global variable (model variables,
//! other variables, optimizer slots, the global step), a TF-style `checkpoint` state file naming the latest and
//! the kept ones, atomic writes (a crash never leaves a half-written file that looks complete), and restores
//! that check shapes and report what they applied; for fine-tuning, restores of chosen variables under
//! chosen names (`assign_from_checkpoint`), from slim's checkpoints or TensorFlow's (TF-Slim's) V2 checkpoints.

mod assign;
mod atomic;
mod listing;
mod restore;
mod saver;
mod state;
mod tf_bundle;
mod torch_file;

pub use assign::{
    AssignOptions, AssignReport, VariableMap, assign_from_checkpoint, assign_from_checkpoint_fn, assign_from_values,
    export_checkpoint, load_variable,
};
pub use atomic::write_atomically;
pub use listing::{CheckpointEntry, list_variables, resolve_checkpoint};
pub use restore::{RestoreReport, restore};
pub use saver::{Saver, checkpoint_step, checkpoints_newest_first, latest_checkpoint};
pub use state::CheckpointState;
