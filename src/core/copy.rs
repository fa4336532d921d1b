//! Strided copies between a layout in memory and a C-order (row-major) byte run.
//!
//! Both directions take the memory as a slice plus the index of the first item in
//! it (`origin`), so they are entirely safe: the extent was checked when the
//! [`Layout`] was built, and [`check_span`] checks that the slice covers it. The
//! innermost dimension is copied as one block when its items are adjacent.

use super::error::value_error;
use super::layout::Dims;
use super::{Error, LayoutRef};
use std::mem::MaybeUninit;

/// Checks that `mem` covers the layout's extent around `origin`, and that the
/// C-order side has exactly `layout.len()` bytes.
///
/// [`gather`], [`scatter`] and [`contiguous_bytes`] call it first; it is public so that
/// callers can validate a memory block against a layout once, before exporting it.
///
/// # Errors
///
/// [`Error::Value`] if `origin + extent.lo < 0`, `origin + extent.hi > mem_len`, or
/// `linear_len != layout.len()`.
///
/// ```
/// use bufferproxy::core::copy::check_span;
/// use bufferproxy::core::Layout;
///
/// let reversed = Layout::new(&[3], Some(&[-2]), 2)?; // extent [-4, 2)
/// assert!(check_span(6, 4, &reversed, 6).is_ok());
/// assert!(check_span(6, 3, &reversed, 6).is_err()); // would start before byte 0
/// assert!(check_span(5, 4, &reversed, 6).is_err()); // would end past byte 5
/// assert!(check_span(6, 4, &reversed, 5).is_err()); // 6 bytes of items, not 5
/// # Ok::<(), bufferproxy::core::Error>(())
/// ```
pub fn check_span<'a>(
    mem_len: usize,
    origin: usize,
    layout: impl Into<LayoutRef<'a>>,
    linear_len: usize,
) -> Result<(), Error> {
    let layout = layout.into();
    let extent = layout.extent();
    let lo = isize::try_from(origin).ok().and_then(|o| o.checked_add(extent.lo));
    let hi = isize::try_from(origin).ok().and_then(|o| o.checked_add(extent.hi));
    match (lo, hi) {
        (Some(lo), Some(hi)) if lo >= 0 && hi.unsigned_abs() <= mem_len => {}
        _ => {
            return Err(value_error!(
                "the layout's extent [{}, {}) around offset {origin} does not fit {mem_len} bytes",
                extent.lo,
                extent.hi
            ))
        }
    }
    if linear_len != layout.len().unsigned_abs() {
        return Err(value_error!("expected {} bytes of item data, got {linear_len}", layout.len()));
    }
    Ok(())
}

/// Calls `f(offset)` with the byte offset (relative to the first item) of the first
/// item of every innermost row, in C order. A 0-dimensional layout has one row.
fn for_each_row(layout: LayoutRef<'_>, mut f: impl FnMut(isize)) {
    if layout.is_empty() {
        return;
    }
    let ndim = layout.ndim();
    let outer = ndim.saturating_sub(1);
    let (shape, strides) = (&layout.shape()[..outer], &layout.strides()[..outer]);
    let mut index: Dims = smallvec::smallvec![0; outer];
    let mut offset = 0isize;
    loop {
        f(offset);
        // Advance the odometer over the outer dimensions. Every offset stays inside the
        // validated extent: wrapping subtracts (shape - 1) * stride, which was checked.
        let mut d = outer;
        loop {
            if d == 0 {
                return;
            }
            d -= 1;
            if index[d] + 1 < shape[d] {
                index[d] += 1;
                offset += strides[d];
                break;
            }
            offset -= strides[d] * (shape[d] - 1);
            index[d] = 0;
        }
    }
}

/// Rows are fetched ahead by this many rows of the dimension above them.
const PREFETCH_ROWS: isize = 4;

/// Rows at most this long are fetched ahead; longer ones the processor's own prefetcher
/// follows (it starts again at each new page, which short rows far apart cross every time).
const PREFETCH_MAX_ROW: usize = 4096;

