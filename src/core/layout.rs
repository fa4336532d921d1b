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
/// `lo <= 0 <= hi`; an array with no elements has `lo == hi == 0`. Memory handed to a
/// consumer with its first item at `addr` must cover `addr + lo .. addr + hi`.
///
/// ```
/// use bufferproxy::core::{Extent, Layout};
///
/// // Three 4-byte items walked backwards: the first item is the highest in memory.
/// let layout = Layout::new(&[3], Some(&[-4]), 4)?;
/// assert_eq!(layout.extent(), Extent { lo: -8, hi: 4 });
/// assert_eq!(layout.extent().size(), 12);
/// # Ok::<(), bufferproxy::core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Extent {
    /// Offset of the lowest byte (negative with negative strides).
    pub lo: isize,
    /// Offset one past the highest byte.
    pub hi: isize,
}

impl Extent {
    /// Number of bytes spanned, gaps included: `hi - lo`.
    pub fn size(&self) -> usize {
        // hi >= lo holds by construction, and both fit isize, so the difference fits usize.
        self.hi.abs_diff(self.lo)
    }
}

/// A validated strided layout: shape, byte strides and item size.
///
/// Built only by [`Layout::new`] (or [`Layout::bytes`]), so every `Layout` has a
/// non-negative shape, an item size of at least 1, and a byte length and [`Extent`] that
/// fit `isize`: code holding one can compute any item's offset,
/// `sum(index[d] * strides[d])`, without overflow. Strides are in bytes and may be
/// negative or zero, as in the buffer protocol. Contiguity is decided once, at
/// construction.
///
/// ```
/// use bufferproxy::core::{Extent, Layout};
///
/// // A 480 x 640 RGBA image, one byte per channel, rows padded to 2816 bytes.
/// let image = Layout::new(&[480, 640, 4], Some(&[2816, 4, 1]), 1)?;
/// assert_eq!(image.ndim(), 3);
/// assert_eq!(image.len(), 480 * 640 * 4); // item bytes, padding excluded
/// assert_eq!(image.extent(), Extent { lo: 0, hi: 479 * 2816 + 640 * 4 });
/// assert!(!image.is_c_contiguous()); // the padding is a gap
/// # Ok::<(), bufferproxy::core::Error>(())
/// ```
#[derive(PartialEq, Eq)]
pub struct Layout {
    /// The shape, then the strides: one inline buffer up to two dimensions, which keeps a
    /// layout at 80 bytes (proxies hold several copies of it).
    dims: Dims,
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
        Layout { dims: Dims::from_slice(&self.dims), ..*self }
    }
}

impl std::fmt::Debug for Layout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Layout")
            .field("shape", &self.shape())
            .field("strides", &self.strides())
            .field("itemsize", &self.itemsize)
            .field("len", &self.len)
            .field("extent", &self.extent)
            .field("c_contiguous", &self.c_contiguous)
            .field("f_contiguous", &self.f_contiguous)
            .finish()
    }
}

