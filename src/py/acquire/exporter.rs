//! Exporting parents: the buffer protocol, then `__array_struct__`, then
//! `__array_interface__`.

use super::describe::{parse_mapping, Fields};
use super::{type_name, BufferGuard, Keep, View};
use crate::core::format::arraystruct_item;
use crate::core::request::{flags, negotiate};
use crate::core::Layout;
use crate::py::ffi::{pai, PyArrayInterface};
use pyo3::exceptions::{PyAttributeError, PyBufferError, PyValueError};
use pyo3::ffi;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};
use std::ffi::c_int;
use std::ptr;

/// Reads an exporting object for a request with `PyBUF_*` `flags`.
///
/// An object that supports the buffer protocol is read through it alone, and its errors
/// propagate (as in pygame 2.6.1, e.g. a released memoryview's `ValueError`). Otherwise
/// `__array_struct__`, then `__array_interface__` are tried: a getter that fails or
/// returns the wrong kind of object is skipped; one that returns the right kind and then
/// fails validation raises.
///
/// The request `flags` are negotiated (a `BufferError` if they cannot be met) before the
/// item type is validated, in pygame's order. The view is always a full (strided,
/// formatted) one, so an unsatisfiable request is our `BufferError`, never an exporter's
/// own error type.
pub fn acquire_exporter(obj: &Bound<'_, PyAny>, flags: c_int) -> PyResult<View> {
    let py = obj.py();
    // SAFETY: PyObject_CheckBuffer only reads the type's buffer slot of a live object.
    if unsafe { ffi::PyObject_CheckBuffer(obj.as_ptr()) } == 1 {
        let guard = if flags & flags::WRITABLE != 0 {
            // Ask for writable memory as pygame does, so the exporter's own refusal (a
            // BufferError) answers first. Another error type (numpy's ValueError for a
            // read-only array) must still become our BufferError: retry read-only and let
            // the negotiation below refuse it.
            match BufferGuard::get(obj, flags::RECORDS) {
                Ok(guard) => guard,
                Err(e) if e.is_instance_of::<PyBufferError>(py) => return Err(e),
                Err(_) => BufferGuard::get(obj, flags::RECORDS_RO)?,
            }
        } else {
            BufferGuard::get(obj, flags::RECORDS_RO)?
        };
        let layout = guard.layout()?;
        // The request is checked before the item type, as pygame's exporters do.
        negotiate(&layout, guard.readonly(), flags)?;
        let format = guard.format()?;
        let (addr, readonly) = (guard.addr(), guard.readonly());
        let keep = Keep { buffer: Some(guard), ..Keep::default() };
        return View::new(addr, layout, format, readonly, keep);
    }
    if let Ok(Some(capsule)) = optional_attr(obj, intern!(py, "__array_struct__")) {
        if let Some(inter) = capsule_interface(&capsule) {
            // SAFETY: `capsule_interface` checked the pointer came from a valid unnamed
            // capsule, which stays alive (and its interface with it) while we hold it.
            return unsafe { view_from_interface(obj, capsule.clone(), inter, flags) };
        }
    }
    let name = intern!(py, "__array_interface__");
    let last_err = match optional_attr(obj, name) {
        Ok(Some(dict)) => match dict.cast::<PyDict>() {
            Ok(dict) => {
                let keep = Keep { object: Some(obj.clone().unbind()), ..Keep::default() };
                let writable = flags & flags::WRITABLE != 0;
                return parse_mapping(&Fields::read(dict)?, writable)?.view(py, keep);
            }
            Err(_) => PyValueError::new_err(format!(
                "expected '__array_interface__' to return a dict: got {}",
                type_name(&dict)
            )),
        },
        // The lookup skipped making the AttributeError; the cause gets one now.
        Ok(None) => PyAttributeError::new_err(format!(
            "'{}' object has no attribute '{name}'",
            type_name(obj)
        )),
        Err(e) => e,
    };
    let err =
        PyValueError::new_err(format!("{} object does not export an array buffer", type_name(obj)));
    err.set_cause(py, Some(last_err));
    Err(err)
}

/// `obj.name`, or `None` where `getattr` would raise `AttributeError`.
///
/// Probing an exporter for interfaces it does not have is the common case, so where the
/// interpreter can say "missing" without building an `AttributeError` (CPython 3.11 and
/// 3.12 through `_PyObject_LookupAttr`, 3.13+ through `PyObject_GetOptionalAttr`), it does.
fn optional_attr<'py>(
    obj: &Bound<'py, PyAny>,
    name: &Bound<'py, PyString>,
) -> PyResult<Option<Bound<'py, PyAny>>> {
    #[cfg(not(any(Py_LIMITED_API, PyPy, GraalPy)))]
    {
        let mut result = ptr::null_mut();
        // SAFETY: both objects are live; on return `result` is a new reference (1) or
        // NULL (0 for missing, -1 with an exception set).
        let rc = unsafe { lookup_attr(obj.as_ptr(), name.as_ptr(), &mut result) };
        match rc {
            // SAFETY: as above, a new reference.
            1 => Ok(Some(unsafe { Bound::from_owned_ptr(obj.py(), result) })),
            0 => Ok(None),
            _ => Err(PyErr::fetch(obj.py())),
        }
    }
    #[cfg(any(Py_LIMITED_API, PyPy, GraalPy))]
    {
        obj.getattr_opt(name)
    }
}

