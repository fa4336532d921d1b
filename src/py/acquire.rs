//! Reading a parent's memory: dict descriptions and exporting objects.
//!
//! Everything here ends in a [`View`]: a validated layout, its format, the address of
//! its first item, and whatever keeps that memory alive. The checks follow the order
//! pygame makes them in, so code written against pygame sees the same exceptions.

use super::ffi::{pai, PyArrayInterface};
use crate::core::format::{
    arraystruct_to_format, check_exporter_format, typestr_to_format, Format,
};
use crate::core::layout::Dims;
use crate::core::request::{flags, negotiate};
use crate::core::Layout;
use pyo3::exceptions::{
    PyAttributeError, PyBufferError, PyOverflowError, PyTypeError, PyValueError,
};
use pyo3::ffi;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyInt, PyString, PyTuple};
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
    fn layout(&self) -> PyResult<Layout> {
        let v = &*self.view;
        if !v.suboffsets.is_null() {
            return Err(PyValueError::new_err("exporters that need suboffsets are not supported"));
        }
        let ndim = usize::try_from(v.ndim).map_err(|_| {
            PyValueError::new_err(format!("exporter gave a negative ndim ({})", v.ndim))
        })?;
        // Only needed (and only computed: a division is slow) when the shape is absent.
        let whole;
        let shape: &[isize] = if ndim == 0 {
            &[]
        } else if v.shape.is_null() {
            whole = [v.len / v.itemsize.max(1)];
            &whole
        } else {
            // SAFETY: with ndim > 0 and a non-NULL shape, CPython's protocol guarantees
            // `ndim` readable entries until release.
            unsafe { std::slice::from_raw_parts(v.shape, ndim) }
        };
        let strides = if ndim == 0 || v.strides.is_null() {
            None
        } else {
            // SAFETY: as for the shape.
            Some(unsafe { std::slice::from_raw_parts(v.strides, ndim) })
        };
        Ok(Layout::new(shape, strides, v.itemsize)?)
    }

    /// The validated format of the export, as the exporter gave it (no format means
    /// unsigned bytes).
    fn format(&self) -> PyResult<Format> {
        let v = &*self.view;
        let format = if v.format.is_null() {
            None
        } else {
            // SAFETY: a non-NULL format is a NUL-terminated string valid until release.
            Some(unsafe { CStr::from_ptr(v.format) }.to_bytes())
        };
        let item = check_exporter_format(format, v.itemsize)?;
        // Accepted formats have at most twelve characters (prefix, ten-digit count, code),
        // so they fit inline and are passed on unchanged.
        Ok(format.and_then(Format::from_bytes).unwrap_or_else(|| item.format()))
    }
}

impl Drop for BufferGuard {
    fn drop(&mut self) {
        Python::attach(|_| {
            self.view.obj = self.owner.take().map_or(ptr::null_mut(), Py::into_ptr);
            // SAFETY: the view was filled by a successful PyObject_GetBuffer, has its object
            // reference back, and is released exactly once, here, with the interpreter attached.
            unsafe { ffi::PyBuffer_Release(&mut *self.view) }
        });
    }
}

/// What keeps a view's memory valid.
#[derive(Default)]
pub struct Keep {
    /// An object whose lifetime bounds the memory (parent, capsule, ...).
    pub objects: Vec<Py<PyAny>>,
    /// An export held open on the memory's owner.
    pub buffer: Option<BufferGuard>,
}

impl Keep {
    /// Every Python object referenced, for the garbage collector.
    pub fn referents(&self) -> impl Iterator<Item = &Py<PyAny>> {
        self.objects.iter().chain(self.buffer.as_ref().and_then(BufferGuard::owner))
    }
}

/// Validated memory: a layout around an address, its format, and what keeps it alive.
pub struct View {
    /// Address of the first item.
    pub addr: usize,
    /// The items' layout around `addr`.
    pub layout: Layout,
    /// The PEP 3118 format consumers see.
    pub format: Format,
    /// Whether consumers must not write.
    pub readonly: bool,
    /// What keeps the memory alive.
    pub keep: Keep,
}

impl View {
    /// Checks that the layout's extent around `addr` does not wrap around the address
    /// space, so that later pointer arithmetic cannot overflow. A NULL address is accepted
    /// (its metadata can be read); [`View::null_bytes`] says when its bytes cannot be.
    fn new(
        addr: usize,
        layout: Layout,
        format: Format,
        readonly: bool,
        keep: Keep,
    ) -> PyResult<Self> {
        let extent = layout.extent();
        if extent.size() > 0 {
            let start = addr.checked_add_signed(extent.lo);
            let fits = start.is_some_and(|s| s.checked_add(extent.size()).is_some());
            if !fits {
                return Err(PyValueError::new_err(format!(
                    "'data' address {addr:#x} with extent [{}, {}) is not a valid memory range",
                    extent.lo, extent.hi
                )));
            }
        }
        Ok(View { addr, layout, format, readonly, keep })
    }

