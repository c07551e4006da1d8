//! An op call in a body written in slim style, expanded into the runtime's builder chain (which replays the
//! recorded layer inside a built model).

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Expr, Ident};

use crate::ops::{Op, OpKind};
use crate::parse::call::{CallArgs, Keyword};

/// The builder expression `::slim::layers::op(input, rest…).keyword(value)…` (not yet called).
pub(crate) fn builder(op: &Op, op_span: Span, input: &TokenStream, rest: &[Expr], keywords: &[Keyword]) -> TokenStream {
    let function = Ident::new(op.name, op_span);
    let setters = keywords.iter().map(|Keyword { name, value }| {
        let setter = Ident::new(&name.to_string(), name.span());
        quote_spanned!(value.span()=> .#setter(#value))
    });
    quote!(::slim::layers::#function(#input #(, #rest)*) #(#setters)*)
}

/// Binds a call's input: a place (`net`, `self.x`, `&net`) is borrowed where it is; any other expression is
/// first held in a local, so the borrow outlives the statement. Returns the statements and the `&Tensor`.
pub(crate) fn bind_input(input: &Expr) -> (TokenStream, TokenStream) {
    let is_place = |expr: &Expr| matches!(expr, Expr::Path(_) | Expr::Field(_));
    let borrowed = match input {
        Expr::Reference(reference) => is_place(&reference.expr),
        other => is_place(other),
    };
    if borrowed {
        return (TokenStream::new(), quote!(::slim::__private::LayerInput::layer_input(&(#input))));
    }
    let held = Ident::new("__slim_held", Span::mixed_site());
    (quote!(let #held = #input;), quote!(::slim::__private::LayerInput::layer_input(&#held)))
}

/// The expansion of a whole op call `op(input, rest…, keywords…)` in a model body: a `Tensor`, errors
/// propagated with `?`.
pub(crate) fn expand_call(op: &Op, op_span: Span, args: CallArgs) -> TokenStream {
    let mut positional = args.positional.into_iter();
    let Some(input) = positional.next() else { return quote!(::core::unreachable!()) };
    let rest: Vec<Expr> = positional.collect();
    let input_var = Ident::new("__slim_input", Span::mixed_site());
    let out_var = Ident::new("__slim_out", Span::mixed_site());
    let (hold, borrow_input) = bind_input(&input);
    match op.kind {
        OpKind::Function => {
            let function = Ident::new(op.name, op_span);
            quote!({ #hold ::slim::layers::#function(#borrow_input #(, #rest)*)? })
        }
        OpKind::Layer { .. } => {
            let name = op.name;
            let build = builder(op, op_span, &quote!(#input_var), &rest, &args.keywords);
            quote!({
                #hold
                let #input_var: &::slim::tch::Tensor = #borrow_input;
                match ::slim::__private::replay_layer(#name, #input_var)? {
                    ::core::option::Option::Some(#out_var) => #out_var,
                    ::core::option::Option::None => #build.call()?,
                }
            })
        }
    }
}

/// The expansion of a call of a `#[slim::add_arg_scope]` function with keywords, in a model body: a
/// `Tensor`, errors propagated with `?`. Its keywords are methods of the function's `Call`, which rustc checks.
pub(crate) fn expand_user_call(function: &syn::Path, args: CallArgs) -> TokenStream {
    let mut positional = args.positional.into_iter();
    let Some(input) = positional.next() else { return quote!(::core::unreachable!()) };
    let rest: Vec<Expr> = positional.collect();
    let setters = args.keywords.iter().map(|Keyword { name, value }| quote_spanned!(value.span()=> .#name(#value)));
    let (hold, borrow_input) = bind_input(&input);
    quote!({ #hold #function(#borrow_input #(, #rest)*) #(#setters)* .call()? })
}

/// The runtime type `…Args` or `…Call` of a layer op.
pub(crate) fn layer_type(op: &Op, suffix: &str, span: Span) -> TokenStream {
    let ident = format_ident!("{}{}", op.type_stem, suffix, span = span);
    quote!(::slim::layers::#ident)
}
