//! `arg_scope!`: every listed item is arg-scopable and listed once; no key is given twice or belongs to one call
//! only. Whether every listed op takes every key is rustc's to check, against each op's `Args`.

use proc_macro2::Span;
use syn::Ident;

use crate::errors::Errors;
use crate::ops::{self, Callee};
use crate::parse::call::Keyword;

/// The ops of the list, each checked: scopable, listed once. Names that are not slim's ops are taken for
/// `#[slim::add_arg_scope]` functions (their `Args` type, which rustc checks, lives in a module of their name).
pub(crate) fn check_ops(list_span: Span, idents: &[Ident], errors: &mut Errors) -> Vec<Callee> {
    if idents.is_empty() {
        errors.add(list_span, format!("list the ops this scope sets defaults for, among: {}", ops::layer_names()));
    }
    let mut found = Vec::new();
    for (index, ident) in idents.iter().enumerate() {
        let name = ident.to_string();
        if idents[..index].contains(ident) {
            errors.add(ident.span(), format!("`{name}` is listed twice"));
            continue;
        }
        match ops::find(&name) {
            Some(op) if op.is_layer() => found.push(Callee::builtin(op, ident.span())),
            Some(_) => {
                errors.add(ident.span(), format!("`{name}` takes no keyword arguments, so arg scopes cannot set any"))
            }
            None if name == "repeat" || name == "stack" => errors.add(
                ident.span(),
                format!("`{name}` is not arg-scopable (as in TF-Slim); list the layer it repeats instead"),
            ),
            None => found.push(Callee::user(&ident.clone().into())),
        }
    }
    found
}

/// Each key at most once, and none that belongs to one call (`scope`, `reuse`).
pub(crate) fn check_keywords(keywords: &[Keyword], errors: &mut Errors) {
    for (index, keyword) in keywords.iter().enumerate() {
        let name = keyword.name.to_string();
        if keywords[..index].iter().any(|earlier| earlier.name == keyword.name) {
            errors.add(keyword.name.span(), format!("keyword `{name}` is given more than once"));
        } else if name == "scope" || name == "reuse" {
            errors.add(keyword.name.span(), format!("`{name}` belongs to one call, so an arg scope cannot set it"));
        }
    }
}