    /// Whether the view has bytes but no memory: a NULL address with a non-empty extent.
    /// Such a view's metadata is fine to read; its bytes are not (DECISIONS.md: "A raw
    /// address of 0 (NULL) is accepted").
    pub fn null_bytes(&self) -> bool {
        self.addr == 0 && self.layout.extent().size() > 0
    }

    /// The bytes the layout spans, gaps included, and the index of the first item in them.
    ///
    /// # Safety
    ///
    /// The memory must be readable over the whole extent: guaranteed when it comes from an
    /// export or a buffer object; for a raw `(address, readonly)` description it is the
    /// describer's promise. It is never NULL: callers check [`View::null_bytes`] first.
    pub unsafe fn span(&self) -> (&[u8], usize) {
        let extent = self.layout.extent();
        if extent.size() == 0 {
            return (&[], 0);
        }
        let start = self.addr.wrapping_add_signed(extent.lo);
        // SAFETY: View::new checked the range does not wrap; that it is not NULL and is
        // readable is the caller's contract.
        let mem = unsafe { std::slice::from_raw_parts(start as *const u8, extent.size()) };
        (mem, extent.lo.unsigned_abs())
    }
}

/// The items of a description (or `__array_interface__`) dict that are read, found the
/// way `PyDict_GetItemString` finds them (no `__getitem__` override is called).
#[derive(Default)]
pub struct Fields<'py> {
    pub shape: Option<Bound<'py, PyAny>>,
    pub typestr: Option<Bound<'py, PyAny>>,
    pub data: Option<Bound<'py, PyAny>>,
    pub strides: Option<Bound<'py, PyAny>>,
    pub offset: Option<Bound<'py, PyAny>>,
    pub parent: Option<Bound<'py, PyAny>>,
    pub before: Option<Bound<'py, PyAny>>,
    pub after: Option<Bound<'py, PyAny>>,
}

/// Dicts up to this size are read in one pass over their items; bigger ones by lookups.
const SCAN_MAX: usize = 16;

impl<'py> Fields<'py> {
    /// Reads the items. A small dict whose keys are all exact `str` is read in one pass
    /// (a key is matched by identity with the interned name, else by its text), which
    /// costs far less than eight hash lookups, most of them misses. Any other dict is
    /// read by lookups, so keys of other types compare exactly as in a lookup.
    pub fn read(dict: &Bound<'py, PyDict>) -> PyResult<Self> {
        const NAMES: [&str; 8] =
            ["shape", "typestr", "data", "strides", "offset", "parent", "before", "after"];
        let py = dict.py();
        let keys = [
            intern!(py, "shape"),
            intern!(py, "typestr"),
            intern!(py, "data"),
            intern!(py, "strides"),
            intern!(py, "offset"),
            intern!(py, "parent"),
            intern!(py, "before"),
            intern!(py, "after"),
        ];
        let mut found: [Option<Bound<'py, PyAny>>; 8] = Default::default();
        let mut scanned = dict.len() <= SCAN_MAX;
        if scanned {
            for (key, value) in dict.iter() {
                let index = match keys.iter().position(|k| k.is(&key)) {
                    Some(i) => Some(i),
                    None => match key.cast_exact::<PyString>() {
                        Ok(text) => {
                            text.to_str().ok().and_then(|t| NAMES.iter().position(|n| *n == t))
                        }
                        Err(_) => {
                            scanned = false;
                            break;
                        }
                    },
                };
                if let Some(i) = index {
                    found[i] = Some(value);
                }
            }
        }
        if !scanned {
            for (slot, key) in found.iter_mut().zip(keys) {
                *slot = dict.get_item(key)?;
            }
        }
        let [shape, typestr, data, strides, offset, parent, before, after] = found;
        Ok(Fields { shape, typestr, data, strides, offset, parent, before, after })
    }
}

/// A tuple whose items are all `int` (bool and int subclasses included), like pygame's check.
fn int_tuple<'a, 'py>(obj: &'a Bound<'py, PyAny>) -> Option<&'a Bound<'py, PyTuple>> {
    let tuple = obj.cast::<PyTuple>().ok()?;
    tuple.iter().all(|i| i.is_instance_of::<PyInt>()).then_some(tuple)
}

fn isize_items(tuple: &Bound<'_, PyTuple>) -> PyResult<Dims> {
    tuple.iter().map(|i| i.extract::<isize>()).collect()
}

/// Where a description's `data` points.
enum Data<'py> {
    Address { addr: Bound<'py, PyAny>, readonly: Bound<'py, PyAny> },
    Object(BufferGuard),
}

