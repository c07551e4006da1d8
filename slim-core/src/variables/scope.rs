//! Variable scopes: the thread's current store, the stack of nested scope names, reuse, and default-name
//! uniquification (`Conv`, `Conv_1`) as TF's `variable_scope` does it.

use std::cell::RefCell;
use std::marker::PhantomData;

use super::store::VarStore;
use crate::context::{self, StackGuard};
use crate::{Error, Result};

/// Whether a scope creates new variables or fetches existing ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Reuse {
    /// Keep the enclosing scope's setting (TF's `reuse=None`); at the root that means "create".
    #[default]
    Inherit,
    /// Fetch existing variables; asking for a missing one is an error (TF's `reuse=True`). Nested scopes
    /// inherit it and cannot turn it off.
    Yes,
    /// Fetch a variable when it exists, create it otherwise (TF's `AUTO_REUSE`).
    Auto,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EffectiveReuse {
    Create,
    Reuse,
    Auto,
}

struct ScopeFrame {
    name: String,
    reuse: EffectiveReuse,
}

struct StoreFrame {
    store: VarStore,
    scopes: Vec<ScopeFrame>,
}

thread_local! {
    static CONTEXT: RefCell<Vec<StoreFrame>> = const { RefCell::new(Vec::new()) };
}

impl VarStore {
    /// Makes this the store that layers and `variable` use on this thread, at its root scope, until the guard
    /// is dropped (TF's `graph.as_default()`).
    pub fn as_default(&self) -> StoreGuard {
        StoreGuard { _entry: context::enter(&CONTEXT, [StoreFrame { store: self.clone(), scopes: Vec::new() }]) }
    }
}

/// Leaves the store entered by [`VarStore::as_default`] when dropped.
#[must_use = "the store stops being the default as soon as the guard is dropped"]
pub struct StoreGuard {
    _entry: StackGuard<StoreFrame>,
}

/// The store entered on this thread, or an error telling the caller to enter one.
pub fn current_store() -> Result<VarStore> {
    CONTEXT.with(|c| c.borrow().last().map(|frame| frame.store.clone())).ok_or_else(|| {
        Error::invalid("slim", "no VarStore is active on this thread: enter one with `let _guard = vs.as_default();`")
    })
}

/// Where this thread's variable scopes stand: how many stores are entered, and how many scopes in the innermost.
/// [`scope_name_since`] names what was entered after it.
pub(crate) fn scope_mark() -> (usize, usize) {
    CONTEXT.with(|c| {
        let frames = c.borrow();
        (frames.len(), frames.last().map_or(0, |frame| frame.scopes.len()))
    })
}

/// The name of the scopes entered since `mark` (from [`scope_mark`]) in the same store, relative to where the
/// mark stood (`""` when none); the current full name when another store has been entered since.
pub(crate) fn scope_name_since((store_depth, scope_depth): (usize, usize)) -> String {
    CONTEXT.with(|c| {
        let frames = c.borrow();
        let Some(frame) = frames.last() else { return String::new() };
        let current = frame.scopes.last().map(|s| s.name.as_str()).unwrap_or_default();
        if frames.len() != store_depth {
            return current.to_string();
        }
        if frame.scopes.len() <= scope_depth {
            return String::new();
        }
        match scope_depth.checked_sub(1).and_then(|i| frame.scopes.get(i)) {
            Some(base) => current.strip_prefix(&format!("{}/", base.name)).unwrap_or(current).to_string(),
            None => current.to_string(),
        }
    })
}

/// The full name of the current variable scope (`""` at the root).
pub fn current_scope_name() -> String {
    CONTEXT
        .with(|c| c.borrow().last().and_then(|frame| frame.scopes.last()).map(|s| s.name.clone()).unwrap_or_default())
}

pub(crate) fn current_reuse() -> EffectiveReuse {
    CONTEXT.with(|c| {
        c.borrow().last().and_then(|frame| frame.scopes.last()).map(|s| s.reuse).unwrap_or(EffectiveReuse::Create)
    })
}

/// Joins a scope prefix and a name with `/`.
pub fn join_name(prefix: &str, name: &str) -> String {
    if prefix.is_empty() { name.to_string() } else { format!("{prefix}/{name}") }
}

/// A variable scope to enter: a fixed name, or a default name made unique among its siblings.
#[derive(Clone, Debug)]
pub struct VariableScope {
    name: Option<String>,
    default_name: Option<String>,
    reuse: Reuse,
}

