//! `repeat!` and `stack!`: the runtime's `repeat` / `RepeatScope` around the layer's builder (inside a built
//! model each call replays its recorded layer, and no scope is entered or name made).

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::punctuated::Punctuated;
use syn::{Expr, Ident, Token};

use super::call::{bind_input, builder};
use crate::errors::Errors;
use crate::ops::Callee;
use crate::parse::call::parse_args;
use crate::parse::repeat::{RepeatInput, StackInput};
use crate::validate::repeat as validate;

/// Parses and checks one repeated or stacked layer's arguments (its input excluded) and builds its builder on
/// `input`.
fn layer_builder(
    callee: &Callee,
    args: Punctuated<Expr, Token![,]>,
    input: &TokenStream,
    errors: &mut Errors,
) -> TokenStream {
    let args = parse_args(args, errors);
    validate::check_layer_args(&args, errors);
    builder(callee, input, &args.positional, &args.keywords)
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
    let callee = callee.called_with(input.layer.paren_token.span.join());
    let x = Ident::new("__slim_x", Span::mixed_site());
    let build = layer_builder(&callee, input.layer.args, &quote!(#x), errors);
    let (hold, inputs) = bind_input(&input.inputs);
    let (repetitions, scope) = (&input.repetitions, scope_arg(&input.scope));
    quote!({
        #hold
        ::slim::layers::repeat(#inputs, #repetitions, #scope, |#x: &::slim::tch::Tensor| #build)?
    })
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
            let args = match element {
                Expr::Tuple(tuple) => tuple.elems,
                Expr::Paren(paren) => std::iter::once(*paren.expr).collect(),
                single => std::iter::once(single).collect(),
            };
            let build = layer_builder(&callee, args, &quote!(&#x), errors);
            quote!(let #x = #outer.apply(#build)?;)
        })
        .collect();
    let (hold, inputs) = bind_input(&input.inputs);
    let scope = scope_arg(&input.scope);
    quote!({
        #hold
        let #outer = ::slim::__private::RepeatScope::enter(#scope, "Stack")?;
        let #x = ::slim::tch::Tensor::shallow_clone(#inputs);
        #(#layers)*
        #x
    })
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
