//! Array layouts: shape, strides (in bytes) and item size, validated once.
//!
//! A [`Layout`] can only be built through [`Layout::new`], which checks every
//! piece of arithmetic later code relies on: no negative dimension, a byte length
//! that fits `isize`, and a byte extent (the span of memory the elements touch,
//! from the lowest to one past the highest byte) that fits `isize` as well. After
//! that, any element offset `sum(index[d] * strides[d])` lies inside the extent and
//! can be computed without overflow.

use super::contig;
use super::error::value_error;
use super::Error;
use smallvec::SmallVec;

/// Per-dimension values (shape or strides), stored inline up to four dimensions so that
/// building or copying a layout of an ordinary image or array does not allocate.
pub type Dims = SmallVec<[isize; 4]>;

/// The span of bytes a layout touches, relative to the address of its first element.
///
/// `lo <= 0 <= hi`; an array with no elements has `lo == hi == 0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Extent {
    /// Offset of the lowest byte (negative with negative strides).
    pub lo: isize,
    /// Offset one past the highest byte.
    pub hi: isize,
}

impl Extent {
    /// Number of bytes spanned, gaps included.
    pub fn size(&self) -> usize {
        // hi >= lo holds by construction, and both fit isize, so the difference fits usize.
        self.hi.abs_diff(self.lo)
    }
}

/// A validated strided layout.
#[derive(Debug, PartialEq, Eq)]
pub struct Layout {
    shape: Dims,
    strides: Dims,
    itemsize: isize,
    len: isize,
    extent: Extent,
    /// Contiguity, decided once: exports and copies ask for it again and again.
    c_contiguous: bool,
    f_contiguous: bool,
}

impl Clone for Layout {
    fn clone(&self) -> Self {
        // `from_slice` copies `Copy` items in one go; the derived clone pushes them one by one.
        Layout {
            shape: Dims::from_slice(&self.shape),
            strides: Dims::from_slice(&self.strides),
            ..*self
        }
    }
}

impl Layout {
    /// Validates a layout. `strides == None` means C (row-major) order.
    ///
    /// Errors (all `ValueError`): an item size below 1, strides whose length differs
    /// from the shape's, a negative dimension, a byte length or extent beyond `isize::MAX`.
    pub fn new(shape: &[isize], strides: Option<&[isize]>, itemsize: isize) -> Result<Self, Error> {
        if itemsize < 1 {
            return Err(value_error!("item size must be at least 1, not {itemsize}"));
        }
        if let Some(dim) = shape.iter().find(|&&d| d < 0) {
            return Err(value_error!("'shape' has a negative dimension ({dim})"));
        }
        let len = checked_len(shape, itemsize)
            .ok_or_else(|| value_error!("'shape' {shape:?} with item size {itemsize} gives a length beyond the address space"))?;
        let strides = match strides {
            Some(s) if s.len() != shape.len() => {
                return Err(value_error!("'shape' and 'strides' are not the same length"));
            }
            Some(s) => Dims::from_slice(s),
            None => c_strides(shape, itemsize).ok_or_else(|| {
                value_error!("'shape' {shape:?} is too large for C-order strides")
            })?,
        };
        let extent = checked_extent(shape, &strides, itemsize).ok_or_else(|| {
            value_error!("'strides' {strides:?} with 'shape' {shape:?} span more bytes than the address space")
        })?;
        let c_contiguous = contig::is_c_contiguous(shape, &strides, itemsize);
        let f_contiguous = contig::is_f_contiguous(shape, &strides, itemsize);
        Ok(Layout {
            shape: Dims::from_slice(shape),
            strides,
            itemsize,
            len,
            extent,
            c_contiguous,
            f_contiguous,
        })
    }

    /// A one-dimensional run of `len` bytes.
    pub fn bytes(len: usize) -> Result<Self, Error> {
        let len = isize::try_from(len)
            .map_err(|_| value_error!("length {len} is beyond the address space"))?;
        Layout::new(&[len], None, 1)
    }

    /// Length of each dimension.
    pub fn shape(&self) -> &[isize] {
        &self.shape
    }

    /// Byte step of each dimension.
    pub fn strides(&self) -> &[isize] {
        &self.strides
    }

    /// Number of dimensions.
    pub fn ndim(&self) -> usize {
        self.shape.len()
    }

    /// Size of one item in bytes.
    pub fn itemsize(&self) -> isize {
        self.itemsize
    }

    /// Bytes of data: item size times the number of items (gaps excluded).
    pub fn len(&self) -> isize {
        self.len
    }

    /// Whether the layout holds no item.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The span of memory the items touch, relative to the first item.
    pub fn extent(&self) -> Extent {
        self.extent
    }

    /// C (row-major) contiguity, by CPython's `PyBuffer_IsContiguous(view, 'C')` rules.
    pub fn is_c_contiguous(&self) -> bool {
        self.c_contiguous
    }

    /// Fortran (column-major) contiguity, by `PyBuffer_IsContiguous(view, 'F')` rules.
    pub fn is_f_contiguous(&self) -> bool {
        self.f_contiguous
    }

    /// C or Fortran contiguity (`'A'`).
    pub fn is_contiguous(&self) -> bool {
        self.is_c_contiguous() || self.is_f_contiguous()
    }
}

