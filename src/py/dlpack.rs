//! DLPack export: the `#[repr(C)]` structures of the DLPack 1.x ABI (`dlpack.h`) and the
//! capsules `__dlpack__` hands to consumers such as `numpy.from_dlpack`.
//!
//! A capsule holds a heap-allocated managed tensor (legacy `DLManagedTensor` in a
//! `"dltensor"` capsule, `DLManagedTensorVersioned` in a `"dltensor_versioned"` one)
//! that owns a copy of the shape and strides (in items, as DLPack counts them) and a
//! strong reference to the proxy, which keeps the memory alive. A consumer takes the
//! tensor by renaming the capsule (`"used_dltensor"`, ...) and later calls the tensor's
//! `deleter`, maybe from C, from any thread, without the capsule, even during interpreter
//! shutdown; a capsule nobody took frees the tensor when it dies.
//!
//! The behaviour follows numpy's `ndarray.__dlpack__` (`numpy/_core/src/multiarray/dlpack.c`)
//! and the Python array API standard's `__dlpack__`:
//!
//! * layouts DLPack cannot describe raise `BufferError` with the reason: a byte stride that
//!   is not a multiple of the item size (dimensions of length 1 and empty arrays excepted,
//!   as in numpy), byte-swapped items, byte strings (`S`) and items with no numeric type
//!   (`V`, odd sizes); bools, half floats and complex numbers go out as `kDLBool`,
//!   16-bit `kDLFloat` and `kDLComplex`;
//! * read-only data only goes out in versioned capsules, marked
//!   [`DLPACK_FLAG_BITMASK_READ_ONLY`]; a legacy capsule cannot say so, so a legacy export
//!   of read-only data raises `BufferError`, as numpy does;
//! * `data` is the address of the first item and `byte_offset` is 0, numpy's convention
//!   (the array API standard asks for a zero `byte_offset`).
//!
//! The structures are mirrored here rather than taken from a crate: the ones that fit
//! pyo3 0.30 (`dlpark` 0.10) would add dependencies and a pre-1.0 API for about sixty lines
//! of a frozen ABI, and their Python glue attaches to the interpreter in destructors, which
//! the deleter below must not do during finalisation.

use super::acquire::ViewRef;
use crate::core::format::{format_item, kind};
use crate::core::{Error, LayoutRef};
use pyo3::exceptions::{PyBufferError, PyTypeError, PyValueError};
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::PyTuple;
use std::ffi::{c_void, CStr};
use std::ptr;

/// The DLPack version of the versioned capsules made here. Nothing newer than 1.0 is
/// used, and the layout of every 1.x version is the same.
pub const DLPACK_VERSION: DLPackVersion = DLPackVersion { major: 1, minor: 0 };

/// `DLManagedTensorVersioned.flags`: consumers must not write to the data.
pub const DLPACK_FLAG_BITMASK_READ_ONLY: u64 = 1 << 0;
/// `DLManagedTensorVersioned.flags`: the producer copied the data for this export.
pub const DLPACK_FLAG_BITMASK_IS_COPIED: u64 = 1 << 1;
/// `DLManagedTensorVersioned.flags`: sub-byte items are padded to whole bytes.
pub const DLPACK_FLAG_BITMASK_IS_SUBBYTE_TYPE_PADDED: u64 = 1 << 2;

/// `DLDeviceType`: memory the CPU addresses directly.
pub const K_DL_CPU: i32 = 1;

/// `DLDataTypeCode` values of the item types a proxy can export.
pub mod code {
    /// Signed integer.
    pub const INT: u8 = 0;
    /// Unsigned integer.
    pub const UINT: u8 = 1;
    /// IEEE floating point (16, 32 or 64 bits).
    pub const FLOAT: u8 = 2;
    /// Complex: two IEEE floats (64 or 128 bits in all).
    pub const COMPLEX: u8 = 5;
    /// Boolean, one byte per item (8 bits).
    pub const BOOL: u8 = 6;
}

/// The capsule name of a legacy `DLManagedTensor`.
pub const DLTENSOR: &CStr = c"dltensor";
/// The capsule name of a `DLManagedTensorVersioned`.
pub const DLTENSOR_VERSIONED: &CStr = c"dltensor_versioned";

/// `DLPackVersion`: major changes break the ABI, minor ones add enumeration values.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DLPackVersion {
    /// Major version.
    pub major: u32,
    /// Minor version.
    pub minor: u32,
}

