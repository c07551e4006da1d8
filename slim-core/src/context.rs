//! slim's per-thread state: the one mechanism its stacks share ([`ThreadStack`], entered with [`enter`] and left
//! when the [`StackGuard`] drops), the order a model enters them, and the scope names a replaying model runs
//! under. A built model's forward pass enters no variable scope (no name work per step), so the tape pushes here
//! the full names it recorded when the model was built, and an error converted from libtorch (`?` on a
//! `TchError`) is labelled the same in a replay as in the build.
//!
//! The per-thread state, and the order a model enters it (each guard leaves in reverse order when dropped):
//!
//! | state | module | build (`Built::new`) | replay (`Built::forward_t`) |
//! |---|---|---|---|
//! | CPU path settings | `switch` (`Config::scoped`) | around anything | around anything |
//! | the default store and its variable scopes | `variables::scope` | 1. store, 4. the model's scope; layers and `#[slim::add_arg_scope]` calls enter theirs | 1. store only |
//! | the mode | `mode` | 2. eval | 2. the mode asked for |
//! | replay scope names | here | – | 3. the model's recorded name; each add_arg_scope call its own |
//! | the tape | `model::tape` | 3. recording | 4. replaying |
//! | arg scopes | `arg_scope` | entered by `arg_scope!` | not entered (the tape holds resolved arguments) |
//!
//! Arg scopes, stores, replay names and CPU settings are [`ThreadStack`]s. Variable scopes are a stack inside
//! their store's frame (left by `ScopeGuard`), the tape's frames are popped by the guard that hands back what
//! they recorded, and the mode is one cell its `ModeGuard` restores.

use std::cell::RefCell;
use std::marker::PhantomData;
use std::sync::Arc;
use std::thread::LocalKey;

/// A per-thread stack, innermost last: a `thread_local!` `RefCell<Vec<T>>`.
pub(crate) type ThreadStack<T> = LocalKey<RefCell<Vec<T>>>;

/// Pushes `entries` onto this thread's `stack`; they (and anything pushed after them) are popped when the guard
/// drops.
pub(crate) fn enter<T: 'static>(stack: &'static ThreadStack<T>, entries: impl IntoIterator<Item = T>) -> StackGuard<T> {
    let depth = stack.with(|stack| {
        let mut stack = stack.borrow_mut();
        let depth = stack.len();
        stack.extend(entries);
        depth
    });
    StackGuard { stack, depth, _not_send: PhantomData }
}

/// Pops a per-thread stack back to where it stood before [`enter`] when dropped, even when the scope it guards
/// ends early with an error or a panic; it stays on the thread that entered it.
pub(crate) struct StackGuard<T: 'static> {
    stack: &'static ThreadStack<T>,
    depth: usize,
    _not_send: PhantomData<*const ()>,
}

impl<T> Drop for StackGuard<T> {
    fn drop(&mut self) {
        // During thread teardown the stack may be gone already; there is nothing left to pop then.
        let _ = self.stack.try_with(|stack| stack.borrow_mut().truncate(self.depth));
    }
}

impl<T> std::fmt::Debug for StackGuard<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StackGuard").field("depth", &self.depth).finish()
    }
}

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
    _entry: StackGuard<(Arc<str>, ScopeMark)>,
}

impl ReplayScope {
    /// Makes `name` (a full scope name recorded while building) the innermost replay scope of this thread; `mark`
    /// says where the variable scopes stand now.
    pub(crate) fn enter(name: Arc<str>, mark: ScopeMark) -> ReplayScope {
        ReplayScope { _entry: enter(&REPLAY_SCOPES, [(name, mark)]) }
    }
}

/// The innermost replay scope's name and mark on this thread; `None` when no replay has entered one.
pub(crate) fn replay_scope() -> Option<(Arc<str>, ScopeMark)> {
    REPLAY_SCOPES.with(|scopes| scopes.borrow().last().cloned())
}

#[cfg(test)]
mod tests {
    use super::*;

    thread_local! {
        static NUMBERS: RefCell<Vec<u32>> = const { RefCell::new(Vec::new()) };
    }

    fn numbers() -> Vec<u32> {
        NUMBERS.with(|numbers| numbers.borrow().clone())
    }

    #[test]
    fn a_guard_pops_its_entries_and_all_pushed_after_them() {
        let outer = enter(&NUMBERS, [1, 2]);
        let inner = enter(&NUMBERS, [3]);
        assert_eq!(numbers(), [1, 2, 3]);
        // Dropped out of order (a guard moved out of its scope), the outer guard still restores its own depth.
        drop(outer);
        assert_eq!(numbers(), Vec::<u32>::new());
        drop(inner);
        assert_eq!(numbers(), Vec::<u32>::new());
    }

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
