//! Reference models for the fuzz targets in `fuzz_targets/`.
//!
//! Each model is written here independently of `bufferproxy::core` (i128 arithmetic,
//! brute-force enumeration, lookup tables), after the ones in `tests/core_props.rs`, so
//! that a target compares the crate with a second opinion and never with itself.

use arbitrary::Arbitrary;
use bufferproxy::core::request::Grant;
use bufferproxy::core::Extent;

// ---------------------------------------------------------------------------------
// Numbers biased towards the edges of isize
// ---------------------------------------------------------------------------------

/// Where a [`Num::Near`] value sits: the boundaries overflow checks care about.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Anchor {
    Zero,
    Max,
    Half,
    NegHalf,
    Min,
    Pow31,
    Pow32,
    Pow62,
}

/// An `isize` drawn mostly from small values and values near overflow boundaries, so
/// that libFuzzer reaches both the accepting and the rejecting paths quickly.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Num {
    Small(i8),
    Near(Anchor, i8),
    Raw(isize),
}

impl Num {
    pub fn get(self) -> isize {
        match self {
            Num::Small(v) => v as isize,
            Num::Near(anchor, delta) => {
                let base = match anchor {
                    Anchor::Zero => 0,
                    Anchor::Max => isize::MAX,
                    Anchor::Half => isize::MAX / 2,
                    Anchor::NegHalf => -(isize::MAX / 2),
                    Anchor::Min => isize::MIN,
                    Anchor::Pow31 => 1 << 31,
                    Anchor::Pow32 => 1 << 32,
                    Anchor::Pow62 => 1 << 62,
                };
                base.wrapping_add(delta as isize)
            }
            Num::Raw(v) => v,
        }
    }
}

// ---------------------------------------------------------------------------------
// Layouts in i128 (as tests/core_props.rs `ref_layout`)
// ---------------------------------------------------------------------------------

/// What a valid layout must report.
#[derive(Debug, PartialEq)]
pub struct RefLayout {
    /// `None`: default C strides that do not fit `isize` (only possible when empty).
    pub strides: Option<Vec<isize>>,
    pub len: isize,
    pub extent: Extent,
}

pub fn fits(v: i128) -> bool {
    v >= isize::MIN as i128 && v <= isize::MAX as i128
}

/// DECISIONS.md "Validation pygame does not do", in i128: item size at least 1, no
/// negative dimension, strides as long as the shape, length and extent within isize.
pub fn ref_layout(
    shape: &[isize],
    strides: Option<&[isize]>,
    itemsize: isize,
) -> Option<RefLayout> {
    if itemsize < 1 || shape.iter().any(|&d| d < 0) {
        return None;
    }
    if strides.is_some_and(|s| s.len() != shape.len()) {
        return None;
    }
    let empty = shape.contains(&0);
    let len: i128 = if empty {
        0
    } else {
        shape.iter().fold(itemsize as i128, |acc, &d| acc.saturating_mul(d as i128))
    };
    if !fits(len) {
        return None;
    }
    let strides128: Vec<i128> = match strides {
        Some(s) => s.iter().map(|&x| x as i128).collect(),
        None => {
            let mut s = vec![0i128; shape.len()];
            let mut step = itemsize as i128;
            for d in (0..shape.len()).rev() {
                s[d] = step;
                step = step.saturating_mul(shape[d] as i128);
            }
            s
        }
    };
    let extent = if empty {
        Extent { lo: 0, hi: 0 }
    } else {
        let (mut lo, mut hi) = (0i128, itemsize as i128);
        for (&d, &s) in shape.iter().zip(&strides128) {
            let reach = (d as i128 - 1).saturating_mul(s);
            if reach < 0 {
                lo = lo.saturating_add(reach);
            } else {
                hi = hi.saturating_add(reach);
            }
        }
        if !fits(hi.saturating_sub(lo)) {
            return None;
        }
        Extent { lo: lo as isize, hi: hi as isize }
    };
    let strides = strides128
        .iter()
        .all(|&s| fits(s))
        .then(|| strides128.iter().map(|&s| s as isize).collect());
    Some(RefLayout { strides, len: len as isize, extent })
}

/// Number of items of `shape` (i128, saturating).
pub fn item_count(shape: &[isize]) -> i128 {
    shape.iter().fold(1i128, |acc, &d| acc.saturating_mul(d as i128))
}

