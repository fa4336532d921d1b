//! The core's one error type.

use std::fmt;

/// What went wrong, classified by the Python exception it becomes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// A malformed description or layout (`ValueError`).
    Value(String),
    /// A number that does not fit the machine type (`OverflowError`).
    Overflow(String),
    /// A buffer request that cannot be satisfied (`BufferError`).
    Buffer(String),
    /// A position outside the buffer (`IndexError`).
    Index(String),
}

impl Error {
    /// The message, without the classification.
    pub fn message(&self) -> &str {
        match self {
            Error::Value(m) | Error::Overflow(m) | Error::Buffer(m) | Error::Index(m) => m,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for Error {}

/// Shorthand for `Err(Error::Value(..))` with `format!` arguments.
macro_rules! value_error {
    ($($arg:tt)*) => { $crate::core::Error::Value(format!($($arg)*)) };
}
pub(crate) use value_error;
