//! `#[repr(C)]` mirrors of C structures that pyo3 does not define.

use std::ffi::{c_char, c_int, c_void};

/// numpy's version-2 C array interface (`__array_struct__` capsules), as in
/// numpy's `ndarraytypes.h`.
#[repr(C)]
#[derive(Debug)]
pub struct PyArrayInterface {
    /// Always 2 for a valid interface.
    pub two: c_int,
    /// Number of dimensions.
    pub nd: c_int,
    /// Type kind character (`i`, `u`, `f`, `V`, ...).
    pub typekind: c_char,
    /// Item size in bytes.
    pub itemsize: c_int,
    /// `PAI_*` flags.
    pub flags: c_int,
    /// `nd` dimension lengths.
    pub shape: *mut isize,
    /// `nd` byte strides, or NULL for C order.
    pub strides: *mut isize,
    /// Address of the first item.
    pub data: *mut c_void,
    /// A `descr` object when `PAI_ARR_HAS_DESCR` is set.
    pub descr: *mut pyo3::ffi::PyObject,
}

/// `PyArrayInterface.flags` bits.
pub mod pai {
    use std::ffi::c_int;
    /// Items are in C order with no gaps.
    pub const CONTIGUOUS: c_int = 0x1;
    /// Items are in Fortran order with no gaps.
    pub const FORTRAN: c_int = 0x2;
    /// Items are aligned for their type.
    pub const ALIGNED: c_int = 0x100;
    /// Items are in this machine's byte order.
    pub const NOTSWAPPED: c_int = 0x200;
    /// Consumers may write.
    pub const WRITEABLE: c_int = 0x400;
    /// `descr` holds a description object.
    pub const ARR_HAS_DESCR: c_int = 0x800;
}
