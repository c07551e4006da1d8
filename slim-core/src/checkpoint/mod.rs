//! Checkpoints: `logdir/model.ckpt-<step>.safetensors` files holding every global variable (model variables,
//! other variables, optimizer slots, the global step), a TF-style `checkpoint` state file naming the latest and
//! the kept ones, and restores in one engine: any [`Format`] slim reads (safetensors, TensorFlow V2, `torch.save`)
//! is opened by a [`CheckpointReader`], and one apply step (rename, convert the layout, reshape, create missing
//! slots, check every shape before copying anything, report) serves [`restore()`] (resuming a run),
//! [`assign_from_checkpoint`] (fine-tuning), [`load_variable`], [`list_variables`], [`export_checkpoint`] and [`export_state_dict`].

mod apply;
mod assign;
mod entry;
mod export;
mod format;
mod layout;
mod logdir;
mod reader;
mod report;
mod restore;
mod safetensors_file;
mod saver;
mod state;
mod state_dict_map;
mod tf_bundle;
mod torch_file;

pub use assign::{AssignOptions, VariableMap, assign_from_checkpoint, assign_from_checkpoint_fn, assign_from_values};
pub use entry::CheckpointEntry;
pub use export::{export_checkpoint, export_state_dict};
pub use format::Format;
pub use layout::Layout;
pub(crate) use logdir::set_aside;
pub use logdir::{checkpoint_step, checkpoints_newest_first, latest_checkpoint};
pub use reader::{CheckpointReader, checkpoint_metadata, list_variables, load_variable, resolve_checkpoint};
pub use report::AssignReport;
pub use restore::{RestoreReport, restore};
pub use saver::Saver;
pub use state::CheckpointState;
pub use state_dict_map::{MappedName, StateDictMap};