/// `DLDevice`: where the data is.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DLDevice {
    /// A `DLDeviceType` (a C enum, so an `int`).
    pub device_type: i32,
    /// Index of the device (0 for CPU memory).
    pub device_id: i32,
}

/// `DLDataType`: the item type.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DLDataType {
    /// A `DLDataTypeCode`.
    pub code: u8,
    /// Bits per item (per lane).
    pub bits: u8,
    /// Lanes of a vector type; 1 for scalars.
    pub lanes: u16,
}

/// `DLTensor`: a strided array, not owning anything.
#[repr(C)]
#[derive(Debug)]
pub struct DLTensor {
    /// Address of the data (`byte_offset` before the first item).
    pub data: *mut c_void,
    /// Where the data is.
    pub device: DLDevice,
    /// Number of dimensions.
    pub ndim: i32,
    /// The item type.
    pub dtype: DLDataType,
    /// `ndim` dimension lengths (may be NULL when `ndim` is 0).
    pub shape: *mut i64,
    /// `ndim` strides in items, not bytes (may be NULL when `ndim` is 0).
    pub strides: *mut i64,
    /// Bytes from `data` to the first item.
    pub byte_offset: u64,
}

/// Legacy `DLManagedTensor` (DLPack 0.x ABI, still accepted by 1.x consumers).
#[repr(C)]
#[derive(Debug)]
pub struct DLManagedTensor {
    /// The tensor.
    pub dl_tensor: DLTensor,
    /// The producer's context (here: the object keeping the memory alive).
    pub manager_ctx: *mut c_void,
    /// Frees the managed tensor, `self` included; called once by its consumer.
    pub deleter: Option<unsafe extern "C" fn(*mut DLManagedTensor)>,
}

/// `DLManagedTensorVersioned` (DLPack 1.x).
#[repr(C)]
#[derive(Debug)]
pub struct DLManagedTensorVersioned {
    /// The ABI version of this struct.
    pub version: DLPackVersion,
    /// The producer's context (here: the object keeping the memory alive).
    pub manager_ctx: *mut c_void,
    /// Frees the managed tensor, `self` included; called once by its consumer.
    pub deleter: Option<unsafe extern "C" fn(*mut DLManagedTensorVersioned)>,
    /// `DLPACK_FLAG_BITMASK_*` bits.
    pub flags: u64,
    /// The tensor.
    pub dl_tensor: DLTensor,
}

// The layouts dlpack.h gives on 64-bit targets.
#[cfg(target_pointer_width = "64")]
const _: () = {
    use std::mem::{offset_of, size_of};
    assert!(size_of::<DLPackVersion>() == 8);
    assert!(size_of::<DLDevice>() == 8);
    assert!(size_of::<DLDataType>() == 4);
    assert!(size_of::<DLTensor>() == 48);
    assert!(offset_of!(DLTensor, ndim) == 16);
    assert!(offset_of!(DLTensor, dtype) == 20);
    assert!(offset_of!(DLTensor, shape) == 24);
    assert!(offset_of!(DLTensor, byte_offset) == 40);
    assert!(size_of::<DLManagedTensor>() == 64);
    assert!(offset_of!(DLManagedTensor, deleter) == 56);
    assert!(size_of::<DLManagedTensorVersioned>() == 80);
    assert!(offset_of!(DLManagedTensorVersioned, flags) == 24);
    assert!(offset_of!(DLManagedTensorVersioned, dl_tensor) == 32);
};

/// `__dlpack_device__()`: `(kDLCPU, 0)`, since a proxy's memory is CPU memory.
pub fn dlpack_device() -> (i32, i32) {
    (K_DL_CPU, 0)
}

