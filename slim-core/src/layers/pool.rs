//! `max_pool2d`, `avg_pool2d`, `max_pool3d` and `avg_pool3d`: stride 2 and VALID by default, TF SAME padding
//! (padding never counts toward a max or an average). Each op has its own arguments (its own arg-scope key) and
//! built layer around one shared [`WindowPool`].

use tch::Tensor;

use super::layer_scope::{LayerScope, check_rank, collect};
use super::padding::{check_window_fits, pad_for_window_nd};
use super::types::{Collections, DataFormat, Dims, Padding};
use crate::Result;
use crate::backend::CpuPath;
use crate::error::TorchContext;
use crate::native::{PoolWindow, max_pool2d};
use crate::variables::VarStore;

/// Which reduction a pool takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PoolKind {
    Max,
    Avg,
}

/// Defines the module of one pooling op: its arguments, call, function and built layer.
macro_rules! pool_op {
    ($op:ident, $name:literal, $layer:ident, $kind:expr, $default_scope:literal, [$window:ident; $axes:literal], $doc:literal) => {
        #[doc = concat!("`", $name, "`: its arguments, call and built layer.")]
        pub mod $op {
            use tch::Tensor;

            use super::{PoolKind, WindowPool};
            use crate::Result;
            use crate::arg_scope::scope_args;
            use crate::layers::layer_scope::LayerScope;
            use crate::layers::protocol::BuildLayer;
            use crate::layers::types::{$window, Collections, DataFormat, Padding};
            use crate::model::tape::Layer;

            scope_args! {
                #[doc = concat!("The arguments of [`", $name, "`](fn@", $name, ").")]
                pub struct Args => Options for $name [Call] {
                    /// Stride (default 2).
                    stride: $window = $window::from(2),
                    /// Padding (default VALID).
                    padding: Padding = Padding::Valid,
                    /// Where the channels are (default `Nchw`: first, as NCHW / NCDHW; `Nhwc`: last, as TF's
                    /// NHWC / NDHWC).
                    data_format: DataFormat = DataFormat::Nchw,
                    /// Collections the output is added to, under the layer's scope name.
                    outputs_collections: Collections = Collections::default(),
                }
            }

            #[doc = concat!("A call of [`", $name, "`](fn@", $name, ") being configured; finish it with [`Call::call`](crate::layers::Call::call).")]
            pub type Call = crate::layers::Call<$layer>;

            #[doc = $doc]
            pub fn $op(inputs: &Tensor, kernel_size: impl Into<$window>) -> Call {
                Call::new(inputs, kernel_size.into(), Args::default())
            }

            #[doc = concat!("A built `", $name, "` layer.")]
            #[derive(Debug)]
            pub struct $layer(WindowPool);

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
                type Positional = $window;
                const DEFAULT_SCOPE: &'static str = $default_scope;
                const REPEAT_NAME: &'static str = $name;

                fn build(scope: &LayerScope, inputs: &Tensor, kernel: $window, args: Args) -> Result<(Self, Tensor)> {
                    let o = args.resolve();
                    let window = (kernel.into(), o.stride.into(), $axes);
                    let pool = WindowPool::new($kind, scope, window, o.padding, o.data_format, o.outputs_collections)?;
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
    [Pair; 2],
    "TF-Slim's `max_pool2d(inputs, kernel_size, stride=2, padding=VALID)`."
);
pool_op!(
    avg_pool2d,
    "avg_pool2d",
    AvgPool2d,
    PoolKind::Avg,
    "AvgPool2D",
    [Pair; 2],
    "TF-Slim's `avg_pool2d(inputs, kernel_size, stride=2, padding=VALID)`; SAME padding averages over the valid pixels only."
);

pool_op!(
    max_pool3d,
    "max_pool3d",
    MaxPool3d,
    PoolKind::Max,
    "MaxPool3D",
    [Dims; 3],
    "TF-Slim's `max_pool3d(inputs, kernel_size, stride=2, padding=VALID)` of `[N, C, D, H, W]` inputs."
);
pool_op!(
    avg_pool3d,
    "avg_pool3d",
    AvgPool3d,
    PoolKind::Avg,
    "AvgPool3D",
    [Dims; 3],
    "TF-Slim's `avg_pool3d(inputs, kernel_size, stride=2, padding=VALID)` of `[N, C, D, H, W]` inputs; SAME padding averages over the valid voxels only."
);

/// The pooling every op builds: window and stride per spatial axis (2 or 3), padding, layout, and where its
/// output is published.
#[derive(Debug)]
struct WindowPool {
    kind: PoolKind,
    name: String,
    kernel: Vec<i64>,
    stride: Vec<i64>,
    padding: Padding,
    data_format: DataFormat,
    outputs: Collections,
    store: VarStore,
}

impl WindowPool {
    /// The pool of `kind` in `scope` over `axes` spatial axes, its window (kernel, stride, axes) checked.
    fn new(
        kind: PoolKind,
        scope: &LayerScope,
        (kernel, stride, axes): (Dims, Dims, usize),
        padding: Padding,
        data_format: DataFormat,
        outputs: Collections,
    ) -> Result<WindowPool> {
        let name = scope.name.clone();
        let kernel = kernel.resolve(axes, &name, "kernel_size")?;
        let stride = stride.resolve(axes, &name, "stride")?;
        Ok(WindowPool { kind, name, kernel, stride, padding, data_format, outputs, store: scope.store.clone() })
    }

    /// Pools `x`.
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let axes = self.kernel.len();
        check_rank(&self.name, "Pooling", x, &[axes + 2])?;
        let x = self.data_format.view_channels_first(x);
        check_window_fits(&self.name, &x, self.padding, &self.kernel)?;
        let y = match self.kind {
            PoolKind::Max => match self.kernel_max(&x)? {
                Some(y) => y,
                None => {
                    let fill = f64::NEG_INFINITY;
                    let (padded, pad) =
                        pad_for_window_nd(&self.name, &x, self.padding, &self.kernel, &self.stride, fill)?;
                    self.max(&padded, &pad)?
                }
            },
            PoolKind::Avg => self.average(&x)?,
        };
        let y = self.data_format.view_from_channels_first(y);
        collect(&self.store, self.outputs.names(), &self.name, &y);
        Ok(y)
    }

    /// The 2-D max pool of the channels-first view `x` by slim's kernel (`Config::max_pool_kernel`), which skips
    /// the window positions outside `x` instead of padding it; `None` where the path is off or the kernel does not
    /// take `x` (not 2-D, windows that overlap, not channels-last in memory, not float32 or bfloat16, not on the
    /// CPU).
    fn kernel_max(&self, x: &Tensor) -> Result<Option<Tensor>> {
        if self.kernel.len() != 2 || !CpuPath::MaxPoolKernel.enabled() {
            return Ok(None);
        }
        let size = x.size();
        let mut window = PoolWindow { kernel: [0; 2], stride: [0; 2], pad_before: [0; 2], output: [0; 2] };
        for axis in 0..2 {
            let (kernel, stride, input) = (self.kernel[axis], self.stride[axis], size[axis + 2]);
            let (before, after) = self.padding.amounts(input, kernel, stride);
            if before >= kernel {
                return Ok(None);
            }
            window.kernel[axis] = kernel;
            window.stride[axis] = stride;
            window.pad_before[axis] = before;
            window.output[axis] = (input + before + after - kernel) / stride + 1;
        }
        max_pool2d(x, &window).context(&self.name)
    }

    /// The max pool of `x`, padded by `pad` on both sides of each axis.
    fn max(&self, x: &Tensor, pad: &[i64]) -> Result<Tensor> {
        let (kernel, stride) = (self.kernel.as_slice(), self.stride.as_slice());
        match self.kernel.len() {
            2 => x.f_max_pool2d(kernel, stride, pad, [1, 1], false),
            _ => x.f_max_pool3d(kernel, stride, pad, [1, 1, 1], false),
        }
        .context(&self.name)
    }

    /// The average over each window of `x` padded by `pad` on both sides of each axis; `count_pad` counts the
    /// padding in the divisor.
    fn mean(&self, x: &Tensor, pad: &[i64], count_pad: bool) -> Result<Tensor> {
        let (kernel, stride) = (self.kernel.as_slice(), self.stride.as_slice());
        match self.kernel.len() {
            2 => x.f_avg_pool2d(kernel, stride, pad, false, count_pad, None::<i64>),
            _ => x.f_avg_pool3d(kernel, stride, pad, false, count_pad, None::<i64>),
        }
        .context(&self.name)
    }

    /// The average over each window's pixels inside `x` (TF's SAME never averages its padding).
    fn average(&self, x: &Tensor) -> Result<Tensor> {
        let (padded, pad) = pad_for_window_nd(&self.name, x, self.padding, &self.kernel, &self.stride, 0.0)?;
        let symmetric_fits = pad.iter().zip(&self.kernel).all(|(pad, kernel)| pad * 2 <= *kernel);
        if padded.size() == x.size() && symmetric_fits {
            return self.mean(&padded, &pad, false);
        }
        // Asymmetric padding: the mean over valid pixels is sum(x) / count(valid), from two zero-padded pools.
        let size = x.size();
        let ones_shape: Vec<i64> = [1, 1].into_iter().chain(size[2..].iter().copied()).collect();
        let ones = Tensor::ones(&ones_shape, (x.kind(), x.device()));
        let (ones, _) = pad_for_window_nd(&self.name, &ones, self.padding, &self.kernel, &self.stride, 0.0)?;
        let no_pad = vec![0; self.kernel.len()];
        Ok(self.mean(&padded, &no_pad, true)? / self.mean(&ones, &no_pad, true)?)
    }
}

#[cfg(test)]
mod tests {
    use tch::{Device, Kind, Tensor};

    use crate::layers::{DataFormat, Padding, avg_pool2d, avg_pool3d, max_pool2d, max_pool3d};
    use crate::variables::VarStore;

    fn counting(shape: &[i64]) -> Tensor {
        Tensor::arange(shape.iter().product::<i64>(), (Kind::Float, Device::Cpu)).reshape(shape)
    }

    #[test]
    fn three_d_pools_over_one_frame_are_the_two_d_pools() {
        let vs = VarStore::new(Device::Cpu);
        let _store = vs.as_default();
        let video = counting(&[2, 3, 4, 7, 7]).sin();
        for padding in [Padding::Same, Padding::Valid] {
            let pooled = avg_pool3d(&video, [1, 3, 3]).stride([1, 2, 2]).padding(padding).call().unwrap();
            let framed = max_pool3d(&video, [1, 3, 3]).stride([1, 2, 2]).padding(padding).call().unwrap();
            for frame in 0..4 {
                let image = video.select(2, frame);
                let average = avg_pool2d(&image, 3).padding(padding).call().unwrap();
                let max = max_pool2d(&image, 3).padding(padding).call().unwrap();
                assert!(pooled.select(2, frame).allclose(&average, 1e-6, 1e-6, false), "{padding:?} average");
                assert!(framed.select(2, frame).equal(&max), "{padding:?} max");
            }
        }
    }

    #[test]
    fn same_padding_averages_the_valid_voxels_along_depth_too() {
        let vs = VarStore::new(Device::Cpu);
        let _store = vs.as_default();
        let line = counting(&[1, 1, 4, 1, 1]);
        let pooled = avg_pool3d(&line, [3, 1, 1]).stride(2).padding(Padding::Same).scope("p").call().unwrap();
        // SAME at stride 2 on 4 pads (0, 1): windows {0, 1, 2} and {2, 3}.
        let expected = Tensor::from_slice(&[1.0f32, 2.5]);
        assert!(pooled.flatten(0, -1).allclose(&expected, 1e-6, 1e-6, false), "{pooled}");
        let channels_last = counting(&[1, 4, 4, 4, 2]);
        let max = max_pool3d(&channels_last, 2).data_format(DataFormat::Nhwc).call().unwrap();
        assert_eq!(max.size(), [1, 2, 2, 2, 2]);
        assert_eq!(max.double_value(&[0, 1, 1, 1, 1]), 127.0);
        let error = max_pool3d(&counting(&[1, 1, 4, 4]), 2).call().unwrap_err().to_string();
        assert!(error.contains("rank 5"), "{error}");
        let error = avg_pool3d(&line, [2, 2]).call().unwrap_err().to_string();
        assert!(error.contains("kernel_size must have 3 values"), "{error}");
    }
}
