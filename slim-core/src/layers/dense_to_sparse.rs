//! `dense_to_sparse`: a dense tensor as the coordinates and values of its entries that are not an end token
//! (TF-Slim's `dense_to_sparse`, which returns a `SparseTensor`).

use tch::{Kind, Tensor};

use crate::Result;
use crate::error::TorchContext;

/// TF's `SparseTensor`: `indices` `[entries, rank]` (int64, row-major order), `values` `[entries]`, and the
/// dense shape.
#[derive(Debug)]
pub struct SparseParts {
    /// Each kept entry's coordinates.
    pub indices: Tensor,
    /// Each kept entry's value.
    pub values: Tensor,
    /// The dense tensor's shape.
    pub dense_shape: Vec<i64>,
}

impl SparseParts {
    /// libtorch's sparse COO tensor of the same entries.
    pub fn to_sparse_coo(&self) -> Result<Tensor> {
        let indices = self.indices.f_transpose(0, 1)?;
        let options = (self.values.kind(), self.values.device());
        Tensor::f_sparse_coo_tensor_indices_size(&indices, &self.values, self.dense_shape.as_slice(), options, false)
            .context("dense_to_sparse")
    }
}

/// TF-Slim's `dense_to_sparse(tensor, eos_token)`: every entry of `tensor` that differs from `eos_token`, with
/// its coordinates, in row-major order.
pub fn dense_to_sparse(tensor: &Tensor, eos_token: f64) -> Result<SparseParts> {
    let kept = tensor.f_ne(eos_token).context("dense_to_sparse")?;
    let indices = kept.f_nonzero().context("dense_to_sparse")?.f_to_kind(Kind::Int64).context("dense_to_sparse")?;
    let values = tensor.f_masked_select(&kept).context("dense_to_sparse")?;
    Ok(SparseParts { indices, values, dense_shape: tensor.size() })
}
