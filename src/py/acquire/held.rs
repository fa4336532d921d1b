//! [`HeldBuffer`]: the buffer-protocol export a proxy holds from first use, read in place.
//!
//! The export already says where the items are, their shape, strides and format; the
//! proxy keeps the `Py_buffer` itself (one allocation of 88 bytes, as pygame keeps its
//! own, from the interpreter's allocator) and reads it there instead of copying it into a
//! [`Layout`](crate::core::Layout). Its shape and strides may point into the `Py_buffer`
//! (`PyBuffer_FillInfo` makes `shape` point at `len`), so it lives in a [`PyBox`] and never
//! moves once filled.

use super::buffer::{given_dims, given_format};
use super::{check_range, ViewRef};
use crate::core::request::{flags, negotiate};
use crate::core::LayoutRef;
use crate::py::slot::PyBox;
use pyo3::ffi;
use pyo3::prelude::*;
use std::ffi::{c_char, c_int, c_void};
use std::mem::{offset_of, size_of};
use std::ptr;

/// CPython's `Py_buffer` with its object reference typed (`Option<Py<PyAny>>` has the
/// layout of a nullable pointer), so the garbage collector can be shown it. The
/// assertions below check that the layouts agree field by field.
#[repr(C)]
struct RawBuffer {
    buf: *mut c_void,
    obj: Option<Py<PyAny>>,
    len: isize,
    itemsize: isize,
    readonly: c_int,
    ndim: c_int,
    format: *mut c_char,
    shape: *mut isize,
    strides: *mut isize,
    suboffsets: *mut isize,
    internal: *mut c_void,
}

const _: () = {
    assert!(size_of::<RawBuffer>() == size_of::<ffi::Py_buffer>());
    assert!(offset_of!(RawBuffer, obj) == offset_of!(ffi::Py_buffer, obj));
    assert!(offset_of!(RawBuffer, len) == offset_of!(ffi::Py_buffer, len));
    assert!(offset_of!(RawBuffer, itemsize) == offset_of!(ffi::Py_buffer, itemsize));
    assert!(offset_of!(RawBuffer, readonly) == offset_of!(ffi::Py_buffer, readonly));
    assert!(offset_of!(RawBuffer, ndim) == offset_of!(ffi::Py_buffer, ndim));
    assert!(offset_of!(RawBuffer, format) == offset_of!(ffi::Py_buffer, format));
    assert!(offset_of!(RawBuffer, shape) == offset_of!(ffi::Py_buffer, shape));
    assert!(offset_of!(RawBuffer, strides) == offset_of!(ffi::Py_buffer, strides));
    assert!(offset_of!(RawBuffer, suboffsets) == offset_of!(ffi::Py_buffer, suboffsets));
    assert!(offset_of!(RawBuffer, internal) == offset_of!(ffi::Py_buffer, internal));
};

/// A `PyBUF_RECORDS_RO` export held open, validated once and read in place; released
/// when dropped. What validation found that the `Py_buffer` does not say (the item's
/// kind and byte order, the contiguity) is kept beside it. It only ever lives in the
/// [`PyBox`] [`acquire`](Self::acquire) makes, whose drop is attached to the interpreter.
pub struct HeldBuffer {
    raw: RawBuffer,
    filled: bool,
    /// The format's length (accepted formats are short), so reading it costs no `strlen`.
    format_len: u8,
    kind: u8,
    swapped: bool,
    c_contiguous: bool,
    f_contiguous: bool,
}

// SAFETY: the Py_buffer's pointers are only read, and it is released with the
// interpreter attached (in its `PyBox`'s drop); its object reference is a `Py`.
unsafe impl Send for HeldBuffer {}
// SAFETY: as above; shared access only reads plain fields.
unsafe impl Sync for HeldBuffer {}

