//! Reading a parent's memory: dict descriptions ([`describe`]) and exporting objects
//! ([`exporter`]), through buffer-protocol exports held open ([`buffer`]).
//!
//! Everything here ends in a [`View`]: a validated layout, its format, the address of
//! its first item, and whatever keeps that memory alive. The checks follow the order
//! pygame makes them in, so code written against pygame sees the same exceptions.

mod buffer;
mod describe;
mod exporter;

pub use buffer::BufferGuard;
pub use describe::{parse_mapping, Fields, Mapping};
pub use exporter::{acquire_exporter, capsule_interface, interface_dims};

use crate::core::format::{Format, Item};
use crate::core::Layout;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

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
    /// The kind and byte order of the table's item that `format` describes, read once at
    /// acquisition (its size is the layout's item size): see [`View::item`].
    kind: u8,
    swapped: bool,
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
        (format, item): (Format, Item),
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
        let (kind, swapped) = (item.kind, item.swapped);
        Ok(View { addr, layout, format, kind, swapped, readonly, keep })
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

/// The name of an object's type, for messages.
fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "object".into())
}
