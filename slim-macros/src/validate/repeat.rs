//! `repeat!` and `stack!`: the repeated item is a layer; each layer's arguments are well formed; names come
//! from the outer scope, not from the layers.

use syn::spanned::Spanned;
use syn::{Expr, Path};

use super::call::check_arguments;
use crate::errors::Errors;
use crate::ops::{self, Callee};
use crate::parse::call::CallArgs;

/// The repeatable layer a path names: one of slim's layers, or a `#[slim::add_arg_scope]` function.
pub(crate) fn layer_callee(path: &Path, which: &str, errors: &mut Errors) -> Option<Callee> {
    let Some(ident) = path.get_ident() else { return Some(Callee::user(path)) };
    match ops::find(&ident.to_string()) {
        Some(op) if op.is_layer() => Some(Callee::builtin(op, ident.span())),
        Some(op) => {
            errors.add(ident.span(), format!("{which}! needs a layer; `{}` is a plain function", op.name));
            None
        }
        None => Some(Callee::user(path)),
    }
}

/// Checks one repeated or stacked layer's arguments (its input excluded).
pub(crate) fn check_layer_args(args: &CallArgs, errors: &mut Errors) {
    check_arguments(args, errors);
    if let Some(keyword) = args.keywords.iter().find(|k| k.name == "scope" || k.name == "reuse") {
        errors.add(
            keyword.name.span(),
            format!("`{}` cannot be set per layer here: the layers are named `scope_1`, `scope_2`, …", keyword.name),
        );
    }
}

/// `stack!`'s per-layer arguments must be a literal list.
pub(crate) fn check_stack_list(per_layer: &Expr, errors: &mut Errors) -> bool {
    if matches!(per_layer, Expr::Array(_)) {
        return true;
    }
    errors.add(
        per_layer.span(),
        "stack! takes a literal list of per-layer arguments: `[(32, [3, 3]), (64, [1, 1])]`; for a computed list \
         call `slim::layers::stack`",
    );
    false
}
