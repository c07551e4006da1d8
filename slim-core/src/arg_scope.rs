//! Run-time arg scopes: a per-thread stack of per-op default arguments with TF-Slim's semantics.
//!
//! Every arg-scopable op owns an `…Args` struct of optional fields implementing [`ScopeArgs`]; the struct's
//! type is the op's key. A scope frame maps op keys to partial arguments. Entering a frame built with
//! [`ArgScope::with`] copies the current frame and merges the new defaults over it (inner wins); entering a saved
//! [`ArgScope`] value pushes it as it is, replacing (not merging with) whatever is active. A call resolves its
//! arguments field by field: the call site, then the current frame, then the op's own defaults. Resolution reads
//! the stack when the op is called, so defaults reach ops called inside helper functions and nested networks.
//! Listing an op that is not arg-scopable is a compile error: it has no [`ScopeArgs`] type.
//!
//! ```
//! use slim_core::arg_scope::ArgScope;
//! use slim_core::layers::{Padding, conv2d};
//!
//! let _scope = ArgScope::current().with(conv2d::Args::default().padding(Padding::Valid)).enter();
//! assert_eq!(ArgScope::current().ops(), ["conv2d"]);
//! ```
//!
//! A type that is not an op's arguments cannot be listed:
//!
//! ```compile_fail
//! use slim_core::arg_scope::ArgScope;
//!
//! let _scope = ArgScope::current().with(3_i32).enter();
//! ```
//!
//! A misspelt keyword is rejected by the compiler:
//!
//! ```compile_fail
//! use slim_core::arg_scope::ArgScope;
//! use slim_core::layers::{Padding, conv2d};
//!
//! let _scope = ArgScope::current().with(conv2d::Args::default().paddding(Padding::Valid)).enter();
//! ```
//!
//! So is a value of the wrong type:
//!
//! ```compile_fail
//! use slim_core::arg_scope::ArgScope;
//! use slim_core::layers::conv2d;
//!
//! let _scope = ArgScope::current().with(conv2d::Args::default().padding("VALID")).enter();
//! ```

use std::any::{Any, TypeId};
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use crate::context::{self, StackGuard};

/// The partial arguments of one arg-scopable op: every field optional, merged field by field.
pub trait ScopeArgs: Any + Clone + Default + Send + Sync {
    /// The op's name, as error messages and listings show it (`conv2d`).
    const OP_NAME: &'static str;

    /// The names of every argument an arg scope can set, in declaration order.
    const FIELDS: &'static [&'static str];

    /// Keeps every field set in `self` and fills the unset ones from `outer`.
    fn or(self, outer: &Self) -> Self;

    /// The names of the fields that are set.
    fn set_fields(&self) -> Vec<&'static str>;
}

type Entry = Arc<dyn Any + Send + Sync>;

/// One frame of defaults: op → partial arguments. Cheap to clone; a value returned from a function such as
/// `vgg_arg_scope(5e-4)` can be entered later with [`ArgScope::enter`].
#[derive(Clone, Default)]
pub struct ArgScope {
    entries: Arc<HashMap<TypeId, (&'static str, Entry)>>,
}

impl std::fmt::Debug for ArgScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut ops: Vec<&str> = self.entries.values().map(|(name, _)| *name).collect();
        ops.sort_unstable();
        f.debug_struct("ArgScope").field("ops", &ops).finish()
    }
}

thread_local! {
    static STACK: RefCell<Vec<ArgScope>> = const { RefCell::new(Vec::new()) };
}

impl ArgScope {
    /// A frame with no defaults; entering it clears every default inside it (TF's `arg_scope({})`).
    pub fn empty() -> Self {
        ArgScope::default()
    }

    /// A copy of the frame active on this thread (TF's `current_arg_scope()`; empty outside any scope).
    pub fn current() -> Self {
        STACK.with(|s| s.borrow().last().cloned()).unwrap_or_default()
    }

    /// This frame with `args` merged over the op's existing entry; the new values win.
    pub fn with<A: ScopeArgs>(self, args: A) -> Self {
        let merged = match self.get::<A>() {
            Some(existing) => args.or(existing),
            None => args,
        };
        let mut entries = (*self.entries).clone();
        entries.insert(TypeId::of::<A>(), (A::OP_NAME, Arc::new(merged)));
        ArgScope { entries: Arc::new(entries) }
    }

    /// The defaults this frame holds for the op `A`.
    pub fn get<A: ScopeArgs>(&self) -> Option<&A> {
        self.entries.get(&TypeId::of::<A>()).and_then(|(_, entry)| entry.downcast_ref::<A>())
    }

    /// Whether this frame holds defaults for the op `A`.
    pub fn contains<A: ScopeArgs>(&self) -> bool {
        self.entries.contains_key(&TypeId::of::<A>())
    }

