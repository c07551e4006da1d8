//! `repeat!` and `stack!`: the runtime's `repeat` / `RepeatScope`, and inside a built model a direct replay of
//! the recorded layers (no builders, scopes or names per step).

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, Ident, Token};

use super::call::{bind_input, builder};
use crate::errors::Errors;
use crate::ops::Callee;
use crate::parse::call::{Keyword, parse_args};
use crate::parse::repeat::{RepeatInput, StackInput};
use crate::validate::repeat as validate;

/// Parses and checks one repeated or stacked layer's arguments (its input excluded) and builds its builder on
/// `input`.
fn layer_builder(
    callee: &Callee,
    callee_span: Span,
    args: Punctuated<Expr, Token![,]>,
    span: Span,
    input: &TokenStream,
    errors: &mut Errors,
) -> TokenStream {
    let args = parse_args(args, errors);
    validate::check_layer_args(callee, &args, span, errors);
    match callee {
        Callee::Builtin(op) => builder(op, callee_span, input, &args.positional, &args.keywords),
        Callee::User(path) => {
            let rest = &args.positional;
            let setters =
                args.keywords.iter().map(|Keyword { name, value }| quote_spanned!(value.span()=> .#name(#value)));
            quote!(#path(#input #(, #rest)*) #(#setters)*)
        }
    }
}

/// The value after a mistake: an empty tensor keeps the expression's type, so no errors follow from it.
fn error_value() -> TokenStream {
    quote!(::slim::tch::Tensor::new())
}

fn scope_arg(scope: &Option<Expr>) -> TokenStream {
    match scope {
        Some(scope) => quote!(::core::option::Option::Some(::core::convert::AsRef::<str>::as_ref(&(#scope)))),
        None => quote!(::core::option::Option::None),
    }
}

/// For one of slim's layers, wraps the expansion so a replaying model applies its next `count` layers instead.
fn with_replay(
    callee: &Callee,
    hold: TokenStream,
    inputs: &TokenStream,
    count: TokenStream,
    run: TokenStream,
) -> TokenStream {
    let Callee::Builtin(op) = callee else { return quote!({ #hold #run }) };
    let (name, x) = (op.name, Ident::new("__slim_x", Span::mixed_site()));
    quote!({
        #hold
        match ::slim::__private::replay_layers(#name, #inputs, #count)? {
            ::core::option::Option::Some(#x) => #x,
            ::core::option::Option::None => #run,
        }
    })
}

/// Expands a `repeat!` (standalone or inside a body), reporting errors into `errors`.
pub(crate) fn expand_repeat_in(tokens: TokenStream, errors: &mut Errors) -> TokenStream {
    let input: RepeatInput = match syn::parse2(tokens) {
        Ok(input) => input,
        Err(error) => {
            errors.push(error);
            return error_value();
        }
    };
    let Expr::Path(function) = &*input.layer.func else { return error_value() };
    let Some(callee) = validate::layer_callee(&function.path, "repeat", errors) else { return error_value() };
    let x = Ident::new("__slim_x", Span::mixed_site());
    let span = input.layer.span();
    let build = layer_builder(&callee, function.span(), input.layer.args, span, &quote!(#x), errors);
    let (hold, inputs) = bind_input(&input.inputs);
    let (repetitions, scope) = (&input.repetitions, scope_arg(&input.scope));
    let repeat = quote!(::slim::layers::repeat(#inputs, #repetitions, #scope, |#x: &::slim::tch::Tensor| #build)?);
    with_replay(&callee, hold, &inputs, quote!(#repetitions), repeat)
}

/// Expands a `stack!` (standalone or inside a body), reporting errors into `errors`: one layer call per
/// element of the literal list, each through a `RepeatScope` that names it.
pub(crate) fn expand_stack_in(tokens: TokenStream, errors: &mut Errors) -> TokenStream {
    let input: StackInput = match syn::parse2(tokens) {
        Ok(input) => input,
        Err(error) => {
            errors.push(error);
            return error_value();
        }
    };
    let callee = validate::layer_callee(&input.layer, "stack", errors);
    let listed = validate::check_stack_list(&input.per_layer, errors);
    let (Some(callee), true, Expr::Array(per_layer)) = (callee, listed, input.per_layer) else {
        return error_value();
    };
    let (x, outer) = (Ident::new("__slim_x", Span::mixed_site()), Ident::new("__slim_stack", Span::mixed_site()));
    let layers: Vec<TokenStream> = per_layer
        .elems
        .into_iter()
        .map(|element| {
            let span = element.span();
            let args = match element {
                Expr::Tuple(tuple) => tuple.elems,
                Expr::Paren(paren) => std::iter::once(*paren.expr).collect(),
                single => std::iter::once(single).collect(),
            };
            let build = layer_builder(&callee, input.layer.span(), args, span, &quote!(&#x), errors);
            quote!(let #x = #outer.apply(#build)?;)
        })
        .collect();
    let (hold, inputs) = bind_input(&input.inputs);
    let scope = scope_arg(&input.scope);
    let count = layers.len();
    let stack = quote!({
        let #outer = ::slim::__private::RepeatScope::enter(#scope, "Stack")?;
        let #x = ::slim::tch::Tensor::shallow_clone(#inputs);
        #(#layers)*
        #x
    });
    with_replay(&callee, hold, &inputs, quote!(#count), stack)
}

/// A standalone `repeat!` or `stack!`: the expansion, or the errors beside an empty tensor (which keeps the
/// value's type, so the mistake causes no errors further on).
pub(crate) fn standalone(tokens: TokenStream, expand_in: fn(TokenStream, &mut Errors) -> TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let expanded = expand_in(tokens, &mut errors);
    if errors.is_empty() {
        return expanded;
    }
    let (compile_errors, value) = (errors.to_compile_errors(), error_value());
    quote!({ #compile_errors #value })
}
