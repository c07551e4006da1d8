//! Variables, scopes and collections (TF-Slim's variables_test semantics).
#![allow(unused_must_use)] // layers are called for the variables they create
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use slim::prelude::*;

fn names(list: &[Variable]) -> Vec<&str> {
    list.iter().map(Variable::name).collect()
}

#[test]
fn nested_scopes_name_variables_with_slashes() {
    let vs = VarStore::new(Device::Cpu);
    let _g = vs.as_default();
    let _a = VariableScope::new("A").enter().unwrap();
    let _b = VariableScope::new("B").enter().unwrap();
    let a = variable("a", &[5], VariableArgs::default()).unwrap();
    assert_eq!(a.name(), "A/B/a");
    assert!(a.is_global() && a.is_trainable() && !a.is_model_variable());
}

#[test]
fn model_and_local_variables_land_in_their_collections() {
    let vs = VarStore::new(Device::Cpu);
    let _g = vs.as_default();
    let m = model_variable("m", &[2], ModelVariableArgs::default()).unwrap();
    let l = local_variable("l", &Tensor::zeros([3], (Kind::Float, Device::Cpu))).unwrap();
    assert_eq!(names(&get_model_variables(None, None).unwrap()), ["m"]);
    assert_eq!(names(&get_local_variables(None, None).unwrap()), ["l"]);
    assert!(!l.is_global() && !l.is_trainable());
    assert!(m.is_global());
    variable("v", &[1], VariableArgs::default()).unwrap();
    add_model_variable("v").unwrap();
    assert_eq!(names(&get_model_variables(None, None).unwrap()), ["m", "v"]);
    assert!(vs.tch().variables().contains_key("m"), "global variables sit in the tch VarStore");
    assert!(!vs.tch().variables().contains_key("l"), "local variables are not saved");
}

#[test]
fn arg_scope_over_variable_sets_collections_and_trainable() {
    let vs = VarStore::new(Device::Cpu);
    let _g = vs.as_default();
    let _s = ArgScope::current().with(VariableArgs::default().collections(vec!["A".to_string()])).enter();
    variable("a", &[], VariableArgs::default()).unwrap();
    {
        let _t = ArgScope::current().with(VariableArgs::default().collections(vec!["B".to_string()])).enter();
        variable("b", &[], VariableArgs::default()).unwrap();
    }
    assert_eq!(names(&vs.collection("A")), ["a"]);
    assert_eq!(names(&vs.collection("B")), ["b"]);
    // As TF-Slim's `variable`: given collections replace the global variables (a trainable one stays
    // trainable); a model variable's join the global and model variables.
    assert!(get_global_variables(None, None).unwrap().is_empty(), "a and b are not global variables");
    assert_eq!(names(&get_trainable_variables(None, None).unwrap()), ["a", "b"]);
    let listed = VariableArgs::default().collections(vec!["A".to_string(), GLOBAL_VARIABLES.to_string()]);
    let _ = variable("listed", &[], listed).unwrap();
    assert_eq!(names(&get_global_variables(None, None).unwrap()), ["listed"]);
    let model = ModelVariableArgs(VariableArgs::default().collections(vec!["C".to_string()]));
    let _ = model_variable("m", &[], model).unwrap();
    assert_eq!(names(&vs.collection("C")), ["m"]);
    assert_eq!(names(&get_model_variables(None, None).unwrap()), ["m"]);
    let _u = ArgScope::current().with(VariableArgs::default().trainable(false)).enter();
    let c = variable("c", &[], VariableArgs::default()).unwrap();
    assert!(!c.is_trainable());
    assert!(!get_trainable_variables(None, None).unwrap().iter().any(|v| v.name() == "c"));
    let _m = model_variable("not_reached", &[], ModelVariableArgs::default()).unwrap();
    assert!(_m.is_trainable(), "an arg scope over variable does not reach model_variable");
}