impl Layout {
    /// Validates a layout. `strides == None` means C (row-major) order.
    ///
    /// `shape` is the length of each dimension and `strides` the byte step of each
    /// (negative and zero strides are allowed); an empty `shape` is a 0-dimensional
    /// layout of one item. Any dimension of length 0 makes the layout empty, however
    /// large the others are.
    ///
    /// # Errors
    ///
    /// [`Error::Value`] (a Python `ValueError`) for an item size below 1, strides whose
    /// length differs from the shape's, a negative dimension, or a byte length or
    /// extent beyond `isize::MAX`. Nothing wraps around.
    ///
    /// # Examples
    ///
    /// ```
    /// use bufferproxy::core::{Error, Layout};
    ///
    /// // C order by default, Fortran order with explicit strides.
    /// let c = Layout::new(&[2, 3], None, 8)?;
    /// assert_eq!(c.strides(), &[24, 8]);
    /// assert!(c.is_c_contiguous() && !c.is_f_contiguous());
    /// let f = Layout::new(&[2, 3], Some(&[8, 16]), 8)?;
    /// assert!(f.is_f_contiguous() && !f.is_c_contiguous());
    ///
    /// // 0-dimensional: one item.
    /// assert_eq!(Layout::new(&[], None, 4)?.len(), 4);
    ///
    /// // Errors.
    /// assert!(matches!(Layout::new(&[2], None, 0), Err(Error::Value(_))));
    /// assert!(matches!(Layout::new(&[-1], None, 1), Err(Error::Value(_))));
    /// assert!(matches!(Layout::new(&[2, 2], Some(&[1]), 1), Err(Error::Value(_))));
    /// // 2**32 * 2**32 bytes: refused, not wrapped to 0 as C arithmetic would.
    /// assert!(Layout::new(&[1 << 32, 1 << 32], None, 1).is_err());
    /// // A stride that reaches beyond the address space.
    /// assert!(Layout::new(&[2], Some(&[isize::MAX]), 1).is_err());
    /// # Ok::<(), Error>(())
    /// ```
    pub fn new(shape: &[isize], strides: Option<&[isize]>, itemsize: isize) -> Result<Self, Error> {
        let len = validate_shape(shape, itemsize)?;
        if let ([count], None) = (shape, strides) {
            // One dimension in C order, the commonest description: contiguous, spanning
            // exactly its bytes, with nothing left that could overflow.
            return Ok(Layout {
                dims: Dims::from_buf_and_len([*count, itemsize, 0, 0], 2),
                itemsize,
                len,
                extent: Extent { lo: 0, hi: len },
                c_contiguous: true,
                f_contiguous: true,
            });
        }
        let ndim = shape.len();
        let mut dims = Dims::from_elem(0, 2 * ndim);
        dims[..ndim].copy_from_slice(shape);
        match strides {
            Some(s) if s.len() != ndim => {
                return Err(value_error!("'shape' and 'strides' are not the same length"));
            }
            Some(s) => dims[ndim..].copy_from_slice(s),
            None => {
                if !fill_c_strides(&mut dims[ndim..], shape, itemsize) {
                    return Err(value_error!("'shape' {shape:?} is too large for C-order strides"));
                }
            }
        }
        let strides = &dims[ndim..];
        let extent = validate_extent(shape, strides, itemsize)?;
        let c_contiguous = contig::is_c_contiguous(shape, strides, itemsize);
        let f_contiguous = contig::is_f_contiguous(shape, strides, itemsize);
        Ok(Layout { dims, itemsize, len, extent, c_contiguous, f_contiguous })
    }

    /// A one-dimensional run of `len` bytes (item size 1, format `"B"`).
    ///
    /// ```
    /// use bufferproxy::core::Layout;
    ///
    /// let run = Layout::bytes(16)?;
    /// assert_eq!((run.shape(), run.strides(), run.len()), (&[16][..], &[1][..], 16));
    /// assert!(Layout::bytes(usize::MAX).is_err());
    /// # Ok::<(), bufferproxy::core::Error>(())
    /// ```
    pub fn bytes(len: usize) -> Result<Self, Error> {
        let len = isize::try_from(len)
            .map_err(|_| value_error!("length {len} is beyond the address space"))?;
        Layout::new(&[len], None, 1)
    }

