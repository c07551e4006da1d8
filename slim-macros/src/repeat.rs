//! `repeat!(inputs, n, layer(args…), scope = …)` and `stack!(inputs, layer, [(args…), …], scope = …)`: TF-Slim's
//! repeat and stack, naming the layers `scope/scope_1…` (or `Repeat/convolution2d_1…`).

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, ExprCall, Ident, Token};

use crate::call::{Keyword, builder, check_keywords, layer_type, split_args};
use crate::errors::Errors;
use crate::ops::{self, Op};

/// `repeat!`'s input.
struct RepeatInput {
    inputs: Expr,
    repetitions: Expr,
    layer: ExprCall,
    scope: Option<Expr>,
}

/// `stack!`'s input.
struct StackInput {
    inputs: Expr,
    layer: Ident,
    per_layer: Expr,
    scope: Option<Expr>,
}

/// Parses the optional trailing `, scope = value`.
fn parse_scope(input: ParseStream<'_>) -> syn::Result<Option<Expr>> {
    if input.is_empty() {
        return Ok(None);
    }
    input.parse::<Token![,]>()?;
    if input.is_empty() {
        return Ok(None);
    }
    let key: Ident = input.parse()?;
    if key != "scope" {
        return Err(syn::Error::new(
            key.span(),
            format!("unknown keyword `{key}`: only `scope = …` may follow the layer"),
        ));
    }
    input.parse::<Token![=]>()?;
    let scope = input.parse()?;
    input.parse::<Option<Token![,]>>()?;
    if !input.is_empty() {
        return Err(input.error("unexpected tokens after `scope = …`"));
    }
    Ok(Some(scope))
}

impl Parse for RepeatInput {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let inputs = input.parse()?;
        input.parse::<Token![,]>()?;
        let repetitions = input.parse()?;
        input.parse::<Token![,]>()?;
        let layer = match input.parse::<Expr>()? {
            Expr::Call(call) => call,
            other => {
                return Err(syn::Error::new(
                    other.span(),
                    "repeat! takes the layer as a call without its input: `conv2d(64, [3, 3])`",
                ));
            }
        };
        let scope = parse_scope(input)?;
        Ok(RepeatInput { inputs, repetitions, layer, scope })
    }
}

impl Parse for StackInput {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let inputs = input.parse()?;
        input.parse::<Token![,]>()?;
        let layer = input.parse()?;
        input.parse::<Token![,]>()?;
        let per_layer = input.parse()?;
        let scope = parse_scope(input)?;
        Ok(StackInput { inputs, layer, per_layer, scope })
    }
}

/// The repeatable layer op named `ident`, or an error at it.
fn layer_op(ident: &Ident, which: &str, errors: &mut Errors) -> Option<&'static Op> {
    match ops::find(&ident.to_string()) {
        Some(op) if op.is_layer() => Some(op),
        Some(op) => {
            errors.add(ident.span(), format!("{which}! needs a layer; `{}` is a plain function", op.name));
            None
        }
        None => {
            errors.add(ident.span(), format!("{which}! needs one of slim's layers: {}", ops::layer_names()));
            None
        }
    }
}

fn callee_ident(call: &ExprCall, errors: &mut Errors) -> Option<Ident> {
    match &*call.func {
        Expr::Path(path) => path.path.get_ident().cloned(),
        other => {
            errors.add(other.span(), "name the layer directly: `conv2d(64, [3, 3])`");
            None
        }
    }
}

