//! Losses with TF-Slim's semantics: each reduces its element-wise losses as [`compute_weighted_loss`] does (the
//! weighted sum over the number of elements with a non-zero weight; 0 when there are none) and adds the result
//! to the `LOSSES` collection, which [`get_total_loss`] sums with the regularization losses.

mod call;
mod collection;
mod weighted;

pub use call::{
    LossCall, absolute_difference, cosine_distance, hinge_loss, log_loss, mean_squared_error, sigmoid_cross_entropy,
    softmax_cross_entropy, sparse_softmax_cross_entropy,
};
pub use collection::{add_loss, get_losses, get_regularization_losses, get_total_loss};
pub use weighted::{Weights, compute_weighted_loss};
