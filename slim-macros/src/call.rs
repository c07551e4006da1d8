//! One op call with keyword arguments: parsed into positional arguments and keywords, validated against the
//! op table, and expanded into the runtime's builder chain (replaying the recorded layer inside a built model).

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, Ident, Token};

use crate::errors::Errors;
use crate::ops::{self, Op, OpKind};

/// A keyword argument `name = value`.
pub(crate) struct Keyword {
    pub(crate) name: Ident,
    pub(crate) value: Expr,
}

/// A call's arguments split into positional ones and keywords, in source order.
pub(crate) struct CallArgs {
    pub(crate) positional: Vec<Expr>,
    pub(crate) keywords: Vec<Keyword>,
}

/// Splits `args` at the first `name = value`; a positional argument after a keyword, a keyword whose name is
/// not an identifier, or a repeated keyword is reported.
pub(crate) fn split_args(args: Punctuated<Expr, Token![,]>, errors: &mut Errors) -> CallArgs {
    let mut split = CallArgs { positional: Vec::new(), keywords: Vec::new() };
    for arg in args {
        match arg {
            Expr::Assign(assign) => match keyword_name(&assign.left) {
                Some(name) => {
                    if split.keywords.iter().any(|k| k.name == name) {
                        errors.add(name.span(), format!("keyword `{name}` is given more than once"));
                        continue;
                    }
                    split.keywords.push(Keyword { name, value: *assign.right });
                }
                None => errors.add(assign.left.span(), "a keyword argument needs a plain name: `name = value`"),
            },
            positional => {
                if let Some(last) = split.keywords.last() {
                    errors.add(
                        positional.span(),
                        format!("positional argument after keyword `{}`: keywords come last", last.name),
                    );
                }
                split.positional.push(positional);
            }
        }
    }
    split
}

fn keyword_name(left: &Expr) -> Option<Ident> {
    match left {
        Expr::Path(path) if path.qself.is_none() && path.attrs.is_empty() => path.path.get_ident().cloned(),
        _ => None,
    }
}

/// Checks the keywords against what `op` takes at a call site; reports each unknown one at its token.
pub(crate) fn check_keywords(op: &Op, keywords: &[Keyword], errors: &mut Errors) {
    for keyword in keywords {
        let name = keyword.name.to_string();
        if op.accepts_at_call(&name) {
            continue;
        }
        let message = match op.kind {
            OpKind::Function => format!("`{}` takes no keyword arguments (it is a plain function)", op.name),
            OpKind::Layer { .. } => {
                let suggestion = ops::did_you_mean(&name, op.keywords.iter().copied());
                format!("`{}` has no keyword `{name}`{suggestion}; it accepts: {}", op.name, op.call_keywords())
            }
        };
        errors.add(keyword.name.span(), message);
    }
}

/// Checks that `count` positional arguments (the input included) match the op's.
pub(crate) fn check_positional(op: &Op, count: usize, span: Span, errors: &mut Errors) {
    if count != op.positional.len() {
        errors.add(
            span,
            format!(
                "`{}` takes {} positional argument{} ({}), got {count}",
                op.name,
                op.positional.len(),
                if op.positional.len() == 1 { "" } else { "s" },
                op.positional.join(", ")
            ),
        );
    }
}

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
        return (TokenStream::new(), quote!(::slim::model::LayerInput::layer_input(&(#input))));
    }
    let held = Ident::new("__slim_held", Span::mixed_site());
    (quote!(let #held = #input;), quote!(::slim::model::LayerInput::layer_input(&#held)))
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
                match ::slim::model::tape::replay_layer(#name, #input_var)? {
                    ::core::option::Option::Some(#out_var) => #out_var,
                    ::core::option::Option::None => #build.call()?,
                }
            })
        }
    }
}

/// The expansion of a call of a `#[slim::add_arg_scope]` function with keywords, in a model body: a
/// `Tensor`, errors propagated with `?`. Its keywords are methods of the function's `Call`, which rustc checks.
pub(crate) fn expand_user_call(function: &syn::Path, args: CallArgs, span: Span, errors: &mut Errors) -> TokenStream {
    let mut positional = args.positional.into_iter();
    let Some(input) = positional.next() else {
        errors.add(span, "pass the layer's input first");
        return quote!(::core::unreachable!());
    };
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