#[test]
fn lookups_by_scope_suffix_name_and_exact_name() {
    let vs = VarStore::new(Device::Cpu);
    let _g = vs.as_default();
    for (scope, name) in [("A", "a"), ("A", "fooa"), ("B", "a"), ("A", "b")] {
        let _s = VariableScope::new(scope).reuse(Reuse::Auto).enter().unwrap();
        variable(name, &[1], VariableArgs::default()).unwrap();
    }
    assert_eq!(names(&get_variables_by_suffix("a", None).unwrap()), ["A/a", "A/fooa", "B/a"]);
    assert_eq!(names(&get_variables_by_name("a", None).unwrap()), ["A/a", "B/a"]);
    assert_eq!(names(&get_variables(Some("A"), None, GLOBAL_VARIABLES).unwrap()), ["A/a", "A/fooa", "A/b"]);
    assert_eq!(names(&get_variables(Some("A"), Some("a"), GLOBAL_VARIABLES).unwrap()), ["A/a", "A/fooa"]);
    assert_eq!(get_unique_variable("A/a").unwrap().name(), "A/a");
    assert!(get_unique_variable("A").is_err());
    assert!(get_unique_variable("C/a").is_err());
    assert!(get_variables(Some("("), None, GLOBAL_VARIABLES).is_err());
}

#[test]
fn duplicates_are_errors_and_reuse_needs_existing_variables() {
    let vs = VarStore::new(Device::Cpu);
    let _g = vs.as_default();
    variable("w", &[2], VariableArgs::default()).unwrap();
    assert!(matches!(variable("w", &[2], VariableArgs::default()), Err(Error::DuplicateVariable { .. })));
    let _s = VariableScope::new("s").reuse(Reuse::Auto).enter().unwrap();
    let first = variable("x", &[2], VariableArgs::default()).unwrap();
    let again = variable("x", &[2], VariableArgs::default()).unwrap();
    assert!(first.tensor().equal(again.tensor()));
    assert!(matches!(variable("x", &[3], VariableArgs::default()), Err(Error::ShapeMismatch { .. })));
    drop(_s);
    let _r = VariableScope::new("s").reuse(Reuse::Yes).enter().unwrap();
    assert!(matches!(variable("y", &[2], VariableArgs::default()), Err(Error::MissingVariable { .. })));
    assert!(VariableScope::new("bad.name").enter().is_err());
}

#[test]
fn default_scope_names_are_unique_per_parent() {
    let vs = VarStore::new(Device::Cpu);
    let _g = vs.as_default();
    let first = VariableScope::named_or_default(None, "Conv").enter().unwrap();
    assert_eq!(first.name(), "Conv");
    drop(first);
    assert_eq!(VariableScope::named_or_default(None, "Conv").enter().unwrap().name(), "Conv_1");
    let _p = VariableScope::new("parent").enter().unwrap();
    assert_eq!(VariableScope::named_or_default(None, "Conv").enter().unwrap().name(), "parent/Conv");
}

#[test]
fn no_active_store_is_a_clear_error() {
    let err = variable("w", &[1], VariableArgs::default()).unwrap_err().to_string();
    assert!(err.contains("as_default"), "{err}");
}

#[test]
fn global_step_is_an_int64_scalar() {
    let vs = VarStore::new(Device::Cpu);
    let _g = vs.as_default();
    assert!(get_global_step().unwrap().is_none());
    let step = get_or_create_global_step().unwrap();
    assert_eq!((step.name(), step.tensor().kind(), step.shape()), ("global_step", Kind::Int64, vec![]));
    assert!(create_global_step().is_err());
    assert!(!step.is_trainable());
}

/// TF's `get_global_step`: a variable named `global_step` outside the collection is found by its name (and the
/// train op counts it); one that is not an integer scalar is an error, as TF's `assert_global_step` makes it.
#[test]
fn a_users_own_global_step_is_found_by_name_and_checked() {
    let vs = VarStore::new(Device::Cpu);
    let _g = vs.as_default();
    let own = slim::variables::global_variable("global_step", &Tensor::from(5i64)).unwrap();
    assert_eq!(get_global_step().unwrap().map(|v| v.name().to_string()).as_deref(), Some("global_step"));
    assert!(create_global_step().is_err(), "it exists already");
    let _ = variable("w", &[1], VariableArgs::default()).unwrap();
    let mut train_op = create_train_op(&vs, GradientDescent, 0.1).build().unwrap();
    let _ = train_op.step(|| Ok(get_trainable_variables(None, None).unwrap()[0].tensor().sum(Kind::Float))).unwrap();
    assert_eq!(own.tensor().int64_value(&[]), 6, "the train op counts the user's step");

    let other = VarStore::new(Device::Cpu);
    let _g = other.as_default();
    let _ = slim::variables::global_variable("global_step", &Tensor::from(0.5f32)).unwrap();
    let message = get_global_step().err().map(|e| e.to_string()).unwrap_or_default();
    assert!(message.contains("must be an integer scalar") && message.contains("Float"), "{message}");
    assert!(get_or_create_global_step().is_err());
}
