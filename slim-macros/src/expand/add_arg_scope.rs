//! `#[slim::add_arg_scope]`: the function becomes a call builder like slim's layers, and a module of the same
//! name holds its `Args` (what arg scopes set) and `Call` types.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::visit_mut::VisitMut;
use syn::{Ident, ItemFn, Type};

use crate::errors::Errors;
use crate::parse::add_arg_scope::{Param, params};
use crate::rewrite::Rewriter;
use crate::validate::add_arg_scope as validate;

/// The expansion of `#[slim::add_arg_scope]`.
pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    validate::check_attribute_args(&args, &mut errors);
    let mut item: ItemFn = match syn::parse2(item) {
        Ok(item) => item,
        Err(error) => return error.to_compile_error(),
    };
    let params = params(&mut item, &mut errors);
    validate::check_reserved(&params, &mut errors);
    validate::check(&item, &params, &mut errors);
    let signature_failed = !errors.is_empty();
    // A mistake inside the body is reported at its token and expands to a value of the right type, so the body
    // is kept: rustc then reports the mistakes only it can see (a layer's unknown keyword) beside it.
    Rewriter { errors: &mut errors }.visit_block_mut(&mut item.block);
    if !signature_failed {
        let compile_errors = errors.to_compile_errors();
        let generated = generate(&item, &params);
        return quote!(#compile_errors #generated);
    }
    // The function as written (defaults taken out) with a body that cannot run: its signature stays known.
    item.attrs.push(syn::parse_quote!(#[allow(unused_variables, dead_code)]));
    *item.block = syn::parse_quote!({ ::core::unreachable!() });
    let compile_errors = errors.to_compile_errors();
    quote!(#compile_errors #item)
}

fn generate(item: &ItemFn, params: &[Param]) -> TokenStream {
    let name = &item.sig.ident;
    let op = name.to_string();
    let vis = &item.vis;
    let attrs = &item.attrs;
    let Some((input, rest)) = params.split_first() else { return TokenStream::new() };
    let positional: Vec<&Param> = rest.iter().filter(|p| p.default.is_none()).collect();
    let keywords: Vec<&Param> = rest.iter().filter(|p| p.default.is_some()).collect();
    let input_ident = &input.ident;
    let (pos_idents, pos_types): (Vec<&Ident>, Vec<&Type>) = positional.iter().map(|p| (&p.ident, &p.ty)).unzip();
    let (kw_idents, kw_types): (Vec<&Ident>, Vec<&Type>) = keywords.iter().map(|p| (&p.ident, &p.ty)).unzip();
    let kw_names: Vec<String> = kw_idents.iter().map(|i| i.to_string()).collect();
    let kw_defaults = keywords.iter().map(|p| p.default.as_ref());
    let pos_patterns = positional.iter().map(|Param { ident, mutable, .. }| match mutable {
        true => quote!(#ident: mut #ident),
        false => quote!(#ident),
    });
    let kw_bindings = keywords.iter().map(|p| if p.mutable { quote!(mut) } else { quote!() });
    let body = &item.block;
    let hidden = |text: &str| Ident::new(text, Span::mixed_site());
    let (args_var, scope_var, guard, output, inputs_var) = (
        hidden("__slim_args"),
        hidden("__slim_scope"),
        hidden("__slim_scope_guard"),
        hidden("__slim_output"),
        hidden("__slim_inputs"),
    );
    let doc = format!(
        "The keyword arguments of [`{op}`](fn@super::{op}): each optional; unset ones come from the active arg scope, then the function's defaults."
    );
    let call_doc = format!("A call of [`{op}`](fn@super::{op}) being configured; finish it with [`Call::call`].");
    let module = format_ident!("{}", name);
    quote! {
        #(#attrs)*
        #vis fn #name(#input_ident: &::slim::tch::Tensor #(, #pos_idents: #pos_types)*) -> #module::Call {
            #module::Call {
                inputs: #input_ident.shallow_clone(),
                #(#pos_idents,)*
                args: ::core::default::Default::default(),
                scope: ::core::option::Option::None,
            }
        }

        #[doc = concat!("The arguments and call builder of [`", #op, "`](fn@", #op, ").")]
        #vis mod #module {
            #![allow(unused_imports)]
            use super::*;

            #[doc = #doc]
            #[derive(Clone, Default)]
            pub struct Args {
                #(
                    #[doc = concat!("`", #kw_names, "`, unset by default.")]
                    pub #kw_idents: ::core::option::Option<#kw_types>,
                )*
            }

            impl Args {
                #(
                    #[doc = concat!("Sets `", #kw_names, "`.")]
                    pub fn #kw_idents(mut self, value: impl ::core::convert::Into<#kw_types>) -> Self {
                        self.#kw_idents = ::core::option::Option::Some(value.into());
                        self
                    }
                )*
            }

            impl ::slim::arg_scope::ScopeArgs for Args {
                const OP_NAME: &'static str = #op;
                const FIELDS: &'static [&'static str] = &[#(#kw_names),*];

                fn or(self, outer: &Self) -> Self {
                    Args { #(#kw_idents: self.#kw_idents.or_else(|| outer.#kw_idents.clone()),)* }
                }

                fn set_fields(&self) -> ::std::vec::Vec<&'static str> {
                    let mut fields = ::std::vec::Vec::new();
                    #( if self.#kw_idents.is_some() { fields.push(#kw_names); } )*
                    fields
                }
            }

            #[doc = #call_doc]
            pub struct Call {
                pub(super) inputs: ::slim::tch::Tensor,
                #(pub(super) #pos_idents: #pos_types,)*
                pub(super) args: Args,
                pub(super) scope: ::core::option::Option<::std::string::String>,
            }

            impl Call {
                #(
                    #[doc = concat!("Sets `", #kw_names, "`.")]
                    pub fn #kw_idents(mut self, value: impl ::core::convert::Into<#kw_types>) -> Self {
                        self.args.#kw_idents = ::core::option::Option::Some(value.into());
                        self
                    }
                )*

                /// Runs the function inside this variable scope (none by default).
                pub fn scope(mut self, scope: impl ::core::convert::Into<::std::string::String>) -> Self {
                    self.scope = ::core::option::Option::Some(scope.into());
                    self
                }

                /// Replaces all call-site keyword arguments at once.
                pub fn args(mut self, args: Args) -> Self {
                    self.args = args;
                    self
                }

                /// Resolves the keywords (call site, then arg scopes, then defaults) and runs the function.
                pub fn call(self) -> ::slim::Result<::slim::tch::Tensor> {
                    let Call { inputs: #inputs_var, #(#pos_patterns,)* args: #args_var, scope: #scope_var } = self;
                    let (#args_var, #guard): (Args, ::slim::__private::FunctionScope) =
                        match ::slim::__private::replay_value::<Args>(#op)? {
                            ::core::option::Option::Some(replayed) => replayed,
                            ::core::option::Option::None => {
                                let resolved = ::slim::arg_scope::ArgScope::resolve(#args_var);
                                let scope = ::slim::__private::FunctionScope::enter(#scope_var)?;
                                ::slim::__private::record_value(#op, ::core::clone::Clone::clone(&resolved));
                                (resolved, scope)
                            }
                        };
                    #(
                        let #kw_bindings #kw_idents: #kw_types = match #args_var.#kw_idents {
                            ::core::option::Option::Some(value) => value,
                            ::core::option::Option::None => #kw_defaults,
                        };
                    )*
                    let #input_ident: &::slim::tch::Tensor = &#inputs_var;
                    let #output = #body;
                    ::slim::__private::IntoForwardResult::into_forward_result(#output)
                }
            }

            impl ::slim::__private::LayerCall for Call {
                const REPEAT_NAME: &'static str = #op;

                fn with_scope(self, scope: ::std::string::String) -> Self {
                    self.scope(scope)
                }

                fn call(self) -> ::slim::Result<::slim::tch::Tensor> {
                    Call::call(self)
                }
            }
        }
    }
}
