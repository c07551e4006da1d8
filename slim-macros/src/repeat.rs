//! `repeat!(inputs, n, layer(args…), scope = …)` and `stack!(inputs, layer, [(args…), …], scope = …)`: TF-Slim's
//! repeat and stack, naming the layers `scope/scope_1…` (or `Repeat/convolution2d_1…`).

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, ExprCall, Ident, Path, Token};

use crate::call::{Keyword, bind_input, builder, check_keywords, split_args};
use crate::errors::Errors;
use crate::ops::{self, Callee, Op};

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
    layer: Path,
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
            format!(
                "unknown keyword `{key}`: only `scope = …` may follow the layer; give the layer's own keywords inside its call"
            ),
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

/// The repeatable layer a path names: one of slim's layers, or a `#[slim::add_arg_scope]` function.
fn layer_callee(path: &Path, which: &str, errors: &mut Errors) -> Option<Callee> {
    let Some(ident) = path.get_ident() else { return Some(Callee::User(path.clone())) };
    match ops::find(&ident.to_string()) {
        Some(op) if op.is_layer() => Some(Callee::Builtin(op)),
        Some(op) => {
            errors.add(ident.span(), format!("{which}! needs a layer; `{}` is a plain function", op.name));
            None
        }
        None => Some(Callee::User(path.clone())),
    }
}

/// Checks a slim layer's arguments besides its input.
fn check_builtin(op: &Op, count: usize, span: Span, errors: &mut Errors) {
    let expected = op.positional.len() - 1;
    if count != expected {
        errors.add(
            span,
            format!(
                "`{}` here takes {expected} argument{} besides its input ({}), got {count}",
                op.name,
                if expected == 1 { "" } else { "s" },
                op.positional[1..].join(", ")
            ),
        );
    }
}

/// Checks one repeated or stacked layer's arguments (its input excluded) and builds its builder on `input`.
fn layer_builder(
    callee: &Callee,
    callee_span: Span,
    args: Punctuated<Expr, Token![,]>,
    span: Span,
    input: &TokenStream,
    errors: &mut Errors,
) -> TokenStream {
    let args = split_args(args, errors);
    if let Some(Keyword { name, .. }) = args.keywords.iter().find(|k| k.name == "scope" || k.name == "reuse") {
        errors.add(
            name.span(),
            format!("`{name}` cannot be set per layer here: the layers are named `scope_1`, `scope_2`, …"),
        );
    }
    match callee {
        Callee::Builtin(op) => {
            check_builtin(op, args.positional.len(), span, errors);
            check_keywords(op, &args.keywords, errors);
            builder(op, callee_span, input, &args.positional, &args.keywords)
        }
        Callee::User(path) => {
            let rest = &args.positional;
            let setters =
                args.keywords.iter().map(|Keyword { name, value }| quote_spanned!(value.span()=> .#name(#value)));
            quote!(#path(#input #(, #rest)*) #(#setters)*)
        }
    }
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
            return quote!(::core::unreachable!());
        }
    };
    let Expr::Path(function) = &*input.layer.func else {
        errors.add(input.layer.func.span(), "name the layer directly: `conv2d(64, [3, 3])`");
        return quote!(::core::unreachable!());
    };
    let Some(callee) = layer_callee(&function.path, "repeat", errors) else { return quote!(::core::unreachable!()) };
    let x = Ident::new("__slim_x", Span::mixed_site());
    let span = input.layer.span();
    let build = layer_builder(&callee, function.span(), input.layer.args, span, &quote!(#x), errors);
    let (hold, inputs) = bind_input(&input.inputs);
    let (repetitions, scope) = (&input.repetitions, scope_arg(&input.scope));
    let repeat = quote!(::slim::layers::repeat(#inputs, #repetitions, #scope, |#x: &::slim::tch::Tensor| #build)?);
    match callee {
        Callee::Builtin(op) => {
            let name = op.name;
            quote!({
                #hold
                match ::slim::model::tape::replay_layers(#name, #inputs, #repetitions)? {
                    ::core::option::Option::Some(#x) => #x,
                    ::core::option::Option::None => #repeat,
                }
            })
        }
        Callee::User(_) => quote!({ #hold #repeat }),
    }
}

/// Expands a `stack!` (standalone or inside a body), reporting errors into `errors`: one layer call per
/// element of the literal list, each through a `RepeatScope` that names it.
pub(crate) fn expand_stack_in(tokens: TokenStream, errors: &mut Errors) -> TokenStream {
    let input: StackInput = match syn::parse2(tokens) {
        Ok(input) => input,
        Err(error) => {
            errors.push(error);
            return quote!(::core::unreachable!());
        }
    };
    let Some(callee) = layer_callee(&input.layer, "stack", errors) else { return quote!(::core::unreachable!()) };
    let Expr::Array(per_layer) = input.per_layer else {
        errors.add(
            input.per_layer.span(),
            "stack! takes a literal list of per-layer arguments: `[(32, [3, 3]), (64, [1, 1])]`; for a computed list \
             call `slim::layers::stack`",
        );
        return quote!(::core::unreachable!());
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
    let stack = quote!({
        let #outer = ::slim::layers::RepeatScope::enter(#scope, "Stack")?;
        let #x = ::slim::tch::Tensor::shallow_clone(#inputs);
        #(#layers)*
        #x
    });
    match callee {
        Callee::Builtin(op) => {
            let (name, count) = (op.name, layers.len());
            quote!({
                #hold
                match ::slim::model::tape::replay_layers(#name, #inputs, #count)? {
                    ::core::option::Option::Some(#x) => #x,
                    ::core::option::Option::None => #stack,
                }
            })
        }
        Callee::User(_) => quote!({ #hold #stack }),
    }
}

/// A standalone `repeat!` or `stack!`: the expansion, or the errors beside an unreachable value.
pub(crate) fn standalone(tokens: TokenStream, expand_in: fn(TokenStream, &mut Errors) -> TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let expanded = expand_in(tokens, &mut errors);
    if errors.is_empty() {
        return expanded;
    }
    // An empty tensor keeps the value's type, so the mistake causes no errors further on.
    let compile_errors = errors.to_compile_errors();
    quote!({ #compile_errors ::slim::tch::Tensor::new() })
}