/// Checks one repeated or stacked layer's arguments (its input excluded) and builds its builder from `x`.
fn layer_builder(
    op: &Op,
    op_span: Span,
    args: Punctuated<Expr, Token![,]>,
    span: Span,
    errors: &mut Errors,
) -> TokenStream {
    let args = split_args(args, errors);
    let expected = op.positional.len() - 1;
    if args.positional.len() != expected {
        errors.add(
            span,
            format!(
                "`{}` here takes {expected} argument{} besides its input ({}), got {}",
                op.name,
                if expected == 1 { "" } else { "s" },
                op.positional[1..].join(", "),
                args.positional.len()
            ),
        );
    }
    check_keywords(op, &args.keywords, errors);
    if let Some(Keyword { name, .. }) = args.keywords.iter().find(|k| k.name == "scope" || k.name == "reuse") {
        errors.add(
            name.span(),
            format!("`{name}` cannot be set per layer here: the layers are named `scope_1`, `scope_2`, …"),
        );
    }
    let x = Ident::new("__slim_x", Span::mixed_site());
    builder(op, op_span, &quote!(#x), &args.positional, &args.keywords)
}

fn scope_arg(scope: &Option<Expr>) -> TokenStream {
    match scope {
        Some(scope) => quote!(::core::option::Option::Some(::core::convert::AsRef::<str>::as_ref(&(#scope)))),
        None => quote!(::core::option::Option::None),
    }
}

fn borrow(inputs: &Expr) -> TokenStream {
    quote!(::core::borrow::Borrow::<::slim::tch::Tensor>::borrow(&(#inputs)))
}

/// Expands a `repeat!` (standalone or inside a body), reporting errors into `errors`.
pub(crate) fn expand_repeat_in(tokens: TokenStream, errors: &mut Errors) -> TokenStream {
    let input: RepeatInput = match syn::parse2(tokens) {
        Ok(input) => input,
        Err(error) => {
            errors.push(error);
            return quote!(::core::unreachable!());
        }
    };
    let Some(ident) = callee_ident(&input.layer, errors) else { return quote!(::core::unreachable!()) };
    let Some(op) = layer_op(&ident, "repeat", errors) else { return quote!(::core::unreachable!()) };
    let span = input.layer.span();
    let build = layer_builder(op, ident.span(), input.layer.args, span, errors);
    let (inputs, repetitions, scope) = (borrow(&input.inputs), &input.repetitions, scope_arg(&input.scope));
    let x = Ident::new("__slim_x", Span::mixed_site());
    quote!(::slim::layers::repeat(#inputs, #repetitions, #scope, |#x: &::slim::tch::Tensor| #build)?)
}

/// Expands a `stack!` (standalone or inside a body), reporting errors into `errors`.
pub(crate) fn expand_stack_in(tokens: TokenStream, errors: &mut Errors) -> TokenStream {
    let input: StackInput = match syn::parse2(tokens) {
        Ok(input) => input,
        Err(error) => {
            errors.push(error);
            return quote!(::core::unreachable!());
        }
    };
    let Some(op) = layer_op(&input.layer, "stack", errors) else { return quote!(::core::unreachable!()) };
    let Expr::Array(per_layer) = input.per_layer else {
        errors.add(
            input.per_layer.span(),
            "stack! takes a literal list of per-layer arguments: `[(32, [3, 3]), (64, [1, 1])]`; for a computed list \
             call `slim::layers::stack`",
        );
        return quote!(::core::unreachable!());
    };
    let call_type = layer_type(op, "Call", input.layer.span());
    let x = Ident::new("__slim_x", Span::mixed_site());
    let layers = per_layer.elems.into_iter().map(|element| {
        let span = element.span();
        let args = match element {
            Expr::Tuple(tuple) => tuple.elems,
            Expr::Paren(paren) => std::iter::once(*paren.expr).collect(),
            single => std::iter::once(single).collect(),
        };
        let build = layer_builder(op, input.layer.span(), args, span, errors);
        quote!(&(|#x: &::slim::tch::Tensor| #build) as &dyn ::core::ops::Fn(&::slim::tch::Tensor) -> #call_type)
    });
    let layers: Vec<TokenStream> = layers.collect();
    let (inputs, scope) = (borrow(&input.inputs), scope_arg(&input.scope));
    let layer = Ident::new("__slim_layer", Span::mixed_site());
    quote!(::slim::layers::stack(#inputs, #scope, &[#(#layers),*], |#x, #layer| #layer(#x))?)
}

/// A standalone `repeat!` or `stack!`: the expansion, or the errors beside an unreachable value.
pub(crate) fn standalone(tokens: TokenStream, expand_in: fn(TokenStream, &mut Errors) -> TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let expanded = expand_in(tokens, &mut errors);
    if errors.is_empty() {
        return expanded;
    }
    let compile_errors = errors.to_compile_errors();
    quote!({ #compile_errors ::core::unreachable!() })
}
