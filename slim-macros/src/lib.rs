//! slim's procedural macros: `#[slim::model]`, `#[slim::add_arg_scope]`, `arg_scope!`, `repeat!` and `stack!`.
//! Use them through the `tch-slim` package (library `slim`): it re-exports them beside the runtime they expand
//! to, and its documentation has each macro's examples (they need the runtime, so none can run here).
//!
//! ```text
//! #[slim::model]                                  // a struct of hyperparameters, and an impl with fn forward:
//! impl Vgg16 {                                    // build(&vs, "vgg_16", &[1, 3, 224, 224]) creates the
//!     fn forward(&self, inputs: &Tensor) -> Result<Tensor> {  // variables once, then forward passes replay
//!         arg_scope!([conv2d, fully_connected], activation_fn = relu,
//!                    weights_regularizer = l2_regularizer(5e-4) => {  // defaults for every call inside
//!             let net = repeat!(inputs, 2, conv2d, 64, [3, 3], scope = "conv1"); // conv1/conv1_1, conv1_2
//!             let net = max_pool2d(net, [2, 2], scope = "pool1");  // keywords checked against the layer's Args
//!             ...
//!         })
//!     }
//! }
//! ```
//!
//! Each macro runs three phases, one module each: `parse` (syntax into structs), `validate` (the shapes the
//! runtime needs, every mistake reported at its token, all at once; a layer's keywords and arities are rustc's to
//! check, against its Rust types) and `expand` (calls of the `slim` runtime); `rewrite` applies them to the op
//! calls and nested macros inside bodies. `tests/ui/` in slim's repository holds a compile-fail case for each
//! misuse, with the error a user sees.

mod errors;
mod expand;
#[cfg(test)]
mod expansion_tests;
mod ops;
mod parse;
mod rewrite;
mod validate;

use proc_macro::TokenStream;

#[allow(missing_docs)] // documented with examples where users meet it: `slim::model`
#[proc_macro_attribute]
pub fn model(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::model::expand(args.into(), item.into()).into()
}

#[allow(missing_docs)] // documented with examples where users meet it: `slim::arg_scope`
#[proc_macro]
pub fn arg_scope(tokens: TokenStream) -> TokenStream {
    expand::arg_scope::expand(tokens.into()).into()
}

#[allow(missing_docs)] // documented with examples where users meet it: `slim::add_arg_scope`
#[proc_macro_attribute]
pub fn add_arg_scope(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::add_arg_scope::expand(args.into(), item.into()).into()
}

#[allow(missing_docs)] // documented with examples where users meet it: `slim::repeat`
#[proc_macro]
pub fn repeat(tokens: TokenStream) -> TokenStream {
    expand::repeat::standalone(tokens.into(), expand::repeat::expand_repeat_in).into()
}

#[allow(missing_docs)] // documented with examples where users meet it: `slim::stack`
#[proc_macro]
pub fn stack(tokens: TokenStream) -> TokenStream {
    expand::repeat::standalone(tokens.into(), expand::repeat::expand_stack_in).into()
}

/// The macros' list of slim's layers, as `&[(name, op name of ::slim::layers::name::Args)]`, so a test can
/// check that each name is a layer of the runtime with that op name. Not part of the API.
#[doc(hidden)]
#[proc_macro]
pub fn __op_table(_: TokenStream) -> TokenStream {
    let rows = ops::OPS.iter().filter(|op| op.is_layer()).map(|op| {
        let (name, path) = (op.name, op.path(proc_macro2::Span::call_site()));
        quote::quote!((#name, <#path::Args as ::slim::arg_scope::ScopeArgs>::OP_NAME))
    });
    quote::quote!(&[#(#rows),*] as &[(&str, &str)]).into()
}
