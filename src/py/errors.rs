//! The one conversion from the core's errors to Python exceptions.

use crate::core::Error;
use pyo3::exceptions::{PyBufferError, PyIndexError, PyOverflowError, PyValueError};
use pyo3::PyErr;

impl From<Error> for PyErr {
    fn from(err: Error) -> PyErr {
        match err {
            Error::Value(m) => PyValueError::new_err(m),
            Error::Overflow(m) => PyOverflowError::new_err(m),
            Error::Buffer(m) => PyBufferError::new_err(m),
            Error::Index(m) => PyIndexError::new_err(m),
        }
    }
}
