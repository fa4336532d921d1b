//! The `BufferProxy` class: thin Python methods over [`acquire`](super::acquire),
//! [`export`], [`interface`] and the core.

use super::acquire::{
    acquire_exporter, parse_mapping, BufferGuard, Fields, HeldBuffer, Keep, Mapping, View, ViewRef,
};
use super::export::{self, ItemFormat, Memory};
use super::interface;
use super::slot::{Claim, Either, EitherSlot, FirstUse, ObjectCell, PyBox, Slot};
use crate::core::copy::{contiguous_bytes, gather_uninit};
use crate::core::request::{flags, negotiate, Grant};
use pyo3::exceptions::{PyBufferError, PyIndexError, PyRuntimeError, PyTypeError, PyValueError};
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyString, PyTuple};
use pyo3::{PyTraverseError, PyVisit};
use std::ffi::c_int;
use std::mem::MaybeUninit;
#[cfg(not(any(Py_LIMITED_API, PyPy, GraalPy)))]
use std::ptr;
use std::sync::atomic::{AtomicBool, Ordering};

/// A dict description, read once: its memory, its callbacks, and the acquisition held
/// from first use.
struct Description {
    mapping: Mapping,
    parent: Py<PyAny>,
    before: Option<Py<PyAny>>,
    after: Option<Py<PyAny>>,
    /// Set at first use; released when the description is dropped, after `after` runs.
    held: DescribedHold,
}

/// A description's acquisition held from first use: a mark, and the `data` object's
/// export if there is one. The layout and format are the description's own, and its
/// `after` is called when it drops: holding copies none of them, and a raw address
/// allocates nothing.
#[derive(Default)]
struct DescribedHold {
    held: AtomicBool,
    data: Slot<BufferGuard>,
}

impl DescribedHold {
    /// Whether the first use has held the memory.
    fn is_held(&self) -> bool {
        self.held.load(Ordering::Acquire)
    }

    /// The data object's export, once held.
    fn data(&self) -> Option<&BufferGuard> {
        self.data.get()
    }

    /// Marks the memory held, keeping the data object's export (only the first use does).
    fn set(&self, data: Option<BufferGuard>) {
        if let Some(data) = data {
            let _rejected = self.data.set_exclusive(Box::new(data));
        }
        self.held.store(true, Ordering::Release);
    }

    /// Whether the memory was held, and the data object's export, emptying the mark.
    fn take(&mut self) -> Option<Option<Box<BufferGuard>>> {
        std::mem::take(self.held.get_mut()).then(|| self.data.take())
    }
}

impl Drop for Description {
    fn drop(&mut self) {
        // A held acquisition is released as an export's is: `after` first, then the data
        // object's export (pygame's order).
        if let Some(data) = self.held.take() {
            if self.after.is_some() {
                drop(Python::attach(|py| AfterCall::new(py, self)));
            }
            drop(data);
        }
    }
}

impl Description {
    fn parse(dict: &Bound<'_, PyDict>, writable: bool) -> PyResult<Self> {
        let py = dict.py();
        let fields = Fields::read(dict)?;
        let mapping = parse_mapping(&fields, writable)?;
        Ok(Description {
            mapping,
            parent: fields.parent.map_or_else(|| py.None(), Bound::unbind),
            before: fields.before.map(Bound::unbind),
            after: fields.after.map(Bound::unbind),
            held: DescribedHold::default(),
        })
    }
}

/// Calls a description's `after(parent)` when dropped; errors go to `sys.unraisablehook`.
struct AfterCall {
    after: Py<PyAny>,
    parent: Py<PyAny>,
}

impl AfterCall {
    fn new(py: Python<'_>, desc: &Description) -> Option<Self> {
        let after = desc.after.as_ref()?.clone_ref(py);
        Some(AfterCall { after, parent: desc.parent.clone_ref(py) })
    }
}

impl Drop for AfterCall {
    fn drop(&mut self) {
        Python::attach(|py| {
            // A consumer may release its view with its own exception pending (struct,
            // ctypes and numpy do, on a size or type error): keep it for the consumer.
            let pending = PyErr::take(py);
            if let Err(err) = self.after.call1(py, (self.parent.clone_ref(py),)) {
                err.write_unraisable(py, Some(self.after.bind(py)));
            }
            if let Some(pending) = pending {
                pending.restore(py);
            }
        });
    }
}

/// One acquisition of the parent's memory, released when dropped.
///
/// For a dict, `after` runs first and the `data` object's export (if any) is released
/// after it (fields drop in declaration order), as pygame releases them.
enum Acquired {
    /// A dict description, bracketed by `before` (done) and `after` (on drop).
    Described { after: Option<AfterCall>, view: View },
    /// An exporter's memory, holding its export open.
    Exported(View),
}

impl Acquired {
    /// The view it owns.
    fn owned(&self) -> &View {
        let (Acquired::Described { view, .. } | Acquired::Exported(view)) = self;
        view
    }

    fn view(&self) -> ViewRef<'_> {
        self.owned().borrowed()
    }
}

impl export::Describe for Acquired {
    fn memory(&self) -> Memory<'_> {
        let view = self.owned();
        Memory { addr: view.addr, layout: &view.layout, readonly: view.readonly }
    }

    fn format(&self) -> ItemFormat {
        ItemFormat::Inline(self.owned().format)
    }
}

// An exporter's held export is one allocation of a Py_buffer and a few bytes (pygame
// keeps the Py_buffer alone).
#[cfg(target_pointer_width = "64")]
const _: () = assert!(std::mem::size_of::<HeldBuffer>() == 88);

