//! `arg_scope!`: parse `([ops…], key = value, … => { body })` or `(saved_scope => { body })`, check every key
//! against every listed op, and expand into entering an arg scope around the (rewritten) body.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::visit_mut::VisitMut;
use syn::{Block, Expr, Ident, Token, bracketed};

use crate::call::{Keyword, layer_type};
use crate::errors::Errors;
use crate::ops::{self, Callee, OpKind};
use crate::rewrite::Rewriter;

/// What the scope sets: defaults for listed ops, or a saved scope to enter.
enum Target {
    Ops { list_span: Span, ops: Vec<Ident>, keywords: Vec<Keyword> },
    Saved(Expr),
}

/// A parsed `arg_scope!` invocation.
struct ArgScopeInput {
    target: Target,
    body: Block,
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

/// The ops of the list, each checked: scopable, listed once. Names that are not slim's ops are taken for
/// `#[slim::add_arg_scope]` functions (their `Args` type, which rustc checks, lives in a module of their name).
fn check_ops(list_span: Span, idents: &[Ident], errors: &mut Errors) -> Vec<(Callee, Span)> {
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
fn check_keywords(found: &[(Callee, Span)], keywords: &[Keyword], errors: &mut Errors) {
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

fn enter_ops(found: &[(Callee, Span)], keywords: &[Keyword]) -> TokenStream {
    let frames = found.iter().map(|(callee, span)| {
        let args = match callee {
            Callee::Builtin(op) => layer_type(op, "Args", *span),
            Callee::User(path) => quote!(#path::Args),
        };
        let setters = keywords.iter().map(|Keyword { name, value }| quote!(.#name(#value)));
        quote!(.with(#args::default() #(#setters)*))
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
            let found = check_ops(*list_span, ops, rewriter.errors);
            check_keywords(&found, keywords, rewriter.errors);
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
        let #guard = if ::slim::model::tape::is_replaying() {
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