/// Checks `__dlpack__`'s keyword arguments and says whether the consumer takes a
/// versioned capsule. Exceptions are numpy's (`ndarray.__dlpack__`), in its order:
///
/// * `dl_device`: not a tuple of two ints → `TypeError`; anything but `(1, 0)` →
///   `BufferError`, as the array API standard requires;
/// * `max_version`: not `None` or a 2-tuple → `TypeError`; a major version of 1 or more
///   asks for a versioned capsule;
/// * `stream`: anything but `None` → `ValueError` (CPU memory has no streams; the standard
///   accepts only `None` there);
/// * `copy=True` → `BufferError`: a proxy exports its parent's memory and never copies it
///   (numpy copies instead; the standard's `BufferError` is for what cannot be exported).
pub fn dlpack_request(
    stream: Option<&Bound<'_, PyAny>>,
    max_version: Option<&Bound<'_, PyAny>>,
    dl_device: Option<&Bound<'_, PyAny>>,
    copy: Option<bool>,
) -> PyResult<bool> {
    if let Some(device) = dl_device {
        let device = device
            .cast::<PyTuple>()
            .map_err(|_| PyTypeError::new_err("dl_device must be a tuple"))?;
        if device.len() != 2 {
            return Err(PyTypeError::new_err(format!(
                "dl_device must be a tuple of two ints (device type, device id), not {} items",
                device.len()
            )));
        }
        let requested: (i32, i32) =
            (device.get_item(0)?.extract()?, device.get_item(1)?.extract()?);
        if requested != dlpack_device() {
            return Err(PyBufferError::new_err(format!(
                "unsupported device requested: {requested:?}; the data is in CPU memory, {:?}",
                dlpack_device()
            )));
        }
    }
    let versioned = match max_version {
        None => false,
        Some(version) => {
            let version =
                version.cast::<PyTuple>().ok().filter(|t| t.len() == 2).ok_or_else(|| {
                    PyTypeError::new_err("max_version must be None or a tuple with two elements")
                })?;
            let major: i64 = version.get_item(0)?.extract()?;
            major >= 1
        }
    };
    if stream.is_some() {
        return Err(PyValueError::new_err(
            "only stream=None is supported: the data is in CPU memory, which has no streams",
        ));
    }
    if copy == Some(true) {
        return Err(PyBufferError::new_err(
            "copy=True is not supported: a BufferProxy exports its parent's memory, never a copy",
        ));
    }
    Ok(versioned)
}

/// A DLPack capsule for `view`: `"dltensor_versioned"` (DLPack 1.0, read-only data marked
/// so) if `versioned`, else a legacy `"dltensor"`. The tensor holds `owner`, which must keep
/// the view's memory alive, until its deleter runs.
///
/// Errors (`BufferError`, with the reason): read-only data in a legacy capsule, and layouts
/// or item types DLPack cannot describe (see the module documentation).
pub fn to_dlpack<'py>(
    py: Python<'py>,
    view: ViewRef<'_>,
    owner: Py<PyAny>,
    versioned: bool,
) -> PyResult<Bound<'py, PyAny>> {
    if view.readonly && !versioned {
        return Err(PyBufferError::new_err(
            "cannot export read-only data in a legacy DLPack capsule, which cannot mark it \
             read-only; ask for DLPack 1.0 or later (max_version=(1, 0))",
        ));
    }
    let dims = element_dims(view.layout)?;
    let dtype = data_type(view.format, view.layout.itemsize())?;
    let ndim = i32::try_from(view.layout.ndim())
        .map_err(|_| PyBufferError::new_err("too many dimensions for DLPack"))?;
    let tensor = DLTensor {
        data: view.addr as *mut c_void,
        device: DLDevice { device_type: K_DL_CPU, device_id: 0 },
        ndim,
        dtype,
        shape: ptr::null_mut(),
        strides: ptr::null_mut(),
        byte_offset: 0,
    };
    if versioned {
        capsule::<DLManagedTensorVersioned>(py, tensor, dims, owner, view.readonly)
    } else {
        capsule::<DLManagedTensor>(py, tensor, dims, owner, view.readonly)
    }
}

/// DLPack's shape and strides of a layout, in that order: strides count items, so each
/// byte stride must be a multiple of the item size. As in numpy, the stride of a
/// dimension of length 1 (never used to reach an item) and every stride of an empty array
/// may be anything; they are divided by the item size like the others, rounding to zero.
fn element_dims(layout: LayoutRef<'_>) -> Result<Box<[i64]>, Error> {
    let itemsize = layout.itemsize();
    let (shape, strides) = (layout.shape(), layout.strides());
    for (dim, (&n, &stride)) in shape.iter().zip(strides).enumerate() {
        if !layout.is_empty() && n > 1 && stride % itemsize != 0 {
            return Err(Error::Buffer(format!(
                "DLPack strides count items, but the stride of dimension {dim} ({stride} bytes) \
                 is not a multiple of the item size ({itemsize} bytes)"
            )));
        }
    }
    // isize is at most 64 bits on every target Rust supports, so these never truncate.
    let elements = strides.iter().map(|&s| (s / itemsize) as i64);
    Ok(shape.iter().map(|&n| n as i64).chain(elements).collect())
}

