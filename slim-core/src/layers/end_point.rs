//! `end_point`: a tensor that is no layer's output (a block's concatenation, a net's predictions) named as one of
//! the model's end points, as TF-Slim's nets add `end_points['Mixed_5b'] = net`.

use tch::Tensor;

use crate::model::tape::{Layer, record, replay_layer};
use crate::variables::{current_scope_name, join_name};
use crate::{Error, Result};

/// The tape's op name of an end point.
const OP: &str = "end_point";

/// Records `tensor` as the end point `<current scope>/<name>` of the model being built (a replay hands it out
/// again under that name) and returns it, uncopied. Outside a model's forward pass it only returns `tensor`.
/// Keys are full scope names like every end point's (`InceptionV3/Mixed_5b`); `EndPoints::get` also takes
/// them relative to the model's scope (`Mixed_5b`), TF-Slim's keys.
pub fn end_point(tensor: &Tensor, name: &str) -> Result<Tensor> {
    if let Some(out) = replay_layer(OP, tensor)? {
        return Ok(out);
    }
    if name.is_empty() {
        return Err(Error::invalid("end_point", "the name must not be empty"));
    }
    record(OP, NamedOutput { name: join_name(&current_scope_name(), name) });
    Ok(tensor.shallow_clone())
}

/// An end point on the tape: hands its input on unchanged, under its name.
#[derive(Debug)]
struct NamedOutput {
    name: String,
}

impl Layer for NamedOutput {
    fn name(&self) -> &str {
        &self.name
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        Ok(x.shallow_clone())
    }
}
