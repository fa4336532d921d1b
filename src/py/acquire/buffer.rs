//! [`BufferGuard`]: a buffer-protocol export held open, released when dropped.

use crate::core::format::{check_exporter_format, Format, Item};
use crate::core::{Layout, LayoutRef};
use crate::py::slot::attached;
use pyo3::exceptions::PyValueError;
use pyo3::ffi;
use pyo3::prelude::*;
use std::ffi::{c_int, CStr};
use std::mem::MaybeUninit;
use std::ptr;

/// A buffer obtained with `PyObject_GetBuffer`, released when dropped.
///
/// While the buffer is held, the view's reference to its exporting object lives in
/// `owner` (so the garbage collector sees exactly the references held); it goes back
/// into the view for `PyBuffer_Release`.
pub struct BufferGuard {
    view: Box<ffi::Py_buffer>,
    owner: Option<Py<PyAny>>,
}

// SAFETY: the Py_buffer's pointers are only read, and it is released with the
// interpreter attached (see Drop); its object reference is held through `owner`.
unsafe impl Send for BufferGuard {}
// SAFETY: as above; shared access only reads plain fields.
unsafe impl Sync for BufferGuard {}

impl BufferGuard {
    /// Requests a buffer from `obj` with `PyBUF_*` flags.
    pub fn get(obj: &Bound<'_, PyAny>, flags: c_int) -> PyResult<Self> {
        let py = obj.py();
        let mut view = Box::new(MaybeUninit::<ffi::Py_buffer>::zeroed());
        // SAFETY: `obj` is a live object and `view` points to writable memory the size
        // of a Py_buffer; on success CPython fills it completely.
        let rc = unsafe { ffi::PyObject_GetBuffer(obj.as_ptr(), view.as_mut_ptr(), flags) };
        if rc != 0 {
            return Err(PyErr::fetch(py));
        }
        // SAFETY: PyObject_GetBuffer succeeded, so the Py_buffer is initialised.
        let mut view = unsafe { view.assume_init() };
        let obj = std::mem::replace(&mut view.obj, ptr::null_mut());
        // SAFETY: `obj` is the view's strong reference (or NULL); ownership moves here.
        let owner = unsafe { Bound::from_owned_ptr_or_opt(py, obj) }.map(Bound::unbind);
        Ok(BufferGuard { view, owner })
    }

    /// The object holding the export (the view's `obj`), if any.
    pub fn owner(&self) -> Option<&Py<PyAny>> {
        self.owner.as_ref()
    }

    /// The buffer's start address.
    pub fn addr(&self) -> usize {
        self.view.buf as usize
    }

    /// The buffer's length in bytes.
    pub fn byte_len(&self) -> usize {
        self.view.len.unsigned_abs()
    }

    /// Whether the buffer is read-only.
    pub fn readonly(&self) -> bool {
        self.view.readonly != 0
    }

    /// The buffer's bytes (C-contiguous buffers only, as from a `PyBUF_SIMPLE` request).
    pub fn as_bytes(&self) -> &[u8] {
        if self.view.len <= 0 || self.view.buf.is_null() {
            return &[];
        }
        // SAFETY: a contiguous export covers `len` bytes from `buf`, valid until release,
        // and the guard is not released while this borrow lives.
        unsafe { std::slice::from_raw_parts(self.view.buf.cast::<u8>(), self.byte_len()) }
    }