    /// The layout, borrowed (no copy).
    pub fn borrowed(&self) -> LayoutRef<'_> {
        LayoutRef::from(self)
    }

    /// Length of each dimension.
    pub fn shape(&self) -> &[isize] {
        &self.dims[..self.ndim()]
    }

    /// Byte step of each dimension: the given strides, or the C-order ones computed by
    /// [`c_strides`] when none were given.
    pub fn strides(&self) -> &[isize] {
        &self.dims[self.ndim()..]
    }

    /// Number of dimensions.
    pub fn ndim(&self) -> usize {
        self.dims.len() / 2
    }

    /// Size of one item in bytes.
    pub fn itemsize(&self) -> isize {
        self.itemsize
    }

    /// Bytes of data: item size times the number of items (gaps excluded). This is the
    /// `len` of an exported `Py_buffer`, and the size of a C-order copy of the items.
    ///
    /// ```
    /// use bufferproxy::core::Layout;
    ///
    /// // Every other byte of 10: 5 bytes of data spanning 9.
    /// let l = Layout::new(&[5], Some(&[2]), 1)?;
    /// assert_eq!((l.len(), l.extent().size()), (5, 9));
    /// assert!(Layout::new(&[7, 0], None, 4)?.is_empty());
    /// # Ok::<(), bufferproxy::core::Error>(())
    /// ```
    pub fn len(&self) -> isize {
        self.len
    }

    /// Whether the layout holds no item.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The span of memory the items touch, relative to the first item (see [`Extent`]).
    pub fn extent(&self) -> Extent {
        self.extent
    }

    /// C (row-major) contiguity, by CPython's `PyBuffer_IsContiguous(view, 'C')` rules:
    /// a layout with no item is contiguous, and dimensions of length 1 are ignored
    /// whatever their stride.
    ///
    /// ```
    /// use bufferproxy::core::Layout;
    ///
    /// // One row: C- and Fortran-contiguous whatever the stride of the length-1 dimension.
    /// let row = Layout::new(&[1, 4], Some(&[999, 2]), 2)?;
    /// assert!(row.is_c_contiguous() && row.is_f_contiguous());
    /// // Reversed items are not contiguous in any order.
    /// let reversed = Layout::new(&[4], Some(&[-2]), 2)?;
    /// assert!(!reversed.is_contiguous());
    /// # Ok::<(), bufferproxy::core::Error>(())
    /// ```
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

/// A validated layout whose shape and strides are borrowed: from a [`Layout`]
/// ([`Layout::borrowed`]), or from the arrays an export describes ([`LayoutRef::new`]),
/// so that nothing is copied. It has the same accessors as [`Layout`], and everything in
/// this crate that reads a layout takes either.
///
/// ```
/// use bufferproxy::core::{Layout, LayoutRef};
///
/// let (shape, strides) = ([2, 3], [-12, 4]);
/// let rows = LayoutRef::new(&shape, &strides, 4)?;
/// assert_eq!((rows.len(), rows.extent().lo, rows.extent().hi), (24, -12, 12));
/// let owned = Layout::new(&shape, Some(&strides), 4)?;
/// assert_eq!(owned.borrowed(), rows);
/// assert_eq!(rows.to_layout(), owned);
/// # Ok::<(), bufferproxy::core::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LayoutRef<'a> {
    shape: &'a [isize],
    strides: &'a [isize],
    itemsize: isize,
    len: isize,
    extent: Extent,
    c_contiguous: bool,
    f_contiguous: bool,
}

impl<'a> LayoutRef<'a> {
    /// Validates a layout with explicit strides, as [`Layout::new`] does, without copying
    /// `shape` and `strides`.
    ///
    /// # Errors
    ///
    /// As for [`Layout::new`].
    pub fn new(shape: &'a [isize], strides: &'a [isize], itemsize: isize) -> Result<Self, Error> {
        let len = validate_shape(shape, itemsize)?;
        if strides.len() != shape.len() {
            return Err(value_error!("'shape' and 'strides' are not the same length"));
        }
        if let ([count], [stride]) = (shape, strides) {
            // One dimension, the commonest export: items one stride apart.
            if *count <= 1 || *stride == itemsize {
                let extent = Extent { lo: 0, hi: if *count == 0 { 0 } else { len } };
                let (c_contiguous, f_contiguous) = (true, true);
                return Ok(LayoutRef {
                    shape,
                    strides,
                    itemsize,
                    len,
                    extent,
                    c_contiguous,
                    f_contiguous,
                });
            }
        }
        let extent = validate_extent(shape, strides, itemsize)?;
        let c_contiguous = contig::is_c_contiguous(shape, strides, itemsize);
        let f_contiguous = contig::is_f_contiguous(shape, strides, itemsize);
        Ok(LayoutRef { shape, strides, itemsize, len, extent, c_contiguous, f_contiguous })
    }

