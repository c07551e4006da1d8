//! The scope names a replaying model runs under. A built model's forward pass enters no variable scope (no name
//! work per step), so the tape pushes here the full names it recorded when the model was built, and an error
//! converted from libtorch (`?` on a `TchError`) is labelled the same in a replay as in the build.
//!
//! slim's per-thread state, and the order a model enters it (each guard leaves in reverse order when dropped):
//!
//! | state | module | build (`Built::new`) | replay (`Built::forward_t`) |
//! |---|---|---|---|
//! | CPU path settings | `switch` (`Config::scoped`) | around anything | around anything |
//! | the default store and its variable scopes | `variables::scope` | 1. store, 4. the model's scope; layers and `#[slim::add_arg_scope]` calls enter theirs | 1. store only |
//! | the mode | `mode` | 2. eval | 2. the mode asked for |
//! | replay scope names | here | – | 3. the model's recorded name; each add_arg_scope call its own |
//! | the tape | `model::tape` | 3. recording | 4. replaying |
//! | arg scopes | `arg_scope` | entered by `arg_scope!` | not entered (the tape holds resolved arguments) |

use std::cell::RefCell;
use std::marker::PhantomData;
use std::sync::Arc;

thread_local! {
    /// The recorded scope names entered by the replays on this thread, innermost last, each with the mark of
    /// the variable scopes where it was entered.
    static REPLAY_SCOPES: RefCell<Vec<(Arc<str>, ScopeMark)>> = const { RefCell::new(Vec::new()) };
}

/// Where the thread's variable scopes stood (store depth, scope depth) when a replay scope was entered: scopes
/// a replayed body enters later are named relative to its recorded name.
pub(crate) type ScopeMark = (usize, usize);

/// Runs a replay under a recorded scope name until dropped, on the thread that entered it.
#[must_use = "the name is left as soon as the guard is dropped"]
#[derive(Debug)]
pub struct ReplayScope {
    depth: usize,
    _not_send: PhantomData<*const ()>,
}

impl ReplayScope {
    /// Makes `name` (a full scope name recorded while building) the innermost replay scope of this thread; `mark`
    /// says where the variable scopes stand now.
    pub(crate) fn enter(name: Arc<str>, mark: ScopeMark) -> ReplayScope {
        REPLAY_SCOPES.with(|scopes| {
            let mut scopes = scopes.borrow_mut();
            scopes.push((name, mark));
            ReplayScope { depth: scopes.len() - 1, _not_send: PhantomData }
        })
    }
}

impl Drop for ReplayScope {
    fn drop(&mut self) {
        REPLAY_SCOPES.with(|scopes| scopes.borrow_mut().truncate(self.depth));
    }
}

/// The innermost replay scope's name and mark on this thread; `None` when no replay has entered one.
pub(crate) fn replay_scope() -> Option<(Arc<str>, ScopeMark)> {
    REPLAY_SCOPES.with(|scopes| scopes.borrow().last().cloned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_nest_and_leave_with_their_guards() {
        let name = || replay_scope().map(|(name, _)| name.to_string());
        assert_eq!(name(), None);
        let outer = ReplayScope::enter("net".into(), (1, 0));
        {
            let _inner = ReplayScope::enter("net/block1".into(), (1, 2));
            assert_eq!(replay_scope(), Some(("net/block1".into(), (1, 2))));
        }
        assert_eq!(name().as_deref(), Some("net"));
        drop(outer);
        assert_eq!(name(), None);
    }
}
