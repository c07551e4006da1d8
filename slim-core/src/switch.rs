//! An on/off setting of slim's CPU paths: overridden on one thread for a scope, else set process-wide by a call,
//! else by an environment variable (read once).

use std::cell::RefCell;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};

use crate::context;

const UNSET: u8 = 0;
const ON: u8 = 1;
const OFF: u8 = 2;

/// One setting: what a call chose, else what its environment variable says.
pub(crate) struct Switch {
    state: AtomicU8,
    variable: &'static str,
    environment: OnceLock<Option<bool>>,
    declined: OnceLock<()>,
}

impl Switch {
    /// A switch read from `variable` until a call sets it.
    pub(crate) const fn new(variable: &'static str) -> Self {
        Switch { state: AtomicU8::new(UNSET), variable, environment: OnceLock::new(), declined: OnceLock::new() }
    }

    /// The environment variable the switch reads, which also names it in scoped settings and messages.
    pub(crate) fn variable(&self) -> &'static str {
        self.variable
    }

    /// Sets the switch, overriding the environment from now on.
    pub(crate) fn set(&self, on: bool) {
        self.state.store(if on { ON } else { OFF }, Ordering::Relaxed);
    }

    /// The setting asked for: by a scope on this thread, else by a call, else by the environment; `None` when
    /// none said.
    pub(crate) fn requested(&self) -> Option<bool> {
        if let Some(on) = scoped_setting(self.variable) {
            return Some(on);
        }
        match self.state.load(Ordering::Relaxed) {
            ON => Some(true),
            OFF => Some(false),
            _ => *self.environment.get_or_init(|| environment_flag(self.variable)),
        }
    }

    /// Says once on standard error why a path the user explicitly switched on is not taken (`reason`); says
    /// nothing when the path is merely on by default.
    pub(crate) fn decline(&self, reason: impl FnOnce() -> String) {
        if self.requested() == Some(true) {
            self.declined.get_or_init(|| eprintln!("slim: {} is on, but {}", self.variable, reason()));
        }
    }
}

thread_local! {
    /// Settings overridden on this thread, innermost scope last: the switch's variable and the setting.
    static SCOPED: RefCell<Vec<(&'static str, bool)>> = const { RefCell::new(Vec::new()) };
}

/// How many scopes are open on all threads: while none is, a switch reads no thread-local state.
static OPEN_SCOPES: AtomicUsize = AtomicUsize::new(0);

/// The innermost scope's setting of the switch named `variable` on this thread, if a scope set it.
fn scoped_setting(variable: &str) -> Option<bool> {
    if OPEN_SCOPES.load(Ordering::Relaxed) == 0 {
        return None;
    }
    SCOPED.with(|scoped| scoped.borrow().iter().rev().find(|(name, _)| *name == variable).map(|(_, on)| *on))
}

/// Runs `f` with `settings` (a switch's variable, its setting) overriding every other source on this thread; the
/// previous settings come back when `f` returns or unwinds.
pub(crate) fn with_scoped_settings<R>(settings: &[(&'static str, bool)], f: impl FnOnce() -> R) -> R {
    /// Counts this scope as open until it ends, however it ends (after its settings are popped).
    struct Open;
    impl Drop for Open {
        fn drop(&mut self) {
            OPEN_SCOPES.fetch_sub(1, Ordering::Relaxed);
        }
    }
    OPEN_SCOPES.fetch_add(1, Ordering::Relaxed);
    let _open = Open;
    let _settings = context::enter(&SCOPED, settings.iter().copied());
    f()
}

/// `variable` read as a flag: `1`, `true` or `on` is true; `0`, `false` or `off` false; anything else, or
/// nothing, `None`.
pub(crate) fn environment_flag(variable: &str) -> Option<bool> {
    match std::env::var(variable).ok()?.to_ascii_lowercase().as_str() {
        "1" | "true" | "on" => Some(true),
        "0" | "false" | "off" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_overrides_an_unset_environment() {
        let switch = Switch::new("SLIM_TEST_SWITCH_NEVER_SET");
        assert_eq!(switch.requested(), None);
        switch.set(false);
        assert_eq!(switch.requested(), Some(false));
        switch.set(true);
        assert_eq!(switch.requested(), Some(true));
    }

    #[test]
    fn a_scope_overrides_a_call_on_its_thread_alone_until_it_ends() {
        static SCOPED_SWITCH: Switch = Switch::new("SLIM_TEST_SCOPED_SWITCH_NEVER_SET");
        SCOPED_SWITCH.set(true);
        with_scoped_settings(&[("SLIM_TEST_SCOPED_SWITCH_NEVER_SET", false)], || {
            assert_eq!(SCOPED_SWITCH.requested(), Some(false));
            with_scoped_settings(&[("SLIM_TEST_SCOPED_SWITCH_NEVER_SET", true)], || {
                assert_eq!(SCOPED_SWITCH.requested(), Some(true), "the inner scope wins");
            });
            assert_eq!(SCOPED_SWITCH.requested(), Some(false), "the outer scope is back");
            let elsewhere = std::thread::spawn(|| SCOPED_SWITCH.requested()).join().unwrap();
            assert_eq!(elsewhere, Some(true), "another thread sees the process-wide setting");
        });
        assert_eq!(SCOPED_SWITCH.requested(), Some(true));
        let unwound = std::panic::catch_unwind(|| {
            with_scoped_settings(&[("SLIM_TEST_SCOPED_SWITCH_NEVER_SET", false)], || panic!("a failing scope"))
        });
        assert!(unwound.is_err());
        assert_eq!(SCOPED_SWITCH.requested(), Some(true), "an unwound scope is popped too");
    }

    #[test]
    fn only_an_explicit_request_is_declined_and_only_once() {
        let switch = Switch::new("SLIM_TEST_SWITCH_NEVER_SET");
        switch.decline(|| unreachable!("a default is declined silently"));
        assert!(switch.declined.get().is_none());
        switch.set(true);
        let mut reasons = 0;
        for _ in 0..2 {
            switch.decline(|| {
                reasons += 1;
                "a test".to_string()
            });
        }
        assert_eq!(reasons, 1);
    }
}