/// Exports a parent's memory through the buffer protocol and the array interfaces,
/// without copying.
///
/// ``parent`` is either an object that exports its memory (through the buffer protocol,
/// ``__array_struct__`` or ``__array_interface__``, tried in that order) or a ``dict``
/// describing memory:
///
/// - ``shape``: tuple of ints; ``typestr``: e.g. ``"|u1"``, ``"<f4"``;
/// - ``data``: ``(address, readonly)``, or a buffer object (kept alive and bounds-checked,
///   optionally with ``offset``);
/// - optional ``strides`` (bytes), ``parent`` (returned by ``.parent``), and ``before`` /
///   ``after`` callables, called with ``parent`` around every acquisition of the memory.
///
/// Nothing is read until first use. The first use of ``parent``, ``length``, ``raw``,
/// either interface or ``repr()`` acquires the memory once and holds it until the proxy
/// dies; each buffer export (``memoryview(proxy)``, ``numpy.asarray(proxy)``) and each
/// ``write`` is bracketed by its own ``before``/``after`` calls.
///
/// >>> import numpy as np
/// >>> arr = np.zeros((2, 3), np.uint8)
/// >>> proxy = BufferProxy(arr)
/// >>> proxy.length, proxy.raw
/// (6, b'\x00\x00\x00\x00\x00\x00')
/// >>> np.asarray(proxy)[1, 2] = 7  # writes into arr
//
// The class is `frozen` (no run-time borrow flag to update on every call): its state lives
// in set-once slots, read without locking.
#[pyclass(module = "bufferproxy", name = "BufferProxy", subclass, dict, weakref, frozen)]
pub struct BufferProxy {
    /// The object passed to the constructor (replaceable by `__init__` until first use).
    source: ObjectCell,
    description: Slot<Description>,
    /// An exporting parent's acquisition, held from first use (a dict's is in its
    /// description).
    held: EitherSlot<PyBox<HeldBuffer>, Box<Acquired>>,
    /// Closed while a thread makes the first use that fills `held`.
    first_use: FirstUse,
}

impl Drop for BufferProxy {
    fn drop(&mut self) {
        // A proxy's value is dropped by its object's deallocator (pyo3's `tp_dealloc`), or
        // by pyo3 when it could not make the object: attached either way. So the held
        // export is released and freed with no check of that (the check costs a tenth of
        // what a proxy over an ndarray costs to make, use and free).
        if let Some(Either::Left(buffer)) = self.held.take() {
            // SAFETY: attached, as above.
            buffer.free(unsafe { Python::assume_attached() });
        }
    }
}

/// What an acquisition is for, which decides how a view with bytes at NULL is refused:
/// metadata reads are fine, anything handing out or writing the bytes is not (DECISIONS.md:
/// "A raw address of 0 (NULL) is accepted").
#[derive(Clone, Copy, PartialEq, Eq)]
enum Purpose {
    /// The held acquisition, for metadata.
    Hold,
    /// A buffer export or `__dlpack__`: `BufferError`.
    Export,
    /// `write` and `raw`: `ValueError`.
    Copy,
}

/// The error for touching the bytes of a view at NULL.
fn null_bytes_error(view: ViewRef<'_>, purpose: Purpose) -> PyErr {
    let len = view.layout.len();
    match purpose {
        Purpose::Export => PyBufferError::new_err(format!(
            "the data address is NULL: its {len} bytes cannot be exported"
        )),
        _ => PyValueError::new_err(format!(
            "the data address is NULL: its {len} bytes cannot be read or written"
        )),
    }
}

impl BufferProxy {
    fn new(parent: Option<Py<PyAny>>) -> Self {
        BufferProxy {
            source: ObjectCell::new(parent),
            description: Slot::new(),
            held: EitherSlot::new(),
            first_use: FirstUse::new(),
        }
    }

