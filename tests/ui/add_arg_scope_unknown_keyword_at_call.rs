use slim::prelude::*;

#[slim::add_arg_scope]
fn block(inputs: &Tensor, filters: i64, #[default(1)] stride: i64) -> Result<Tensor> {
    conv2d(inputs, filters, [3, 3], stride = stride, scope = "conv")
}

#[slim::model]
struct Net;

#[slim::model]
impl Net {
    fn forward(&self, inputs: &Tensor) -> Result<Tensor> {
        block(inputs, 16, strides = 2)
    }
}

fn main() {}
