//! Negotiating a buffer request (`PyBUF_*` flags) against a layout.
//!
//! The checks and their order follow CPython's own exporter, `memoryview`
//! (`Objects/memoryobject.c`, `memory_getbuf`): an unsatisfiable request is a
//! `BufferError`, and a satisfiable one tells which of format, shape and strides the
//! consumer gets. One difference: a request for the format without the shape is served
//! (as bytes, bytearray, `array.array`, numpy and pygame serve it), where `memoryview`
//! alone refuses it.
//!
//! An exporter's `__getbuffer__` receives the consumer's flags as an `int`; [`negotiate`]
//! turns them into a [`Grant`] (or the error to raise), and
//! [`py::export::fill`](crate::py::export::fill) writes the granted fields into the
//! `Py_buffer`. [`py::export::export`](crate::py::export::export) does both.

use super::{Error, LayoutRef};

/// `PyBUF_*` request flags, with CPython's values (`Include/pybuffer.h`).
///
/// What consumers commonly send: `memoryview(obj)` asks for [`FULL_RO`](flags::FULL_RO);
/// a `y*` argument (`hashlib.sha256(obj)`, say) for [`SIMPLE`](flags::SIMPLE); a `w*`
/// argument (`file.readinto(obj)`) for [`WRITABLE`](flags::WRITABLE). Test a request
/// for a compound flag with `request & FLAG == FLAG`: several flags share bits.
///
/// ```
/// use bufferproxy::core::request::flags;
///
/// assert_eq!(flags::FULL_RO, 0x11c);
/// let request = flags::C_CONTIGUOUS | flags::FORMAT;
/// assert!(request & flags::STRIDES == flags::STRIDES); // implied
/// assert!(request & flags::WRITABLE == 0);
/// ```
pub mod flags {
    /// Plain bytes: no format, shape or strides.
    pub const SIMPLE: i32 = 0;
    /// The consumer will write.
    pub const WRITABLE: i32 = 0x0001;
    /// The consumer wants the item format.
    pub const FORMAT: i32 = 0x0004;
    /// The consumer wants the shape.
    pub const ND: i32 = 0x0008;
    /// The consumer wants strides (implies `ND`).
    pub const STRIDES: i32 = 0x0010 | ND;
    /// The consumer needs C-contiguous memory (implies `STRIDES`).
    pub const C_CONTIGUOUS: i32 = 0x0020 | STRIDES;
    /// The consumer needs Fortran-contiguous memory (implies `STRIDES`).
    pub const F_CONTIGUOUS: i32 = 0x0040 | STRIDES;
    /// The consumer needs C- or Fortran-contiguous memory (implies `STRIDES`).
    pub const ANY_CONTIGUOUS: i32 = 0x0080 | STRIDES;
    /// The consumer accepts suboffsets (implies `STRIDES`).
    pub const INDIRECT: i32 = 0x0100 | STRIDES;
    /// Strided, with format, writable.
    pub const RECORDS: i32 = STRIDES | WRITABLE | FORMAT;
    /// Strided, with format, read-only is fine.
    pub const RECORDS_RO: i32 = STRIDES | FORMAT;
    /// Everything, writable.
    pub const FULL: i32 = INDIRECT | WRITABLE | FORMAT;
    /// Everything, read-only is fine.
    pub const FULL_RO: i32 = INDIRECT | FORMAT;
}

/// What a satisfiable request gets besides the pointer, length and item size.
///
/// Returned by [`negotiate`]; a field left `false` is filled with NULL (and `ndim = 1`
/// without the shape), as the buffer protocol prescribes. Whether the view is writable
/// is not part of the grant: the view is read-only exactly when the memory is, whatever
/// was asked (a read-only request over writable memory still gets `readonly = 0`, as
/// from `memoryview`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grant {
    /// Fill in the format (else NULL: unsigned bytes).
    pub format: bool,
    /// Fill in `ndim` and the shape (else `ndim == 1` and a NULL shape).
    pub shape: bool,
    /// Fill in the strides (else NULL: C order).
    pub strides: bool,
}

fn has(request: i32, flag: i32) -> bool {
    request & flag == flag
}