    /// The names of the ops this frame holds defaults for, sorted.
    pub fn ops(&self) -> Vec<&'static str> {
        let mut ops: Vec<&'static str> = self.entries.values().map(|(name, _)| *name).collect();
        ops.sort_unstable();
        ops
    }

    /// The number of ops with defaults.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no op has defaults.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Makes this frame the active one until the guard is dropped. It replaces the active frame: defaults of
    /// enclosing scopes that this frame does not hold are hidden inside it.
    pub fn enter(&self) -> ArgScopeGuard {
        ArgScopeGuard { _entry: context::enter(&STACK, [self.clone()]) }
    }

    /// Resolves the call-site arguments of op `A` against the active frame: fields set at the call site win,
    /// unset ones come from the active frame.
    pub fn resolve<A: ScopeArgs>(explicit: A) -> A {
        STACK.with(|s| match s.borrow().last().and_then(|frame| frame.get::<A>()) {
            Some(scoped) => explicit.or(scoped),
            None => explicit,
        })
    }
}

/// Leaves an arg scope when dropped, even when the body returned early with an error.
#[must_use = "the arg scope is left as soon as the guard is dropped"]
pub struct ArgScopeGuard {
    _entry: StackGuard<ArgScope>,
}

/// Defines an arg-scopable op's `…Args` struct (every field optional), its fully resolved `…Options` struct
/// with TF-Slim's defaults, builder-style setters (also on the op's call builder, when one is named), and the
/// [`ScopeArgs`] merge.
macro_rules! scope_args {
    (
        $(#[$args_meta:meta])*
        pub struct $args:ident => $options:ident for $op:literal [$($call:ident)?] $fields:tt
    ) => {
        $crate::arg_scope::scope_args!(@define [$(#[$args_meta])*] $args $options $op $fields);
        $( $crate::arg_scope::scope_args!(@call_setters $call $fields); )?
    };
    (
        @define [$(#[$args_meta:meta])*] $args:ident $options:ident $op:literal
        { $( $(#[$field_meta:meta])* $field:ident : $ty:ty = $default:expr ),* $(,)? }
    ) => {
        $(#[$args_meta])*
        ///
        /// Every field is optional: unset fields come from the active arg scope, then from TF-Slim's default.
        #[derive(Clone, Default, Debug)]
        pub struct $args {
            $( $(#[$field_meta])* pub $field: Option<$ty>, )*
        }

        #[doc = concat!("The arguments of `", $op, "` with every default applied.")]
        #[derive(Clone, Debug)]
        pub struct $options {
            $( $(#[$field_meta])* pub $field: $ty, )*
        }

        impl $args {
            $(
                $(#[$field_meta])*
                pub fn $field(mut self, value: impl Into<$ty>) -> Self {
                    self.$field = Some(value.into());
                    self
                }
            )*

            /// Fills every unset field with TF-Slim's default.
            pub fn resolve(self) -> $options {
                $options { $( $field: self.$field.unwrap_or_else(|| $default), )* }
            }

            /// Merges these call-site arguments over the active arg scope, then applies the defaults.
            pub fn resolve_in_scope(self) -> $options {
                $crate::arg_scope::ArgScope::resolve(self).resolve()
            }
        }

        impl $crate::arg_scope::ScopeArgs for $args {
            const OP_NAME: &'static str = $op;
            const FIELDS: &'static [&'static str] = &[$(stringify!($field)),*];

            fn or(self, outer: &Self) -> Self {
                $args { $( $field: self.$field.or_else(|| outer.$field.clone()), )* }
            }

            fn set_fields(&self) -> Vec<&'static str> {
                let mut fields = Vec::new();
                $( if self.$field.is_some() { fields.push(stringify!($field)); } )*
                fields
            }
        }
    };
    (
        @call_setters $call:ident
        { $( $(#[$field_meta:meta])* $field:ident : $ty:ty = $default:expr ),* $(,)? }
    ) => {
        impl $call {
            $(
                $(#[$field_meta])*
                pub fn $field(mut self, value: impl Into<$ty>) -> Self {
                    self.args.$field = Some(value.into());
                    self
                }
            )*
        }
    };
}
pub(crate) use scope_args;

#[cfg(test)]
#[allow(dead_code)] // the test ops' resolved options are only partly read
mod tests {
    use super::*;

    scope_args! {
        /// Test op one.
        pub struct Func1Args => Func1Options for "func1" [] {
            /// a
            a: i64 = 0,
            /// b
            b: Option<i64> = Some(1),
            /// c
            c: Vec<i64> = vec![2],
            /// d
            d: i64 = 0,
        }
    }

    scope_args! {
        /// Test op two.
        pub struct Func2Args => Func2Options for "func2" [] {
            /// a
            a: i64 = 0,
            /// b
            b: Option<i64> = None,
            /// d
            d: Vec<i64> = vec![],
        }
    }

    fn abc() -> Func1Args {
        Func1Args::default().a(1).b(None).c(vec![1])
    }

    #[test]
    fn empty_scope_yields_nothing_and_reentering_empty_clears() {
        assert!(ArgScope::current().is_empty());
        let _outer = ArgScope::current().with(abc()).enter();
        assert_eq!(ArgScope::current().ops(), vec!["func1"]);
        {
            let _cleared = ArgScope::empty().enter();
            assert!(ArgScope::current().is_empty());
            assert_eq!(ArgScope::resolve(Func1Args::default()).resolve().b, Some(1));
        }
        let copy = ArgScope::current();
        assert_eq!(
            copy.get::<Func1Args>().map(|a| (a.a, a.b, a.c.clone())),
            Some((Some(1), Some(None), Some(vec![1])))
        );
    }

    #[test]
    fn call_site_beats_scope_beats_default() {
        let _s = ArgScope::current().with(abc()).enter();
        let resolved = ArgScope::resolve(Func1Args::default()).resolve();
        assert_eq!((resolved.a, resolved.b, resolved.c), (1, None, vec![1]));
        let resolved = ArgScope::resolve(Func1Args::default().b(2)).resolve();
        assert_eq!((resolved.a, resolved.b, resolved.c), (1, Some(2), vec![1]));
    }

    #[test]
    fn nested_scopes_merge_inner_over_outer_and_keep_other_ops() {
        let _outer = ArgScope::current().with(abc()).enter();
        let _inner = ArgScope::current().with(Func1Args::default().b(2)).enter();
        let r = ArgScope::resolve(Func1Args::default()).resolve();
        assert_eq!((r.a, r.b, r.c), (1, Some(2), vec![1]));
        let _third = ArgScope::current().with(Func2Args::default().b(2).d(vec![2])).enter();
        assert_eq!(ArgScope::current().ops(), vec!["func1", "func2"]);
    }

    #[test]
    fn shared_keys_reach_each_listed_op_separately() {
        // arg_scope([func1, func2], a=1, b=None) → [func1] c=[1] → [func2] d=[2]
        let _s =
            ArgScope::current().with(Func1Args::default().a(1).b(None)).with(Func2Args::default().a(1).b(None)).enter();
        let _s1 = ArgScope::current().with(Func1Args::default().c(vec![1])).enter();
        let _s2 = ArgScope::current().with(Func2Args::default().d(vec![2])).enter();
        let f1 = ArgScope::resolve(Func1Args::default());
        let f2 = ArgScope::resolve(Func2Args::default());
        assert_eq!(f1.set_fields(), vec!["a", "b", "c"]);
        assert_eq!(f2.set_fields(), vec!["a", "b", "d"]);
    }

    #[test]
    fn saved_scope_replaces_rather_than_merges() {
        let sc1 = {
            let _s = ArgScope::current().with(abc()).enter();
            ArgScope::current()
        };
        let sc2 = {
            let _s = ArgScope::current().with(abc()).enter();
            let _t = ArgScope::current().with(Func2Args::default().b(2).d(vec![2])).enter();
            ArgScope::current()
        };
        {
            let _e = sc1.enter();
            assert_eq!(ArgScope::current().ops(), vec!["func1"]);
        }
        let _e = sc2.enter();
        assert_eq!(ArgScope::current().ops(), vec!["func1", "func2"]);
    }

    #[test]
    fn scope_made_outside_hides_outer_defaults_and_made_inside_keeps_them() {
        let made_outside = {
            let _s = ArgScope::current().with(abc()).enter();
            ArgScope::current()
        };
        let _outer = ArgScope::current().with(Func1Args::default().b(2).d(10)).enter();
        let made_inside = {
            let _s = ArgScope::current().with(abc()).enter();
            ArgScope::current()
        };
        {
            let _e = made_outside.enter();
            assert_eq!(ArgScope::resolve(Func1Args::default()).set_fields(), vec!["a", "b", "c"]);
        }
        let _e = made_inside.enter();
        let r = ArgScope::resolve(Func1Args::default());
        assert_eq!(r.set_fields(), vec!["a", "b", "c", "d"]);
        assert_eq!((r.b, r.d), (Some(None), Some(10)));
    }

    #[test]
    fn guards_pop_even_on_early_return() {
        fn failing() -> Result<(), ()> {
            let _s = ArgScope::current().with(abc()).enter();
            Err(())
        }
        assert!(failing().is_err());
        assert!(ArgScope::current().is_empty());
    }
}
