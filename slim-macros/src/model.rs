//! `#[slim::model]`: on the struct of hyper-parameters it checks the item; on the impl it validates
//! `fn forward`, rewrites the bodies written in slim style, and implements `slim::model::Model`.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote};
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;
use syn::{FnArg, ImplItem, ImplItemFn, Item, ItemImpl, ReceiverKind, ReturnType, Type};

use crate::errors::Errors;
use crate::rewrite::Rewriter;

const USAGE: &str = "#[slim::model] goes on a struct of hyper-parameters and on its `impl` holding \
                     `fn forward(&self, inputs: &Tensor) -> Result<Tensor>`";

/// The attribute's expansion for whatever item it is on.
pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    if !args.is_empty() {
        errors.add(args.span(), "#[slim::model] takes no arguments (the scope name is given to `build`)");
    }
    let item = match syn::parse2::<Item>(item) {
        Ok(item) => item,
        Err(error) => return error.to_compile_error(),
    };
    let expanded = match item {
        Item::Struct(item) => item.into_token_stream(),
        Item::Impl(item) => expand_impl(item, &mut errors),
        other => {
            errors.add(other.span(), USAGE);
            other.into_token_stream()
        }
    };
    let compile_errors = errors.to_compile_errors();
    quote!(#compile_errors #expanded)
}

/// The impl's name for summaries: the last segment of its self type.
fn type_name(self_ty: &Type) -> String {
    match self_ty {
        Type::Path(path) => path.path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default(),
        other => other.to_token_stream().to_string(),
    }
}

fn expand_impl(mut item: ItemImpl, errors: &mut Errors) -> TokenStream {
    if let Some((path, _)) = &item.trait_ {
        errors.add(path.span(), format!("{USAGE}; this is a trait impl"));
        return item.into_token_stream();
    }
    let position = item.items.iter().position(|i| matches!(i, ImplItem::Fn(f) if f.sig.ident == "forward"));
    let Some(position) = position else {
        errors.add(item.self_ty.span(), format!("{USAGE}; this impl has no `fn forward`"));
        return dummy(&item);
    };
    let ImplItem::Fn(mut forward) = item.items.remove(position) else { return dummy(&item) };
    let errors_before = errors.len();
    check_signature(&forward, errors);
    let mut rewriter = Rewriter { errors };
    rewriter.visit_block_mut(&mut forward.block);
    for other in &mut item.items {
        if let ImplItem::Fn(method) = other {
            rewriter.visit_block_mut(&mut method.block);
        }
    }
    if errors.len() > errors_before {
        return dummy(&item);
    }
    let model_impl = model_impl(&item, &forward);
    let inherent = if item.items.is_empty() { TokenStream::new() } else { item.into_token_stream() };
    quote!(#inherent #model_impl)
}

/// `&self`, one input, no generics, not async, a return type.
fn check_signature(forward: &ImplItemFn, errors: &mut Errors) {
    let sig = &forward.sig;
    let expected = "expected `fn forward(&self, inputs: &Tensor) -> Result<Tensor>`";
    match sig.inputs.first() {
        Some(FnArg::Receiver(receiver)) if matches!(receiver.kind, ReceiverKind::Reference(_, _, None)) => {}
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

/// `impl Model for T` with the rewritten forward; its body may end in a `Tensor` or a `Result<Tensor>`.
fn model_impl(item: &ItemImpl, forward: &ImplItemFn) -> TokenStream {
    let (impl_generics, _, where_clause) = item.generics.split_for_impl();
    let self_ty = &item.self_ty;
    let name = type_name(self_ty);
    let input = &forward.sig.inputs[1];
    let body = &forward.block;
    let attrs = &forward.attrs;
    let value = syn::Ident::new("__slim_output", Span::mixed_site());
    quote! {
        impl #impl_generics ::slim::model::Model for #self_ty #where_clause {
            const NAME: &'static str = #name;

            #(#attrs)*
            fn forward(&self, #input) -> ::slim::Result<::slim::tch::Tensor> {
                let #value = #body;
                ::slim::model::IntoForwardResult::into_forward_result(#value)
            }
        }
    }
}

/// After an error: the impl's other items with bodies that cannot run, and a `Model` impl, so that uses of
/// the model do not add errors of their own.
fn dummy(item: &ItemImpl) -> TokenStream {
    let (impl_generics, _, where_clause) = item.generics.split_for_impl();
    let self_ty = &item.self_ty;
    let mut inherent = item.clone();
    for other in &mut inherent.items {
        if let ImplItem::Fn(method) = other {
            method.block = syn::parse_quote!({ ::core::unreachable!() });
        }
    }
    inherent.items.retain(|i| !matches!(i, ImplItem::Fn(f) if f.sig.ident == "forward"));
    quote! {
        #inherent
        impl #impl_generics ::slim::model::Model for #self_ty #where_clause {
            const NAME: &'static str = "";
            fn forward(&self, _: &::slim::tch::Tensor) -> ::slim::Result<::slim::tch::Tensor> {
                ::core::unreachable!()
            }
        }
    }
}
