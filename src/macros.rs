//! slim's macros, documented here where users meet them: `#[slim::model]`, `arg_scope!`, `#[slim::add_arg_scope]`,
//! `repeat!` and `stack!` (the `slim-macros` crate expands them).

/// Defines a model. On a struct of hyper-parameters it leaves the struct as written; on that struct's `impl`
/// it takes `fn forward(&self, inputs: &Tensor) -> Result<Tensor>`, written in slim style, and implements
/// `slim::model::Model`, whose `build(&vs, "scope", &example_shape)` creates every variable and returns a
/// `Built` model to apply with `forward_t(&x, Mode::Train)`.
///
/// Inside the impl's bodies, slim's ops take keyword arguments checked at compile time
/// (`conv2d(net, 64, [3, 3], padding = Valid, scope = "conv1")`) and yield a `Tensor` (errors propagate with
/// `?`); `arg_scope!`, `repeat!` and `stack!` work as in TF-Slim. The body of `forward` may end in a `Tensor`
/// or a `Result<Tensor>`.
///
/// ```
/// use slim::prelude::*;
///
/// #[slim::model]
/// struct Tiny {
///     classes: i64,
/// }
///
/// #[slim::model]
/// impl Tiny {
///     fn forward(&self, inputs: &Tensor) -> Result<Tensor> {
///         let net = conv2d(inputs, 8, [3, 3], scope = "conv1");
///         let net = max_pool2d(net, [2, 2], scope = "pool1");
///         let net = flatten(net);
///         fully_connected(net, self.classes, activation_fn = None, scope = "logits")
///     }
/// }
///
/// # fn main() -> slim::Result<()> {
/// let vs = VarStore::new(Device::Cpu);
/// let net = Tiny { classes: 10 }.build(&vs, "tiny", &[1, 1, 8, 8])?;
/// assert!(vs.variable("tiny/conv1/weights").is_some());
/// let out = net.forward_t(&Tensor::zeros([2, 1, 8, 8], (Kind::Float, Device::Cpu)), Mode::Eval)?;
/// assert_eq!(out.output.size(), [2, 10]);
/// # Ok(())
/// # }
/// ```
pub use slim_macros::model;

/// Sets defaults for the listed ops while the body runs, as TF-Slim's `arg_scope`: explicit arguments beat
/// the innermost scope, which beats outer ones; defaults reach ops called in functions called from the body.
/// Every key must be an argument of every listed op (checked at compile time). The body's value is the
/// macro's value; `arg_scope!(saved => { … })` enters a scope value kept earlier, replacing the active one.
///
/// ```
/// use slim::prelude::*;
///
/// fn my_arg_scope(weight_decay: f64) -> ArgScope {
///     arg_scope!([conv2d, fully_connected], weights_regularizer = l2_regularizer(weight_decay) => {
///         arg_scope!([conv2d], padding = Valid => { ArgScope::current() })
///     })
/// }
///
/// # fn main() -> slim::Result<()> {
/// let vs = VarStore::new(Device::Cpu);
/// let _store = vs.as_default();
/// let x = Tensor::zeros([1, 3, 8, 8], (Kind::Float, Device::Cpu));
/// let out = arg_scope!(my_arg_scope(5e-4) => { conv2d(&x, 4, 3).call()? });
/// assert_eq!(out.size(), [1, 4, 6, 6]);
/// assert_eq!(vs.regularization_losses().len(), 1);
/// # Ok(())
/// # }
/// ```
pub use slim_macros::arg_scope;

/// TF-Slim's `add_arg_scope` for your own functions (custom layers, residual blocks): parameters marked
/// `#[default(value)]` become keywords that calls and arg scopes can set, checked at compile time. The function
/// becomes a call builder like slim's layers (`block(&x, 64).stride(2).call()?`, or `block(x, 64, stride = 2)`
/// in a model body), takes `scope = …`, and works in `repeat!` and `stack!`. A module of the same name holds
/// its `Args` (what `arg_scope!` sets) and `Call` types. Its first parameter is the input (`&Tensor`); the body
/// may end in a `Tensor` or a `Result<Tensor>`.
///
/// ```
/// use slim::prelude::*;
///
/// /// conv → conv, plus the input (projected when the shape changes).
/// #[slim::add_arg_scope]
/// fn residual(inputs: &Tensor, filters: i64, #[default(1)] stride: i64) -> Result<Tensor> {
///     let net = conv2d(inputs, filters, [3, 3], stride = stride, scope = "conv1");
///     let net = conv2d(net, filters, [3, 3], activation_fn = None, scope = "conv2");
///     let shortcut = if stride == 1 { inputs.shallow_clone() } else {
///         conv2d(inputs, filters, [1, 1], stride = stride, activation_fn = None, scope = "shortcut")
///     };
///     Ok((net + shortcut).relu())
/// }
///
/// # fn main() -> slim::Result<()> {
/// let vs = VarStore::new(Device::Cpu);
/// let _store = vs.as_default();
/// let x = Tensor::zeros([1, 8, 8, 8], (Kind::Float, Device::Cpu));
/// let y = arg_scope!([residual], stride = 2 => { residual(&x, 16).scope("block1").call()? });
/// assert_eq!(y.size(), [1, 16, 4, 4]);
/// assert!(vs.variable("block1/shortcut/weights").is_some());
/// # Ok(())
/// # }
/// ```
pub use slim_macros::add_arg_scope;

/// TF-Slim's `repeat`: `repeat!(inputs, 3, conv2d(256, [3, 3]), scope = "conv3")` applies the layer three
/// times in scopes `conv3/conv3_1` … `conv3/conv3_3`. Evaluates to the output; errors propagate with `?`.
///
/// ```
/// use slim::prelude::*;
///
/// # fn main() -> slim::Result<()> {
/// let vs = VarStore::new(Device::Cpu);
/// let _store = vs.as_default();
/// let x = Tensor::zeros([1, 3, 8, 8], (Kind::Float, Device::Cpu));
/// let out = repeat!(x, 2, conv2d(16, [3, 3], padding = Valid), scope = "conv1");
/// assert_eq!(out.size(), [1, 16, 4, 4]);
/// assert!(vs.variable("conv1/conv1_2/weights").is_some());
/// # Ok(())
/// # }
/// ```
pub use slim_macros::repeat;

/// TF-Slim's `stack`: `stack!(x, conv2d, [(32, [3, 3]), (64, [1, 1])], scope = "core")` applies the layer once
/// per argument list, in scopes `core/core_1`, `core/core_2`. Evaluates to the output; errors propagate with
/// `?`.
///
/// ```
/// use slim::prelude::*;
///
/// # fn main() -> slim::Result<()> {
/// let vs = VarStore::new(Device::Cpu);
/// let _store = vs.as_default();
/// let x = Tensor::zeros([2, 10], (Kind::Float, Device::Cpu));
/// let out = stack!(x, fully_connected, [32, 64, 128], scope = "fc");
/// assert_eq!(out.size(), [2, 128]);
/// assert_eq!(vs.variable("fc/fc_3/weights").map(|v| v.shape()), Some(vec![128, 64]));
/// # Ok(())
/// # }
/// ```
pub use slim_macros::stack;
