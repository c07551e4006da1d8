//! `repeat!`'s input `(inputs, n, layer(args…), scope = …)` and `stack!`'s `(inputs, layer, [args…], scope = …)`.

use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;
use syn::{Expr, ExprCall, Ident, Path, Token};

/// `repeat!`'s input.
pub(crate) struct RepeatInput {
    pub(crate) inputs: Expr,
    pub(crate) repetitions: Expr,
    pub(crate) layer: ExprCall,
    pub(crate) scope: Option<Expr>,
}

/// `stack!`'s input.
pub(crate) struct StackInput {
    pub(crate) inputs: Expr,
    pub(crate) layer: Path,
    pub(crate) per_layer: Expr,
    pub(crate) scope: Option<Expr>,
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
                "unknown keyword `{key}`: only `scope = …` may follow the layer; give the layer's own keywords \
                 inside its call"
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
            Expr::Call(call) if matches!(&*call.func, Expr::Path(_)) => call,
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
