//! bufferproxy: pygame's `BufferProxy` in Rust.
//!
//! [`core`] is plain Rust (layouts, formats, request flags, strided copies); [`py`] is
//! the PyO3 binding layer, including [`py::export`], the helper that fills a
//! `Py_buffer` for any Rust-owned memory.

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
    py::proxy::install_fast_constructor(&m.py().get_type::<py::proxy::BufferProxy>());
    m.add_class::<py::testing::Exporter>()?;
    m.add_function(wrap_pyfunction!(get_array_interface, m)?)?;
    // Copies of at least this many bytes release the GIL (benches/compare.py, op m).
    m.add("_GIL_RELEASE_THRESHOLD", py::proxy::DETACH_THRESHOLD)?;
    Ok(())
}