impl HeldBuffer {
    /// Holds `obj`'s buffer-protocol export in a new box, validated as
    /// [`acquire_exporter`](super::acquire_exporter) validates it for a read-only request
    /// (the same checks, in the same order, with the same errors). `Ok(None)` when the
    /// export cannot be read in place: it lacks a shape or strides, or its `len` is not
    /// what its shape gives; the caller then takes the copying path.
    pub fn acquire(obj: &Bound<'_, PyAny>) -> PyResult<Option<PyBox<Self>>> {
        let held = HeldBuffer {
            // SAFETY: all-zero bytes are a valid RawBuffer: null pointers, `None`, zeros.
            raw: unsafe { std::mem::zeroed() },
            filled: false,
            format_len: 0,
            kind: 0,
            swapped: false,
            c_contiguous: false,
            f_contiguous: false,
        };
        let mut buffer = PyBox::new(obj.py(), held)?;
        // The box's value does not move while the box lives.
        let raw = ptr::addr_of_mut!(buffer.raw).cast::<ffi::Py_buffer>();
        // SAFETY: `obj` is live and `raw` is a zeroed Py_buffer (RawBuffer has its layout)
        // in the box, where it stays until released; on success CPython fills it.
        if unsafe { ffi::PyObject_GetBuffer(obj.as_ptr(), raw, flags::RECORDS_RO) } != 0 {
            return Err(PyErr::fetch(obj.py()));
        }
        buffer.filled = true;
        // SAFETY: the buffer was just filled and is held until `buffer` drops.
        let v = unsafe { &*raw };
        // SAFETY: as above.
        let Some((shape, strides)) = (unsafe { given_dims(v) })? else { return Ok(None) };
        let layout = LayoutRef::new(shape, strides, v.itemsize)?;
        if layout.len() != v.len {
            return Ok(None);
        }
        negotiate(layout, v.readonly != 0, flags::RECORDS_RO)?;
        // SAFETY: as above.
        let (format, item) = unsafe { given_format(v) }?;
        check_range(v.buf as usize, layout.extent())?;
        let Some(format_len) = format.map_or(Some(0), |f| u8::try_from(f.len()).ok()) else {
            return Ok(None);
        };
        buffer.format_len = format_len;
        buffer.kind = item.kind;
        buffer.swapped = item.swapped;
        buffer.c_contiguous = layout.is_c_contiguous();
        buffer.f_contiguous = layout.is_f_contiguous();
        Ok(Some(buffer))
    }

    /// The export, as a view. Its shape, strides and format are the exporter's, read in
    /// place; only the extent is computed again.
    pub fn view(&self) -> ViewRef<'_> {
        let v = &self.raw;
        let ndim = v.ndim.unsigned_abs() as usize;
        let (shape, strides): (&[isize], &[isize]) = if ndim == 0 {
            (&[], &[])
        } else {
            // SAFETY: `Held::buffer` checked both are non-NULL with `ndim` entries, valid
            // until the export is released, which is when `self` drops.
            unsafe {
                (
                    std::slice::from_raw_parts(v.shape, ndim),
                    std::slice::from_raw_parts(v.strides, ndim),
                )
            }
        };
        let contiguity = (self.c_contiguous, self.f_contiguous);
        let layout = LayoutRef::revalidated(shape, strides, v.itemsize, v.len, contiguity);
        let format: &[u8] = if v.format.is_null() {
            b"B"
        } else {
            // SAFETY: a non-NULL format is a string of `format_len` bytes (measured when it
            // was validated) and its NUL, valid until release.
            unsafe { std::slice::from_raw_parts(v.format.cast::<u8>(), self.format_len.into()) }
        };
        ViewRef::exported(
            v.buf as usize,
            layout,
            format,
            (self.kind, self.swapped),
            v.readonly != 0,
        )
    }

    /// The start and length of the export's bytes, if they are contiguous (what `raw`
    /// copies, read with no view built).
    #[cfg(not(any(Py_LIMITED_API, PyPy, GraalPy)))]
    pub fn contiguous(&self) -> Option<(usize, isize)> {
        (self.c_contiguous || self.f_contiguous).then_some((self.raw.buf as usize, self.raw.len))
    }

    /// The export's length in bytes (what its shape gives: checked when it was held).
    pub fn byte_len(&self) -> isize {
        self.raw.len
    }

    /// The object the export holds a reference to, for the garbage collector.
    pub fn owner(&self) -> Option<&Py<PyAny>> {
        self.raw.obj.as_ref()
    }
}

impl Drop for HeldBuffer {
    fn drop(&mut self) {
        if !self.filled {
            return;
        }
        let raw = ptr::addr_of_mut!(self.raw).cast::<ffi::Py_buffer>();
        // SAFETY: the view was filled by a successful PyObject_GetBuffer (with its object
        // reference, as `RawBuffer` keeps it) and is released exactly once, here, attached
        // to the interpreter: a `HeldBuffer` is only dropped by its `PyBox`, which attaches.
        // PyBuffer_Release clears `obj`, so the `Py` drops nothing.
        unsafe { ffi::PyBuffer_Release(raw) };
    }
}