    /// A new reference to the source: callers may run Python code (which could call
    /// `__init__` and replace the source) while they use it.
    fn source<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match self.source.get(py) {
            Some(s) => Ok(s),
            None => Err(PyValueError::new_err(
                "this BufferProxy has no parent (BufferProxy.__init__ was not called, or the \
                 garbage collector cleared it)",
            )),
        }
    }

    /// The parsed description of a dict source (parsed at first use), or None for exporters.
    fn description(&self, py: Python<'_>, writable: bool) -> PyResult<Option<&Description>> {
        if let Some(d) = self.description.get() {
            return Ok(Some(d));
        }
        let source = self.source(py)?;
        let Ok(dict) = source.cast::<PyDict>() else { return Ok(None) };
        self.parse_description(dict, writable).map(Some)
    }

    /// Parses the dict source and keeps its description.
    fn parse_description(
        &self,
        dict: &Bound<'_, PyDict>,
        writable: bool,
    ) -> PyResult<&Description> {
        let parsed = Box::new(Description::parse(dict, writable)?);
        // A callback running Python may have let another thread parse first; both are equal.
        let (kept, _rejected) = self.description.set(parsed);
        Ok(kept)
    }

    /// Acquires the memory for a request: validates, negotiates `flags`, refuses bytes at
    /// NULL for exports and writes, then (for a dict) calls `before(parent)`. Dropping the
    /// result releases it (calling `after`).
    fn acquire(
        &self,
        py: Python<'_>,
        flags: c_int,
        purpose: Purpose,
    ) -> PyResult<(Acquired, Grant)> {
        let mut out = MaybeUninit::uninit();
        let grant = self.acquire_into(py, flags, purpose, &mut out)?;
        // SAFETY: `acquire_into` returned `Ok`, so it wrote `out`.
        Ok((unsafe { out.assume_init() }, grant))
    }

    /// [`acquire`](Self::acquire), writing the acquisition into `out` (a buffer export's
    /// storage: the acquisition is large, and is not moved there) and returning the grant.
    fn acquire_into(
        &self,
        py: Python<'_>,
        flags: c_int,
        purpose: Purpose,
        out: &mut MaybeUninit<Acquired>,
    ) -> PyResult<Grant> {
        let usable = |view: ViewRef<'_>| {
            if purpose != Purpose::Hold && view.null_bytes() {
                return Err(null_bytes_error(view, purpose));
            }
            Ok(())
        };
        if let Some(desc) = self.description(py, flags & flags::WRITABLE != 0)? {
            let view = desc.mapping.view(py, Keep::default())?;
            let grant = negotiate(&view.layout, view.readonly, flags)?;
            usable(view.borrowed())?;
            view.borrowed().audit(py)?;
            if let Some(before) = &desc.before {
                before.call1(py, (desc.parent.clone_ref(py),))?;
            }
            let after = AfterCall::new(py, desc);
            out.write(Acquired::Described { after, view });
            return Ok(grant);
        }
        let view = acquire_exporter(&self.source(py)?, flags)?;
        let grant = negotiate(&view.layout, view.readonly, flags)?;
        usable(view.borrowed())?;
        view.borrowed().audit(py)?;
        out.write(Acquired::Exported(view));
        Ok(grant)
    }

    /// Makes the held acquisition (first use), refusing bytes at NULL for `purpose`: for a
    /// dict, the description's own (calling `before`), else the exporter's.
    fn hold(&self, py: Python<'_>, purpose: Purpose) -> PyResult<()> {
        let desc = match self.description.get() {
            Some(desc) => desc,
            None => {
                let source = self.source(py)?;
                match source.cast::<PyDict>() {
                    Ok(dict) => self.parse_description(dict, false)?,
                    Err(_) => return self.hold_export(py, &source, purpose),
                }
            }
        };
        let data = desc.mapping.hold(py)?;
        let view = desc.mapping.held_view(data.as_ref());
        negotiate(view.layout, view.readonly, flags::RECORDS_RO)?;
        if purpose != Purpose::Hold && view.null_bytes() {
            return Err(null_bytes_error(view, purpose));
        }
        view.audit(py)?;
        if let Some(before) = &desc.before {
            before.call1(py, (desc.parent.clone_ref(py),))?;
        }
        desc.held.set(data);
        Ok(())
    }

    /// [`hold`](Self::hold) for a parent that is not a dict: its buffer-protocol export,
    /// held in place when it can be, else the acquisition its interfaces give.
    fn hold_export(
        &self,
        py: Python<'_>,
        source: &Bound<'_, PyAny>,
        purpose: Purpose,
    ) -> PyResult<()> {
        // Only the gate's holder sets the slot, so nothing is rejected below; were
        // something rejected, it would be released when `_rejected` drops.
        // SAFETY: PyObject_CheckBuffer only reads the type's buffer slot of a live object.
        if unsafe { ffi::PyObject_CheckBuffer(source.as_ptr()) } == 1 {
            if let Some(buffer) = HeldBuffer::acquire(source)? {
                if purpose != Purpose::Hold {
                    let view = buffer.view();
                    if view.null_bytes() {
                        return Err(null_bytes_error(view, purpose));
                    }
                }
                let _rejected = self.held.set_exclusive(Either::Left(buffer));
                return Ok(());
            }
        }
        let (acquired, _) = self.acquire(py, flags::RECORDS_RO, purpose)?;
        let _rejected = self.held.set_exclusive(Either::Right(Box::new(acquired)));
        Ok(())
    }

    /// The held acquisition's length in bytes, if the first use has made it: what
    /// [`held_view`](Self::held_view) says, read with the fewest loads (`proxy.length`).
    fn held_len(&self) -> Option<isize> {
        match self.held.get() {
            Some(Either::Left(buffer)) => Some(buffer.byte_len()),
            Some(Either::Right(acquired)) => Some(acquired.view().layout.len()),
            None => {
                let desc = self.description.get()?;
                desc.held.is_held().then(|| desc.mapping.layout().len())
            }
        }
    }

    /// The held memory's start and length in bytes, if the first use has made it and the
    /// bytes are contiguous: what [`held_view`](Self::held_view) says, with no view built
    /// (`proxy.raw`).
    #[cfg(not(any(Py_LIMITED_API, PyPy, GraalPy)))]
    fn held_contiguous(&self) -> Option<(usize, isize)> {
        match self.held.get() {
            Some(Either::Left(buffer)) => buffer.contiguous(),
            Some(Either::Right(acquired)) => {
                let view = acquired.view();
                view.layout.is_contiguous().then_some((view.addr, view.layout.len()))
            }
            None => {
                let desc = self.description.get()?;
                desc.held.is_held().then(|| desc.mapping.held_contiguous(desc.held.data()))?
            }
        }
    }

    /// The held acquisition's view, if the first use has made it.
    fn held_view(&self) -> Option<ViewRef<'_>> {
        match self.held.get() {
            Some(Either::Left(buffer)) => return Some(buffer.view()),
            Some(Either::Right(acquired)) => return Some(acquired.view()),
            None => {}
        }
        let desc = self.description.get()?;
        desc.held.is_held().then(|| desc.mapping.held_view(desc.held.data()))
    }

    /// The acquisition held from first use until the proxy dies.
    ///
    /// The first use runs once across threads (DECISIONS.md, "'Once' holds across threads
    /// too"): one thread acquires (calling `before`), the others wait for it with the
    /// interpreter released and then share what it left; if it failed, the next of them
    /// tries again. A first use from inside that first use (its `before` touching the
    /// proxy) raises `RuntimeError` instead of recursing.
    fn held(&self, py: Python<'_>) -> PyResult<ViewRef<'_>> {
        self.held_for(py, Purpose::Hold)
    }

    /// The held acquisition, for a use that touches the bytes (`raw`, `__dlpack__`): bytes
    /// at NULL are refused, and when this is the first use, before `before` runs and
    /// without holding anything.
    fn held_for(&self, py: Python<'_>, purpose: Purpose) -> PyResult<ViewRef<'_>> {
        let view = match self.held_view() {
            Some(view) => view,
            None => {
                self.ensure_held(py, purpose)?;
                self.held_view().expect("the first use has held the memory")
            }
        };
        if purpose != Purpose::Hold && view.null_bytes() {
            return Err(null_bytes_error(view, purpose));
        }
        Ok(view)
    }

    /// Whether the parent is an object with the buffer protocol (not a dict), whose first
    /// use holds its export and calls no callback.
    #[cfg(not(any(Py_LIMITED_API, PyPy, GraalPy)))]
    fn exporter_parent(&self, _py: Python<'_>) -> bool {
        // SAFETY: attached (`_py`), and nothing below runs Python code that could replace
        // the source while it is borrowed; PyObject_CheckBuffer only reads the type's
        // buffer slot of the live object.
        self.description.get().is_none()
            && unsafe { self.source.peek() }
                .is_some_and(|source| unsafe { ffi::PyObject_CheckBuffer(source.as_ptr()) == 1 })
    }

    /// The held acquisition's length in bytes, acquiring it if this is the first use.
    fn held_length(&self, py: Python<'_>) -> PyResult<isize> {
        if let Some(len) = self.first_use.held_len() {
            return Ok(len);
        }
        self.ensure_held(py, Purpose::Hold)?;
        Ok(self.first_use.held_len().expect("the first use has held the memory"))
    }

    /// Makes the first use, unless it has been made (see [`held`](Self::held)).
    fn ensure_held(&self, py: Python<'_>, purpose: Purpose) -> PyResult<()> {
        loop {
            // The gate opens marked once the first use is done (and is reset by `__clear__`).
            if self.first_use.held_len().is_some() {
                return Ok(());
            }
            match self.first_use.claim(py) {
                Claim::Mine(mut gate) => {
                    // Another thread may have finished between the look and the claim.
                    if self.held_len().is_none() {
                        self.hold(py, purpose)?;
                    }
                    gate.done(self.held_len().expect("the first use has held the memory"));
                    return Ok(());
                }
                Claim::Reentrant => {
                    return Err(PyRuntimeError::new_err(
                        "BufferProxy used from inside its own first use (its 'before' \
                         callback touched the proxy before the memory was acquired)",
                    ))
                }
                Claim::Busy => self.first_use.wait(py),
            }
        }
    }
}

/// The bytes of `write`'s `buffer` argument.
enum Source<'py> {
    Bytes(Bound<'py, PyBytes>),
    Text(Bound<'py, PyString>),
    Buffer(super::acquire::BufferGuard),
}

impl Source<'_> {
    fn from_arg<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Source<'py>> {
        if let Ok(b) = obj.cast::<PyBytes>() {
            return Ok(Source::Bytes(b.clone()));
        }
        if let Ok(s) = obj.cast::<PyString>() {
            // Encode now: an unencodable str is an argument error, reported before `offset`.
            s.to_str()?;
            return Ok(Source::Text(s.clone()));
        }
        super::acquire::BufferGuard::get(obj, flags::SIMPLE).map(Source::Buffer).map_err(|cause| {
            let err = PyTypeError::new_err(format!(
                "'buffer' must be bytes, str or a C-contiguous bytes-like object, not {}",
                obj.get_type().name().map(|n| n.to_string()).unwrap_or_default()
            ));
            err.set_cause(obj.py(), Some(cause));
            err
        })
    }

    fn bytes(&self) -> PyResult<&[u8]> {
        Ok(match self {
            Source::Bytes(b) => b.as_bytes(),
            Source::Text(s) => s.to_str()?.as_bytes(),
            Source::Buffer(g) => g.as_bytes(),
        })
    }
}

