//! `#[slim::add_arg_scope]`: turns a function into an op that arg scopes reach. Its parameters marked
//! `#[default(value)]` become keywords (set at the call, by an arg scope, or defaulted); the function becomes a
//! call builder like slim's layers, and a module of the same name holds its `Args` and `Call` types.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;
use syn::{Attribute, Expr, FnArg, Ident, ItemFn, Pat, ReturnType, Type};

use crate::errors::Errors;
use crate::rewrite::Rewriter;

/// A parameter of the function: its name and type, and its default when it is a keyword.
struct Param {
    ident: Ident,
    mutable: bool,
    ty: Type,
    default: Option<Expr>,
}

/// Takes `#[default(value)]` out of a parameter's attributes.
fn take_default(attrs: &mut Vec<Attribute>, errors: &mut Errors) -> Option<Expr> {
    let position = attrs.iter().position(|attr| attr.path().is_ident("default"))?;
    let attr = attrs.remove(position);
    match attr.parse_args::<Expr>() {
        Ok(value) => Some(value),
        Err(_) => {
            errors.add(attr.span(), "write the default as `#[default(value)]`");
            None
        }
    }
}

fn params(item: &mut ItemFn, errors: &mut Errors) -> Vec<Param> {
    let mut params = Vec::new();
    for input in item.sig.inputs.iter_mut() {
        let FnArg::Typed(typed) = input else {
            errors.add(input.span(), "#[slim::add_arg_scope] goes on free functions, not methods");
            continue;
        };
        let default = take_default(&mut typed.attrs, errors);
        let Pat::Ident(pat) = &*typed.pat else {
            errors.add(typed.pat.span(), "parameters of an arg-scoped function must be plain names");
            continue;
        };
        let ident = pat.ident.clone();
        if default.is_some() && (ident == "scope" || ident == "reuse") {
            errors.add(ident.span(), format!("`{ident}` is reserved: every arg-scoped function takes `scope = …`"));
        }
        params.push(Param { ident, mutable: pat.mutability.is_some(), ty: (*typed.ty).clone(), default });
    }
    params
}

/// The first parameter is the input (`&Tensor`); then positional parameters of owned types; then keywords.
fn check(item: &ItemFn, params: &[Param], errors: &mut Errors) {
    let sig = &item.sig;
    let input_ok = matches!(params.first(), Some(Param { ty: Type::Reference(_), default: None, .. }));
    match params.first() {
        _ if input_ok => {}
        Some(first) => errors.add(first.ty.span(), "the first parameter is the layer's input: `inputs: &Tensor`"),
        None => errors.add(sig.paren_token.span.join(), "an arg-scoped function takes its input: `inputs: &Tensor`"),
    }
    let mut seen_keyword = false;
    for param in params.iter().skip(1) {
        match (&param.default, seen_keyword) {
            (Some(_), _) => seen_keyword = true,
            (None, true) => errors.add(
                param.ident.span(),
                format!("`{}` has no `#[default(…)]` but follows a keyword parameter: keywords come last", param.ident),
            ),
            (None, false) if input_ok => {
                if let Type::Reference(reference) = &param.ty {
                    errors.add(
                        reference.span(),
                        "positional parameters besides the input must be owned (a call builder keeps them)",
                    );
                }
            }
            (None, false) => {}
        }
    }
    if !sig.generics.params.is_empty() {
        errors.add(sig.generics.span(), "an arg-scoped function cannot be generic");
    }
    if let Some(asyncness) = &sig.asyncness {
        errors.add(asyncness.span(), "an arg-scoped function cannot be async");
    }
    if let ReturnType::Default = sig.output {
        errors.add(sig.ident.span(), "an arg-scoped function returns its output: `-> Result<Tensor>`");
    }
}

/// The expansion of `#[slim::add_arg_scope]`.
pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    if !args.is_empty() {
        errors
            .add(args.span(), "#[slim::add_arg_scope] takes no arguments; mark keyword parameters `#[default(value)]`");
    }
    let mut item: ItemFn = match syn::parse2(item) {
        Ok(item) => item,
        Err(error) => return error.to_compile_error(),
    };
    let params = params(&mut item, &mut errors);
    check(&item, &params, &mut errors);
    Rewriter { errors: &mut errors }.visit_block_mut(&mut item.block);
    if errors.is_empty() {
        return generate(&item, &params);
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
                    let #args_var: Args = match ::slim::model::tape::replay_value::<Args>(#op)? {
                        ::core::option::Option::Some(recorded) => recorded,
                        ::core::option::Option::None => {
                            let resolved = ::slim::arg_scope::ArgScope::resolve(#args_var);
                            ::slim::model::tape::record_value(#op, ::core::clone::Clone::clone(&resolved));
                            resolved
                        }
                    };
                    #(
                        let #kw_bindings #kw_idents: #kw_types = match #args_var.#kw_idents {
                            ::core::option::Option::Some(value) => value,
                            ::core::option::Option::None => #kw_defaults,
                        };
                    )*
                    let #input_ident: &::slim::tch::Tensor = &#inputs_var;
                    let #guard = match #scope_var {
                        ::core::option::Option::Some(name) if !::slim::model::tape::is_replaying() => {
                            ::core::option::Option::Some(::slim::variables::VariableScope::new(name).enter()?)
                        }
                        _ => ::core::option::Option::None,
                    };
                    let #output = #body;
                    ::slim::model::IntoForwardResult::into_forward_result(#output)
                }
            }

            impl ::slim::layers::LayerCall for Call {
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
