//! The names of TF-Slim's standard collections (the same strings TensorFlow used as graph keys).

/// Every saved variable: what a checkpoint holds.
pub const GLOBAL_VARIABLES: &str = "variables";
/// Variables an optimizer updates.
pub const TRAINABLE_VARIABLES: &str = "trainable_variables";
/// Variables that make up the model (layer weights and batch-norm statistics).
pub const MODEL_VARIABLES: &str = "model_variables";
/// Per-process variables that are never saved (metric accumulators, epoch counters).
pub const LOCAL_VARIABLES: &str = "local_variables";
/// The global step variable.
pub const GLOBAL_STEP: &str = "global_step";
/// Regularization losses, one per regularized variable, registered when it is created.
pub const REGULARIZATION_LOSSES: &str = "regularization_losses";
/// Losses added by the loss functions.
pub const LOSSES: &str = "losses";
/// Deferred updates (batch-norm moving statistics) that the train op applies after each step.
pub const UPDATE_OPS: &str = "update_ops";
