//! Reading a parent's memory: dict descriptions ([`describe`]) and exporting objects
//! ([`exporter`]), through buffer-protocol exports held open ([`buffer`]).
//!
//! Everything here ends in a [`View`]: a validated layout, its format, the address of
//! its first item, and whatever keeps that memory alive. The checks follow the order
//! pygame makes them in, so code written against pygame sees the same exceptions.

mod buffer;
mod describe;
mod exporter;
mod held;

pub use buffer::BufferGuard;
pub use describe::{parse_mapping, Fields, Mapping};
pub use exporter::{acquire_exporter, capsule_interface, interface_dims};
pub use held::HeldBuffer;

use crate::core::format::{Format, Item};
use crate::core::{Extent, Layout, LayoutRef};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
#[cfg(not(Py_LIMITED_API))]
use pyo3::types::PyBool;
#[cfg(not(Py_LIMITED_API))]
use std::ffi::{c_char, c_int, c_ulonglong};

#[cfg(not(Py_LIMITED_API))]
extern "C" {
    /// CPython's `PySys_Audit` (PEP 578; public since 3.8, but in the limited API only
    /// from 3.13), which pyo3's ffi does not declare.
    #[link_name = "PySys_Audit"]
    fn audit_sys(event: *const c_char, format: *const c_char, ...) -> c_int;
}

/// What keeps a view's memory valid.
#[derive(Default)]
pub struct Keep {
    /// An object whose lifetime bounds the memory (an array-interface parent).
    pub object: Option<Py<PyAny>>,
    /// The `__array_struct__` capsule the memory was described by.
    pub capsule: Option<Py<PyAny>>,
    /// An export held open on the memory's owner.
    pub buffer: Option<BufferGuard>,
}

impl Keep {
    /// Every Python object referenced, for the garbage collector.
    pub fn referents(&self) -> impl Iterator<Item = &Py<PyAny>> {
        let owner = self.buffer.as_ref().and_then(BufferGuard::owner);
        self.object.iter().chain(&self.capsule).chain(owner)
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
    /// The kind and byte order of the table's item that `format` describes, read once at
    /// acquisition (its size is the layout's item size): see [`ViewRef::item`].
    kind: u8,
    swapped: bool,
    /// Whether consumers must not write.
    pub readonly: bool,
    /// Whether `addr` is a raw address that no buffer export vouches for (a description's
    /// `(address, readonly)`, an `__array_interface__` tuple, an `__array_struct__`
    /// capsule): its use is audited ([`ViewRef::audit`]).
    raw_address: bool,
    /// What keeps the memory alive.
    pub keep: Keep,
}

impl View {
    /// Checks that the layout's extent around `addr` does not wrap around the address
    /// space, so that later pointer arithmetic cannot overflow. A NULL address is accepted
    /// (its metadata can be read); [`ViewRef::null_bytes`] says when its bytes cannot be.
    fn new(
        addr: usize,
        layout: Layout,
        (format, item): (Format, Item),
        readonly: bool,
        keep: Keep,
    ) -> PyResult<Self> {
        check_range(addr, layout.extent())?;
        let (kind, swapped) = (item.kind, item.swapped);
        Ok(View { addr, layout, format, kind, swapped, readonly, raw_address: false, keep })
    }

    /// Marks the address as raw: no buffer export vouches for it.
    fn at_raw_address(mut self) -> Self {
        self.raw_address = true;
        self
    }

    /// The view, borrowed: what getters and exports read.
    pub fn borrowed(&self) -> ViewRef<'_> {
        ViewRef {
            addr: self.addr,
            layout: self.layout.borrowed(),
            format: self.format.as_bytes(),
            kind: self.kind,
            swapped: self.swapped,
            readonly: self.readonly,
            raw_address: self.raw_address,
        }
    }
}

/// Validated memory, borrowed from what holds it (a [`View`], or a dict description and
/// its held data export): where the first item is, the layout and format, and whether
/// consumers may write.
#[derive(Clone, Copy)]
pub struct ViewRef<'a> {
    /// Address of the first item.
    pub addr: usize,
    /// The items' layout around `addr`.
    pub layout: LayoutRef<'a>,
    /// The PEP 3118 format consumers see (without its NUL).
    pub format: &'a [u8],
    kind: u8,
    swapped: bool,
    /// Whether consumers must not write.
    pub readonly: bool,
    raw_address: bool,
}

