//! Rewriting a body written in slim style: op calls with keywords become builder chains, and the nested
//! `arg_scope!`, `repeat!` and `stack!` invocations are expanded in place (their bodies rewritten too).

use proc_macro2::TokenStream;
use syn::spanned::Spanned;
use syn::visit_mut::{self, VisitMut};
use syn::{Expr, ExprCall, Macro, Stmt};

use crate::errors::Errors;
use crate::expand::call::{expand_function_call, expand_layer_call};
use crate::expand::{arg_scope, repeat};
use crate::ops::{self, Callee, Op, OpKind};
use crate::parse::call::parse_args;
use crate::validate::call::{check_arguments, check_function_call, check_input};

/// Rewrites the bodies it visits, collecting errors.
pub(crate) struct Rewriter<'a> {
    pub(crate) errors: &'a mut Errors,
}

/// The op a call names, if it is a bare op name (`conv2d(…)`).
fn called_op(call: &ExprCall) -> Option<&'static Op> {
    match &*call.func {
        Expr::Path(path) if path.qself.is_none() => {
            path.path.get_ident().and_then(|ident| ops::find(&ident.to_string()))
        }
        _ => None,
    }
}

fn has_keywords(call: &ExprCall) -> bool {
    call.args.iter().any(|arg| matches!(arg, Expr::Assign(_)))
}

/// Which of slim's macros an invocation is, by its last path segment.
fn slim_macro(mac: &Macro) -> Option<&'static str> {
    let name = mac.path.segments.last()?.ident.to_string();
    ["arg_scope", "repeat", "stack"].into_iter().find(|known| *known == name)
}

impl Rewriter<'_> {
    /// Expands one of slim's macros found inside a body.
    fn expand_macro(&mut self, which: &str, mac: &Macro) -> TokenStream {
        let tokens = mac.tokens.clone();
        match which {
            "arg_scope" => arg_scope::expand_in(tokens, self),
            "repeat" => repeat::expand_repeat_in(tokens, self.errors),
            _ => repeat::expand_stack_in(tokens, self.errors),
        }
    }

    /// A call of one of slim's ops by its bare name.
    fn rewrite_call(&mut self, op: &'static Op, call: &mut ExprCall) -> TokenStream {
        for arg in call.args.iter_mut() {
            self.visit_expr_mut(arg);
        }
        let (op_span, span, parens) = (call.func.span(), call.span(), call.paren_token.span.join());
        let args = parse_args(std::mem::take(&mut call.args), self.errors);
        check_arguments(&args, self.errors);
        match op.kind {
            OpKind::Function => {
                check_function_call(op, &args, span, self.errors);
                expand_function_call(op, op_span, args)
            }
            OpKind::Layer => {
                check_input(&args, span, self.errors);
                expand_layer_call(&Callee::builtin(op, op_span).called_with(parens), args)
            }
        }
    }

    /// A call with keywords of something that is not one of slim's ops: a `#[slim::add_arg_scope]` function.
    fn rewrite_user_call(&mut self, call: &mut ExprCall) -> TokenStream {
        for arg in call.args.iter_mut() {
            self.visit_expr_mut(arg);
        }
        let span = call.span();
        let Expr::Path(function) = &*call.func else {
            self.errors.add(
                call.func.span(),
                format!(
                    "keyword arguments work on slim's ops ({}) and on functions marked #[slim::add_arg_scope], \
                     called by name",
                    ops::layer_names()
                ),
            );
            return quote::quote!(::core::unreachable!());
        };
        let callee = Callee::user(&function.path).called_with(call.paren_token.span.join());
        let args = parse_args(std::mem::take(&mut call.args), self.errors);
        check_arguments(&args, self.errors);
        check_input(&args, span, self.errors);
        expand_layer_call(&callee, args)
    }
}

impl VisitMut for Rewriter<'_> {
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        match expr {
            // `conv2d(&x, 64, 3).stride(2).call()?`: builder style stays as written.
            Expr::MethodCall(method) if matches!(&*method.receiver, Expr::Call(call) if called_op(call).is_some()) => {
                if let Expr::Call(call) = &mut *method.receiver {
                    call.args.iter_mut().for_each(|arg| self.visit_expr_mut(arg));
                }
                method.args.iter_mut().for_each(|arg| self.visit_expr_mut(arg));
            }
            Expr::Call(call) => match called_op(call) {
                Some(op) => *expr = Expr::Verbatim(self.rewrite_call(op, call)),
                None if has_keywords(call) => *expr = Expr::Verbatim(self.rewrite_user_call(call)),
                None => visit_mut::visit_expr_call_mut(self, call),
            },
            Expr::Macro(mac) => match slim_macro(&mac.mac) {
                Some(which) => *expr = Expr::Verbatim(self.expand_macro(which, &mac.mac)),
                None => visit_mut::visit_expr_macro_mut(self, mac),
            },
            _ => visit_mut::visit_expr_mut(self, expr),
        }
    }

    fn visit_stmt_mut(&mut self, stmt: &mut Stmt) {
        if let Stmt::Macro(mac) = stmt
            && let Some(which) = slim_macro(&mac.mac)
        {
            let expanded = self.expand_macro(which, &mac.mac);
            *stmt = Stmt::Expr(Expr::Verbatim(expanded), mac.semi_token);
            return;
        }
        visit_mut::visit_stmt_mut(self, stmt);
    }
}