/// The DLPack item type of a format: native-order integers, floats (half, single, double),
/// complex numbers and bools. Byte strings and void items have no DLPack type.
fn data_type(format: &[u8], itemsize: isize) -> Result<DLDataType, Error> {
    let shown = format.escape_ascii();
    let item = format_item(Some(format)).filter(|item| item.size == itemsize);
    let code = match item.map(|item| item.kind) {
        Some(_) if item.is_some_and(|item| item.swapped) => {
            return Err(Error::Buffer(format!(
                "DLPack only supports native byte order, and the items (format '{shown}') are \
                 byte-swapped"
            )))
        }
        Some(kind::SIGNED) => code::INT,
        Some(kind::UNSIGNED) => code::UINT,
        Some(kind::FLOAT) => code::FLOAT,
        Some(kind::COMPLEX) => code::COMPLEX,
        Some(kind::BOOL) => code::BOOL,
        Some(kind::BYTES) => {
            return Err(Error::Buffer(format!(
                "DLPack has no type for byte strings, and the items (format '{shown}', \
                 {itemsize} bytes) are byte strings"
            )))
        }
        _ => {
            return Err(Error::Buffer(format!(
                "DLPack only supports numbers and bools, and the items (format '{shown}', \
                 {itemsize} bytes) have no numeric type"
            )))
        }
    };
    // Items of the table that get here are at most 16 bytes.
    let bits = u8::try_from(itemsize * 8)
        .map_err(|_| Error::Buffer(format!("{itemsize}-byte items are too large for DLPack")))?;
    Ok(DLDataType { code, bits, lanes: 1 })
}

/// What the two managed-tensor structs have in common, so one generic capsule, deleter
/// and capsule destructor serve both.
trait Managed: Sized {
    /// The capsule name a producer gives it.
    const NAME: &'static CStr;
    /// A managed tensor whose deleter is [`delete::<Self>`](delete).
    fn new(tensor: DLTensor, owner: *mut ffi::PyObject, readonly: bool) -> Self;
    fn manager_ctx(&self) -> *mut c_void;
    fn deleter(&self) -> Option<unsafe extern "C" fn(*mut Self)>;
}

impl Managed for DLManagedTensor {
    const NAME: &'static CStr = DLTENSOR;

    fn new(dl_tensor: DLTensor, owner: *mut ffi::PyObject, _readonly: bool) -> Self {
        DLManagedTensor { dl_tensor, manager_ctx: owner.cast(), deleter: Some(delete::<Self>) }
    }
    fn manager_ctx(&self) -> *mut c_void {
        self.manager_ctx
    }
    fn deleter(&self) -> Option<unsafe extern "C" fn(*mut Self)> {
        self.deleter
    }
}

impl Managed for DLManagedTensorVersioned {
    const NAME: &'static CStr = DLTENSOR_VERSIONED;

    fn new(dl_tensor: DLTensor, owner: *mut ffi::PyObject, readonly: bool) -> Self {
        DLManagedTensorVersioned {
            version: DLPACK_VERSION,
            manager_ctx: owner.cast(),
            deleter: Some(delete::<Self>),
            flags: if readonly { DLPACK_FLAG_BITMASK_READ_ONLY } else { 0 },
            dl_tensor,
        }
    }
    fn manager_ctx(&self) -> *mut c_void {
        self.manager_ctx
    }
    fn deleter(&self) -> Option<unsafe extern "C" fn(*mut Self)> {
        self.deleter
    }
}

/// One allocation per export: the managed tensor first (so a pointer to it is a pointer to
/// the package), then the shape and strides its tensor points into. `manager_ctx` is the
/// owner's strong reference.
#[repr(C)]
struct Package<M> {
    managed: M,
    dims: Box<[i64]>,
}