/// Decides a request for `layout`, read-only or not, as `memoryview` would, except that the
/// format without the shape is served (see the module documentation).
///
/// `readonly` says whether the memory may be written through the view; `request` is the
/// `flags` argument of `__getbuffer__` (a combination of [`flags`]). The checks, in
/// CPython's order:
///
/// 1. [`flags::WRITABLE`] over read-only memory is refused;
/// 2. [`flags::C_CONTIGUOUS`], [`flags::F_CONTIGUOUS`] and [`flags::ANY_CONTIGUOUS`]
///    need the matching contiguity of the layout;
/// 3. without [`flags::STRIDES`] the consumer assumes C order, so the layout must be
///    C-contiguous.
///
/// [`flags::FORMAT`] without [`flags::ND`] gets the format and a one-dimensional view with
/// no shape (the item size and length tell how many items there are), as `PyBuffer_FillInfo`
/// exporters give it; only `memoryview` refuses that request.
///
/// [`flags::INDIRECT`] is accepted and changes nothing: a [`Layout`] never needs
/// suboffsets.
///
/// # Errors
///
/// [`Error::Buffer`] (a Python `BufferError`) naming the unmet requirement.
///
/// # Examples
///
/// ```
/// use bufferproxy::core::request::{flags, negotiate, Grant};
/// use bufferproxy::core::{Error, Layout};
///
/// let image = Layout::new(&[2, 3, 4], None, 1)?;
/// // memoryview(obj): everything, read-only is fine.
/// assert_eq!(
///     negotiate(&image, false, flags::FULL_RO)?,
///     Grant { format: true, shape: true, strides: true },
/// );
/// // A `y*` argument: plain bytes.
/// assert_eq!(
///     negotiate(&image, false, flags::SIMPLE)?,
///     Grant { format: false, shape: false, strides: false },
/// );
/// // A writable request over read-only memory.
/// assert!(matches!(negotiate(&image, true, flags::WRITABLE), Err(Error::Buffer(_))));
///
/// // Every other row: strided, so requests without strides are refused.
/// let rows = Layout::new(&[2, 3, 4], Some(&[24, 4, 1]), 1)?;
/// assert!(negotiate(&rows, false, flags::ND).is_err());
/// assert!(negotiate(&rows, false, flags::C_CONTIGUOUS).is_err());
/// assert!(negotiate(&rows, false, flags::STRIDES).is_ok());
/// # Ok::<(), Error>(())
/// ```
pub fn negotiate<'a>(
    layout: impl Into<LayoutRef<'a>>,
    readonly: bool,
    request: i32,
) -> Result<Grant, Error> {
    let layout = layout.into();
    if request & flags::WRITABLE != 0 && readonly {
        return Err(Error::Buffer(
            "the buffer is read-only, a writable export was requested".into(),
        ));
    }
    let format = request & flags::FORMAT != 0;
    let c = layout.is_c_contiguous();
    if has(request, flags::C_CONTIGUOUS) && !c {
        return Err(Error::Buffer("the buffer is not C-contiguous".into()));
    }
    if has(request, flags::F_CONTIGUOUS) && !layout.is_f_contiguous() {
        return Err(Error::Buffer("the buffer is not Fortran contiguous".into()));
    }
    if has(request, flags::ANY_CONTIGUOUS) && !layout.is_contiguous() {
        return Err(Error::Buffer("the buffer is not contiguous".into()));
    }
    // Layouts here never need suboffsets, so PyBUF_INDIRECT changes nothing.
    let strides = has(request, flags::STRIDES);
    if !strides && !c {
        return Err(Error::Buffer(
            "the buffer is not C-contiguous, a request without strides cannot describe it".into(),
        ));
    }
    let shape = has(request, flags::ND);
    Ok(Grant { format, shape, strides })
}

#[cfg(test)]
mod tests {
    use super::flags::*;
    use super::*;
    use crate::core::Layout;

    fn grant(layout: &Layout, readonly: bool, request: i32) -> Option<(bool, bool, bool)> {
        negotiate(layout, readonly, request).ok().map(|g| (g.format, g.shape, g.strides))
    }

    #[test]
    fn contiguous_layout_table() {
        let l = Layout::new(&[2, 3], None, 4).unwrap();
        assert_eq!(grant(&l, false, SIMPLE), Some((false, false, false)));
        assert_eq!(grant(&l, false, WRITABLE), Some((false, false, false)));
        assert_eq!(grant(&l, false, ND), Some((false, true, false)));
        assert_eq!(grant(&l, false, STRIDES), Some((false, true, true)));
        assert_eq!(grant(&l, false, RECORDS_RO), Some((true, true, true)));
        assert_eq!(grant(&l, false, FULL), Some((true, true, true)));
        assert_eq!(grant(&l, false, C_CONTIGUOUS), Some((false, true, true)));
        assert_eq!(grant(&l, false, F_CONTIGUOUS), None);
        assert_eq!(grant(&l, false, ANY_CONTIGUOUS), Some((false, true, true)));
        assert_eq!(grant(&l, false, FORMAT), Some((true, false, false)));
        assert_eq!(grant(&l, false, FORMAT | WRITABLE), Some((true, false, false)));
        assert_eq!(grant(&l, true, WRITABLE), None);
        assert_eq!(grant(&l, true, FULL_RO), Some((true, true, true)));
    }

    #[test]
    fn strided_layout_needs_strides() {
        let l = Layout::new(&[2, 3], Some(&[8, 2]), 1).unwrap();
        assert_eq!(grant(&l, false, SIMPLE), None);
        assert_eq!(grant(&l, false, ND), None);
        assert_eq!(grant(&l, false, STRIDES), Some((false, true, true)));
        assert_eq!(grant(&l, false, INDIRECT), Some((false, true, true)));
        assert_eq!(grant(&l, false, ANY_CONTIGUOUS), None);
        assert_eq!(grant(&l, false, FORMAT), None);
    }

    #[test]
    fn fortran_layout() {
        let l = Layout::new(&[2, 3], Some(&[1, 2]), 1).unwrap();
        assert_eq!(grant(&l, false, F_CONTIGUOUS), Some((false, true, true)));
        assert_eq!(grant(&l, false, ANY_CONTIGUOUS), Some((false, true, true)));
        assert_eq!(grant(&l, false, C_CONTIGUOUS), None);
        assert_eq!(grant(&l, false, ND), None);
    }
}
