//! Built models: a network defined once (by `#[slim::model]` or by hand) becomes a [`Built`] model whose
//! variables exist from an example input and whose forward pass replays its recorded layers.

mod built;
mod end_points;
pub(crate) mod forward_result;
pub(crate) mod layer_input;
mod summary;
pub(crate) mod tape;
mod torchscript;

pub use built::{Built, Model, ModelOutput};
pub use end_points::EndPoints;
pub use summary::ModelSummary;
pub use torchscript::TorchScriptOptions;