/// Parses an array-interface-style mapping: a BufferProxy description or an
/// `__array_interface__` dict. `writable` is whether the consumer asked to write,
/// which (as in pygame) is refused with `BufferError` right after the read-only flag
/// is known. `keep` is added to the view's keep-alive set.
pub fn parse_mapping(fields: &Fields<'_>, writable: bool) -> PyResult<Mapping> {
    let shape = fields
        .shape
        .as_ref()
        .ok_or_else(|| PyValueError::new_err("required 'shape' item is missing"))?;
    let shape = int_tuple(shape)
        .ok_or_else(|| PyValueError::new_err("expected a tuple of ints for 'shape'"))?;
    if shape.is_empty() {
        return Err(PyValueError::new_err("expected 'shape' to be at least one-dimensional"));
    }

    let typestr = fields
        .typestr
        .as_ref()
        .ok_or_else(|| PyValueError::new_err("required 'typestr' item is missing"))?;
    let typestr_len = if let Ok(s) = typestr.cast::<PyString>() {
        s.len()?
    } else if let Ok(b) = typestr.cast::<PyBytes>() {
        b.as_bytes().len()
    } else {
        return Err(PyValueError::new_err("expected a string for 'typestr'"));
    };
    if typestr_len < 3 {
        return Err(PyValueError::new_err("expected 'typestr' to be at least 3 characters long"));
    }

    let mut guard_source = None;
    let data = fields
        .data
        .as_ref()
        .ok_or_else(|| PyValueError::new_err("required 'data' item is missing"))?;
    let data = if let Ok(t) = data.cast::<PyTuple>() {
        if t.len() != 2 {
            return Err(PyValueError::new_err("expected a length 2 tuple for 'data'"));
        }
        let addr = t.get_item(0)?;
        if !addr.is_instance_of::<PyInt>() {
            return Err(PyValueError::new_err("expected an int for item 0 of 'data'"));
        }
        Data::Address { addr, readonly: t.get_item(1)? }
    } else {
        guard_source = Some(data.clone());
        Data::Object(data_object(data)?)
    };

    let strides = match &fields.strides {
        None => None,
        Some(s) => Some(
            int_tuple(s)
                .ok_or_else(|| PyValueError::new_err("expected a tuple of ints for 'strides'"))?
                .clone(),
        ),
    };

    let offset = match (&fields.offset, &data) {
        (None, _) => 0usize,
        (Some(_), Data::Address { .. }) => {
            return Err(PyValueError::new_err(
                "'offset' is only allowed when 'data' is a buffer object",
            ))
        }
        (Some(o), Data::Object(_)) => {
            if !o.is_instance_of::<PyInt>() {
                return Err(PyValueError::new_err("expected an int for 'offset'"));
            }
            o.extract::<usize>().map_err(|_| {
                PyValueError::new_err(format!("'offset' must be a non-negative int, not {o}"))
            })?
        }
    };

    if let Some(s) = &strides {
        if s.len() != shape.len() {
            return Err(PyValueError::new_err("'shape' and 'strides' are not the same length"));
        }
    }

    let (addr, readonly) = match &data {
        Data::Address { addr, readonly } => {
            let addr = pointer_value(addr)?;
            (addr, readonly.is_truthy()?)
        }
        Data::Object(guard) => (guard.addr(), guard.readonly()),
    };
    if writable && readonly {
        return Err(PyBufferError::new_err("require writable buffer, but it is read-only"));
    }

    let typestr_bytes: Vec<u8> = match typestr.cast::<PyString>() {
        Ok(s) => match s.to_str() {
            Ok(text) if text.is_ascii() => text.as_bytes().to_vec(),
            // Non-ASCII text fails with the codec's own UnicodeEncodeError, as in pygame.
            _ => {
                return Err(typestr
                    .call_method1("encode", ("ascii",))
                    .err()
                    .unwrap_or_else(|| PyValueError::new_err("'typestr' is not ASCII")))
            }
        },
        Err(_) => typestr.cast::<PyBytes>()?.as_bytes().to_vec(),
    };
    let (format, itemsize) = typestr_to_format(&typestr_bytes)?;

    let shape = isize_items(shape)?;
    let strides = strides.as_ref().map(isize_items).transpose()?;
    let layout = Layout::new(&shape, strides.as_deref(), itemsize)?;

    let data = match data {
        Data::Address { .. } => {
            // Checks the address range now; nothing is held.
            View::new(addr, layout.clone(), format, readonly, Keep::default())?;
            MappingData::Address { addr, readonly }
        }
        Data::Object(guard) => {
            let obj = guard_source.expect("a data object was acquired").unbind();
            // Checks the bounds now; the export is released again until an acquisition.
            view_in_object(guard, offset, layout.clone(), format, Keep::default())?;
            MappingData::Object { obj, offset }
        }
    };
    Ok(Mapping { layout, format, data })
}