/// `itemsize * prod(shape)`, or `None` on overflow. Any zero dimension gives 0, however
/// large the others are: no item, no byte.
pub fn checked_len(shape: &[isize], itemsize: isize) -> Option<isize> {
    if shape.contains(&0) {
        return Some(0);
    }
    shape.iter().try_fold(itemsize, |acc, &d| acc.checked_mul(d))
}

/// C-order strides for `shape`, or `None` on overflow.
///
/// A zero dimension makes the outer strides 0, as pygame computes them. An empty array
/// touches no memory, so its strides cannot overflow anything: there the products wrap
/// (as in pygame's C arithmetic) instead of failing.
pub fn c_strides(shape: &[isize], itemsize: isize) -> Option<Dims> {
    let empty = shape.contains(&0);
    let mut strides: Dims = smallvec::smallvec![0; shape.len()];
    let mut step = itemsize;
    for (stride, &dim) in strides.iter_mut().zip(shape).rev() {
        *stride = step;
        step = if empty { step.wrapping_mul(dim) } else { step.checked_mul(dim)? };
    }
    Some(strides)
}

/// The byte extent of a layout, or `None` if it does not fit `isize`.
pub fn checked_extent(shape: &[isize], strides: &[isize], itemsize: isize) -> Option<Extent> {
    if shape.contains(&0) {
        return Some(Extent { lo: 0, hi: 0 });
    }
    let (mut lo, mut hi) = (0isize, 0isize);
    for (&dim, &stride) in shape.iter().zip(strides) {
        let reach = (dim - 1).checked_mul(stride)?;
        if reach < 0 {
            lo = lo.checked_add(reach)?;
        } else {
            hi = hi.checked_add(reach)?;
        }
    }
    let hi = hi.checked_add(itemsize)?;
    // The span itself must fit isize, so that `hi - lo` and every offset relative to `lo` do.
    hi.checked_sub(lo)?;
    Some(Extent { lo, hi })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_strides_are_c_order() {
        let l = Layout::new(&[2, 3, 4], None, 2).unwrap();
        assert_eq!(l.strides(), &[24, 8, 2]);
        assert_eq!(l.len(), 48);
        assert_eq!(l.extent(), Extent { lo: 0, hi: 48 });
    }

    #[test]
    fn zero_size_keeps_c_strides_and_empty_extent() {
        let l = Layout::new(&[3, 0, 5], None, 4).unwrap();
        assert_eq!(l.strides(), &[0, 20, 4]);
        assert_eq!(l.len(), 0);
        assert_eq!(l.extent(), Extent { lo: 0, hi: 0 });
        assert!(l.is_c_contiguous() && l.is_f_contiguous());
    }

    #[test]
    fn zero_dim_is_one_item() {
        let l = Layout::new(&[], None, 8).unwrap();
        assert_eq!(l.len(), 8);
        assert_eq!(l.extent(), Extent { lo: 0, hi: 8 });
    }

    #[test]
    fn negative_strides_extend_below() {
        let l = Layout::new(&[3, 2], Some(&[-8, 2]), 2).unwrap();
        assert_eq!(l.extent(), Extent { lo: -16, hi: 4 });
        assert_eq!(l.extent().size(), 20);
    }

    #[test]
    fn negative_dimension_is_rejected() {
        let e = Layout::new(&[2, -1], None, 1).unwrap_err();
        assert!(matches!(e, Error::Value(ref m) if m.contains("'shape'")), "{e:?}");
    }

    #[test]
    fn overflowing_length_is_rejected_not_wrapped() {
        // pygame computes 2**32 * 2**32 = 0 here.
        let e = Layout::new(&[1 << 32, 1 << 32], None, 1).unwrap_err();
        assert!(matches!(e, Error::Value(ref m) if m.contains("'shape'")), "{e:?}");
    }

    #[test]
    fn zero_dimension_wins_over_huge_ones() {
        let l = Layout::new(&[isize::MAX, 0], Some(&[1, 1]), 1).unwrap();
        assert_eq!(l.len(), 0);
    }

    #[test]
    fn overflowing_extent_is_rejected() {
        let e = Layout::new(&[2, 2], Some(&[isize::MAX, 1]), 1).unwrap_err();
        assert!(matches!(e, Error::Value(ref m) if m.contains("'strides'")), "{e:?}");
        let e = Layout::new(&[2, 2], Some(&[isize::MIN / 2 - 1, isize::MAX / 2]), 1).unwrap_err();
        assert!(matches!(e, Error::Value(_)), "{e:?}");
    }

    #[test]
    fn strides_length_must_match() {
        let e = Layout::new(&[2, 2], Some(&[1]), 1).unwrap_err();
        assert_eq!(e, Error::Value("'shape' and 'strides' are not the same length".into()));
    }

    #[test]
    fn zero_strides_alias_one_item() {
        let l = Layout::new(&[4], Some(&[0]), 4).unwrap();
        assert_eq!(l.len(), 16);
        assert_eq!(l.extent(), Extent { lo: 0, hi: 4 });
        assert!(!l.is_c_contiguous());
    }
}
