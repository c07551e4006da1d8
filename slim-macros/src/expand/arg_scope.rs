//! `arg_scope!`: entering an arg scope (unless a built model is replaying) around the rewritten body, whose
//! value is the macro's value.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::Ident;
use syn::visit_mut::VisitMut;

use crate::errors::Errors;
use crate::ops::Callee;
use crate::parse::arg_scope::{ArgScopeInput, Target};
use crate::parse::call::Keyword;
use crate::rewrite::Rewriter;
use crate::validate::arg_scope as validate;

/// `ArgScope::current().with(op::Args::default().key(value)…)….enter()`.
fn enter_ops(found: &[Callee], keywords: &[Keyword]) -> TokenStream {
    let frames = found.iter().map(|callee| {
        let args = callee.path();
        let setters = keywords.iter().map(|Keyword { name, value }| quote!(.#name(#value)));
        quote!(.with(#args::Args::default() #(#setters)*))
    });
    quote!(::slim::arg_scope::ArgScope::current() #(#frames)* .enter())
}

/// Expands an `arg_scope!` found inside a body being rewritten.
pub(crate) fn expand_in(tokens: TokenStream, rewriter: &mut Rewriter<'_>) -> TokenStream {
    let mut input: ArgScopeInput = match syn::parse2(tokens) {
        Ok(input) => input,
        Err(error) => {
            rewriter.errors.push(error);
            return quote!(::slim::arg_scope::ArgScope::current());
        }
    };
    let errors_before = rewriter.errors.len();
    let enter = match &input.target {
        Target::Ops { list_span, ops, keywords } => {
            let found = validate::check_ops(*list_span, ops, rewriter.errors);
            validate::check_keywords(keywords, rewriter.errors);
            enter_ops(&found, keywords)
        }
        Target::Saved(scope) => quote!(::slim::arg_scope::ArgScope::enter(&(#scope))),
    };
    rewriter.visit_block_mut(&mut input.body);
    let body = &input.body.stmts;
    if rewriter.errors.len() > errors_before {
        // The body alone keeps the value's type, so the mistake causes no errors further on.
        return quote!({ #(#body)* });
    }
    let guard = Ident::new("__slim_arg_scope", Span::mixed_site());
    quote!({
        let #guard = if ::slim::__private::is_replaying() {
            ::core::option::Option::None
        } else {
            ::core::option::Option::Some(#enter)
        };
        #(#body)*
    })
}

/// The standalone `arg_scope!` macro.
pub(crate) fn expand(tokens: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let expanded = expand_in(tokens, &mut Rewriter { errors: &mut errors });
    if errors.is_empty() {
        return expanded;
    }
    let compile_errors = errors.to_compile_errors();
    quote!({ #compile_errors #expanded })
}
