//! The error type of every public slim function.

use tch::TchError;

/// Everything that can go wrong in slim, each naming the scope, variable or file involved.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An argument, or the shape or kind of an input, is not what the named scope expects.
    #[error("{scope}: {message}")]
    InvalidArgument {
        /// The scope (or function) that rejected the argument.
        scope: String,
        /// What was expected and what was given.
        message: String,
    },
    /// A variable with this name already exists and the scope does not reuse variables.
    #[error("variable {name} already exists; enter its scope with reuse to share it (slim never renames a duplicate)")]
    DuplicateVariable {
        /// The full name of the variable.
        name: String,
    },
    /// The scope reuses variables, but this one was never created.
    #[error("variable {name} does not exist, so it cannot be reused; create it first or turn reuse off")]
    MissingVariable {
        /// The full name of the variable.
        name: String,
    },
    /// A reused variable was asked for with a different shape than it was created with.
    #[error(
        "variable {name} was created with shape {existing:?} but is now asked for with shape {requested:?}; \
         the input to its layer changed shape between calls"
    )]
    ShapeMismatch {
        /// The full name of the variable.
        name: String,
        /// The shape it was created with.
        existing: Vec<i64>,
        /// The shape requested now.
        requested: Vec<i64>,
    },
    /// A name or pattern does not match what was looked up.
    #[error("{0}")]
    NotFound(String),
    /// Reading or writing a file failed, or its contents are not what slim wrote.
    #[error("{path}: {message}")]
    Io {
        /// The file or directory.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// An input is exhausted (a provider past its last epoch; TF's `OutOfRangeError`): the training loop ends
    /// there cleanly, saving a checkpoint, as TF-Slim's does.
    #[error("out of range: {0}")]
    OutOfRange(String),
    /// Data-parallel training failed on one rank: a collective timed out or failed, or the ranks disagree (another
    /// model, another batch count). Every surviving rank reports it.
    #[error("rank {rank} of {size}: {message}")]
    Distributed {
        /// This process's rank.
        rank: usize,
        /// The number of ranks.
        size: usize,
        /// What went wrong, naming the collective or the first difference between the ranks.
        message: String,
    },
    /// libtorch rejected an operation; `context` says which scope ran it.
    #[error("{context}: {source}")]
    Torch {
        /// The scope or function that called libtorch.
        context: String,
        /// libtorch's own error.
        #[source]
        source: TchError,
    },
}

/// The result type of every public slim function.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// An [`Error::InvalidArgument`] for `scope`.
    pub fn invalid(scope: impl Into<String>, message: impl Into<String>) -> Self {
        Error::InvalidArgument { scope: scope.into(), message: message.into() }
    }
}

/// Lets `?` take libtorch's own errors in user code (a model's forward calling `Tensor::f_cat`, say), with the
/// current variable scope as context (in a built model's replay, the scope that part of the forward pass had when
/// the model was built); slim's own code names its scope with [`TorchContext::context`].
impl From<TchError> for Error {
    fn from(source: TchError) -> Self {
        let scope = match crate::context::replay_scope() {
            Some((replayed, mark)) => {
                let entered = crate::variables::scope_name_since(mark);
                if entered.is_empty() { replayed.to_string() } else { crate::variables::join_name(&replayed, &entered) }
            }
            None => crate::variables::current_scope_name(),
        };
        let context = if scope.is_empty() { "tensor op".to_string() } else { scope };
        Error::Torch { context, source: without_backtrace(source) }
    }
}

/// libtorch's message without the C++ backtrace it appends (`Exception raised from … frame #0: …`): what went
/// wrong, not where in libtorch.
fn without_backtrace(error: TchError) -> TchError {
    match error {
        TchError::Torch(message) => match message.find("\nException raised from ") {
            Some(end) => TchError::Torch(message[..end].trim_end().to_string()),
            None => TchError::Torch(message),
        },
        other => other,
    }
}

/// Attaches the calling scope to libtorch errors.
pub trait TorchContext<T> {
    /// Wraps a libtorch error with the scope or function that caused it.
    fn context(self, context: &str) -> Result<T>;
}

impl<T> TorchContext<T> for std::result::Result<T, TchError> {
    fn context(self, context: &str) -> Result<T> {
        self.map_err(|source| Error::Torch { context: context.to_string(), source: without_backtrace(source) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind, Tensor};

    #[test]
    fn libtorch_errors_keep_their_message_without_the_cpp_backtrace() {
        let input = Tensor::zeros([1, 1, 2, 2], (Kind::Float, Device::Cpu));
        let weights = Tensor::zeros([1, 1, 3, 3], (Kind::Float, Device::Cpu));
        let error = input.f_conv2d::<Tensor>(&weights, None, [1], [0], [1], 1).context("net/fc6").err();
        let message = error.map(|e| e.to_string()).unwrap_or_default();
        assert!(message.starts_with("net/fc6: ") && message.contains("Kernel size"), "{message}");
        assert!(!message.contains("Exception raised from") && !message.contains("frame #"), "{message}");
    }
}
