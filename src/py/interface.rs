//! The array interfaces a proxy exports: `__array_interface__` (a dict) and
//! `__array_struct__` (a capsule holding a `PyArrayInterface`), and
//! `get_array_interface`, which reads a capsule back into a dict.

use super::acquire::{capsule_interface, interface_dims, ViewRef};
use super::ffi::{pai, PyArrayInterface};
use crate::core::format::{kind, NATIVE_ORDER, SWAPPED_ORDER};
use crate::core::layout::{c_strides, Dims};
use pyo3::exceptions::{PyAttributeError, PyValueError};
use pyo3::ffi;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use std::ffi::{c_char, c_int, c_void};
use std::ptr;

/// The `__array_interface__` dict of a view.
pub fn interface_dict<'py>(py: Python<'py>, view: ViewRef<'_>) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item(intern!(py, "version"), 3)?;
    d.set_item(intern!(py, "typestr"), view.item().typestr())?;
    d.set_item(intern!(py, "shape"), PyTuple::new(py, view.layout.shape())?)?;
    d.set_item(intern!(py, "strides"), PyTuple::new(py, view.layout.strides())?)?;
    d.set_item(intern!(py, "data"), (view.addr, view.readonly))?;
    Ok(d)
}

/// The `PAI_*` flags of a view.
fn interface_flags(view: ViewRef<'_>) -> c_int {
    let mut flags = pai::ALIGNED;
    if !view.readonly {
        flags |= pai::WRITEABLE;
    }
    if !view.item().swapped {
        flags |= pai::NOTSWAPPED;
    }
    if view.layout.is_c_contiguous() {
        flags |= pai::CONTIGUOUS;
    }
    if view.layout.is_f_contiguous() {
        flags |= pai::FORTRAN;
    }
    flags
}

/// A capsule's contents, in one allocation: the interface first (so the capsule pointer
/// is a pointer to it), then the proxy that keeps the memory, and the shape and strides
/// the interface points to, alive.
#[repr(C)]
struct ArrayStruct {
    inter: PyArrayInterface,
    owner: Py<PyAny>,
}

unsafe extern "C" fn destroy_array_struct(capsule: *mut ffi::PyObject) {
    // SAFETY: this destructor is only installed on capsules made by `array_struct`, whose
    // unnamed pointer is a leaked Box<ArrayStruct>, reclaimed once, here. A capsule dies
    // with the interpreter attached, possibly while it finalises, when pyo3's attach
    // would refuse: so the owner reference is released with a plain decref.
    unsafe {
        let p = ffi::PyCapsule_GetPointer(capsule, ptr::null());
        if p.is_null() {
            ffi::PyErr_Clear();
            return;
        }
        let contents = Box::from_raw(p.cast::<ArrayStruct>());
        ffi::Py_DECREF(contents.owner.into_ptr());
    }
}

/// An unnamed capsule with a version-2 `PyArrayInterface` for `view`, which keeps
/// `owner` (and so the memory) alive as long as the capsule lives.
///
/// The interface points to the view's own shape and strides, not to a copy: `view` must
/// be the one `owner` (a proxy) holds from first use until it dies. The capsule keeps
/// the proxy alive, and the garbage collector cannot clear a proxy that a capsule refers
/// to (capsules are not tracked, so their references make the proxy look reachable).
pub fn array_struct<'py>(
    py: Python<'py>,
    view: ViewRef<'_>,
    owner: Py<PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let dims = view.layout.ndim() > 0;
    let shape = if dims { view.layout.shape().as_ptr() } else { ptr::null() };
    let strides = if dims { view.layout.strides().as_ptr() } else { ptr::null() };
    let raw = Box::into_raw(Box::new(ArrayStruct {
        inter: PyArrayInterface {
            two: 2,
            nd: view.layout.ndim() as c_int,
            typekind: view.item().kind as c_char,
            itemsize: view.layout.itemsize() as c_int,
            flags: interface_flags(view),
            // Consumers only read shape and strides.
            shape: shape.cast_mut(),
            strides: strides.cast_mut(),
            data: view.addr as *mut c_void,
            descr: ptr::null_mut(),
        },
        owner,
    }));
    // SAFETY: `raw` is a valid, leaked ArrayStruct, freed by the destructor (or here, on
    // failure); the shape and strides it points to live in the held view, which `owner`
    // keeps for as long as the capsule lives (see above).
    unsafe {
        let capsule = ffi::PyCapsule_New(raw.cast(), ptr::null(), Some(destroy_array_struct));
        if capsule.is_null() {
            drop(Box::from_raw(raw));
            return Err(PyErr::fetch(py));
        }
        Ok(Bound::from_owned_ptr(py, capsule))
    }
}

/// `get_array_interface(obj)`: the `__array_struct__` of `obj` as an interface dict.
pub fn get_array_interface<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyDict>> {
    let py = obj.py();
    let capsule = obj.getattr(intern!(py, "__array_struct__")).map_err(|e| {
        if e.is_instance_of::<PyAttributeError>(py) {
            PyValueError::new_err("no C-struct array interface")
        } else {
            e
        }
    })?;
    let inter = capsule_interface(&capsule)
        .ok_or_else(|| PyValueError::new_err("invalid array interface"))?;
    // SAFETY: `inter` is inside `capsule`, which lives until the end of this function.
    let (shape, strides) = unsafe { interface_dims(inter) }?;
    // SAFETY: as above.
    let inter = unsafe { &*inter };
    let itemsize = inter.itemsize as isize;
    let strides = match strides {
        Some(s) => Dims::from_slice(s),
        None => c_strides(shape, itemsize)
            .ok_or_else(|| PyValueError::new_err("array interface shape overflows"))?,
    };
    // numpy's spelling: no byte order for single bytes, bools and byte strings.
    let order = if inter.itemsize <= 1 || matches!(inter.typekind as u8, kind::BOOL | kind::BYTES) {
        '|'
    } else if inter.flags & pai::NOTSWAPPED != 0 {
        char::from(NATIVE_ORDER)
    } else {
        char::from(SWAPPED_ORDER)
    };
    let d = PyDict::new(py);
    d.set_item(intern!(py, "version"), 3)?;
    d.set_item(
        "typestr",
        format!("{order}{}{}", char::from(inter.typekind as u8), inter.itemsize),
    )?;
    d.set_item(intern!(py, "shape"), PyTuple::new(py, shape)?)?;
    d.set_item(intern!(py, "strides"), PyTuple::new(py, strides)?)?;
    d.set_item(intern!(py, "data"), (inter.data as usize, inter.flags & pai::WRITEABLE == 0))?;
    if inter.flags & pai::ARR_HAS_DESCR != 0 {
        if inter.descr.is_null() {
            return Err(PyValueError::new_err("Array struct has descr flag set but no descriptor"));
        }
        // SAFETY: a non-NULL descr is a valid object borrowed from the capsule's owner.
        let descr = unsafe { Bound::from_borrowed_ptr(py, inter.descr) };
        d.set_item(intern!(py, "descr"), descr)?;
    }
    Ok(d)
}
