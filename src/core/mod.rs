//! The pure-Rust core of bufferproxy: no Python here.
//!
//! Everything that can be decided without the interpreter lives in this module so it
//! can be unit- and property-tested with plain `cargo test` and reused by Rust callers:
//!
//! * [`layout`]: shape, strides and item size, with checked length and extent arithmetic;
//! * [`contig`]: C / Fortran / any contiguity with CPython's rules;
//! * [`format`]: array-interface typestrs, PEP 3118 formats and type kinds;
//! * [`request`]: negotiating a `PyBUF_*` buffer request against a layout;
//! * [`copy`]: strided gather (layout to C-order bytes) and scatter (the reverse).
//!
//! Every fallible function returns [`Error`], which the binding layer turns into the
//! matching Python exception.

pub mod contig;
pub mod copy;
pub mod error;
pub mod format;
pub mod layout;
pub mod request;

pub use error::Error;
pub use layout::{Extent, Layout};
