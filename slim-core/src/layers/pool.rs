//! `max_pool2d` and `avg_pool2d`: stride 2 and VALID by default, TF SAME padding (padding never counts toward
//! a max or an average).

use tch::Tensor;

use super::layer_scope::{self, check_rank, collect};
use super::padding::pad_for_window;
use super::repeat::layer_call;
use super::types::{Collections, DataFormat, Padding, Pair};
use crate::Result;
use crate::arg_scope::scope_args;
use crate::error::TorchContext;
use crate::variables::VarStore;

scope_args! {
    /// The arguments of [`max_pool2d`] and [`avg_pool2d`] (each op has its own arg-scope key).
    pub struct MaxPool2dArgs => MaxPool2dOptions for "max_pool2d" [MaxPool2dCall] {
        /// Stride (default 2).
        stride: Pair = Pair::square(2),
        /// Padding (default VALID).
        padding: Padding = Padding::Valid,
        /// Layout of inputs and outputs (default NCHW).
        data_format: DataFormat = DataFormat::Nchw,
        /// Collections the output is added to, under the layer's scope name.
        outputs_collections: Collections = Collections::default(),
    }
}

scope_args! {
    /// The arguments of [`avg_pool2d`].
    pub struct AvgPool2dArgs => AvgPool2dOptions for "avg_pool2d" [AvgPool2dCall] {
        /// Stride (default 2).
        stride: Pair = Pair::square(2),
        /// Padding (default VALID).
        padding: Padding = Padding::Valid,
        /// Layout of inputs and outputs (default NCHW).
        data_format: DataFormat = DataFormat::Nchw,
        /// Collections the output is added to, under the layer's scope name.
        outputs_collections: Collections = Collections::default(),
    }
}

/// Which reduction a pool takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PoolKind {
    Max,
    Avg,
}

macro_rules! pool_call {
    ($call:ident, $args:ident, $fn_name:ident, $kind:expr, $default_scope:literal, $doc:literal) => {
        /// A pooling call being configured; finish it with `call()`.
        #[derive(Debug)]
        pub struct $call {
            inputs: Tensor,
            kernel_size: Pair,
            args: $args,
            scope: Option<String>,
        }

        #[doc = $doc]
        pub fn $fn_name(inputs: &Tensor, kernel_size: impl Into<Pair>) -> $call {
            $call {
                inputs: inputs.shallow_clone(),
                kernel_size: kernel_size.into(),
                args: $args::default(),
                scope: None,
            }
        }

        layer_call!($call, $args, default_scope: $default_scope, repeat_name: stringify!($fn_name), no_reuse);

        impl $call {
            /// Builds the pool and applies it; returns the layer and the output.
            pub fn build(self) -> Result<(Pool2d, Tensor)> {
                let o = self.args.resolve_in_scope();
                let scope = layer_scope::open(self.scope.as_deref(), $default_scope, false)?;
                let layer = Pool2d {
                    kind: $kind,
                    name: scope.name.clone(),
                    kernel: self.kernel_size,
                    stride: o.stride,
                    padding: o.padding,
                    data_format: o.data_format,
                    outputs: o.outputs_collections,
                    store: scope.store.clone(),
                };
                layer.kernel.check_positive(&layer.name, "kernel_size")?;
                layer.stride.check_positive(&layer.name, "stride")?;
                let out = layer.forward(&self.inputs)?;
                Ok((layer, out))
            }
        }
    };
}

pool_call!(
    MaxPool2dCall,
    MaxPool2dArgs,
    max_pool2d,
    PoolKind::Max,
    "MaxPool2D",
    "TF-Slim's `max_pool2d(inputs, kernel_size, stride=2, padding=VALID)`."
);
pool_call!(
    AvgPool2dCall,
    AvgPool2dArgs,
    avg_pool2d,
    PoolKind::Avg,
    "AvgPool2D",
    "TF-Slim's `avg_pool2d(inputs, kernel_size, stride=2, padding=VALID)`; SAME padding averages over the valid pixels only."
);

/// A built pooling layer.
#[derive(Debug)]
pub struct Pool2d {
    kind: PoolKind,
    name: String,
    kernel: Pair,
    stride: Pair,
    padding: Padding,
    data_format: DataFormat,
    outputs: Collections,
    store: VarStore,
}

impl Pool2d {
    /// Pools `x`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        check_rank(&self.name, "Pooling", x, &[4])?;
        let x = self.data_format.view_as_nchw(x);
        let (kernel, stride) = (self.kernel.to_array(), self.stride.to_array());
        let y = match self.kind {
            PoolKind::Max => {
                let (padded, pad) =
                    pad_for_window(&self.name, &x, self.padding, self.kernel, self.stride, f64::NEG_INFINITY)?;
                padded.f_max_pool2d(kernel, stride, pad, [1, 1], false).context(&self.name)?
            }
            PoolKind::Avg => self.average(&x)?,
        };
        let y = self.data_format.view_from_nchw(y);
        collect(&self.store, self.outputs.names(), &self.name, &y);
        Ok(y)
    }

    fn average(&self, x: &Tensor) -> Result<Tensor> {
        let (kernel, stride) = (self.kernel.to_array(), self.stride.to_array());
        let (padded, pad) = pad_for_window(&self.name, x, self.padding, self.kernel, self.stride, 0.0)?;
        let symmetric_fits = pad[0] * 2 <= kernel[0] && pad[1] * 2 <= kernel[1];
        if padded.size() == x.size() && symmetric_fits {
            return padded.f_avg_pool2d(kernel, stride, pad, false, false, None::<i64>).context(&self.name);
        }
        // Asymmetric padding: the mean over valid pixels is sum(x) / count(valid), from two zero-padded pools.
        let size = x.size();
        let ones = Tensor::ones([1, 1, size[2], size[3]], (x.kind(), x.device()));
        let (ones, _) = pad_for_window(&self.name, &ones, self.padding, self.kernel, self.stride, 0.0)?;
        let sums = padded.f_avg_pool2d(kernel, stride, [0, 0], false, true, None::<i64>).context(&self.name)?;
        let counts = ones.f_avg_pool2d(kernel, stride, [0, 0], false, true, None::<i64>).context(&self.name)?;
        Ok(sums / counts)
    }

    /// The layer's full scope name.
    pub fn name(&self) -> &str {
        &self.name
    }
}
