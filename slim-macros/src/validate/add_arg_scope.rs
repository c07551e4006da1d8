//! `#[slim::add_arg_scope]`: the function's shape: its input first, owned positional parameters, keywords last,
//! no generics, a return value; `scope` and `reuse` are reserved.

use proc_macro2::TokenStream;
use syn::spanned::Spanned;
use syn::{ItemFn, ReturnType, Type};

use crate::errors::Errors;
use crate::parse::add_arg_scope::Param;

/// The attribute takes no arguments.
pub(crate) fn check_attribute_args(args: &TokenStream, errors: &mut Errors) {
    if !args.is_empty() {
        errors
            .add(args.span(), "#[slim::add_arg_scope] takes no arguments; mark keyword parameters `#[default(value)]`");
    }
}

/// `scope` and `reuse` are every arg-scoped function's own keywords.
pub(crate) fn check_reserved(params: &[Param], errors: &mut Errors) {
    for param in params.iter().filter(|p| p.default.is_some()) {
        let ident = &param.ident;
        if ident == "scope" || ident == "reuse" {
            errors.add(ident.span(), format!("`{ident}` is reserved: every arg-scoped function takes `scope = …`"));
        }
    }
}

/// The first parameter is the input (`&Tensor`); then positional parameters of owned types; then keywords.
pub(crate) fn check(item: &ItemFn, params: &[Param], errors: &mut Errors) {
    let sig = &item.sig;
    let input_ok = matches!(params.first(), Some(Param { ty: Type::Reference(_), default: None, .. }));
    match params.first() {
        _ if input_ok => {}
        Some(first) => errors.add(first.ty.span(), "the first parameter is the layer's input: `inputs: &Tensor`"),
        None => errors.add(sig.paren_token.span.join(), "an arg-scoped function takes its input: `inputs: &Tensor`"),
    }
    let mut seen_keyword = false;
    for param in params.iter().skip(1) {
        match (&param.default, seen_keyword) {
            (Some(_), _) => seen_keyword = true,
            (None, true) => errors.add(
                param.ident.span(),
                format!("`{}` has no `#[default(…)]` but follows a keyword parameter: keywords come last", param.ident),
            ),
            (None, false) if input_ok => {
                if let Type::Reference(reference) = &param.ty {
                    errors.add(
                        reference.span(),
                        "positional parameters besides the input must be owned (a call builder keeps them)",
                    );
                }
            }
            (None, false) => {}
        }
    }
    if !sig.generics.params.is_empty() {
        errors.add(sig.generics.span(), "an arg-scoped function cannot be generic");
    }
    if let Some(asyncness) = &sig.asyncness {
        errors.add(asyncness.span(), "an arg-scoped function cannot be async");
    }
    if let ReturnType::Default = sig.output {
        errors.add(sig.ident.span(), "an arg-scoped function returns its output: `-> Result<Tensor>`");
    }
}
