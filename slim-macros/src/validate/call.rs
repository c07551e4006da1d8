//! An op call's arguments: order, duplicates, arity and keywords against the op table.

use proc_macro2::Span;

use crate::errors::Errors;
use crate::ops::{self, Op, OpKind};
use crate::parse::call::{CallArgs, Keyword};

/// Keywords come last and each at most once.
pub(crate) fn check_arguments(args: &CallArgs, errors: &mut Errors) {
    for (span, keyword) in &args.late_positional {
        errors.add(*span, format!("positional argument after keyword `{keyword}`: keywords come last"));
    }
    for (index, keyword) in args.keywords.iter().enumerate() {
        if args.keywords[..index].iter().any(|earlier| earlier.name == keyword.name) {
            errors.add(keyword.name.span(), format!("keyword `{}` is given more than once", keyword.name));
        }
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

/// A call of a `#[slim::add_arg_scope]` function passes at least its input (rustc checks the rest).
pub(crate) fn check_user_call(args: &CallArgs, span: Span, errors: &mut Errors) {
    if args.positional.is_empty() {
        errors.add(span, "pass the layer's input first");
    }
}
