//! An op call in a body written in slim style, expanded into the runtime's builder chain (which replays the
//! recorded layer inside a built model). slim's layers and `#[slim::add_arg_scope]` functions expand alike.

use proc_macro2::{Delimiter, Group, Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Expr, Ident};

use crate::ops::{Callee, Op};
use crate::parse::call::{CallArgs, Keyword};

/// The builder expression `path(input, rest…).keyword(value)…` (not yet called). Each keyword is a method of
/// the function's `Call`, spanned at the user's token, so rustc reports an unknown one there; a wrong number of
/// arguments is reported at the function's name and parentheses.
pub(crate) fn builder(callee: &Callee, input: &TokenStream, rest: &[Expr], keywords: &[Keyword]) -> TokenStream {
    let path = callee.path();
    let setters = keywords.iter().map(|Keyword { name, value }| quote_spanned!(value.span()=> .#name(#value)));
    let mut arguments = Group::new(Delimiter::Parenthesis, quote!(#input #(, #rest)*));
    arguments.set_span(Span::call_site().located_at(callee.parens()));
    quote!(#path #arguments #(#setters)*)
}

/// Binds a call's input: a place (`net`, `self.x`, `&net`) is borrowed where it is; any other expression is
/// first held in a local, so the borrow outlives the statement. Returns the statements and the `&Tensor`,
/// spanned at the input (where rustc's messages about it point).
pub(crate) fn bind_input(input: &Expr) -> (TokenStream, TokenStream) {
    let is_place = |expr: &Expr| matches!(expr, Expr::Path(_) | Expr::Field(_));
    let borrowed = match input {
        Expr::Reference(reference) => is_place(&reference.expr),
        other => is_place(other),
    };
    // The macro's own tokens, located at the input: lints still see them as generated.
    let span = Span::call_site().located_at(input.span());
    if borrowed {
        return (TokenStream::new(), quote_spanned!(span=> ::slim::__private::LayerInput::layer_input(&(#input))));
    }
    let held = Ident::new("__slim_held", Span::mixed_site().located_at(span));
    (quote!(let #held = #input;), quote_spanned!(span=> ::slim::__private::LayerInput::layer_input(&#held)))
}

/// The expansion of a layer call `layer(input, rest…, keywords…)` in a model body: a `Tensor`, errors
/// propagated with `?`.
pub(crate) fn expand_layer_call(callee: &Callee, args: CallArgs) -> TokenStream {
    let mut positional = args.positional.into_iter();
    let Some(input) = positional.next() else { return quote!(::core::unreachable!()) };
    let rest: Vec<Expr> = positional.collect();
    let (hold, borrow_input) = bind_input(&input);
    let build = builder(callee, &borrow_input, &rest, &args.keywords);
    quote!({ #hold #build.call()? })
}

/// The expansion of a call of one of slim's plain functions (`flatten(net)`) in a model body: a `Tensor`,
/// errors propagated with `?`.
pub(crate) fn expand_function_call(op: &Op, op_span: Span, args: CallArgs) -> TokenStream {
    let mut positional = args.positional.into_iter();
    let Some(input) = positional.next() else { return quote!(::core::unreachable!()) };
    let rest: Vec<Expr> = positional.collect();
    let (hold, borrow_input) = bind_input(&input);
    let function = op.path(op_span);
    quote!({ #hold #function(#borrow_input #(, #rest)*)? })
}