#[cfg(all(not(any(Py_LIMITED_API, PyPy, GraalPy)), not(Py_3_13)))]
extern "C" {
    /// CPython 3.11/3.12's exported lookup that reports a missing attribute without
    /// raising (renamed `PyObject_GetOptionalAttr` and made public in 3.13).
    #[link_name = "_PyObject_LookupAttr"]
    fn lookup_attr(
        obj: *mut ffi::PyObject,
        name: *mut ffi::PyObject,
        result: *mut *mut ffi::PyObject,
    ) -> c_int;
}

#[cfg(all(not(any(Py_LIMITED_API, PyPy, GraalPy)), Py_3_13))]
use ffi::PyObject_GetOptionalAttr as lookup_attr;

/// The interface in an unnamed capsule with `two == 2`, if `obj` is one.
pub fn capsule_interface(obj: &Bound<'_, PyAny>) -> Option<*const PyArrayInterface> {
    // SAFETY: PyCapsule_IsValid accepts any object and checks type, name (NULL) and pointer.
    if unsafe { ffi::PyCapsule_IsValid(obj.as_ptr(), ptr::null()) } != 1 {
        return None;
    }
    // SAFETY: the capsule was just checked valid with a NULL name.
    let inter =
        unsafe { ffi::PyCapsule_GetPointer(obj.as_ptr(), ptr::null()) }.cast::<PyArrayInterface>();
    // SAFETY: a valid `__array_struct__` capsule points to a PyArrayInterface; `two` is
    // its first field, checked before anything else is read.
    (!inter.is_null() && unsafe { (*inter).two } == 2).then_some(inter.cast_const())
}

/// Reads the shape and strides of an array interface.
///
/// # Safety
///
/// `inter` must point to a valid PyArrayInterface that outlives `'a`.
pub unsafe fn interface_dims<'a>(
    inter: *const PyArrayInterface,
) -> PyResult<(&'a [isize], Option<&'a [isize]>)> {
    // SAFETY: the caller guarantees `inter` is valid.
    let inter = unsafe { &*inter };
    let nd = usize::try_from(inter.nd).map_err(|_| {
        PyValueError::new_err(format!("array interface has a negative nd ({})", inter.nd))
    })?;
    if nd == 0 {
        return Ok((&[], None));
    }
    if inter.shape.is_null() {
        return Err(PyValueError::new_err("array interface has no shape"));
    }
    // SAFETY: a valid interface with nd > 0 has `nd` shape entries, and `nd` strides when
    // strides is not NULL.
    let shape = unsafe { std::slice::from_raw_parts(inter.shape, nd) };
    let strides = (!inter.strides.is_null())
        // SAFETY: as above.
        .then(|| unsafe { std::slice::from_raw_parts(inter.strides, nd) });
    Ok((shape, strides))
}

/// A view of the memory an `__array_struct__` capsule describes.
///
/// # Safety
///
/// `inter` must be the interface inside `capsule` (see [`capsule_interface`]).
unsafe fn view_from_interface(
    parent: &Bound<'_, PyAny>,
    capsule: Bound<'_, PyAny>,
    inter: *const PyArrayInterface,
    flags: c_int,
) -> PyResult<View> {
    // SAFETY: the caller guarantees `inter` lives as long as `capsule`, held here.
    let (shape, strides) = unsafe { interface_dims(inter) }?;
    // SAFETY: as above.
    let inter = unsafe { &*inter };
    let layout = Layout::new(shape, strides, inter.itemsize as isize)?;
    let readonly = inter.flags & pai::WRITEABLE == 0;
    // pygame checks the request (writable, contiguity) before the item type.
    negotiate(&layout, readonly, flags)?;
    let item =
        arraystruct_item(inter.typekind as u8, inter.itemsize, inter.flags & pai::NOTSWAPPED != 0)?;
    let format = (item.format(), item);
    let keep = Keep {
        object: Some(parent.clone().unbind()),
        capsule: Some(capsule.unbind()),
        buffer: None,
    };
    View::new(inter.data as usize, layout, format, readonly, keep).map(View::at_raw_address)
}
