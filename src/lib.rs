//! bufferproxy: pygame's `BufferProxy` in Rust.
//!
//! The crate is the Python extension `bufferproxy._bufferproxy`, and a library for Rust
//! extension authors who export their own memory to Python through the buffer protocol
//! (`memoryview`, numpy, Pillow, ...) and want it done the way CPython's own exporters
//! do it:
//!
//! * [`core`] is plain Rust, with no Python dependency: a validated strided
//!   [`Layout`](core::Layout) (checked length and extent arithmetic, CPython's contiguity
//!   rules), item formats,
//!   the `PyBUF_*` request flags and their negotiation ([`core::request::negotiate`],
//!   which answers every request as `memoryview` does, and serves the format without the
//!   shape as bytes and numpy do), and safe strided
//!   copies ([`core::copy::gather`] / [`core::copy::scatter`]).
//! * [`py`] is the PyO3 binding layer. Its [`py::export`] module is what an extension
//!   author needs: [`py::export::export`] fills the `Py_buffer` handed to a
//!   `__getbuffer__` method for any memory described by an address and a
//!   [`Layout`](core::Layout), and [`py::export::release`] undoes it from
//!   `__releasebuffer__`. The
//!   `BufferProxy` class and the test exporter use exactly these two functions.
//!
//! # Example
//!
//! Describe an RGBA image, decide what a consumer asking for a C-contiguous,
//! writable, formatted view gets, and copy a strided window out of it (everything
//! below is the pure-Rust core; see [`py::export`] for the `__getbuffer__` side):
//!
//! ```
//! use bufferproxy::core::copy::gather;
//! use bufferproxy::core::request::{flags, negotiate};
//! use bufferproxy::core::Layout;
//!
//! // 2 rows of 3 RGBA pixels, one byte per item, C order.
//! let image = Layout::new(&[2, 3, 4], None, 1)?;
//! assert_eq!(image.strides(), &[12, 4, 1]);
//! assert_eq!(image.len(), 24);
//!
//! // numpy asks for `PyBUF_RECORDS` (strided, formatted, writable): granted in full.
//! let grant = negotiate(&image, false, flags::RECORDS)?;
//! assert!(grant.format && grant.shape && grant.strides);
//! // The same request over read-only memory is a `BufferError`.
//! assert!(negotiate(&image, true, flags::RECORDS).is_err());
//!
//! // The alpha channel alone: shape (2, 3), strides (12, 4), first item at byte 3.
//! let pixels: Vec<u8> = (0..24).collect();
//! let alpha = Layout::new(&[2, 3], Some(&[12, 4]), 1)?;
//! let mut out = [0u8; 6];
//! gather(&pixels, 3, &alpha, &mut out)?;
//! assert_eq!(out, [3, 7, 11, 15, 19, 23]);
//! # Ok::<(), bufferproxy::core::Error>(())
//! ```
//!
//! A complete PyO3 class exporting a Rust-owned image is in `examples/rust_exporter/`
//! (and described in the README, "Exporting a Rust buffer").

pub mod core;
pub mod py;

use pyo3::prelude::*;

/// Read an object's ``__array_struct__`` capsule into an array interface dict.
#[pyfunction]
#[pyo3(signature = (obj, /))]
fn get_array_interface<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Bound<'py, pyo3::types::PyDict>> {
    py::interface::get_array_interface(obj)
}

/// The native module behind the `bufferproxy` package. It needs the GIL (`gil_used`):
/// the proxy's object cell relies on the interpreter lock (see `py::slot::ObjectCell`).
#[pymodule(gil_used = true)]
fn _bufferproxy(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<py::proxy::BufferProxy>()?;
    #[cfg(not(any(Py_LIMITED_API, PyPy, GraalPy)))]
    py::proxy::install_fast_constructor(&m.py().get_type::<py::proxy::BufferProxy>())?;
    #[cfg(not(any(Py_LIMITED_API, PyPy, GraalPy)))]
    py::proxy::install_fast_getters(&m.py().get_type::<py::proxy::BufferProxy>())?;
    m.add_class::<py::testing::Exporter>()?;
    m.add_function(wrap_pyfunction!(get_array_interface, m)?)?;
    // Copies of at least this many bytes release the GIL (benches/compare.py, op m).
    m.add("_GIL_RELEASE_THRESHOLD", py::proxy::DETACH_THRESHOLD)?;
    // `raw` results of at least this many bytes are advised huge pages (benches/compare.py, op j).
    m.add("_HUGE_PAGE_THRESHOLD", py::proxy::HUGE_PAGE_THRESHOLD)?;
    Ok(())
}
