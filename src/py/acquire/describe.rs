//! Dict descriptions and `__array_interface__` dicts: parsed and validated in pygame's
//! order, then turned into a [`View`] at each acquisition.

use super::{check_range, type_name, BufferGuard, Keep, View, ViewRef};
use crate::core::format::{typestr_item, Format, Item};
use crate::core::layout::Dims;
use crate::core::request::flags;
use crate::core::Layout;
use pyo3::exceptions::{PyBufferError, PyOverflowError, PyTypeError, PyValueError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyInt, PyString, PyTuple};
use pyo3::{ffi, Borrowed};
use std::ptr;

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
        let (mut pos, mut key, mut value) = (0, ptr::null_mut(), ptr::null_mut());
        // Borrowed references from PyDict_Next stay valid while the dict is not changed:
        // nothing in the loop runs Python code (a str's text is read, never computed by a
        // method), and a value is incref'd when it is kept.
        while scanned {
            // SAFETY: `dict` is a live dict and the out-pointers are ours.
            if unsafe { ffi::PyDict_Next(dict.as_ptr(), &mut pos, &mut key, &mut value) } == 0 {
                break;
            }
            // SAFETY: as above: a borrowed, live key.
            let key = unsafe { Borrowed::from_ptr(py, key) };
            let index = match keys.iter().position(|k| k.as_ptr() == key.as_ptr()) {
                Some(i) => Some(i),
                None => match key.cast_exact::<PyString>() {
                    Ok(text) => text.to_str().ok().and_then(|t| NAMES.iter().position(|n| *n == t)),
                    Err(_) => {
                        scanned = false;
                        break;
                    }
                },
            };
            if let Some(i) = index {
                // SAFETY: as above: a borrowed, live value; the new reference is ours.
                found[i] = Some(unsafe { Bound::from_borrowed_ptr(py, value) });
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
    let mut items = Dims::with_capacity(tuple.len());
    for i in 0..tuple.len() {
        // SAFETY: `i` is within the tuple, whose items are borrowed while it lives.
        items.push(unsafe { tuple.get_borrowed_item_unchecked(i) }.extract::<isize>()?);
    }
    Ok(items)
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

    let item = match typestr.cast::<PyString>() {
        Ok(s) => match s.to_str() {
            Ok(text) if text.is_ascii() => typestr_item(text.as_bytes())?,
            // Non-ASCII text fails with the codec's own UnicodeEncodeError, as in pygame.
            _ => {
                return Err(typestr
                    .call_method1("encode", ("ascii",))
                    .err()
                    .unwrap_or_else(|| PyValueError::new_err("'typestr' is not ASCII")))
            }
        },
        Err(_) => typestr_item(typestr.cast::<PyBytes>()?.as_bytes())?,
    };
    let (format, itemsize) = ((item.format(), item), item.size);

    let shape = isize_items(shape)?;
    let strides = strides.as_ref().map(isize_items).transpose()?;
    let layout = Layout::new(&shape, strides.as_deref(), itemsize)?;

    let data = match data {
        Data::Address { .. } => {
            // Checks the address range now; nothing is held.
            check_range(addr, layout.extent())?;
            MappingData::Address { addr, readonly }
        }
        Data::Object(guard) => {
            let obj = guard_source.expect("a data object was acquired").unbind();
            // Checks the bounds now; the export is released again until an acquisition.
            check_fits(&guard, offset, &layout)?;
            MappingData::Object { obj, offset }
        }
    };
    let (format, (kind, swapped)) = (format.0, (item.kind, item.swapped));
    Ok(Mapping { layout, format, kind, swapped, data })
}

/// A validated array-interface mapping: layout, format, and where the memory is.
pub struct Mapping {
    layout: Layout,
    format: Format,
    /// The item's kind and byte order (its size is the layout's item size).
    kind: u8,
    swapped: bool,
    data: MappingData,
}

enum MappingData {
    /// A raw `(address, readonly)` pair: the describer's responsibility.
    Address { addr: usize, readonly: bool },
    /// A buffer-protocol object, exported afresh (and bounds-checked) at each acquisition.
    Object { obj: Py<PyAny>, offset: usize },
}

impl Mapping {
    /// The item the format describes.
    fn item(&self) -> Item {
        Item { kind: self.kind, size: self.layout.itemsize(), swapped: self.swapped }
    }

    /// The items' layout.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// Acquires the memory: for a buffer-object `data`, a new export of it, bounds-checked
    /// again (the object may have changed size since it was parsed).
    pub fn view(&self, py: Python<'_>, keep: Keep) -> PyResult<View> {
        match &self.data {
            MappingData::Address { addr, readonly } => {
                View::new(*addr, self.layout.clone(), (self.format, self.item()), *readonly, keep)
                    .map(View::at_raw_address)
            }
            MappingData::Object { obj, offset } => {
                let guard = data_object(obj.bind(py))?;
                let format = (self.format, self.item());
                view_in_object(guard, *offset, self.layout.clone(), format, keep)
            }
        }
    }

    /// Acquires the memory to hold it from first use: for a buffer-object `data`, a new
    /// export of it, bounds-checked again; for a raw address, nothing (see
    /// [`Mapping::held_view`]).
    pub fn hold(&self, py: Python<'_>) -> PyResult<Option<BufferGuard>> {
        match &self.data {
            MappingData::Address { .. } => Ok(None),
            MappingData::Object { obj, offset } => {
                let guard = data_object(obj.bind(py))?;
                check_fits(&guard, *offset, &self.layout)?;
                Ok(Some(guard))
            }
        }
    }

    /// The memory held by [`Mapping::hold`], borrowed: the layout and format are the
    /// mapping's own, so holding costs no copy of them. `data` is what `hold` returned.
    pub fn held_view<'a>(&'a self, data: Option<&BufferGuard>) -> ViewRef<'a> {
        let (addr, readonly, raw_address) = match (&self.data, data) {
            (MappingData::Object { offset, .. }, Some(guard)) => {
                (guard.addr() + offset, guard.readonly(), false)
            }
            (MappingData::Address { addr, readonly }, _) => (*addr, *readonly, true),
            (MappingData::Object { .. }, None) => unreachable!("a data object is held"),
        };
        let format = self.format.as_bytes();
        ViewRef::new(addr, self.layout.borrowed(), format, self.item(), readonly, raw_address)
    }

    /// [`held_view`](Self::held_view)'s start and length in bytes, if its layout is
    /// contiguous (what `raw` copies, read with no view built).
    #[cfg(not(any(Py_LIMITED_API, PyPy, GraalPy)))]
    pub fn held_contiguous(&self, data: Option<&BufferGuard>) -> Option<(usize, isize)> {
        if !self.layout.is_contiguous() {
            return None;
        }
        let addr = match (&self.data, data) {
            (MappingData::Object { offset, .. }, Some(guard)) => guard.addr() + offset,
            (MappingData::Address { addr, .. }, _) => *addr,
            (MappingData::Object { .. }, None) => unreachable!("a data object is held"),
        };
        Some((addr, self.layout.len()))
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
    format: (Format, Item),
    mut keep: Keep,
) -> PyResult<View> {
    check_fits(&guard, offset, &layout)?;
    let (addr, readonly) = (guard.addr() + offset, guard.readonly());
    keep.buffer = Some(guard);
    View::new(addr, layout, format, readonly, keep)
}

/// Checks that `layout` fits a data object's export at `offset` bytes into it.
fn check_fits(guard: &BufferGuard, offset: usize, layout: &Layout) -> PyResult<()> {
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
    Ok(())
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
