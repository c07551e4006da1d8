//! The names slim's macros know, and how each is called. A built-in layer (`conv2d`) is a function of the
//! `slim::layers` module returning a call builder, beside a module of its name holding `Args` and `Call`, the
//! shape `#[slim::add_arg_scope]` gives a user's function; so the macros expand both alike, and a layer's
//! keywords and arguments are checked by rustc against those Rust types, not against a table here. The list
//! only says which bare names in a body are slim's (`conv2d(net, 64, 3)` without keywords is still a layer call)
//! and which of them are plain functions of tensors (`flatten`). `tests/model_macros.rs` checks it against the
//! runtime.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};

/// How one of slim's ops runs.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum OpKind {
    /// A layer with a call builder (`conv2d(…).padding(…).call()`), arg-scopable, repeatable.
    Layer,
    /// A plain function of tensors (`flatten`): positional arguments only.
    Function,
}

/// One of slim's ops.
pub(crate) struct Op {
    pub(crate) name: &'static str,
    pub(crate) kind: OpKind,
}

/// Every op, in the order error messages list them.
pub(crate) const OPS: &[Op] = &[
    Op { name: "conv2d", kind: OpKind::Layer },
    Op { name: "conv2d_transpose", kind: OpKind::Layer },
    Op { name: "conv2d_in_plane", kind: OpKind::Layer },
    Op { name: "conv1d", kind: OpKind::Layer },
    Op { name: "conv3d", kind: OpKind::Layer },
    Op { name: "conv3d_transpose", kind: OpKind::Layer },
    Op { name: "convolution", kind: OpKind::Layer },
    Op { name: "separable_conv2d", kind: OpKind::Layer },
    Op { name: "fully_connected", kind: OpKind::Layer },
    Op { name: "legacy_fully_connected", kind: OpKind::Layer },
    Op { name: "batch_norm", kind: OpKind::Layer },
    Op { name: "layer_norm", kind: OpKind::Layer },
    Op { name: "group_norm", kind: OpKind::Layer },
    Op { name: "instance_norm", kind: OpKind::Layer },
    Op { name: "gdn", kind: OpKind::Layer },
    Op { name: "spatial_softmax", kind: OpKind::Layer },
    Op { name: "bias_add", kind: OpKind::Layer },
    Op { name: "max_pool2d", kind: OpKind::Layer },
    Op { name: "avg_pool2d", kind: OpKind::Layer },
    Op { name: "max_pool3d", kind: OpKind::Layer },
    Op { name: "avg_pool3d", kind: OpKind::Layer },
    Op { name: "dropout", kind: OpKind::Layer },
    Op { name: "drop_path", kind: OpKind::Layer },
    Op { name: "flatten", kind: OpKind::Function },
    Op { name: "softmax", kind: OpKind::Function },
    Op { name: "one_hot_encoding", kind: OpKind::Function },
    Op { name: "unit_norm", kind: OpKind::Function },
    Op { name: "end_point", kind: OpKind::Function },
    Op { name: "maxout", kind: OpKind::Function },
    Op { name: "scale_gradient", kind: OpKind::Function },
    Op { name: "images_to_sequence", kind: OpKind::Function },
    Op { name: "sequence_to_images", kind: OpKind::Function },
];

/// The op called `name`.
pub(crate) fn find(name: &str) -> Option<&'static Op> {
    OPS.iter().find(|op| op.name == name)
}

impl Op {
    /// Whether it has a call builder (so arg scopes can list it and `repeat!` repeat it).
    pub(crate) fn is_layer(&self) -> bool {
        self.kind == OpKind::Layer
    }

    /// Its path in the runtime, `::slim::layers::name`, located at the user's token `span` (so errors about
    /// the call point there) while lints still see the prefix as generated.
    pub(crate) fn path(&self, span: Span) -> TokenStream {
        let name = syn::Ident::new(self.name, span);
        quote_spanned!(Span::call_site().located_at(span)=> ::slim::layers::#name)
    }
}

/// The names of the arg-scopable ops, for error messages.
pub(crate) fn layer_names() -> String {
    OPS.iter().filter(|op| op.is_layer()).map(|op| op.name).collect::<Vec<_>>().join(", ")
}

/// What a call or list entry names: a function with a call builder and a module of its name holding `Args`
/// and `Call` (one of slim's layers, or a function made with `#[slim::add_arg_scope]`), by its path.
pub(crate) struct Callee {
    path: TokenStream,
    /// Where the call's parentheses are, which rustc's messages about its arguments point at and rewrite: the
    /// user's parentheses, or the name when the macro supplies them (`stack!`).
    parens: Span,
}

impl Callee {
    /// One of slim's layers, named at `span`.
    pub(crate) fn builtin(op: &Op, span: Span) -> Callee {
        Callee { path: op.path(span), parens: span }
    }

    /// A user function, by the path it was named with.
    pub(crate) fn user(path: &syn::Path) -> Callee {
        Callee { path: quote!(#path), parens: syn::spanned::Spanned::span(path) }
    }

    /// The function's path.
    pub(crate) fn path(&self) -> &TokenStream {
        &self.path
    }

    /// The same callee, called with the user's parentheses at `parens`.
    pub(crate) fn called_with(self, parens: Span) -> Callee {
        Callee { parens, ..self }
    }

    /// Where the call's parentheses are.
    pub(crate) fn parens(&self) -> Span {
        self.parens
    }
}