/// `write`'s `offset` argument, converted only after `buffer` has been checked.
enum OffsetArg<'py> {
    Default,
    Given(Bound<'py, PyAny>),
}

impl<'a, 'py> FromPyObject<'a, 'py> for OffsetArg<'py> {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        Ok(OffsetArg::Given(obj.to_owned()))
    }
}

#[pymethods]
impl BufferProxy {
    /// Takes the parent when called with exactly one positional argument; anything else is
    /// left to ``__init__`` (whose signature rejects it for ``BufferProxy`` itself), so that
    /// subclasses may take other arguments and call ``super().__init__(parent)``.
    #[new]
    #[pyo3(signature = (*args, **kwargs), text_signature = "(parent, /)")]
    fn py_new(args: &Bound<'_, PyTuple>, kwargs: Option<&Bound<'_, PyDict>>) -> Self {
        let parent = match (args.len(), kwargs.map_or(0, |k| k.len())) {
            (1, 0) => args.get_item(0).ok().map(Bound::unbind),
            _ => None,
        };
        BufferProxy::new(parent)
    }

    /// Sets the parent; the proxy can only be (re)initialised before its first use.
    #[pyo3(signature = (parent, /))]
    fn __init__(&self, parent: Bound<'_, PyAny>) -> PyResult<()> {
        let py = parent.py();
        if self.source.is(py, &parent) {
            return Ok(());
        }
        if self.description.get().is_some()
            || self.held.get().is_some()
            || self.first_use.is_claimed()
        {
            return Err(PyTypeError::new_err(
                "a BufferProxy cannot be re-initialised after its first use",
            ));
        }
        let old = self.source.replace(py, Some(parent.unbind()));
        drop(old);
        Ok(())
    }

    /// The wrapped exporting object: the description's ``parent`` (None if absent), or
    /// the object passed to ``BufferProxy``.
    #[getter]
    fn parent(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.ensure_held(py, Purpose::Hold)?;
        match self.description.get() {
            Some(desc) => Ok(desc.parent.clone_ref(py)),
            None => Ok(self.source(py)?.unbind()),
        }
    }

    /// The size, in bytes, of the exported buffer (gaps of strided layouts excluded).
    #[getter]
    fn length(&self, py: Python<'_>) -> PyResult<isize> {
        self.held_length(py)
    }