    /// The format, shape and strides of a `PyBUF_RECORDS_RO` export, validated.
    pub(super) fn layout(&self) -> PyResult<Layout> {
        let v = &*self.view;
        // SAFETY: the view was filled by a successful PyObject_GetBuffer and is held.
        if let Some((shape, strides)) = unsafe { given_dims(v) }? {
            return Ok(LayoutRef::new(shape, strides, v.itemsize)?.to_layout());
        }
        // No shape or no strides (ndim > 0): the whole buffer, or C order.
        let ndim = v.ndim.unsigned_abs() as usize;
        // Only needed (and only computed: a division is slow) when the shape is absent.
        let whole;
        let shape: &[isize] = if v.shape.is_null() {
            whole = [v.len / v.itemsize.max(1)];
            &whole
        } else {
            // SAFETY: with ndim > 0 and a non-NULL shape, CPython's protocol guarantees
            // `ndim` readable entries until release.
            unsafe { std::slice::from_raw_parts(v.shape, ndim) }
        };
        let strides = if v.strides.is_null() {
            None
        } else {
            // SAFETY: as for the shape.
            Some(unsafe { std::slice::from_raw_parts(v.strides, ndim) })
        };
        Ok(Layout::new(shape, strides, v.itemsize)?)
    }

    /// The validated format of the export, as the exporter gave it (no format means
    /// unsigned bytes).
    pub(super) fn format(&self) -> PyResult<(Format, Item)> {
        // SAFETY: the view was filled by a successful PyObject_GetBuffer and is held.
        let (format, item) = unsafe { given_format(&self.view) }?;
        // Accepted formats have at most twelve characters (prefix, ten-digit count, code),
        // so they fit inline and are passed on unchanged.
        Ok((format.and_then(Format::from_bytes).unwrap_or_else(|| item.format()), item))
    }
}

/// The shape and strides a `PyBUF_RECORDS_RO` export gives, if it gives both (a
/// 0-dimensional one needs neither): `None` when either is missing. Refuses suboffsets and
/// a negative `ndim`.
///
/// # Safety
///
/// `v` was filled by a successful `PyObject_GetBuffer` and is not released while the
/// slices are in use.
#[inline]
pub(super) unsafe fn given_dims(v: &ffi::Py_buffer) -> PyResult<Option<(&[isize], &[isize])>> {
    if !v.suboffsets.is_null() {
        return Err(PyValueError::new_err("exporters that need suboffsets are not supported"));
    }
    let ndim = usize::try_from(v.ndim).map_err(|_| {
        PyValueError::new_err(format!("exporter gave a negative ndim ({})", v.ndim))
    })?;
    if ndim == 0 {
        return Ok(Some((&[], &[])));
    }
    if v.shape.is_null() || v.strides.is_null() {
        return Ok(None);
    }
    // SAFETY: with ndim > 0 and non-NULL shape and strides, CPython's protocol guarantees
    // `ndim` readable entries of each until release (the caller's guarantee).
    Ok(Some(unsafe {
        (std::slice::from_raw_parts(v.shape, ndim), std::slice::from_raw_parts(v.strides, ndim))
    }))
}

/// The format an export gives (`None`: unsigned bytes), checked against its item size.
///
/// # Safety
///
/// As for [`given_dims`].
pub(super) unsafe fn given_format(v: &ffi::Py_buffer) -> PyResult<(Option<&[u8]>, Item)> {
    let format = if v.format.is_null() {
        None
    } else {
        let start = v.format.cast::<u8>();
        // SAFETY: a non-NULL format is a NUL-terminated string valid until release: its
        // first byte is readable, and its second when the first is not the NUL. One
        // character (`"B"`, `"d"`) is the commonest format, read with no `strlen` call.
        Some(unsafe {
            if *start != 0 && *start.add(1) == 0 {
                std::slice::from_raw_parts(start, 1)
            } else {
                CStr::from_ptr(v.format).to_bytes()
            }
        })
    };
    Ok((format, check_exporter_format(format, v.itemsize)?))
}

impl Drop for BufferGuard {
    fn drop(&mut self) {
        attached(|| {
            self.view.obj = self.owner.take().map_or(ptr::null_mut(), Py::into_ptr);
            // SAFETY: the view was filled by a successful PyObject_GetBuffer, has its object
            // reference back, and is released exactly once, here, with the interpreter attached.
            unsafe { ffi::PyBuffer_Release(&mut *self.view) }
        });
    }
}
