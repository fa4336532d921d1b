//! Filling a `Py_buffer` for a consumer: the one place the proxy and the test
//! exporter (and any Rust code exporting its own memory) hand memory to Python.
//!
//! [`export`] negotiates the request flags against the layout (as `memoryview`
//! does) and fills the view; [`release`] undoes it. Shape, strides and format are
//! copied into one allocation owned by the view (`Py_buffer.internal`), together with
//! a `keep` value that is dropped when the consumer releases the view: put there
//! whatever must stay alive, or must happen, until then.

use crate::core::format::Format;
use crate::core::request::{negotiate, Grant};
use crate::core::Layout;
use pyo3::ffi;
use pyo3::prelude::*;
use std::ffi::{c_int, c_void, CString};
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
///
/// One allocation per export: the layout (whose shape and strides the view points to),
/// the format and the `keep` value. `release` comes first so that [`release`] can free a
/// storage without knowing `K`.
#[repr(C)]
struct Storage<K> {
    release: unsafe fn(*mut c_void),
    layout: Layout,
    format: ItemFormat,
    _keep: K,
}

/// Frees a `Storage<K>` leaked by [`fill`].
///
/// # Safety
///
/// `storage` must come from `Box::<Storage<K>>::into_raw` and not have been freed.
unsafe fn free_storage<K>(storage: *mut c_void) {
    // SAFETY: the caller's guarantee.
    drop(unsafe { Box::from_raw(storage.cast::<Storage<K>>()) });
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
pub unsafe fn export<K: Send + 'static>(
    view: *mut ffi::Py_buffer,
    owner: Bound<'_, PyAny>,
    memory: Memory<'_>,
    format: ItemFormat,
    flags: c_int,
    keep: K,
) -> PyResult<()> {
    let grant = negotiate(memory.layout, memory.readonly, flags)?;
    // SAFETY: the caller's guarantees are ours to pass on; the grant was just negotiated.
    unsafe { fill(view, owner, memory, format, grant, keep) };
    Ok(())
}

/// Fills `view` with an already negotiated `grant`. `keep` is dropped when the view is
/// released.
///
/// # Safety
///
/// As for [`export`]; `grant` must come from [`negotiate`] for this memory.
pub unsafe fn fill<K: Send + 'static>(
    view: *mut ffi::Py_buffer,
    owner: Bound<'_, PyAny>,
    memory: Memory<'_>,
    format: ItemFormat,
    grant: Grant,
    keep: K,
) {
    let storage = Box::into_raw(Box::new(Storage {
        release: free_storage::<K>,
        layout: memory.layout.clone(),
        format,
        _keep: keep,
    }));
    // SAFETY: `storage` was just allocated and is only freed by `release`.
    let s = unsafe { &*storage };
    // The storage does not move while it is leaked, so pointers into it stay valid until
    // `release` frees it. A 0-dimensional export has NULL shape and strides whatever was
    // requested (the buffer protocol requires it, and memoryview does the same).
    let dims = s.layout.ndim() > 0;
    let shape = if grant.shape && dims { s.layout.shape().as_ptr() } else { ptr::null() };
    let strides = if grant.strides && dims { s.layout.strides().as_ptr() } else { ptr::null() };
    let format = if grant.format { s.format.as_ptr() } else { ptr::null() };
    let ndim = if grant.shape { s.layout.ndim() as c_int } else { 1 };
    // SAFETY: the caller guarantees `view` is a valid, writable Py_buffer; every pointer
    // stored points into `storage`, which now belongs to the view until `release`.
    // Consumers do not write through shape, strides or format (they are `const` in
    // spirit; the C struct just does not say so).
    unsafe {
        let v = &mut *view;
        v.buf = memory.addr as *mut c_void;
        v.len = s.layout.len();
        v.readonly = c_int::from(memory.readonly);
        v.itemsize = s.layout.itemsize();
        v.format = format.cast_mut();
        v.ndim = ndim;
        v.shape = shape.cast_mut();
        v.strides = strides.cast_mut();
        v.suboffsets = ptr::null_mut();
        v.internal = storage.cast();
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
    // SAFETY: `internal` holds the storage leaked by `fill`, whose first field is the
    // function that frees it (the struct is `repr(C)`); it is reclaimed exactly once here.
    unsafe {
        let internal = std::mem::replace(&mut (*view).internal, ptr::null_mut());
        if internal.is_null() {
            return;
        }
        let release = *internal.cast::<unsafe fn(*mut c_void)>();
        release(internal);
    }
}