    /// A layout that [`LayoutRef::new`] accepted before, rebuilt from the same arrays,
    /// its length and the contiguity it found, without checking again: only the extent is
    /// computed (it is `[0, len)` for contiguous layouts, whose dimensions of length 1
    /// reach nothing whatever their stride).
    ///
    /// # Panics
    ///
    /// If the extent overflows, which a layout [`LayoutRef::new`] accepted cannot.
    pub fn revalidated(
        shape: &'a [isize],
        strides: &'a [isize],
        itemsize: isize,
        len: isize,
        (c_contiguous, f_contiguous): (bool, bool),
    ) -> Self {
        let extent = if c_contiguous || f_contiguous {
            Extent { lo: 0, hi: len }
        } else {
            checked_extent(shape, strides, itemsize).expect("a layout validated before")
        };
        LayoutRef { shape, strides, itemsize, len, extent, c_contiguous, f_contiguous }
    }

    /// An owned copy.
    pub fn to_layout(&self) -> Layout {
        Layout {
            dims: dims_of(self.shape, self.strides),
            itemsize: self.itemsize,
            len: self.len,
            extent: self.extent,
            c_contiguous: self.c_contiguous,
            f_contiguous: self.f_contiguous,
        }
    }

    /// Length of each dimension.
    pub fn shape(&self) -> &'a [isize] {
        self.shape
    }

    /// Byte step of each dimension.
    pub fn strides(&self) -> &'a [isize] {
        self.strides
    }

    /// Number of dimensions.
    pub fn ndim(&self) -> usize {
        self.shape.len()
    }

    /// Size of one item in bytes.
    pub fn itemsize(&self) -> isize {
        self.itemsize
    }

    /// Bytes of data (see [`Layout::len`]).
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

    /// C (row-major) contiguity (see [`Layout::is_c_contiguous`]).
    pub fn is_c_contiguous(&self) -> bool {
        self.c_contiguous
    }

    /// Fortran (column-major) contiguity.
    pub fn is_f_contiguous(&self) -> bool {
        self.f_contiguous
    }

    /// C or Fortran contiguity (`'A'`).
    pub fn is_contiguous(&self) -> bool {
        self.c_contiguous || self.f_contiguous
    }
}

impl<'a> From<&'a Layout> for LayoutRef<'a> {
    fn from(layout: &'a Layout) -> Self {
        let (shape, strides) = layout.dims.split_at(layout.dims.len() / 2);
        LayoutRef {
            shape,
            strides,
            itemsize: layout.itemsize,
            len: layout.len,
            extent: layout.extent,
            c_contiguous: layout.c_contiguous,
            f_contiguous: layout.f_contiguous,
        }
    }
}

/// Shape and strides in one buffer, inline up to two dimensions.
fn dims_of(shape: &[isize], strides: &[isize]) -> Dims {
    let ndim = shape.len();
    if ndim <= 2 {
        let mut buf = [0; 4];
        for (i, (&dim, &stride)) in shape.iter().zip(strides).enumerate() {
            buf[i] = dim;
            buf[ndim + i] = stride;
        }
        return Dims::from_buf_and_len(buf, 2 * ndim);
    }
    let mut dims = Dims::with_capacity(2 * ndim);
    dims.extend_from_slice(shape);
    dims.extend_from_slice(strides);
    dims
}

/// Checks the item size and dimensions; returns the length in bytes.
#[inline]
fn validate_shape(shape: &[isize], itemsize: isize) -> Result<isize, Error> {
    // One dimension, the commonest: checked here, with no loop and no call.
    if let [count] = *shape {
        if let (true, true, Some(len)) = (itemsize >= 1, count >= 0, count.checked_mul(itemsize)) {
            return Ok(len);
        }
    }
    refuse_or_measure(shape, itemsize)
}