/// Asks the processor to start loading `bytes` into its caches (x86-64's PREFETCHT0, one per
/// 64-byte line); elsewhere it does nothing. A hint only: results are the same without it.
#[inline]
fn prefetch(bytes: &[u8]) {
    #[cfg(target_arch = "x86_64")]
    for line in bytes.chunks(64) {
        // SAFETY: PREFETCHT0 (SSE, which every x86-64 processor has) only hints the cache:
        // it reads nothing the program can observe and writes nothing, and the address is
        // inside a live slice.
        unsafe {
            std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                line.as_ptr().cast(),
            );
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = bytes;
}

/// Copies item bytes between memory (`mem`, first item at `origin`) and the C-order
/// run `linear`, calling `copy(mem_pos, linear_pos, nbytes)` for each block.
///
/// Given the memory as `ahead` (a gather: the memory is read), short rows of a layout with
/// two or more dimensions are fetched into the caches a few rows ahead: such rows lie apart,
/// and the processor's own prefetcher loses the pattern at each page (op l of
/// `benches/compare.py`, a strided `raw`, is ~4 % faster for it).
fn transfer(
    layout: LayoutRef<'_>,
    origin: usize,
    ahead: &[u8],
    mut copy: impl FnMut(usize, usize, usize),
) {
    let itemsize = layout.itemsize();
    let (count, stride) = match (layout.shape().last(), layout.strides().last()) {
        (Some(&n), Some(&s)) => (n, s),
        _ => (1, itemsize),
    };
    let ndim = layout.ndim();
    let row_step = if ndim >= 2 { layout.strides()[ndim - 2] } else { 0 };
    let mut linear = 0usize;
    let origin = origin as isize;
    for_each_row(layout, |row| {
        let start = origin + row;
        if stride == itemsize {
            let nbytes = (count * itemsize) as usize;
            if row_step != 0 && nbytes <= PREFETCH_MAX_ROW && !ahead.is_empty() {
                // A row past the last one, or outside the memory, is not fetched.
                let next = row_step.checked_mul(PREFETCH_ROWS).and_then(|d| start.checked_add(d));
                if let Some(next) = next.and_then(|n| usize::try_from(n).ok()) {
                    prefetch(ahead.get(next..next.saturating_add(nbytes)).unwrap_or_default());
                }
            }
            copy(start as usize, linear, nbytes);
            linear += nbytes;
        } else {
            for k in 0..count {
                copy((start + k * stride) as usize, linear, itemsize as usize);
                linear += itemsize as usize;
            }
        }
    });
}

/// Gathers the items of `layout` from `mem` into `out` in C order, gaps removed.
///
/// `origin` is the index in `mem` of the first item (items with negative strides lie
/// before it). `out.len()` must equal `layout.len()`. This is what `BufferProxy.raw`
/// and `PyBuffer_ToContiguous(.., 'C')` produce. A C-contiguous layout is one copy;
/// otherwise each innermost row is one copy when its items are adjacent, one per item
/// when not.
///
/// # Errors
///
/// [`Error::Value`] when `mem` does not cover the layout's extent around `origin` or
/// `out` has the wrong length (see [`check_span`]); nothing is written then.
///
/// ```
/// use bufferproxy::core::copy::gather;
/// use bufferproxy::core::Layout;
///
/// // A 3 x 4 byte matrix; the 2 x 2 window starting at row 1, column 1.
/// let mem: Vec<u8> = (0..12).collect();
/// let window = Layout::new(&[2, 2], Some(&[4, 1]), 1)?;
/// let mut out = [0u8; 4];
/// gather(&mem, 5, &window, &mut out)?;
/// assert_eq!(out, [5, 6, 9, 10]);
///
/// // The same memory read as a 4 x 3 Fortran-order matrix: transposed.
/// let fortran = Layout::new(&[4, 3], Some(&[1, 4]), 1)?;
/// let mut out = [0u8; 12];
/// gather(&mem, 0, &fortran, &mut out)?;
/// assert_eq!(out, [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]);
///
/// // Too short a slice is an error, not a panic.
/// assert!(gather(&mem[..8], 5, &window, &mut [0u8; 4]).is_err());
/// # Ok::<(), bufferproxy::core::Error>(())
/// ```
pub fn gather<'a>(
    mem: &[u8],
    origin: usize,
    layout: impl Into<LayoutRef<'a>>,
    out: &mut [u8],
) -> Result<(), Error> {
    gather_into(mem, origin, layout.into(), out.len(), |at, bytes| {
        out[at..at + bytes.len()].copy_from_slice(bytes)
    })
}

