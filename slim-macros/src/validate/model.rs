//! `#[slim::model]`: what it may be put on, and `fn forward`'s signature.

use proc_macro2::TokenStream;
use syn::spanned::Spanned;
use syn::{FnArg, ImplItemFn, ReceiverKind, ReturnType};

use crate::errors::Errors;

/// What the attribute is for, said in every error about where it was put.
pub(crate) const USAGE: &str = "#[slim::model] goes on a struct of hyper-parameters and on its `impl` holding \
                                `fn forward(&self, inputs: &Tensor) -> Result<Tensor>`";

/// The attribute takes no arguments.
pub(crate) fn check_attribute_args(args: &TokenStream, errors: &mut Errors) {
    if !args.is_empty() {
        errors.add(args.span(), "#[slim::model] takes no arguments (the scope name is given to `build`)");
    }
}

/// `&self`, one input, no generics, not async, a return type.
pub(crate) fn check_signature(forward: &ImplItemFn, errors: &mut Errors) {
    let sig = &forward.sig;
    let expected = "expected `fn forward(&self, inputs: &Tensor) -> Result<Tensor>`";
    match sig.inputs.first() {
        Some(FnArg::Receiver(receiver)) => match &receiver.kind {
            ReceiverKind::Reference(_, _, None) => {}
            ReceiverKind::Reference(_, _, Some(mutability)) => errors.add(
                mutability.span(),
                format!(
                    "forward takes `&self`, not `&mut self`: a built model runs through a shared reference; {expected}"
                ),
            ),
            _ => errors.add(receiver.self_token.span(), format!("forward takes `&self`; {expected}")),
        },
        Some(other) => errors.add(other.span(), format!("forward takes `&self` first; {expected}")),
        None => errors.add(sig.paren_token.span.join(), format!("forward takes `&self` and the input; {expected}")),
    }
    if sig.inputs.len() != 2 {
        errors.add(
            sig.paren_token.span.join(),
            format!(
                "forward takes exactly one input besides `&self`, got {}; {expected}",
                sig.inputs.len().saturating_sub(1)
            ),
        );
    }
    if !sig.generics.params.is_empty() {
        errors.add(sig.generics.span(), format!("forward cannot be generic; {expected}"));
    }
    if let Some(asyncness) = &sig.asyncness {
        errors.add(asyncness.span(), format!("forward cannot be async; {expected}"));
    }
    if let ReturnType::Default = sig.output {
        errors.add(sig.ident.span(), format!("forward must return the output; {expected}"));
    }
}