    /// A copy of the exported buffer as bytes: contiguous data in memory order, anything
    /// else gathered in C (row-major) order with the gaps removed.
    #[getter]
    fn raw<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let view = self.held_for(py, Purpose::Copy)?;
        let len = view.layout.len().unsigned_abs();
        // SAFETY: the view's memory is not NULL (`held_for` checked) and is readable over its
        // extent: it is held open (exports, buffer objects) or promised by the
        // description's author (raw addresses), and stays so while `self` (which holds it)
        // is borrowed.
        let (mem, origin) = unsafe { view.span() };
        // Contiguous data is copied once, as is; anything else is gathered in C order.
        // Either way the bytes object is written once, never zero-filled first.
        let contiguous = contiguous_bytes(mem, origin, view.layout)?;
        if let Some(bytes) = contiguous.filter(|_| len < DETACH_THRESHOLD) {
            return Ok(PyBytes::new(py, bytes));
        }
        uninit_bytes(py, len, |out| match contiguous {
            Some(bytes) => {
                out.write_copy_of_slice(bytes);
                Ok(())
            }
            None => gather_uninit(mem, origin, view.layout, out),
        })
    }

    /// Version 3 array interface, Python level: a new dict with the keys ``version``,
    /// ``typestr``, ``shape``, ``strides`` and ``data``.
    #[getter]
    fn __array_interface__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        interface::interface_dict(py, self.held(py)?)
    }

    /// Version 3 array interface, C level: a capsule holding a ``PyArrayInterface`` that
    /// keeps this proxy (and so the memory) alive while the capsule lives.
    #[getter]
    fn __array_struct__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        interface::array_struct(py, slf.get().held(py)?, slf.clone().into_any().unbind())
    }

    /// Writes ``buffer`` (bytes, str as UTF-8, or a C-contiguous bytes-like object) into
    /// the parent's memory, starting ``offset`` bytes after its start.
    #[pyo3(signature = (buffer, offset = OffsetArg::Default), text_signature = "($self, buffer, offset=0)")]
    fn write(
        &self,
        py: Python<'_>,
        buffer: &Bound<'_, PyAny>,
        offset: OffsetArg<'_>,
    ) -> PyResult<()> {
        let source = Source::from_arg(buffer)?;
        let offset: isize = match offset {
            OffsetArg::Default => 0,
            OffsetArg::Given(o) => o.extract()?,
        };
        let data = source.bytes()?;
        let (acquired, _) = self.acquire(py, flags::RECORDS, Purpose::Copy)?;
        let view = acquired.view();
        if !view.layout.is_contiguous() {
            return Err(PyValueError::new_err("the BufferProxy bytes are not contiguous"));
        }
        let len = view.layout.len();
        if data.len() > len.unsigned_abs() {
            return Err(PyValueError::new_err(format!(
                "'buffer' object length {} is larger than the buffer's {len} bytes",
                data.len()
            )));
        }
        if offset < 0 || offset >= len || offset.unsigned_abs() + data.len() > len.unsigned_abs() {
            return Err(PyIndexError::new_err(format!(
                "'offset' {offset} is out of range for {} bytes into a {len}-byte buffer",
                data.len()
            )));
        }
        let dst = view.addr + offset.unsigned_abs();
        detached_if_large(py, data.len(), || {
            // SAFETY: the layout is contiguous, so its `len` bytes form one block starting
            // at the first item (strides of contiguous layouts are positive wherever the
            // dimension has more than one item); `offset + data.len() <= len` was checked.
            // The view is writable (RECORDS was negotiated) and held until `acquired`
            // drops, after the copy; the source is held by `source` just as long. `copy`
            // (memmove) allows the source to overlap the destination.
            unsafe { std::ptr::copy(data.as_ptr(), dst as *mut u8, data.len()) }
        });
        drop(acquired);
        Ok(())
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!("<BufferProxy({})>", self.held_length(py)?))
    }

    /// Buffer protocol export: each export is validated against the request flags and
    /// bracketed by its own ``before``/``after`` calls.
    unsafe fn __getbuffer__(
        slf: Bound<'_, Self>,
        view: *mut ffi::Py_buffer,
        flags: c_int,
    ) -> PyResult<()> {
        let py = slf.py();
        let proxy = slf.get();
        // SAFETY: `view` comes from the interpreter's getbuffer call; the memory stays valid
        // until release because the acquisition (holding the parent's export or the
        // description and its `after` call) is kept in the view and dropped by
        // `__releasebuffer__`.
        unsafe {
            export::fill_described_with(view, slf.as_any(), |out| {
                proxy.acquire_into(py, flags, Purpose::Export, out)
            })
        }
    }

    unsafe fn __releasebuffer__(&self, view: *mut ffi::Py_buffer) {
        // SAFETY: `view` was filled by `__getbuffer__` above and is released once.
        unsafe { export::release(view) }
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        // Every reference the proxy owns: visiting fewer would only keep garbage alive,
        // visiting one twice would let the collector free a live object.
        // SAFETY: a traversal runs with the interpreter lock and no Python code.
        visit.call(unsafe { self.source.peek() })?;
        if let Some(desc) = self.description.get() {
            visit.call(&desc.parent)?;
            visit.call(&desc.before)?;
            visit.call(&desc.after)?;
            visit.call(desc.mapping.referent())?;
            visit.call(desc.held.data().and_then(BufferGuard::owner))?;
        }
        match self.held.get() {
            Some(Either::Left(buffer)) => visit.call(buffer.owner())?,
            Some(Either::Right(acquired)) => {
                if let Acquired::Described { after: Some(after), .. } = acquired {
                    visit.call(&after.after)?;
                    visit.call(&after.parent)?;
                }
                for obj in acquired.owned().keep.referents() {
                    visit.call(obj)?;
                }
            }
            None => {}
        }
        Ok(())
    }

    fn __clear__(&self) {
        // SAFETY: the collector clears only unreachable objects, and a method running on
        // this proxy is called through a reference its caller holds, so none is running:
        // nothing borrows the slots' values. They are dropped only once all are taken, as
        // dropping runs Python code (`after`) that could come back to this proxy.
        let taken = unsafe { (self.held.take_shared(), self.description.replace(None)) };
        // SAFETY: the collector runs with the interpreter lock held.
        let py = unsafe { Python::assume_attached() };
        self.first_use.reset(py);
        let source = self.source.replace(py, None);
        drop((taken, source));
    }

    /// DLPack export (Python array API): a ``"dltensor_versioned"`` capsule if
    /// ``max_version`` is ``(1, ...)`` or later (read-only data marked so), else a legacy
    /// ``"dltensor"`` capsule (writable data only). The capsule keeps this proxy (and so
    /// the memory) alive until its consumer deletes it. Layouts DLPack cannot describe
    /// raise ``BufferError``; ``stream`` must be None, ``dl_device`` None or ``(1, 0)``,
    /// and ``copy`` not True.
    #[pyo3(signature = (*, stream = None, max_version = None, dl_device = None, copy = None))]
    fn __dlpack__<'py>(
        slf: &Bound<'py, Self>,
        stream: Option<&Bound<'py, PyAny>>,
        max_version: Option<&Bound<'py, PyAny>>,
        dl_device: Option<&Bound<'py, PyAny>>,
        copy: Option<bool>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        let versioned = super::dlpack::dlpack_request(stream, max_version, dl_device, copy)?;
        let owner = slf.clone().into_any().unbind();
        let view = slf.get().held_for(py, Purpose::Export)?;
        super::dlpack::to_dlpack(py, view, owner, versioned)
    }

    /// ``(1, 0)``: DLPack's ``(kDLCPU, 0)``, the data is in CPU memory.
    fn __dlpack_device__(&self) -> (i32, i32) {
        super::dlpack::dlpack_device()
    }
}

/// Makes `BufferProxy(parent)` (exactly one positional argument, exact type) skip
/// `__new__` and `__init__`: the type's vectorcall slot builds the instance directly, with
/// no argument tuple. Any other call (keywords, another arity) takes the usual path,
/// which reports the error; subclasses never use this slot (CPython does not inherit it).
///
/// The instance is allocated with the type's `tp_alloc` and its Rust value written where
/// pyo3 keeps it (the offset is read off an instance pyo3 made, here). pyo3 would go
/// through `object.__new__`, which on CPython 3.11 and 3.12 also gives every instance an
/// empty `__dict__` (64 bytes, and a third of the constructor's time); CPython makes one
/// when it is first needed. Everything else pyo3 would write is zero, which `tp_alloc`
/// gives.
#[cfg(not(any(Py_LIMITED_API, PyPy, GraalPy)))]
pub fn install_fast_constructor(ty: &Bound<'_, pyo3::types::PyType>) -> PyResult<()> {
    let probe = Py::new(ty.py(), BufferProxy::new(None))?;
    let value: *const BufferProxy = probe.get();
    VALUE_OFFSET.store(value as usize - probe.as_ptr() as usize, Ordering::Relaxed);
    // SAFETY: `ty` is our heap type, fully initialised; `tp_vectorcall` of a type object is
    // read by CPython only when the type is called, and is never inherited by subclasses.
    unsafe { (*ty.as_type_ptr()).tp_vectorcall = Some(construct) };
    Ok(())
}

