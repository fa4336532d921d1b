//! Negotiating a buffer request (`PyBUF_*` flags) against a layout.
//!
//! The checks and their order follow CPython's own exporter, `memoryview`
//! (`Objects/memoryobject.c`, `memory_getbuf`): an unsatisfiable request is a
//! `BufferError`, and a satisfiable one tells which of format, shape and strides the
//! consumer gets.

use super::{Error, Layout};

/// `PyBUF_*` request flags, with CPython's values.
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

/// Decides a request for `layout`, read-only or not, exactly as `memoryview` would.
pub fn negotiate(layout: &Layout, readonly: bool, request: i32) -> Result<Grant, Error> {
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
    if !shape && format {
        return Err(Error::Buffer(
            "a request for the format without the shape cannot be satisfied (items are not bytes)"
                .into(),
        ));
    }
    Ok(Grant { format, shape, strides })
}

#[cfg(test)]
mod tests {
    use super::flags::*;
    use super::*;

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
        assert_eq!(grant(&l, false, FORMAT), None);
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
