//! `bufferproxy._testing.Exporter`: Rust-owned memory exported with any format and
//! layout, so tests can hand the proxy buffer-protocol parents that Python's own
//! types cannot make (odd formats, negative or zero strides, invalid formats).
//! It exports through the same [`export`] helper as the proxy.

use super::export::{self, ItemFormat, Memory};
use crate::core::copy::{gather, scatter};
use crate::core::format::format_itemsize;
use crate::core::Layout;
use pyo3::exceptions::PyValueError;
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use std::cell::UnsafeCell;
use std::ffi::{c_int, CString};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Zero-filled memory shared with consumers through exports.
struct SharedMemory(Box<[UnsafeCell<u8>]>);

// SAFETY: the bytes are plain data; concurrent access goes through raw pointers handed
// to consumers, exactly as with any exported buffer, and our own accesses happen with
// the interpreter attached (serialised by the GIL on the builds we support).
unsafe impl Sync for SharedMemory {}

impl SharedMemory {
    fn new(len: usize) -> Self {
        SharedMemory((0..len).map(|_| UnsafeCell::new(0)).collect())
    }

    fn base(&self) -> *mut u8 {
        UnsafeCell::raw_get(self.0.as_ptr())
    }

    fn read(&self) -> &[u8] {
        // SAFETY: UnsafeCell<u8> has the layout of u8; consumers may write concurrently only
        // through exports, which is the contract of any shared buffer.
        unsafe { std::slice::from_raw_parts(self.base(), self.0.len()) }
    }

    #[allow(clippy::mut_from_ref)]
    fn write(&self) -> &mut [u8] {
        // SAFETY: as for `read`; the returned slice is used briefly with the GIL held and
        // no other Rust reference to the bytes alive.
        unsafe { std::slice::from_raw_parts_mut(self.base(), self.0.len()) }
    }
}

/// A test exporter backed by Rust-owned memory.
///
/// ``Exporter(shape, format, strides=None, readonly=False, itemsize=None, quirk=None)``
/// exports zero-filled memory covering exactly the layout's extent, with ``format``
/// passed verbatim (valid or not) to consumers. ``quirk`` bends the protocol the way some
/// C exporters do: ``"no-strides"`` gives NULL strides even when they were requested
/// (meaning C order), ``"no-shape"`` NULL shape and strides (one dimension of ``len``
/// bytes), ``"long-len"`` a ``len`` one byte longer than the shape gives.
#[pyclass(module = "bufferproxy._testing", frozen)]
pub struct Exporter {
    memory: SharedMemory,
    origin: usize,
    layout: Layout,
    format: CString,
    readonly: bool,
    quirk: Quirk,
    exports: AtomicUsize,
    getbuffers: AtomicUsize,
}

/// How [`Exporter`] bends the buffer protocol.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Quirk {
    None,
    NoStrides,
    NoShape,
    LongLen,
}

#[pymethods]
impl Exporter {
    #[new]
    #[pyo3(signature = (shape, format, strides = None, readonly = false, itemsize = None, quirk = None))]
    fn new(
        shape: Vec<isize>,
        format: &str,
        strides: Option<Vec<isize>>,
        readonly: bool,
        itemsize: Option<isize>,
        quirk: Option<&str>,
    ) -> PyResult<Self> {
        let quirk = match quirk {
            None => Quirk::None,
            Some("no-strides") => Quirk::NoStrides,
            Some("no-shape") => Quirk::NoShape,
            Some("long-len") => Quirk::LongLen,
            Some(other) => {
                return Err(PyValueError::new_err(format!("unknown quirk {other:?}")));
            }
        };
        let itemsize = itemsize.or_else(|| format_itemsize(format.as_bytes())).unwrap_or(1);
        let layout = Layout::new(&shape, strides.as_deref(), itemsize)?;
        let format =
            CString::new(format).map_err(|_| PyValueError::new_err("format contains NUL"))?;
        let extent = layout.extent();
        Ok(Exporter {
            memory: SharedMemory::new(extent.size()),
            origin: extent.lo.unsigned_abs(),
            layout,
            format,
            readonly,
            quirk,
            exports: AtomicUsize::new(0),
            getbuffers: AtomicUsize::new(0),
        })
    }

    /// Number of exports ever made (released or not).
    #[getter]
    fn getbuffers(&self) -> usize {
        self.getbuffers.load(Ordering::SeqCst)
    }

    /// Number of exports not yet released.
    #[getter]
    fn exports(&self) -> usize {
        self.exports.load(Ordering::SeqCst)
    }

    /// The exported address of the first item.
    #[getter]
    fn address(&self) -> usize {
        self.memory.base() as usize + self.origin
    }

    /// The whole allocation, in memory order.
    fn memory<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, self.memory.read())
    }

    /// Overwrites the whole allocation.
    fn set_memory(&self, data: &[u8]) -> PyResult<()> {
        let mem = self.memory.write();
        if data.len() != mem.len() {
            return Err(PyValueError::new_err(format!(
                "expected {} bytes, got {}",
                mem.len(),
                data.len()
            )));
        }
        mem.copy_from_slice(data);
        Ok(())
    }

    /// The items in C order, gaps removed.
    fn tobytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let len = self.layout.len().unsigned_abs();
        PyBytes::new_with(py, len, |out| {
            Ok(gather(self.memory.read(), self.origin, &self.layout, out)?)
        })
    }

    /// Scatters C-order item bytes into the layout.
    fn frombytes(&self, data: &[u8]) -> PyResult<()> {
        Ok(scatter(data, self.memory.write(), self.origin, &self.layout)?)
    }

    unsafe fn __getbuffer__(
        slf: Bound<'_, Self>,
        view: *mut ffi::Py_buffer,
        flags: c_int,
    ) -> PyResult<()> {
        let this = slf.get();
        let memory = Memory { addr: this.address(), layout: &this.layout, readonly: this.readonly };
        let format = ItemFormat::Owned(this.format.clone());
        // SAFETY: the memory belongs to `slf`, which the view keeps alive until release.
        unsafe { export::export(view, slf.clone().into_any(), memory, format, flags, ())? };
        // SAFETY: `view` was just filled; only its plain fields change (its shape and
        // strides point into the export's storage, which `release` frees either way).
        unsafe {
            match this.quirk {
                Quirk::None => {}
                Quirk::NoStrides => (*view).strides = std::ptr::null_mut(),
                Quirk::NoShape => {
                    (*view).shape = std::ptr::null_mut();
                    (*view).strides = std::ptr::null_mut();
                }
                Quirk::LongLen => (*view).len += 1,
            }
        }
        this.exports.fetch_add(1, Ordering::SeqCst);
        this.getbuffers.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    unsafe fn __releasebuffer__(&self, view: *mut ffi::Py_buffer) {
        self.exports.fetch_sub(1, Ordering::SeqCst);
        // SAFETY: `view` was filled by `__getbuffer__` and is released once.
        unsafe { export::release(view) }
    }
}