/// Where pyo3 keeps a [`BufferProxy`] value inside its object (see
/// [`install_fast_constructor`]).
#[cfg(not(any(Py_LIMITED_API, PyPy, GraalPy)))]
static VALUE_OFFSET: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// The vectorcall slot installed by [`install_fast_constructor`].
#[cfg(not(any(Py_LIMITED_API, PyPy, GraalPy)))]
unsafe extern "C" fn construct(
    callable: *mut ffi::PyObject,
    args: *const *mut ffi::PyObject,
    nargsf: usize,
    kwnames: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // SAFETY: CPython calls this slot with the interpreter attached.
    let py = unsafe { Python::assume_attached() };
    let result = std::panic::catch_unwind(|| {
        // SAFETY: a vectorcall receives its positional count in `nargsf`, `args` with that
        // many borrowed references, and `kwnames` NULL or a tuple of keyword names.
        let (nargs, nkw) = unsafe {
            let nkw = if kwnames.is_null() { 0 } else { ffi::PyTuple_GET_SIZE(kwnames) };
            (ffi::PyVectorcall_NARGS(nargsf), nkw)
        };
        let ty = py.get_type::<BufferProxy>();
        if callable == ty.as_ptr() && nargs == 1 && nkw == 0 {
            // SAFETY: one positional argument, a borrowed reference.
            let parent = unsafe { Bound::from_borrowed_ptr(py, *args) }.unbind();
            // SAFETY: the type's own allocator, which returns a zero-filled instance (with
            // a reference to the type) or NULL with an exception set.
            let obj = unsafe {
                let alloc = (*ty.as_type_ptr()).tp_alloc.unwrap_or(ffi::PyType_GenericAlloc);
                alloc(ty.as_type_ptr(), 0)
            };
            if obj.is_null() {
                return Err(PyErr::fetch(py));
            }
            let value = BufferProxy::new(Some(parent));
            let offset = VALUE_OFFSET.load(Ordering::Relaxed);
            // SAFETY: `obj` is a new, zero-filled instance of our exact type, laid out as
            // the instance `install_fast_constructor` measured: the value goes where pyo3
            // puts it, and every other field pyo3 keeps (the dict and weakref slots; the
            // borrow and thread checkers are empty for a frozen `Send` class) is zero, as
            // pyo3 leaves it. Nothing runs between the allocation and this write, and the
            // collector reads zero-filled slots as empty.
            unsafe { ptr::write(obj.cast::<u8>().add(offset).cast::<BufferProxy>(), value) };
            return Ok(obj);
        }
        // SAFETY: the usual `type.__call__` (tp_new then tp_init), called with the
        // interpreter attached on our own type object and freshly built arguments.
        unsafe { call_type_slowly(py, callable, args, nargs, kwnames) }
    });
    match result {
        Ok(Ok(obj)) => obj,
        Ok(Err(err)) => {
            err.restore(py);
            ptr::null_mut()
        }
        Err(_) => {
            pyo3::panic::PanicException::new_err("panic while constructing a BufferProxy")
                .restore(py);
            ptr::null_mut()
        }
    }
}

/// `type.__call__(callable, *args, **kwargs)` from vectorcall arguments.
///
/// # Safety
///
/// As for [`construct`]'s arguments; `nargs` is the positional count.
#[cfg(not(any(Py_LIMITED_API, PyPy, GraalPy)))]
unsafe fn call_type_slowly(
    py: Python<'_>,
    callable: *mut ffi::PyObject,
    args: *const *mut ffi::PyObject,
    nargs: isize,
    kwnames: *mut ffi::PyObject,
) -> PyResult<*mut ffi::PyObject> {
    let nargs = nargs.unsigned_abs();
    // SAFETY: `kwnames` is NULL or a tuple of `nkw` names; `args` has `nargs + nkw`
    // borrowed references (positional, then keyword values in the order of the names).
    let (values, names) = unsafe {
        let names = (!kwnames.is_null()).then(|| Bound::from_borrowed_ptr(py, kwnames));
        let nkw = names.as_ref().map_or(0, |n| ffi::PyTuple_GET_SIZE(n.as_ptr()).unsigned_abs());
        let values: Vec<Bound<'_, PyAny>> = std::slice::from_raw_parts(args, nargs + nkw)
            .iter()
            .map(|&p| Bound::from_borrowed_ptr(py, p))
            .collect();
        (values, names)
    };
    let positional = PyTuple::new(py, &values[..nargs])?;
    let keywords = PyDict::new(py);
    if let Some(names) = names {
        for (name, value) in names.try_iter()?.zip(&values[nargs..]) {
            keywords.set_item(name?, value)?;
        }
    }
    // SAFETY: PyType_Type is the interpreter's `type`; its tp_call is `type.__call__`,
    // which never goes back through vectorcall, so this cannot recurse into `construct`.
    let call =
        unsafe { (*ptr::addr_of!(ffi::PyType_Type)).tp_call }.expect("type has a tp_call slot");
    // SAFETY: a valid call of the slot: the type object, an argument tuple, a kwargs dict.
    let obj = unsafe { call(callable, positional.as_ptr(), keywords.as_ptr()) };
    if obj.is_null() {
        Err(PyErr::fetch(py))
    } else {
        Ok(obj)
    }
}

/// Copies of at least this many bytes run with the interpreter released, so other Python
/// threads go on meanwhile. Below it, releasing and re-acquiring costs more than it
/// gives back (`benches/compare.py` measures both sides of the threshold).
pub const DETACH_THRESHOLD: usize = 64 * 1024;

/// Runs `f` (a copy of `nbytes` bytes), detached from the interpreter if the copy is large.
fn detached_if_large<T: Send>(py: Python<'_>, nbytes: usize, f: impl FnOnce() -> T + Send) -> T {
    if nbytes >= DETACH_THRESHOLD {
        py.detach(f)
    } else {
        f()
    }
}

/// A new `bytes` object of `len` bytes, every one written by `fill` (run detached from the
/// interpreter when `len` is large), without zero-filling it first.
fn uninit_bytes<'py>(
    py: Python<'py>,
    len: usize,
    fill: impl FnOnce(&mut [MaybeUninit<u8>]) -> Result<(), crate::core::Error> + Send,
) -> PyResult<Bound<'py, PyBytes>> {
    let size = isize::try_from(len).map_err(|_| PyValueError::new_err("length overflows"))?;
    // SAFETY: PyBytes_FromStringAndSize with a NULL source allocates an uninitialised
    // bytes object of `size` bytes (or returns NULL with an exception set).
    let obj = unsafe { ffi::PyBytes_FromStringAndSize(std::ptr::null(), size) };
    // SAFETY: `obj` is a new reference or NULL, owned here from now on.
    let bytes = unsafe { Bound::from_owned_ptr_or_err(py, obj) }?.cast_into::<PyBytes>()?;
    // SAFETY: the object's buffer has `len` bytes, is not shared yet (nobody else has a
    // reference), and `MaybeUninit<u8>` needs no initialisation.
    let out = unsafe {
        std::slice::from_raw_parts_mut(
            ffi::PyBytes_AsString(bytes.as_ptr()).cast::<MaybeUninit<u8>>(),
            len,
        )
    };
    detached_if_large(py, len, || {
        if len >= HUGE_PAGE_THRESHOLD {
            advise_huge_pages(out);
        }
        fill(out)
    })?;
    // Every byte has been written (`fill` succeeded), so the object may now be seen.
    Ok(bytes)
}