/// Byte offsets of all items, in C (row-major) order, as i128.
/// Only for shapes with few items: a zero dimension anywhere gives none, however large
/// the others.
pub fn c_order_offsets(shape: &[isize], strides: &[isize]) -> Vec<i128> {
    if shape.contains(&0) {
        return Vec::new();
    }
    let mut out = vec![0i128];
    for (&dim, &stride) in shape.iter().zip(strides) {
        let mut next = Vec::with_capacity(out.len() * dim as usize);
        for &base in &out {
            for i in 0..dim {
                next.push(base + i as i128 * stride as i128);
            }
        }
        out = next;
    }
    out
}

/// Byte offsets of all items, in Fortran (column-major) order, as i128.
pub fn f_order_offsets(shape: &[isize], strides: &[isize]) -> Vec<i128> {
    let rshape: Vec<isize> = shape.iter().rev().copied().collect();
    let rstrides: Vec<isize> = strides.iter().rev().copied().collect();
    c_order_offsets(&rshape, &rstrides)
}

/// Brute-force contiguity: offsets in the given order are 0, itemsize, 2 * itemsize, ...
pub fn brute_contiguous(offsets: &[i128], itemsize: isize) -> bool {
    offsets.iter().enumerate().all(|(k, &o)| o == k as i128 * itemsize as i128)
}

// ---------------------------------------------------------------------------------
// Buffer requests: CPython's memory_getbuf (Objects/memoryobject.c)
// ---------------------------------------------------------------------------------

const PYBUF_WRITABLE: i32 = 0x0001;
const PYBUF_FORMAT: i32 = 0x0004;
const PYBUF_ND: i32 = 0x0008;
const PYBUF_STRIDES: i32 = 0x0010 | PYBUF_ND;
const PYBUF_C_CONTIGUOUS: i32 = 0x0020 | PYBUF_STRIDES;
const PYBUF_F_CONTIGUOUS: i32 = 0x0040 | PYBUF_STRIDES;
const PYBUF_ANY_CONTIGUOUS: i32 = 0x0080 | PYBUF_STRIDES;

/// `memory_getbuf` step by step for a view without suboffsets, except its refusal of the
/// format without the shape, which DECISIONS.md serves (as bytes, numpy and pygame do).
pub fn ref_getbuf(c: bool, f: bool, readonly: bool, req: i32) -> Option<Grant> {
    let all = |flag: i32| req & flag == flag;
    if req & PYBUF_WRITABLE != 0 && readonly {
        return None;
    }
    if (all(PYBUF_C_CONTIGUOUS) && !c)
        || (all(PYBUF_F_CONTIGUOUS) && !f)
        || (all(PYBUF_ANY_CONTIGUOUS) && !(c || f))
    {
        return None;
    }
    let format = req & PYBUF_FORMAT != 0;
    let strides = all(PYBUF_STRIDES);
    if !strides && !c {
        return None;
    }
    let shape = all(PYBUF_ND);
    Some(Grant { format, shape, strides })
}

// ---------------------------------------------------------------------------------
// Formats: the models tests/core_props.rs uses too, in one file
// ---------------------------------------------------------------------------------

#[path = "../../tests/common/format_models.rs"]
mod format_models;
pub use format_models::*;

// ---------------------------------------------------------------------------------
// Copies: one item at a time
// ---------------------------------------------------------------------------------

/// Whether `mem_len` bytes with the first item at `origin` hold every item (and, for
/// an empty layout, whether `origin` lies within the memory), in i128.
pub fn ref_span_ok(mem_len: usize, origin: usize, extent_lo: i128, extent_hi: i128) -> bool {
    let origin = origin as i128;
    origin <= isize::MAX as i128
        && origin + extent_lo >= 0
        && origin + extent_hi <= isize::MAX as i128
        && origin + extent_hi <= mem_len as i128
}

/// The items at `offsets` (C order) copied out one by one.
pub fn naive_gather(mem: &[u8], origin: usize, offsets: &[i128], itemsize: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(offsets.len() * itemsize);
    for &o in offsets {
        let at = (origin as i128 + o) as usize;
        out.extend_from_slice(&mem[at..at + itemsize]);
    }
    out
}

/// `data` written to the items at `offsets` (C order), one by one.
pub fn naive_scatter(
    data: &[u8],
    mem: &mut [u8],
    origin: usize,
    offsets: &[i128],
    itemsize: usize,
) {
    for (k, &o) in offsets.iter().enumerate() {
        let at = (origin as i128 + o) as usize;
        mem[at..at + itemsize].copy_from_slice(&data[k * itemsize..(k + 1) * itemsize]);
    }
}

/// Deterministic pseudo-random bytes (xorshift64*).
pub fn random_bytes(seed: u64, n: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8
        })
        .collect()
}
