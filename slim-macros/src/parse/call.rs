//! An op call's arguments: positional ones, then `name = value` keywords.

use proc_macro2::Span;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, Ident, Token};

use crate::errors::Errors;

/// A keyword argument `name = value`.
pub(crate) struct Keyword {
    pub(crate) name: Ident,
    pub(crate) value: Expr,
}

/// A call's arguments split into positional ones and keywords, each in source order.
pub(crate) struct CallArgs {
    pub(crate) positional: Vec<Expr>,
    pub(crate) keywords: Vec<Keyword>,
    /// Positional arguments written after a keyword: their span and the keyword before them.
    pub(crate) late_positional: Vec<(Span, Ident)>,
}

/// Splits `args` into positional arguments and keywords; a keyword whose name is not a plain identifier is
/// reported (and left out).
pub(crate) fn parse_args(args: Punctuated<Expr, Token![,]>, errors: &mut Errors) -> CallArgs {
    let mut parsed = CallArgs { positional: Vec::new(), keywords: Vec::new(), late_positional: Vec::new() };
    for arg in args {
        match arg {
            Expr::Assign(assign) => match keyword_name(&assign.left) {
                Some(name) => parsed.keywords.push(Keyword { name, value: *assign.right }),
                None => errors.add(assign.left.span(), "a keyword argument needs a plain name: `name = value`"),
            },
            positional => {
                if let Some(last) = parsed.keywords.last() {
                    parsed.late_positional.push((positional.span(), last.name.clone()));
                }
                parsed.positional.push(positional);
            }
        }
    }
    parsed
}

fn keyword_name(left: &Expr) -> Option<Ident> {
    match left {
        Expr::Path(path) if path.qself.is_none() && path.attrs.is_empty() => path.path.get_ident().cloned(),
        _ => None,
    }
}