/// A capsule named `M::NAME` holding a new managed tensor; the owner's reference moves into
/// the tensor.
fn capsule<'py, M: Managed>(
    py: Python<'py>,
    mut tensor: DLTensor,
    mut dims: Box<[i64]>,
    owner: Py<PyAny>,
    readonly: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let ndim = dims.len() / 2;
    if ndim > 0 {
        // The boxed slice's heap storage does not move when the box moves into the package.
        tensor.shape = dims.as_mut_ptr();
        // SAFETY: `dims` holds 2 * ndim entries, so the strides start at offset ndim.
        tensor.strides = unsafe { tensor.shape.add(ndim) };
    }
    let package = Package { managed: M::new(tensor, owner.into_ptr(), readonly), dims };
    let raw = Box::into_raw(Box::new(package));
    // SAFETY: `raw` is a valid leaked package whose first field is the managed tensor; the
    // name is a static string; `destroy_capsule::<M>` matches the pointer's type.
    let capsule =
        unsafe { ffi::PyCapsule_New(raw.cast(), M::NAME.as_ptr(), Some(destroy_capsule::<M>)) };
    if capsule.is_null() {
        let err = PyErr::fetch(py);
        // SAFETY: no capsule owns the package, so it is freed here, once.
        unsafe { delete::<M>(raw.cast()) };
        return Err(err);
    }
    // SAFETY: PyCapsule_New returned a new reference.
    Ok(unsafe { Bound::from_owned_ptr(py, capsule) })
}

/// The managed tensor's `deleter`: frees the package and drops the owner's reference.
///
/// # Safety
///
/// `managed` is NULL or a managed tensor made by [`capsule`] that no one has deleted; after
/// this call it is dangling. Any thread may call this, attached to the interpreter or not.
unsafe extern "C" fn delete<M: Managed>(managed: *mut M) {
    if managed.is_null() {
        return;
    }
    // SAFETY: `managed` is the first field of a package leaked by `capsule` (caller's
    // contract), so it is the package's address; the package is reclaimed once, here.
    let package = unsafe { Box::from_raw(managed.cast::<Package<M>>()) };
    let owner = package.managed.manager_ctx().cast::<ffi::PyObject>();
    drop(package);
    // SAFETY: `owner` is the strong reference the package held, released once.
    unsafe { release(owner) };
}

/// Drops a strong reference from any thread, whether or not it is attached to the
/// interpreter. Once the interpreter is finalised there is nothing left to return it to,
/// so it is leaked (numpy's deleter does the same). The current exception, if any, is kept:
/// the decref may run arbitrary code (the proxy's release of its parent).
///
/// Not `Python::attach`: it panics during finalisation.
///
/// # Safety
///
/// `obj` is NULL or a strong reference owned by the caller, which gives it up.
unsafe fn release(obj: *mut ffi::PyObject) {
    // SAFETY: Py_IsInitialized may be called at any time, from any thread.
    if obj.is_null() || unsafe { ffi::Py_IsInitialized() } == 0 {
        return;
    }
    // SAFETY: the interpreter is initialised; PyGILState_Ensure attaches this thread (or
    // notes that it already is) and is paired with the Release below.
    let gil = unsafe { ffi::PyGILState_Ensure() };
    // SAFETY: attached; the saved exception is restored (and so given back) just after.
    unsafe {
        let saved = SavedError::take();
        ffi::Py_DecRef(obj);
        saved.restore();
    }
    // SAFETY: pairs the Ensure above, on the same thread.
    unsafe { ffi::PyGILState_Release(gil) };
}

/// The thread's current exception, set aside while a destructor runs.
#[cfg(Py_3_12)]
struct SavedError(*mut ffi::PyObject);

#[cfg(Py_3_12)]
impl SavedError {
    /// # Safety
    /// The thread is attached to the interpreter.
    unsafe fn take() -> Self {
        // SAFETY: attached (caller's contract).
        SavedError(unsafe { ffi::PyErr_GetRaisedException() })
    }

    /// # Safety
    /// The thread is attached to the interpreter.
    unsafe fn restore(self) {
        // SAFETY: attached; the exception (or NULL, clearing any new one) is handed back.
        unsafe { ffi::PyErr_SetRaisedException(self.0) }
    }
}

/// The thread's current exception, set aside while a destructor runs.
#[cfg(not(Py_3_12))]
struct SavedError(*mut ffi::PyObject, *mut ffi::PyObject, *mut ffi::PyObject);

#[cfg(not(Py_3_12))]
impl SavedError {
    /// # Safety
    /// The thread is attached to the interpreter.
    unsafe fn take() -> Self {
        let mut saved = SavedError(ptr::null_mut(), ptr::null_mut(), ptr::null_mut());
        // SAFETY: attached (caller's contract); PyErr_Fetch fills the three pointers.
        unsafe { ffi::PyErr_Fetch(&mut saved.0, &mut saved.1, &mut saved.2) };
        saved
    }

