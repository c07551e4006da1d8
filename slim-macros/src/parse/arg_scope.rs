//! `arg_scope!`'s input: `[ops…], key = value, … => { body }` or `saved_scope => { body }`.

use proc_macro2::Span;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Block, Expr, Ident, Token, bracketed};

use super::call::Keyword;

/// What the scope sets: defaults for listed ops, or a saved scope to enter.
pub(crate) enum Target {
    /// `[ops…], key = value, …`.
    Ops { list_span: Span, ops: Vec<Ident>, keywords: Vec<Keyword> },
    /// An expression giving an `ArgScope`.
    Saved(Expr),
}

/// A parsed `arg_scope!` invocation.
pub(crate) struct ArgScopeInput {
    pub(crate) target: Target,
    pub(crate) body: Block,
}

impl Parse for ArgScopeInput {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let target = if input.peek(syn::token::Bracket) {
            parse_ops(input)?
        } else {
            Target::Saved(input.call(Expr::parse_without_eager_brace)?)
        };
        if input.is_empty() || !input.peek(Token![=>]) {
            return Err(input.error(
                "arg_scope! needs a body: `arg_scope!([ops…], key = value => { … })`; to keep a scope for later, \
                 return `ArgScope::current()` from the body",
            ));
        }
        input.parse::<Token![=>]>()?;
        let body: Block = input.parse()?;
        if !input.is_empty() {
            return Err(input.error("unexpected tokens after the arg_scope! body"));
        }
        Ok(ArgScopeInput { target, body })
    }
}

fn parse_ops(input: ParseStream<'_>) -> syn::Result<Target> {
    let content;
    let bracket = bracketed!(content in input);
    let ops: Punctuated<Ident, Token![,]> = content.parse_terminated(Ident::parse, Token![,])?;
    let mut keywords = Vec::new();
    while input.peek(Token![,]) {
        input.parse::<Token![,]>()?;
        if input.peek(Token![=>]) {
            break;
        }
        let name: Ident = input.parse()?;
        input.parse::<Token![=]>()?;
        let value = input.call(Expr::parse_without_eager_brace)?;
        keywords.push(Keyword { name, value });
    }
    Ok(Target::Ops { list_span: bracket.span.join(), ops: ops.into_iter().collect(), keywords })
}
