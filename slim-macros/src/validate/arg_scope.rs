//! `arg_scope!`: every listed item is arg-scopable and listed once; every key is an argument of every listed op.

use proc_macro2::Span;
use syn::Ident;

use crate::errors::Errors;
use crate::ops::{self, Callee, OpKind};
use crate::parse::call::Keyword;

/// The ops of the list, each checked: scopable, listed once. Names that are not slim's ops are taken for
/// `#[slim::add_arg_scope]` functions (their `Args` type, which rustc checks, lives in a module of their name).
pub(crate) fn check_ops(list_span: Span, idents: &[Ident], errors: &mut Errors) -> Vec<(Callee, Span)> {
    if idents.is_empty() {
        errors.add(list_span, format!("list the ops this scope sets defaults for, among: {}", ops::layer_names()));
    }
    let mut found: Vec<(Callee, Span)> = Vec::new();
    for (index, ident) in idents.iter().enumerate() {
        let name = ident.to_string();
        if idents[..index].contains(ident) {
            errors.add(ident.span(), format!("`{name}` is listed twice"));
            continue;
        }
        match ops::find(&name) {
            Some(op) if op.kind != OpKind::Function => found.push((Callee::Builtin(op), ident.span())),
            Some(_) => {
                errors.add(ident.span(), format!("`{name}` takes no keyword arguments, so arg scopes cannot set any"))
            }
            None if name == "repeat" || name == "stack" => errors.add(
                ident.span(),
                format!("`{name}` is not arg-scopable (as in TF-Slim); list the layer it repeats instead"),
            ),
            None => found.push((Callee::User(ident.clone().into()), ident.span())),
        }
    }
    found
}

/// Every keyword must be an argument of every listed op of slim's (rustc checks the user functions').
pub(crate) fn check_keywords(found: &[(Callee, Span)], keywords: &[Keyword], errors: &mut Errors) {
    for (index, keyword) in keywords.iter().enumerate() {
        let name = keyword.name.to_string();
        if keywords[..index].iter().any(|earlier| earlier.name == keyword.name) {
            errors.add(keyword.name.span(), format!("keyword `{name}` is given more than once"));
            continue;
        }
        if name == "scope" || name == "reuse" {
            errors.add(keyword.name.span(), format!("`{name}` belongs to one call, so an arg scope cannot set it"));
            continue;
        }
        for (callee, _) in found {
            if let Callee::Builtin(op) = callee
                && !op.keywords.contains(&name.as_str())
            {
                let suggestion = ops::did_you_mean(&name, op.keywords.iter().copied());
                errors.add(
                    keyword.name.span(),
                    format!(
                        "`{}` has no argument `{name}` that a scope can set{suggestion}; it takes: {}",
                        op.name,
                        op.keywords.join(", ")
                    ),
                );
            }
        }
    }
}
