//! `#[slim::add_arg_scope]`'s input: the function's parameters, with `#[default(value)]` taken out of them.

use syn::spanned::Spanned;
use syn::{Attribute, Expr, FnArg, Ident, ItemFn, Pat, Type};

use crate::errors::Errors;

/// A parameter of the function: its name and type, and its default when it is a keyword.
pub(crate) struct Param {
    pub(crate) ident: Ident,
    pub(crate) mutable: bool,
    pub(crate) ty: Type,
    pub(crate) default: Option<Expr>,
}

/// Takes `#[default(value)]` out of a parameter's attributes.
fn take_default(attrs: &mut Vec<Attribute>, errors: &mut Errors) -> Option<Expr> {
    let position = attrs.iter().position(|attr| attr.path().is_ident("default"))?;
    let attr = attrs.remove(position);
    match attr.parse_args::<Expr>() {
        Ok(value) => Some(value),
        Err(_) => {
            errors.add(attr.span(), "write the default as `#[default(value)]`");
            None
        }
    }
}

/// The function's parameters, its `#[default(…)]` attributes removed from `item`.
pub(crate) fn params(item: &mut ItemFn, errors: &mut Errors) -> Vec<Param> {
    let mut params = Vec::new();
    for input in item.sig.inputs.iter_mut() {
        let FnArg::Typed(typed) = input else {
            errors.add(input.span(), "#[slim::add_arg_scope] goes on free functions, not methods");
            continue;
        };
        let default = take_default(&mut typed.attrs, errors);
        let Pat::Ident(pat) = &*typed.pat else {
            errors.add(typed.pat.span(), "parameters of an arg-scoped function must be plain names");
            continue;
        };
        params.push(Param {
            ident: pat.ident.clone(),
            mutable: pat.mutability.is_some(),
            ty: (*typed.ty).clone(),
            default,
        });
    }
    params
}