impl<'a> ViewRef<'a> {
    /// A view of memory validated elsewhere (by [`View::new`]'s checks).
    fn new(
        addr: usize,
        layout: LayoutRef<'a>,
        format: &'a [u8],
        item: Item,
        readonly: bool,
        raw_address: bool,
    ) -> Self {
        let (kind, swapped) = (item.kind, item.swapped);
        ViewRef { addr, layout, format, kind, swapped, readonly, raw_address }
    }

    /// A view of memory an export holds (never a raw address), validated when it was
    /// acquired; `(kind, swapped)` describe its item.
    fn exported(
        addr: usize,
        layout: LayoutRef<'a>,
        format: &'a [u8],
        (kind, swapped): (u8, bool),
        readonly: bool,
    ) -> Self {
        ViewRef { addr, layout, format, kind, swapped, readonly, raw_address: false }
    }

    /// Raises the audit event `bufferproxy.address(address, lo, hi, readonly)` for a view
    /// at a raw address (PEP 578, as ctypes raises `ctypes.string_at`): `lo`..`hi` is the
    /// absolute byte range the layout spans (`lo == hi == address` when it spans none).
    /// A hook that raises refuses the use; a view whose memory an export holds raises
    /// nothing. Called after validation, before `before` runs or any byte is touched.
    pub fn audit(&self, py: Python<'_>) -> PyResult<()> {
        if !self.raw_address {
            return Ok(());
        }
        let extent = self.layout.extent();
        // View::new checked that a non-empty extent does not wrap around the address space.
        let lo = self.addr.wrapping_add_signed(extent.lo);
        let hi = self.addr.wrapping_add_signed(extent.hi);
        audit_address(py, self.addr, lo, hi, self.readonly)
    }

    /// The table's item that the format describes.
    pub fn item(&self) -> Item {
        Item { kind: self.kind, size: self.layout.itemsize(), swapped: self.swapped }
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
    /// describer's promise. It is never NULL: callers check [`ViewRef::null_bytes`] first.
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

/// `sys.audit("bufferproxy.address", addr, lo, hi, readonly)`, through `PySys_Audit`,
/// which returns at once when no hook is installed.
#[cfg(not(Py_LIMITED_API))]
fn audit_address(
    py: Python<'_>,
    addr: usize,
    lo: usize,
    hi: usize,
    readonly: bool,
) -> PyResult<()> {
    let readonly = PyBool::new(py, readonly);
    // SAFETY: the interpreter is attached (`py`); the format's four codes match the
    // four arguments (three unsigned long longs and a borrowed object, which
    // Py_BuildValue's `O` increfs). PySys_Audit returns -1 with an exception set when a
    // hook raises, and at once when no hook is installed.
    let rc = unsafe {
        audit_sys(
            c"bufferproxy.address".as_ptr(),
            c"KKKO".as_ptr(),
            addr as c_ulonglong,
            lo as c_ulonglong,
            hi as c_ulonglong,
            readonly.as_ptr(),
        )
    };
    if rc < 0 {
        return Err(PyErr::fetch(py));
    }
    Ok(())
}

/// `sys.audit("bufferproxy.address", addr, lo, hi, readonly)`: the stable ABI gains
/// `PySys_Audit` only in 3.13, so the abi3 build calls `sys.audit` itself.
#[cfg(Py_LIMITED_API)]
fn audit_address(
    py: Python<'_>,
    addr: usize,
    lo: usize,
    hi: usize,
    readonly: bool,
) -> PyResult<()> {
    static AUDIT: pyo3::sync::PyOnceLock<Py<PyAny>> = pyo3::sync::PyOnceLock::new();
    let audit =
        AUDIT.get_or_try_init(py, || py.import("sys")?.getattr("audit").map(Bound::unbind))?;
    audit.call1(py, ("bufferproxy.address", addr, lo, hi, readonly))?;
    Ok(())
}

/// Checks that `extent` around `addr` does not wrap around the address space, so that
/// later pointer arithmetic cannot overflow (an empty extent is any address's).
#[inline]
fn check_range(addr: usize, extent: Extent) -> PyResult<()> {
    if extent.size() > 0 {
        let start = addr.checked_add_signed(extent.lo);
        if start.and_then(|s| s.checked_add(extent.size())).is_none() {
            return Err(range_error(addr, extent));
        }
    }
    Ok(())
}

/// The error for an address whose extent leaves the address space.
#[cold]
fn range_error(addr: usize, extent: Extent) -> PyErr {
    PyValueError::new_err(format!(
        "'data' address {addr:#x} with extent [{}, {}) is not a valid memory range",
        extent.lo, extent.hi
    ))
}

/// The name of an object's type, for messages.
fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "object".into())
}
