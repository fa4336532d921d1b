//! Filling a `Py_buffer` for a consumer: the one place the proxy and the test
//! exporter (and any Rust code exporting its own memory) hand memory to Python.
//!
//! [`export`] negotiates the request flags against the layout (as `memoryview`
//! does) and fills the view; [`release`] undoes it. Shape, strides and format are
//! copied into storage owned by the view (`Py_buffer.internal`), together with an
//! optional `keep` value that is dropped when the consumer releases the view: put
//! there whatever must stay alive, or must happen, until then.

use crate::core::format::Format;
use crate::core::request::{negotiate, Grant};
use crate::core::Layout;
use pyo3::ffi;
use pyo3::prelude::*;
use std::any::Any;
use std::ffi::{c_int, CString};
use std::ptr;

/// A PEP 3118 format string for an export.
#[derive(Debug, Clone)]
pub enum ItemFormat {
    /// A short format, stored inline.
    Inline(Format),
    /// Any other format, verbatim.
    Owned(CString),
}

impl ItemFormat {
    fn as_ptr(&self) -> *const std::ffi::c_char {
        match self {
            ItemFormat::Inline(f) => f.as_bytes_with_nul().as_ptr().cast(),
            ItemFormat::Owned(s) => s.as_ptr(),
        }
    }
}

/// The memory an export describes.
#[derive(Debug, Clone, Copy)]
pub struct Memory<'a> {
    /// Address of the first item.
    pub addr: usize,
    /// Layout of the items around `addr`.
    pub layout: &'a Layout,
    /// Whether consumers must not write.
    pub readonly: bool,
}

/// What a filled view points into; lives until the consumer releases the view.
struct Storage {
    shape: Box<[ffi::Py_ssize_t]>,
    strides: Box<[ffi::Py_ssize_t]>,
    format: ItemFormat,
    _keep: Option<Box<dyn Any + Send>>,
}

/// Negotiates `flags` for `memory` and fills `view` for `owner`.
///
/// On error nothing is filled (`view.obj` stays NULL) and `keep` is dropped.
///
/// # Safety
///
/// `view` must be the `Py_buffer` handed to a `bf_getbuffer` slot, and the memory
/// described (`memory.layout`'s extent around `memory.addr`) must stay valid for reads,
/// and for writes unless `memory.readonly`, until the view is released with [`release`]:
/// `owner` or `keep` must be what keeps it alive.
pub unsafe fn export(
    view: *mut ffi::Py_buffer,
    owner: Bound<'_, PyAny>,
    memory: Memory<'_>,
    format: ItemFormat,
    flags: c_int,
    keep: Option<Box<dyn Any + Send>>,
) -> PyResult<()> {
    let grant = negotiate(memory.layout, memory.readonly, flags)?;
    // SAFETY: the caller's guarantees are ours to pass on; the grant was just negotiated.
    unsafe { fill(view, owner, memory, format, grant, keep) };
    Ok(())
}

/// Fills `view` with an already negotiated `grant`.
///
/// # Safety
///
/// As for [`export`]; `grant` must come from [`negotiate`] for this memory.
pub unsafe fn fill(
    view: *mut ffi::Py_buffer,
    owner: Bound<'_, PyAny>,
    memory: Memory<'_>,
    format: ItemFormat,
    grant: Grant,
    keep: Option<Box<dyn Any + Send>>,
) {
    let layout = memory.layout;
    let mut storage = Box::new(Storage {
        shape: layout.shape().into(),
        strides: layout.strides().into(),
        format,
        _keep: keep,
    });
    // The boxed slices and the format do not move when the Box is turned into a raw
    // pointer, so pointers taken now stay valid until `release` drops the Box.
    // A 0-dimensional export has NULL shape and strides whatever was requested (the
    // buffer protocol requires it, and memoryview does the same).
    let dims = layout.ndim() > 0;
    let shape = if grant.shape && dims { storage.shape.as_mut_ptr() } else { ptr::null_mut() };
    let strides =
        if grant.strides && dims { storage.strides.as_mut_ptr() } else { ptr::null_mut() };
    let format = if grant.format { storage.format.as_ptr().cast_mut() } else { ptr::null_mut() };
    let ndim = if grant.shape { layout.ndim() as c_int } else { 1 };
    // SAFETY: the caller guarantees `view` is a valid, writable Py_buffer; every pointer
    // stored points into `storage`, which now belongs to the view until `release`.
    unsafe {
        let v = &mut *view;
        v.buf = memory.addr as *mut std::ffi::c_void;
        v.len = layout.len();
        v.readonly = c_int::from(memory.readonly);
        v.itemsize = layout.itemsize();
        v.format = format;
        v.ndim = ndim;
        v.shape = shape;
        v.strides = strides;
        v.suboffsets = ptr::null_mut();
        v.internal = Box::into_raw(storage).cast();
        v.obj = owner.into_ptr();
    }
}

/// Frees what [`export`] stored in `view` (dropping its `keep` value).
///
/// # Safety
///
/// `view` must have been filled by [`export`] or [`fill`] and not released since; call
/// it from the owner's `bf_releasebuffer` slot.
pub unsafe fn release(view: *mut ffi::Py_buffer) {
    // SAFETY: `internal` holds the Box leaked by `fill`, reclaimed exactly once here.
    let storage = unsafe {
        let internal = std::mem::replace(&mut (*view).internal, ptr::null_mut());
        if internal.is_null() {
            return;
        }
        Box::from_raw(internal.cast::<Storage>())
    };
    drop(storage);
}