    /// # Safety
    /// The thread is attached to the interpreter.
    unsafe fn restore(self) {
        // SAFETY: attached; the references taken by PyErr_Fetch are handed back (all NULL
        // clears any new exception).
        unsafe { ffi::PyErr_Restore(self.0, self.1, self.2) }
    }
}

/// The capsule destructor (called with the interpreter attached): a capsule still named
/// `M::NAME` was never taken by a consumer, so its tensor is deleted; a renamed one
/// (`"used_dltensor"`, ...) belongs to the consumer that took it.
unsafe extern "C" fn destroy_capsule<M: Managed>(capsule: *mut ffi::PyObject) {
    // SAFETY: `capsule` is the dying capsule; PyCapsule_IsValid only compares its name
    // and never sets an exception.
    if unsafe { ffi::PyCapsule_IsValid(capsule, M::NAME.as_ptr()) } == 0 {
        return;
    }
    // SAFETY: the capsule is valid under this name, so its pointer is the non-NULL managed
    // tensor `capsule::<M>` stored, not yet taken, and so not yet deleted.
    unsafe {
        let managed = ffi::PyCapsule_GetPointer(capsule, M::NAME.as_ptr()).cast::<M>();
        if let Some(deleter) = (*managed).deleter() {
            deleter(managed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dims(shape: &[isize], strides: &[isize], itemsize: isize) -> Result<Vec<i64>, Error> {
        element_dims(LayoutRef::new(shape, strides, itemsize).unwrap()).map(Vec::from)
    }

    #[test]
    fn strides_are_counted_in_items() {
        assert_eq!(dims(&[2, 3], &[24, 8], 4), Ok(vec![2, 3, 6, 2]));
        assert_eq!(dims(&[3], &[-8], 8), Ok(vec![3, -1]));
        assert_eq!(dims(&[], &[], 2), Ok(vec![]));
    }

    #[test]
    fn strides_that_split_items_are_refused() {
        let e = dims(&[4], &[3], 2).unwrap_err();
        assert!(matches!(&e, Error::Buffer(m) if m.contains("not a multiple of the item size")));
        assert!(dims(&[2, 2], &[8, -3], 2).is_err());
    }

    #[test]
    fn unused_strides_may_split_items() {
        // A dimension of length 1 never steps; an empty array never reads.
        assert_eq!(dims(&[1, 3], &[3, 2], 2), Ok(vec![1, 3, 1, 1]));
        assert_eq!(dims(&[0, 3], &[3, 5], 2), Ok(vec![0, 3, 1, 2]));
    }

    #[test]
    fn item_types() {
        let dtype = |f: &str, size| data_type(f.as_bytes(), size);
        assert_eq!(dtype("B", 1), Ok(DLDataType { code: code::UINT, bits: 8, lanes: 1 }));
        assert_eq!(dtype("b", 1), Ok(DLDataType { code: code::INT, bits: 8, lanes: 1 }));
        assert_eq!(dtype("=h", 2), Ok(DLDataType { code: code::INT, bits: 16, lanes: 1 }));
        assert_eq!(dtype("=Q", 8), Ok(DLDataType { code: code::UINT, bits: 64, lanes: 1 }));
        assert_eq!(dtype("=f", 4), Ok(DLDataType { code: code::FLOAT, bits: 32, lanes: 1 }));
        assert_eq!(dtype("d", 8), Ok(DLDataType { code: code::FLOAT, bits: 64, lanes: 1 }));
        assert_eq!(dtype("e", 2), Ok(DLDataType { code: code::FLOAT, bits: 16, lanes: 1 }));
        assert_eq!(dtype("?", 1), Ok(DLDataType { code: code::BOOL, bits: 8, lanes: 1 }));
        assert_eq!(dtype("Zf", 8), Ok(DLDataType { code: code::COMPLEX, bits: 64, lanes: 1 }));
        assert_eq!(dtype("Zd", 16), Ok(DLDataType { code: code::COMPLEX, bits: 128, lanes: 1 }));
        let e = dtype("4s", 4).unwrap_err();
        assert!(e.message().contains("byte strings"), "{e}");
        let swapped = if cfg!(target_endian = "little") { ">I" } else { "<I" };
        let e = dtype(swapped, 4).unwrap_err();
        assert!(e.message().contains("native byte order"), "{e}");
        for (pad, size) in [("3x", 3), ("x", 1), ("8x", 8)] {
            let e = dtype(pad, size).unwrap_err();
            assert!(e.message().contains("no numeric type"), "{pad}: {e}");
        }
    }
}