impl VariableScope {
    /// A scope with exactly this name (relative to the current scope; may contain `/`).
    pub fn new(name: impl Into<String>) -> Self {
        VariableScope { name: Some(name.into()), default_name: None, reuse: Reuse::Inherit }
    }

    /// A scope named `name` when given, otherwise `default_name` made unique (`Conv`, `Conv_1`, …).
    pub fn named_or_default(name: Option<&str>, default_name: &str) -> Self {
        VariableScope {
            name: name.map(str::to_string),
            default_name: Some(default_name.to_string()),
            reuse: Reuse::Inherit,
        }
    }

    /// Sets the reuse behaviour.
    pub fn reuse(mut self, reuse: Reuse) -> Self {
        self.reuse = reuse;
        self
    }

    /// Enters the scope until the guard is dropped. Fails when no store is active, when the name is not a valid
    /// scope name, or when `Reuse::Yes` asks to reuse a scope that holds no variables.
    pub fn enter(self) -> Result<ScopeGuard> {
        let store = current_store()?;
        let parent = current_scope_name();
        let relative = match (&self.name, &self.default_name) {
            (Some(name), _) => {
                validate_scope_name(&parent, name)?;
                name.clone()
            }
            (None, Some(default)) => unique_name(&store, &parent, default),
            (None, None) => return Err(Error::invalid(&parent, "a variable scope needs a name")),
        };
        let full = join_name(&parent, &relative);
        let reuse = match (current_reuse(), self.reuse) {
            (EffectiveReuse::Reuse, _) | (_, Reuse::Yes) => EffectiveReuse::Reuse,
            (_, Reuse::Auto) => EffectiveReuse::Auto,
            (inherited, Reuse::Inherit) => inherited,
        };
        if self.reuse == Reuse::Yes && !store.has_scope(&full) {
            return Err(Error::NotFound(format!(
                "variable scope {full} cannot be reused: no variable exists under it"
            )));
        }
        store.open_scope(&full);
        push_scope(full, reuse)
    }
}

fn validate_scope_name(parent: &str, name: &str) -> Result<()> {
    let bad =
        name.is_empty() || name.starts_with('/') || name.ends_with('/') || name.contains("//") || name.contains('.');
    if bad {
        return Err(Error::invalid(
            if parent.is_empty() { "slim" } else { parent },
            format!("{name:?} is not a valid scope name (non-empty, no '.', no leading, trailing or double '/')"),
        ));
    }
    Ok(())
}

/// `base` if no sibling scope of that name was opened yet, else `base_1`, `base_2`, … (TF's rule).
fn unique_name(store: &VarStore, parent: &str, base: &str) -> String {
    if store.scope_count(&join_name(parent, base)) == 0 {
        return base.to_string();
    }
    (1..)
        .map(|i| format!("{base}_{i}"))
        .find(|candidate| store.scope_count(&join_name(parent, candidate)) == 0)
        .unwrap_or_else(|| base.to_string())
}

fn push_scope(name: String, reuse: EffectiveReuse) -> Result<ScopeGuard> {
    CONTEXT.with(|c| {
        let mut frames = c.borrow_mut();
        let store_depth = frames.len();
        let frame = frames.last_mut().ok_or_else(|| Error::invalid(&name, "no variable store is active"))?;
        frame.scopes.push(ScopeFrame { name, reuse });
        Ok(ScopeGuard { store_depth, scope_depth: frame.scopes.len() - 1, _not_send: PhantomData })
    })
}

/// Leaves a variable scope when dropped.
#[must_use = "the scope is left as soon as the guard is dropped"]
#[derive(Debug)]
pub struct ScopeGuard {
    store_depth: usize,
    scope_depth: usize,
    _not_send: PhantomData<*const ()>,
}

impl ScopeGuard {
    /// The full name of the scope this guard holds open.
    pub fn name(&self) -> String {
        CONTEXT.with(|c| {
            c.borrow()
                .get(self.store_depth - 1)
                .and_then(|frame| frame.scopes.get(self.scope_depth))
                .map(|s| s.name.clone())
                .unwrap_or_default()
        })
    }
}

impl Drop for ScopeGuard {
    fn drop(&mut self) {
        CONTEXT.with(|c| {
            if let Some(frame) = c.borrow_mut().get_mut(self.store_depth - 1) {
                frame.scopes.truncate(self.scope_depth);
            }
        });
    }
}