/// [`validate_shape`] for any number of dimensions, and its errors.
#[inline(never)]
fn refuse_or_measure(shape: &[isize], itemsize: isize) -> Result<isize, Error> {
    if itemsize < 1 {
        return Err(value_error!("item size must be at least 1, not {itemsize}"));
    }
    if let Some(dim) = shape.iter().find(|&&d| d < 0) {
        return Err(value_error!("'shape' has a negative dimension ({dim})"));
    }
    checked_len(shape, itemsize).ok_or_else(|| {
        value_error!(
            "'shape' {shape:?} with item size {itemsize} gives a length beyond the address space"
        )
    })
}

/// The extent, or the error for one beyond the address space.
fn validate_extent(shape: &[isize], strides: &[isize], itemsize: isize) -> Result<Extent, Error> {
    checked_extent(shape, strides, itemsize).ok_or_else(|| {
        value_error!(
            "'strides' {strides:?} with 'shape' {shape:?} span more bytes than the address space"
        )
    })
}

/// `itemsize * prod(shape)`, or `None` on overflow. Any zero dimension gives 0, however
/// large the others are: no item, no byte.
///
/// ```
/// use bufferproxy::core::layout::checked_len;
///
/// assert_eq!(checked_len(&[2, 3], 4), Some(24));
/// assert_eq!(checked_len(&[isize::MAX, 0], 8), Some(0));
/// assert_eq!(checked_len(&[isize::MAX, 2], 1), None);
/// ```
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
///
/// ```
/// use bufferproxy::core::layout::c_strides;
///
/// assert_eq!(c_strides(&[2, 3, 4], 2).unwrap().as_slice(), &[24, 8, 2]);
/// assert_eq!(c_strides(&[3, 0, 5], 4).unwrap().as_slice(), &[0, 20, 4]);
/// assert!(c_strides(&[isize::MAX, 2], 1).is_none());
/// ```
pub fn c_strides(shape: &[isize], itemsize: isize) -> Option<Dims> {
    let mut strides: Dims = smallvec::smallvec![0; shape.len()];
    fill_c_strides(&mut strides, shape, itemsize).then_some(strides)
}

/// Writes the C-order strides of `shape` into `strides` (as long as `shape`); false if
/// they do not fit `isize`.
fn fill_c_strides(strides: &mut [isize], shape: &[isize], itemsize: isize) -> bool {
    let empty = shape.contains(&0);
    let mut step = itemsize;
    for (stride, &dim) in strides.iter_mut().zip(shape).rev() {
        *stride = step;
        step = if empty {
            step.wrapping_mul(dim)
        } else {
            match step.checked_mul(dim) {
                Some(s) => s,
                None => return false,
            }
        };
    }
    true
}

/// The byte extent of a layout, or `None` if it does not fit `isize`.
///
/// Does not check that `strides` is as long as `shape` (extra entries of either are
/// ignored); [`Layout::new`] does.
///
/// ```
/// use bufferproxy::core::layout::checked_extent;
/// use bufferproxy::core::Extent;
///
/// assert_eq!(checked_extent(&[3, 2], &[-8, 2], 2), Some(Extent { lo: -16, hi: 4 }));
/// assert_eq!(checked_extent(&[0, 5], &[7, 7], 1), Some(Extent { lo: 0, hi: 0 }));
/// assert_eq!(checked_extent(&[2], &[isize::MAX], 1), None);
/// ```
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
    #[cfg(target_pointer_width = "64")]
    fn a_layout_is_80_bytes_and_keeps_two_dimensions_inline() {
        assert_eq!(std::mem::size_of::<Layout>(), 80);
        let image = Layout::new(&[480, 640], None, 4).unwrap();
        assert!(!image.dims.spilled());
        assert_eq!((image.shape(), image.strides()), (&[480, 640][..], &[2560, 4][..]));
        let pixels = Layout::new(&[480, 640, 4], Some(&[2816, 4, 1]), 1).unwrap();
        assert_eq!((pixels.shape(), pixels.strides()), (&[480, 640, 4][..], &[2816, 4, 1][..]));
        assert_eq!(pixels.clone(), pixels);
    }

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
