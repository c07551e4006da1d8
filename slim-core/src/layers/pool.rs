//! `max_pool2d` and `avg_pool2d`: stride 2 and VALID by default, TF SAME padding (padding never counts toward
//! a max or an average). Each op has its own arguments (its own arg-scope key) and built layer around one
//! shared [`Pool2d`].

use tch::Tensor;

use super::layer_scope::{LayerScope, check_rank, collect};
use super::padding::pad_for_window;
use super::types::{Collections, DataFormat, Padding, Pair};
use crate::Result;
use crate::error::TorchContext;
use crate::variables::VarStore;

/// Which reduction a pool takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PoolKind {
    Max,
    Avg,
}

/// Defines the module of one pooling op: its arguments, call, function and built layer.
macro_rules! pool_op {
    ($op:ident, $name:literal, $layer:ident, $kind:expr, $default_scope:literal, $doc:literal) => {
        #[doc = concat!("`", $name, "`: its arguments, call and built layer.")]
        pub mod $op {
            use tch::Tensor;

            use super::{Pool2d, PoolKind};
            use crate::Result;
            use crate::arg_scope::scope_args;
            use crate::layers::layer_scope::LayerScope;
            use crate::layers::protocol::BuildLayer;
            use crate::layers::types::{Collections, DataFormat, Padding, Pair};
            use crate::model::tape::Layer;

            scope_args! {
                #[doc = concat!("The arguments of [`", $name, "`](fn@", $name, ").")]
                pub struct Args => Options for $name [Call] {
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

            #[doc = concat!("A call of [`", $name, "`](fn@", $name, ") being configured; finish it with [`Call::call`](crate::layers::Call::call).")]
            pub type Call = crate::layers::Call<$layer>;

            #[doc = $doc]
            pub fn $op(inputs: &Tensor, kernel_size: impl Into<Pair>) -> Call {
                Call::new(inputs, kernel_size.into(), Args::default())
            }

            #[doc = concat!("A built `", $name, "` layer.")]
            #[derive(Debug)]
            pub struct $layer(Pool2d);

            impl Layer for $layer {
                fn name(&self) -> &str {
                    &self.0.name
                }

                fn forward(&self, x: &Tensor) -> Result<Tensor> {
                    self.0.forward(x)
                }
            }

            impl BuildLayer for $layer {
                type Args = Args;
                type Positional = Pair;
                const DEFAULT_SCOPE: &'static str = $default_scope;
                const REPEAT_NAME: &'static str = $name;

                fn build(scope: &LayerScope, inputs: &Tensor, kernel: Pair, args: Args) -> Result<(Self, Tensor)> {
                    let o = args.resolve();
                    let pool = Pool2d::new($kind, scope, kernel, o.stride, o.padding, o.data_format, o.outputs_collections)?;
                    let out = pool.forward(inputs)?;
                    Ok(($layer(pool), out))
                }
            }
        }
    };
}

pool_op!(
    max_pool2d,
    "max_pool2d",
    MaxPool2d,
    PoolKind::Max,
    "MaxPool2D",
    "TF-Slim's `max_pool2d(inputs, kernel_size, stride=2, padding=VALID)`."
);
pool_op!(
    avg_pool2d,
    "avg_pool2d",
    AvgPool2d,
    PoolKind::Avg,
    "AvgPool2D",
    "TF-Slim's `avg_pool2d(inputs, kernel_size, stride=2, padding=VALID)`; SAME padding averages over the valid pixels only."
);

/// The pooling both ops build: window, stride, padding, layout, and where its output is published.
#[derive(Debug)]
struct Pool2d {
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
    /// The pool of `kind` in `scope`, its window and stride checked.
    fn new(
        kind: PoolKind,
        scope: &LayerScope,
        kernel: Pair,
        stride: Pair,
        padding: Padding,
        data_format: DataFormat,
        outputs: Collections,
    ) -> Result<Pool2d> {
        let name = scope.name.clone();
        kernel.check_positive(&name, "kernel_size")?;
        stride.check_positive(&name, "stride")?;
        Ok(Pool2d { kind, name, kernel, stride, padding, data_format, outputs, store: scope.store.clone() })
    }

    /// Pools `x`.
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
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
}
