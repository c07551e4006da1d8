//! Built models: a network defined once (by `#[slim::model]` or by hand) becomes a [`Built`] model whose
//! variables exist from an example input and whose forward pass replays its recorded layers.

mod built;
mod end_points;
mod forward_result;
mod layer_input;
mod summary;
pub mod tape;

pub use built::{Built, Model, ModelOutput};
pub use end_points::EndPoints;
pub use forward_result::IntoForwardResult;
pub use layer_input::LayerInput;
pub use summary::ModelSummary;