/// [`gather`] into memory that need not be initialised (a freshly allocated `bytes`
/// object, say): on success every byte of `out` has been written, once.
///
/// # Errors
///
/// As [`gather`]; on error nothing is written.
///
/// ```
/// use bufferproxy::core::copy::gather_uninit;
/// use bufferproxy::core::Layout;
/// use std::mem::MaybeUninit;
///
/// let every_other = Layout::new(&[3], Some(&[2]), 1)?;
/// let mut out = [MaybeUninit::<u8>::uninit(); 3];
/// gather_uninit(&[1, 0, 2, 0, 3], 0, &every_other, &mut out)?;
/// // SAFETY: gather_uninit succeeded, so every byte of `out` was written.
/// let out = out.map(|b| unsafe { b.assume_init() });
/// assert_eq!(out, [1, 2, 3]);
/// # Ok::<(), bufferproxy::core::Error>(())
/// ```
pub fn gather_uninit<'a>(
    mem: &[u8],
    origin: usize,
    layout: impl Into<LayoutRef<'a>>,
    out: &mut [MaybeUninit<u8>],
) -> Result<(), Error> {
    gather_into(mem, origin, layout.into(), out.len(), |at, bytes| {
        out[at..at + bytes.len()].write_copy_of_slice(bytes);
    })
}

/// Checks the span, then calls `put(linear_pos, bytes)` for consecutive blocks that
/// together cover `[0, out_len)` exactly once, in order.
fn gather_into(
    mem: &[u8],
    origin: usize,
    layout: LayoutRef<'_>,
    out_len: usize,
    mut put: impl FnMut(usize, &[u8]),
) -> Result<(), Error> {
    check_span(mem.len(), origin, layout, out_len)?;
    if layout.is_c_contiguous() {
        put(0, &mem[origin..origin + out_len]);
        return Ok(());
    }
    transfer(layout, origin, mem, |m, l, n| put(l, &mem[m..m + n]));
    Ok(())
}

/// The items of a C- or Fortran-contiguous layout as one slice of `mem` (in memory
/// order), or `None` for a non-contiguous layout.
///
/// Lets a caller skip [`gather`] (and its copy) when the items already are one block.
///
/// # Errors
///
/// As [`check_span`], for a contiguous layout that `mem` does not cover.
///
/// ```
/// use bufferproxy::core::copy::contiguous_bytes;
/// use bufferproxy::core::Layout;
///
/// let mem = [9u8, 1, 2, 3, 4];
/// let c = Layout::new(&[2, 2], None, 1)?;
/// assert_eq!(contiguous_bytes(&mem, 1, &c)?, Some(&[1, 2, 3, 4][..]));
/// let strided = Layout::new(&[2], Some(&[2]), 1)?;
/// assert_eq!(contiguous_bytes(&mem, 1, &strided)?, None);
/// # Ok::<(), bufferproxy::core::Error>(())
/// ```
pub fn contiguous_bytes<'a, 'l>(
    mem: &'a [u8],
    origin: usize,
    layout: impl Into<LayoutRef<'l>>,
) -> Result<Option<&'a [u8]>, Error> {
    let layout = layout.into();
    if !layout.is_contiguous() {
        return Ok(None);
    }
    let len = layout.len().unsigned_abs();
    check_span(mem.len(), origin, layout, len)?;
    // A contiguous layout's items fill [origin, origin + len) exactly.
    Ok(Some(&mem[origin..origin + len]))
}

