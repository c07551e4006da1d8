//! The scope names a replaying model runs under. A built model's forward pass enters no variable scope (no name
//! work per step), so the tape pushes here the full names it recorded when the model was built, and an error
//! converted from libtorch (`?` on a `TchError`) is labelled the same in a replay as in the build.

use std::cell::RefCell;
use std::marker::PhantomData;
use std::sync::Arc;

thread_local! {
    /// The recorded scope names entered by the replays on this thread, innermost last.
    static REPLAY_SCOPES: RefCell<Vec<Arc<str>>> = const { RefCell::new(Vec::new()) };
}

/// Runs a replay under a recorded scope name until dropped, on the thread that entered it.
#[must_use = "the name is left as soon as the guard is dropped"]
#[derive(Debug)]
pub struct ReplayScope {
    depth: usize,
    _not_send: PhantomData<*const ()>,
}

impl ReplayScope {
    /// Makes `name` (a full scope name recorded while building) the innermost replay scope of this thread.
    pub(crate) fn enter(name: Arc<str>) -> ReplayScope {
        REPLAY_SCOPES.with(|scopes| {
            let mut scopes = scopes.borrow_mut();
            scopes.push(name);
            ReplayScope { depth: scopes.len() - 1, _not_send: PhantomData }
        })
    }
}

impl Drop for ReplayScope {
    fn drop(&mut self) {
        REPLAY_SCOPES.with(|scopes| scopes.borrow_mut().truncate(self.depth));
    }
}

/// The innermost replay scope's name on this thread; `None` when no replay has entered one.
pub(crate) fn replay_scope() -> Option<Arc<str>> {
    REPLAY_SCOPES.with(|scopes| scopes.borrow().last().cloned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_nest_and_leave_with_their_guards() {
        assert_eq!(replay_scope(), None);
        let outer = ReplayScope::enter("net".into());
        {
            let _inner = ReplayScope::enter("net/block1".into());
            assert_eq!(replay_scope().as_deref(), Some("net/block1"));
        }
        assert_eq!(replay_scope().as_deref(), Some("net"));
        drop(outer);
        assert_eq!(replay_scope(), None);
    }
}