/// A validated array-interface mapping: layout, format, and where the memory is.
pub struct Mapping {
    layout: Layout,
    format: Format,
    data: MappingData,
}

enum MappingData {
    /// A raw `(address, readonly)` pair: the describer's responsibility.
    Address { addr: usize, readonly: bool },
    /// A buffer-protocol object, exported afresh (and bounds-checked) at each acquisition.
    Object { obj: Py<PyAny>, offset: usize },
}

impl Mapping {
    /// The items' layout.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// Acquires the memory: for a buffer-object `data`, a new export of it, bounds-checked
    /// again (the object may have changed size since it was parsed).
    pub fn view(&self, py: Python<'_>, keep: Keep) -> PyResult<View> {
        match &self.data {
            MappingData::Address { addr, readonly } => {
                View::new(*addr, self.layout.clone(), self.format, *readonly, keep)
            }
            MappingData::Object { obj, offset } => {
                let guard = data_object(obj.bind(py))?;
                view_in_object(guard, *offset, self.layout.clone(), self.format, keep)
            }
        }
    }

    /// The Python object referenced, for the garbage collector.
    pub fn referent(&self) -> Option<&Py<PyAny>> {
        match &self.data {
            MappingData::Object { obj, .. } => Some(obj),
            MappingData::Address { .. } => None,
        }
    }
}

/// A view of `layout` at `offset` bytes into a data object's export, if it fits.
fn view_in_object(
    guard: BufferGuard,
    offset: usize,
    layout: Layout,
    format: Format,
    mut keep: Keep,
) -> PyResult<View> {
    let extent = layout.extent();
    let size = guard.byte_len();
    let fits = offset <= size
        && (extent.size() == 0
            || (offset as isize).checked_add(extent.lo).is_some_and(|lo| lo >= 0)
                && (offset as isize)
                    .checked_add(extent.hi)
                    .is_some_and(|hi| hi.unsigned_abs() <= size));
    if !fits {
        return Err(PyValueError::new_err(format!(
            "'data' buffer of {size} bytes cannot hold the layout: its extent [{}, {}) at \
             'offset' {offset} does not fit",
            extent.lo, extent.hi
        )));
    }
    let (addr, readonly) = (guard.addr() + offset, guard.readonly());
    keep.buffer = Some(guard);
    View::new(addr, layout, format, readonly, keep)
}

/// `PyLong_AsVoidPtr` semantics: negative values wrap (as C casts do), values beyond the
/// pointer range raise `OverflowError`.
fn pointer_value(addr: &Bound<'_, PyAny>) -> PyResult<usize> {
    if let Ok(a) = addr.extract::<usize>() {
        return Ok(a);
    }
    addr.extract::<isize>().map(|a| a as usize).map_err(|_| {
        PyOverflowError::new_err(format!("'data' address {addr} does not fit a pointer"))
    })
}

/// Acquires the buffer of a `data` object: writable if it allows, else read-only.
fn data_object(data: &Bound<'_, PyAny>) -> PyResult<BufferGuard> {
    match BufferGuard::get(data, flags::WRITABLE) {
        Ok(g) => Ok(g),
        Err(_) => BufferGuard::get(data, flags::SIMPLE).map_err(|e| {
            if e.is_instance_of::<PyTypeError>(data.py()) {
                let err = PyValueError::new_err(format!(
                    "expected a tuple (address, read-only flag) or a buffer object for 'data', got {}",
                    type_name(data)
                ));
                err.set_cause(data.py(), Some(e));
                err
            } else {
                e
            }
        }),
    }
}

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "object".into())
}

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
        let keep = Keep { objects: Vec::new(), buffer: Some(guard) };
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
                let keep = Keep { objects: vec![obj.clone().unbind()], buffer: None };
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
    let format = arraystruct_to_format(
        inter.typekind as u8,
        inter.itemsize,
        inter.flags & pai::NOTSWAPPED != 0,
    )?;
    let keep = Keep { objects: vec![parent.clone().unbind(), capsule.unbind()], buffer: None };
    View::new(inter.data as usize, layout, format, readonly, keep)
}
