//! The pure-Rust core of bufferproxy: no Python here.
//!
//! Everything that can be decided without the interpreter lives in this module so it
//! can be unit- and property-tested with plain `cargo test` and reused by Rust callers:
//!
//! * [`layout`]: shape, strides and item size, with checked length and extent arithmetic;
//! * [`contig`]: C / Fortran / any contiguity with CPython's rules;
//! * [`format`](mod@format): array-interface typestrs, PEP 3118 formats and type kinds;
//! * [`request`]: negotiating a `PyBUF_*` buffer request against a layout;
//! * [`copy`]: strided gather (layout to C-order bytes) and scatter (the reverse).
//!
//! Every fallible function returns [`Error`], whose variant names the Python exception
//! it becomes (`From<Error> for PyErr` in the binding layer), so `?` works in PyO3
//! methods; in plain Rust it is an ordinary [`std::error::Error`].
//!
//! # Example
//!
//! A layout is validated once, then everything else relies on it: here a column of a
//! 3 x 4 matrix of `u16`, walked backwards (negative stride), copied out and back in.
//!
//! ```
//! use bufferproxy::core::copy::{gather, scatter};
//! use bufferproxy::core::{Error, Extent, Layout};
//!
//! // 3 x 4 items of 2 bytes, C order: rows are 8 bytes apart.
//! let mut mem: Vec<u8> = (0..24).collect();
//! // Column 1, bottom row first: 3 items, stride -8 bytes, first item at byte 2 * 8 + 2.
//! let column = Layout::new(&[3], Some(&[-8]), 2)?;
//! assert_eq!(column.extent(), Extent { lo: -16, hi: 2 });
//! assert!(!column.is_contiguous());
//!
//! let mut items = [0u8; 6];
//! gather(&mem, 18, &column, &mut items)?;
//! assert_eq!(items, [18, 19, 10, 11, 2, 3]);
//!
//! scatter(&[0xAA; 6], &mut mem, 18, &column)?;
//! assert_eq!(&mem[2..4], &[0xAA, 0xAA]);
//!
//! // Invalid layouts are refused up front, with the Python exception they become.
//! let err = Layout::new(&[2, -1], None, 1).unwrap_err();
//! assert!(matches!(err, Error::Value(_)));
//! # Ok::<(), Error>(())
//! ```

pub mod contig;
pub mod copy;
pub mod error;
pub mod format;
pub mod layout;
pub mod request;

pub use error::Error;
pub use layout::{Extent, Layout, LayoutRef};
