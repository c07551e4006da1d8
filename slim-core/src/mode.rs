//! Train or eval mode: decides whether dropout drops and batch norm uses batch statistics.

use std::cell::Cell;
use std::marker::PhantomData;

/// Whether a network runs for training or for evaluation (TF-Slim's `is_training`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Mode {
    /// Dropout is active and batch norm normalises with batch statistics and updates its moving statistics.
    #[default]
    Train,
    /// Dropout is the identity and batch norm uses (and keeps) its moving statistics.
    Eval,
}

thread_local! {
    static CURRENT_MODE: Cell<Mode> = const { Cell::new(Mode::Train) };
}

impl Mode {
    /// The mode layers on this thread use when they are not told otherwise (initially [`Mode::Train`]).
    pub fn current() -> Mode {
        CURRENT_MODE.with(Cell::get)
    }

    /// Whether this is [`Mode::Train`].
    pub fn is_training(self) -> bool {
        self == Mode::Train
    }

    /// Makes this the current mode until the returned guard is dropped.
    pub fn enter(self) -> ModeGuard {
        let previous = CURRENT_MODE.with(|mode| mode.replace(self));
        ModeGuard { previous, _not_send: PhantomData }
    }
}

/// Restores the previous [`Mode`] when dropped.
#[must_use = "the mode is restored as soon as the guard is dropped"]
pub struct ModeGuard {
    previous: Mode,
    _not_send: PhantomData<*const ()>,
}

impl Drop for ModeGuard {
    fn drop(&mut self) {
        CURRENT_MODE.with(|mode| mode.set(self.previous));
    }
}