/// Scatters C-order item bytes from `data` into the items of `layout` in `mem`.
///
/// The inverse of [`gather`] when no two items overlap; with overlapping items (zero
/// strides) the last one written in C order wins. Bytes of `mem` outside the items
/// (gaps) are left alone. `data.len()` must equal `layout.len()`; `origin` is as for
/// [`gather`].
///
/// # Errors
///
/// As [`gather`] (see [`check_span`]); nothing is written then.
///
/// ```
/// use bufferproxy::core::copy::{gather, scatter};
/// use bufferproxy::core::Layout;
///
/// // Write the 2 x 2 window of a 3 x 4 byte matrix at row 1, column 1.
/// let mut mem = [0u8; 12];
/// let window = Layout::new(&[2, 2], Some(&[4, 1]), 1)?;
/// scatter(&[1, 2, 3, 4], &mut mem, 5, &window)?;
/// assert_eq!(mem, [0, 0, 0, 0, 0, 1, 2, 0, 0, 3, 4, 0]);
///
/// let mut back = [0u8; 4];
/// gather(&mem, 5, &window, &mut back)?;
/// assert_eq!(back, [1, 2, 3, 4]);
/// # Ok::<(), bufferproxy::core::Error>(())
/// ```
pub fn scatter<'a>(
    data: &[u8],
    mem: &mut [u8],
    origin: usize,
    layout: impl Into<LayoutRef<'a>>,
) -> Result<(), Error> {
    let layout = layout.into();
    check_span(mem.len(), origin, layout, data.len())?;
    if layout.is_c_contiguous() {
        mem[origin..origin + data.len()].copy_from_slice(data);
        return Ok(());
    }
    // The memory is written, and borrowed by `copy`: nothing is fetched ahead.
    transfer(layout, origin, &[], |m, l, n| mem[m..m + n].copy_from_slice(&data[l..l + n]));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::Layout;

    #[test]
    fn gathers_a_strided_window() {
        // 2x2 window of a 3x4 byte matrix, starting at row 1, col 1.
        let mem: Vec<u8> = (0..12).collect();
        let l = Layout::new(&[2, 2], Some(&[4, 1]), 1).unwrap();
        let mut out = [0u8; 4];
        gather(&mem, 5, &l, &mut out).unwrap();
        assert_eq!(out, [5, 6, 9, 10]);
    }

    #[test]
    fn gathers_reversed_rows() {
        let mem: Vec<u8> = (0..6).collect();
        let l = Layout::new(&[3], Some(&[-2]), 2).unwrap();
        let mut out = [0u8; 6];
        gather(&mem, 4, &l, &mut out).unwrap();
        assert_eq!(out, [4, 5, 2, 3, 0, 1]);
    }

    #[test]
    fn scatter_inverts_gather() {
        let mut mem = vec![0u8; 12];
        let l = Layout::new(&[2, 3], Some(&[1, 4]), 1).unwrap();
        scatter(&[1, 2, 3, 4, 5, 6], &mut mem, 0, &l).unwrap();
        assert_eq!(mem, [1, 4, 0, 0, 2, 5, 0, 0, 3, 6, 0, 0]);
        let mut out = [0u8; 6];
        gather(&mem, 0, &l, &mut out).unwrap();
        assert_eq!(out, [1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn fortran_layouts_are_one_slice_in_memory_order() {
        let mem: Vec<u8> = (0..6).collect();
        let f = Layout::new(&[2, 3], Some(&[1, 2]), 1).unwrap();
        assert_eq!(contiguous_bytes(&mem, 0, &f).unwrap(), Some(&mem[..]));
        let mut out = [0u8; 6];
        gather(&mem, 0, &f, &mut out).unwrap();
        assert_eq!(out, [0, 2, 4, 1, 3, 5]);
        let strided = Layout::new(&[3], Some(&[2]), 1).unwrap();
        assert_eq!(contiguous_bytes(&mem, 0, &strided).unwrap(), None);
    }

    #[test]
    fn zero_dim_and_empty() {
        let l = Layout::new(&[], None, 2).unwrap();
        let mut out = [0u8; 2];
        gather(&[7, 8, 9], 1, &l, &mut out).unwrap();
        assert_eq!(out, [8, 9]);
        let l = Layout::new(&[0, 3], None, 2).unwrap();
        gather(&[], 0, &l, &mut []).unwrap();
    }

    #[test]
    fn spans_are_checked() {
        let l = Layout::new(&[3], Some(&[-2]), 2).unwrap();
        let mut out = [0u8; 6];
        assert!(gather(&[0; 6], 3, &l, &mut out).is_err());
        assert!(gather(&[0; 5], 4, &l, &mut out).is_err());
        assert!(gather(&[0; 6], 4, &l, &mut [0u8; 5]).is_err());
    }
}