/// Results of at least this many bytes are advised huge pages before they are written
/// (`benches/compare.py`, op j, measures the gain: below this size allocators hand back
/// memory that is already touched, where advice changes nothing).
pub const HUGE_PAGE_THRESHOLD: usize = 4 * 1024 * 1024;

/// Asks the kernel to back the whole 2 MiB pages inside `out` with transparent huge pages,
/// before anything is written there: a fresh 64 MiB result then takes 32 page faults instead
/// of 16,384. Advice only: where huge pages are off (or not Linux) this does nothing.
#[cfg(target_os = "linux")]
fn advise_huge_pages(out: &mut [MaybeUninit<u8>]) {
    const HUGE_PAGE: usize = 2 * 1024 * 1024;
    let start = out.as_mut_ptr() as usize;
    let (Some(lo), Some(end)) =
        (start.checked_next_multiple_of(HUGE_PAGE), start.checked_add(out.len()))
    else {
        return;
    };
    let hi = end & !(HUGE_PAGE - 1);
    if hi > lo {
        // SAFETY: `lo..hi` lies inside `out`, memory this function borrows exclusively;
        // MADV_HUGEPAGE changes how the kernel backs it, never its contents or mapping.
        // A failure (huge pages unsupported) leaves everything as it was, so it is ignored.
        unsafe { libc::madvise(lo as *mut libc::c_void, hi - lo, libc::MADV_HUGEPAGE) };
    }
}

#[cfg(not(target_os = "linux"))]
fn advise_huge_pages(_out: &mut [MaybeUninit<u8>]) {}

/// Replaces pyo3's getters of `length`, `raw` and `__array_struct__` with plain C functions
/// ([`fast_length`], [`fast_raw`], [`fast_array_struct`]) that read the held acquisition
/// directly: these
/// are the hottest attributes, and pyo3's getter trampoline (interpreter-lock bookkeeping in
/// a thread-local, a panic guard, error conversion) costs as much as the work itself.
/// Before first use, and whenever the fast path does not apply, they call pyo3's getter, so
/// behaviour is unchanged. Subclasses inherit the descriptors, as they would pyo3's.
///
/// Cost in code: this function and the three getters, about 120 lines, each unsafe block
/// with its reason.
#[cfg(not(any(Py_LIMITED_API, PyPy, GraalPy)))]
pub fn install_fast_getters(ty: &Bound<'_, pyo3::types::PyType>) -> PyResult<()> {
    replace_getter(ty, c"length", fast_length)?;
    replace_getter(ty, c"raw", fast_raw)?;
    replace_getter(ty, c"__array_struct__", fast_array_struct)
}

/// Puts a getset descriptor calling `get` in place of pyo3's descriptor `name` on `ty`,
/// keeping its name and doc; `get` receives pyo3's `PyGetSetDef` as its closure, to call
/// for the slow path.
#[cfg(not(any(Py_LIMITED_API, PyPy, GraalPy)))]
fn replace_getter(
    ty: &Bound<'_, pyo3::types::PyType>,
    name: &std::ffi::CStr,
    get: ffi::getter,
) -> PyResult<()> {
    let py = ty.py();
    let old = ty.getattr(name.to_str().map_err(|e| PyValueError::new_err(e.to_string()))?)?;
    // SAFETY: reading the type of a live object.
    let is_getset = unsafe { ffi::Py_TYPE(old.as_ptr()) == &raw mut ffi::PyGetSetDescr_Type };
    if !is_getset {
        return Err(PyTypeError::new_err("expected pyo3's getset descriptor"));
    }
    // SAFETY: `old` is a getset descriptor (checked), so it has this layout; its definition
    // is owned by the type object pyo3 created, which lives as long as the interpreter (and
    // the descriptor is kept alive below, to be sure).
    let original = unsafe { (*old.as_ptr().cast::<ffi::PyGetSetDescrObject>()).d_getset };
    // SAFETY: as above, `original` points to a valid definition.
    let (def_name, doc) = unsafe { ((*original).name, (*original).doc) };
    // The new descriptor points to its definition for as long as it exists: forever.
    let def = Box::leak(Box::new(ffi::PyGetSetDef {
        name: def_name,
        get: Some(get),
        set: None,
        doc,
        closure: original.cast(),
    }));
    // SAFETY: `ty` is our heap type and `def` a valid, never-freed definition.
    let descr =
        unsafe { Bound::from_owned_ptr_or_err(py, ffi::PyDescr_NewGetSet(ty.as_type_ptr(), def)) }?;
    // SAFETY: a heap type always has its dict; the type is fully built, not yet used by any
    // instance, and PyType_Modified drops any cached lookup of the old descriptor.
    let rc = unsafe {
        let rc =
            ffi::PyDict_SetItemString((*ty.as_type_ptr()).tp_dict, name.as_ptr(), descr.as_ptr());
        ffi::PyType_Modified(ty.as_type_ptr());
        rc
    };
    if rc != 0 {
        return Err(PyErr::fetch(py));
    }
    // pyo3's descriptor (and so its definition) stays alive with the interpreter.
    std::mem::forget(old);
    Ok(())
}

/// Calls pyo3's getter, whose definition is the closure of our descriptor.
///
/// # Safety
///
/// As for a getter: `slf` is an instance of the descriptor's type and `closure` the
/// `PyGetSetDef` [`replace_getter`] stored.
#[cfg(not(any(Py_LIMITED_API, PyPy, GraalPy)))]
unsafe fn slow_getter(
    slf: *mut ffi::PyObject,
    closure: *mut std::ffi::c_void,
) -> *mut ffi::PyObject {
    // SAFETY: the closure is pyo3's valid definition, which has a getter.
    unsafe {
        let original = closure.cast::<ffi::PyGetSetDef>();
        match (*original).get {
            Some(get) => get(slf, (*original).closure),
            None => ptr::null_mut(),
        }
    }
}

