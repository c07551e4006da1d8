//! An op call's arguments: order, duplicates, an input first; plain functions take no keywords. Which
//! keywords a layer takes and how many arguments is rustc's to check, against the layer's Rust types.

use proc_macro2::Span;

use crate::errors::Errors;
use crate::ops::Op;
use crate::parse::call::CallArgs;

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

/// A layer call passes at least its input.
pub(crate) fn check_input(args: &CallArgs, span: Span, errors: &mut Errors) {
    if args.positional.is_empty() {
        errors.add(span, "pass the layer's input first");
    }
}

/// One of slim's plain functions (`flatten`) takes positional arguments only, its input first.
pub(crate) fn check_function_call(op: &Op, args: &CallArgs, span: Span, errors: &mut Errors) {
    for keyword in &args.keywords {
        errors.add(keyword.name.span(), format!("`{}` takes no keyword arguments (it is a plain function)", op.name));
    }
    if args.positional.is_empty() {
        errors.add(span, format!("pass `{}` its input first", op.name));
    }
}
