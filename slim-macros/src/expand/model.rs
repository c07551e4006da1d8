//! `#[slim::model]`: the struct of hyper-parameters passes through; on its impl the bodies written in slim style
//! are rewritten and `fn forward` becomes the `slim::model::Model` impl.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote};
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;
use syn::{FnArg, ImplItem, ImplItemFn, Item, ItemImpl, Type};

use crate::errors::Errors;
use crate::rewrite::Rewriter;
use crate::validate::model::{self as validate, USAGE};

/// The attribute's expansion for whatever item it is on.
pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    validate::check_attribute_args(&args, &mut errors);
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
    let forward = position.and_then(|position| match item.items.remove(position) {
        ImplItem::Fn(forward) => Some(forward),
        _ => None,
    });
    // A mistake inside a body is reported at its token and expands to a value of the right type, so the
    // bodies are kept: rustc then reports the mistakes only it can see (a layer's unknown keyword) beside them.
    let mut rewriter = Rewriter { errors };
    for other in &mut item.items {
        if let ImplItem::Fn(method) = other {
            rewriter.visit_block_mut(&mut method.block);
        }
    }
    let inherent = match item.items.is_empty() {
        true => TokenStream::new(),
        false => item.to_token_stream(),
    };
    let Some(mut forward) = forward else {
        errors.add(item.self_ty.span(), format!("{USAGE}; this impl has no `fn forward`"));
        let model_impl = dummy_model(&item, None);
        return quote!(#inherent #model_impl);
    };
    let errors_before = errors.len();
    validate::check_signature(&forward, errors);
    let signature_failed = errors.len() > errors_before;
    Rewriter { errors }.visit_block_mut(&mut forward.block);
    let model_impl = match signature_failed {
        true => dummy_model(&item, Some(&forward)),
        false => model_impl(&item, &forward),
    };
    quote!(#inherent #model_impl)
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
                ::slim::__private::IntoForwardResult::into_forward_result(#value)
            }
        }
    }
}

/// After an error in `forward`'s signature (or without one): a `Model` impl that cannot run, so that uses of the model
/// add no errors of their own. It keeps the user's input parameter when there is one.
fn dummy_model(item: &ItemImpl, forward: Option<&ImplItemFn>) -> TokenStream {
    let (impl_generics, _, where_clause) = item.generics.split_for_impl();
    let self_ty = &item.self_ty;
    let input = match forward.and_then(|f| f.sig.inputs.iter().nth(1)) {
        Some(FnArg::Typed(typed)) => quote!(#typed),
        _ => quote!(_: &::slim::tch::Tensor),
    };
    quote! {
        impl #impl_generics ::slim::model::Model for #self_ty #where_clause {
            const NAME: &'static str = "";
            #[allow(unused_variables)]
            fn forward(&self, #input) -> ::slim::Result<::slim::tch::Tensor> {
                ::core::unreachable!()
            }
        }
    }
}