/// The proxy `slf` points to.
///
/// # Safety
///
/// `slf` is a live `BufferProxy` (or subclass) instance and the interpreter is attached:
/// CPython checks the instance's type before it calls a descriptor's getter. The proxy
/// outlives `'a`, as the caller's reference keeps it.
#[cfg(not(any(Py_LIMITED_API, PyPy, GraalPy)))]
unsafe fn proxy_of<'a>(py: Python<'_>, slf: *mut ffi::PyObject) -> &'a BufferProxy {
    // SAFETY: the caller's guarantee (so `slf` is not NULL); a frozen class is read
    // without a borrow flag.
    unsafe {
        let proxy = pyo3::Borrowed::from_ptr_or_opt(py, slf).unwrap_unchecked();
        let proxy = proxy.cast_unchecked::<BufferProxy>();
        &*std::ptr::from_ref(proxy.get())
    }
}

/// The body of a fast getter: `fast(py, proxy)` answers, or returns `None` to hand the call
/// to pyo3's getter (before the first use, for errors, for what it does not serve). No
/// panic crosses into C.
///
/// # Safety
///
/// The arguments are a getter's, as CPython passes them to a descriptor installed by
/// [`replace_getter`].
#[cfg(not(any(Py_LIMITED_API, PyPy, GraalPy)))]
unsafe fn fast_getter(
    slf: *mut ffi::PyObject,
    closure: *mut std::ffi::c_void,
    fast: impl FnOnce(Python<'_>, &BufferProxy) -> Option<*mut ffi::PyObject>,
) -> *mut ffi::PyObject {
    // SAFETY: CPython calls a getter with the interpreter attached.
    let py = unsafe { Python::assume_attached() };
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // SAFETY: CPython checked that `slf` is an instance of the descriptor's type.
        let proxy = unsafe { proxy_of(py, slf) };
        // SAFETY: the getter's own arguments, passed on to pyo3's getter.
        fast(py, proxy).unwrap_or_else(|| unsafe { slow_getter(slf, closure) })
    }));
    result.unwrap_or_else(|_| panic_to_error(py))
}

/// `proxy.length` once the memory is held: one word of the proxy, with no trampoline.
#[cfg(not(any(Py_LIMITED_API, PyPy, GraalPy)))]
unsafe extern "C" fn fast_length(
    slf: *mut ffi::PyObject,
    closure: *mut std::ffi::c_void,
) -> *mut ffi::PyObject {
    // SAFETY: CPython calls a getter attached, with an instance of the descriptor's type.
    let proxy = unsafe { proxy_of(Python::assume_attached(), slf) };
    match proxy.first_use.held_len() {
        // Nothing on this path can panic, so it needs no unwinding guard: a load, a test,
        // and a tail call.
        // SAFETY: creating an int needs only the attached interpreter.
        Some(len) => unsafe { ffi::PyLong_FromSsize_t(len) },
        // SAFETY: a getter's arguments, passed on.
        None => unsafe { fast_getter(slf, closure, first_length) },
    }
}

/// `proxy.length` as the first use, over a buffer exporter (pygame's commonest parent: an
/// array, a surface's buffer), without pyo3's trampoline; `None` for a dict, whose parsing
/// and callbacks take pyo3's getter. This path drops no `Py` reference (pyo3 would defer
/// such a drop outside its trampoline): what it acquires is kept, and an error is handed to
/// the interpreter.
#[cfg(not(any(Py_LIMITED_API, PyPy, GraalPy)))]
#[cold]
#[inline(never)]
fn first_length(py: Python<'_>, proxy: &BufferProxy) -> Option<*mut ffi::PyObject> {
    if !proxy.exporter_parent(py) {
        return None;
    }
    Some(match proxy.held_length(py) {
        // SAFETY: creating an int needs only the attached interpreter.
        Ok(len) => unsafe { ffi::PyLong_FromSsize_t(len) },
        Err(err) => {
            err.restore(py);
            ptr::null_mut()
        }
    })
}

/// `proxy.raw` once the memory is held, for contiguous data below the size where the copy
/// releases the interpreter: one `bytes` object made from the memory, with no trampoline.
/// Anything else (strided data, large copies, NULL) takes pyo3's getter.
#[cfg(not(any(Py_LIMITED_API, PyPy, GraalPy)))]
unsafe extern "C" fn fast_raw(
    slf: *mut ffi::PyObject,
    closure: *mut std::ffi::c_void,
) -> *mut ffi::PyObject {
    // SAFETY: a getter's arguments, passed on.
    unsafe {
        fast_getter(slf, closure, |_, proxy| {
            let (addr, len) = proxy.held_contiguous()?;
            // Bytes at NULL are refused by pyo3's getter, large copies made detached there.
            if (addr == 0 && len > 0) || len.unsigned_abs() >= DETACH_THRESHOLD {
                return None;
            }
            // SAFETY: as in `raw`: contiguous memory of `len` bytes at `addr`, not NULL
            // (checked), readable while the proxy, which `slf` keeps alive, holds it; the
            // call copies it into a new object.
            Some(ffi::PyBytes_FromStringAndSize(addr as *const std::ffi::c_char, len))
        })
    }
}

/// `proxy.__array_struct__` once the memory is held: the capsule, with no trampoline.
#[cfg(not(any(Py_LIMITED_API, PyPy, GraalPy)))]
unsafe extern "C" fn fast_array_struct(
    slf: *mut ffi::PyObject,
    closure: *mut std::ffi::c_void,
) -> *mut ffi::PyObject {
    // SAFETY: a getter's arguments, passed on.
    unsafe {
        fast_getter(slf, closure, |py, proxy| {
            let view = proxy.held_view()?;
            // SAFETY: `slf` is a live object the caller holds; the capsule takes a new
            // reference.
            let owner = Bound::from_borrowed_ptr(py, slf).unbind();
            Some(match interface::array_struct(py, view, owner) {
                Ok(capsule) => capsule.into_ptr(),
                Err(err) => {
                    err.restore(py);
                    ptr::null_mut()
                }
            })
        })
    }
}

/// Sets a `PanicException` and returns NULL: what a getter reports when Rust panicked.
#[cfg(not(any(Py_LIMITED_API, PyPy, GraalPy)))]
fn panic_to_error(py: Python<'_>) -> *mut ffi::PyObject {
    pyo3::panic::PanicException::new_err("panic in a BufferProxy getter").restore(py);
    ptr::null_mut()
}
