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
// Formats (as tests/core_props.rs, section 5)
// ---------------------------------------------------------------------------------

pub const NATIVE: u8 = if cfg!(target_endian = "little") { b'<' } else { b'>' };
pub const SWAPPED: u8 = if cfg!(target_endian = "little") { b'>' } else { b'<' };

/// The largest item size (a C `int`, as `PyArrayInterface.itemsize`).
pub const MAX_SIZE: u64 = 2_147_483_647;

/// One item of the table as the models see it: its kind letter (`b i u f c S V`, odd-size
/// integers already turned into `V`), its size, and whether its bytes are swapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefItem {
    pub kind: u8,
    pub size: isize,
    pub swapped: bool,
}

/// The table row for a kind letter and a size (DECISIONS.md, "Types and formats"),
/// `order_swapped` saying whether the byte order given was the other machines' one. Only
/// multi-byte numbers (`i u f c`) keep it.
pub fn ref_row(kind: u8, size: u64, order_swapped: bool) -> Option<RefItem> {
    if !(1..=MAX_SIZE).contains(&size) {
        return None;
    }
    let kind = match (kind, size) {
        (b'b', 1) => b'b',
        (b'i' | b'u', 1 | 2 | 4 | 8) => kind,
        (b'i' | b'u', _) => b'V',
        (b'f', 2 | 4 | 8) => b'f',
        (b'c', 8 | 16) => b'c',
        (b'S', _) => b'S',
        (b'V', _) => b'V',
        _ => return None,
    };
    let number = matches!(kind, b'i' | b'u' | b'f' | b'c');
    Some(RefItem { kind, size: size as isize, swapped: order_swapped && number && size > 1 })
}

/// The PEP 3118 format handed to consumers for an item: the bare code in native order,
/// the other machines' order prefix when swapped, `<n>s` and `<n>x` for bytes and void.
pub fn ref_format(item: RefItem) -> String {
    let code = match (item.kind, item.size) {
        (b'b', 1) => "?",
        (b'i', 1) => "b",
        (b'u', 1) => "B",
        (b'i', 2) => "h",
        (b'u', 2) => "H",
        (b'i', 4) => "i",
        (b'u', 4) => "I",
        (b'i', 8) => "q",
        (b'u', 8) => "Q",
        (b'f', 2) => "e",
        (b'f', 4) => "f",
        (b'f', 8) => "d",
        (b'c', 8) => "Zf",
        (b'c', 16) => "Zd",
        (b'S', n) => return format!("{n}s"),
        (b'V', n) => return format!("{n}x"),
        other => unreachable!("not a row of the table: {other:?}"),
    };
    if item.swapped {
        format!("{}{code}", SWAPPED as char)
    } else {
        code.to_string()
    }
}

/// The normalised typestr reported back for an item: `|` for size 1, bools and bytes;
/// otherwise the swapped order if swapped, else this machine's order.
pub fn ref_report(item: RefItem) -> String {
    let order = if item.size == 1 || matches!(item.kind, b'b' | b'S') {
        '|'
    } else if item.swapped {
        SWAPPED as char
    } else {
        NATIVE as char
    };
    format!("{order}{}{}", item.kind as char, item.size)
}

/// What a typestr reports when its format is outside the table: void of that size.
pub fn ref_void_report(size: isize) -> String {
    let order = if size == 1 { '|' } else { NATIVE as char };
    format!("{order}V{size}")
}

/// A size or count in decimal: one or more digits, no leading zero, at most `MAX_SIZE`.
pub fn ref_decimal(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() || digits[0] == b'0' || digits.len() > 12 {
        return None;
    }
    let mut n = 0u64;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        n = n * 10 + u64::from(d - b'0');
    }
    (n <= MAX_SIZE).then_some(n)
}

/// Typestr kinds refused by name: DECISIONS names `O`, `M`, `m` and `U`.
pub fn ref_refused(kind: u8) -> Option<&'static str> {
    match kind {
        b'O' => Some("object"),
        b'M' => Some("datetime"),
        b'm' => Some("timedelta"),
        b'U' => Some("unicode"),
        _ => None,
    }
}

/// The PEP 3118 codes refused by name in exporter formats (numpy exports unicode as `w`).
pub fn ref_refused_code(code: u8) -> Option<&'static str> {
    match code {
        b'O' => Some("object"),
        b'w' => Some("unicode"),
        _ => None,
    }
}

/// What a typestr is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefTypestr {
    Item(RefItem),
    /// Fewer than 3 characters (no digits).
    Short,
    /// Object, datetime, timedelta, unicode.
    Named(&'static str),
    Unsupported,
}

/// The typestr rules: `[<>|] kind digits`.
pub fn ref_typestr(ts: &[u8]) -> RefTypestr {
    if ts.len() < 3 {
        return RefTypestr::Short;
    }
    if let Some(name) = ref_refused(ts[1]) {
        return RefTypestr::Named(name);
    }
    let swapped = match ts[0] {
        b'|' => false,
        o if o == NATIVE => false,
        o if o == SWAPPED => true,
        _ => return RefTypestr::Unsupported,
    };
    ref_decimal(&ts[2..])
        .and_then(|size| ref_row(ts[1], size, swapped))
        .map_or(RefTypestr::Unsupported, RefTypestr::Item)
}

/// What an exporter's format is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefExporter {
    Item(RefItem),
    /// Not one item of the table.
    Unsupported,
    /// One item of the table followed by more.
    Record,
    /// Object, unicode.
    Named(&'static str),
}

/// The exporter format grammar: `[@=<>!]? count? code`, where the code is one of
/// `? b B h H i I l L q Q e f d Zf Zd` (count absent or 1) or `s x` (size = count, 1 if
/// absent), and nothing follows. A bad count is unsupported; a good item followed by more
/// is a record.
pub fn ref_exporter(format: &[u8]) -> RefExporter {
    let (prefix, rest) = match format {
        [p @ (b'@' | b'=' | b'<' | b'>' | b'!'), rest @ ..] => (Some(*p), rest),
        _ => (None, format),
    };
    let ndigits = rest.iter().take_while(|c| c.is_ascii_digit()).count();
    let count = if ndigits == 0 {
        None
    } else {
        match ref_decimal(&rest[..ndigits]) {
            Some(n) => Some(n),
            None => return RefExporter::Unsupported,
        }
    };
    let rest = &rest[ndigits..];
    let native = matches!(prefix, None | Some(b'@'));
    let c_long = std::mem::size_of::<std::ffi::c_long>() as u64;
    let (kind, size, counted, used) = match rest {
        [b'Z', b'f', ..] => (b'c', 8, false, 2),
        [b'Z', b'd', ..] => (b'c', 16, false, 2),
        [c, ..] => {
            let (kind, size, counted) = match c {
                b'?' => (b'b', 1, false),
                b'b' => (b'i', 1, false),
                b'B' => (b'u', 1, false),
                b'h' => (b'i', 2, false),
                b'H' => (b'u', 2, false),
                b'i' => (b'i', 4, false),
                b'I' => (b'u', 4, false),
                b'l' => (b'i', if native { c_long } else { 4 }, false),
                b'L' => (b'u', if native { c_long } else { 4 }, false),
                b'q' => (b'i', 8, false),
                b'Q' => (b'u', 8, false),
                b'e' => (b'f', 2, false),
                b'f' => (b'f', 4, false),
                b'd' => (b'f', 8, false),
                b's' => (b'S', count.unwrap_or(1), true),
                b'x' => (b'V', count.unwrap_or(1), true),
                &c => {
                    return ref_refused_code(c).map_or(RefExporter::Unsupported, RefExporter::Named)
                }
            };
            (kind, size, counted, 1)
        }
        [] => return RefExporter::Unsupported,
    };
    if rest.len() > used {
        return RefExporter::Record;
    }
    if !counted && count.is_some_and(|n| n != 1) {
        return RefExporter::Unsupported;
    }
    let order_swapped = match prefix {
        Some(b'<') => cfg!(target_endian = "big"),
        Some(b'>' | b'!') => cfg!(target_endian = "little"),
        _ => false,
    };
    let number = matches!(kind, b'i' | b'u' | b'f' | b'c');
    RefExporter::Item(RefItem {
        kind,
        size: size as isize,
        swapped: order_swapped && number && size > 1,
    })
}

/// `PyArrayInterface` type fields -> (format, itemsize) or the error message, by the
/// typestr table: the equivalent typestr has this machine's order when NOTSWAPPED, the
/// other one else (`(b'i', 3)` is void, as `"|i3"` is).
pub fn ref_arraystruct(typekind: u8, itemsize: i32, notswapped: bool) -> Result<RefItem, String> {
    let mut ts = vec![if notswapped { NATIVE } else { SWAPPED }, typekind];
    ts.extend_from_slice(itemsize.to_string().as_bytes());
    let shown = typekind.escape_ascii();
    match ref_typestr(&ts) {
        RefTypestr::Item(item) => Ok(item),
        RefTypestr::Named(name) => {
            Err(format!("{name} items (type kind '{shown}') are not supported"))
        }
        RefTypestr::Short => unreachable!("an item size always has a digit"),
        RefTypestr::Unsupported if b"biufcSV".contains(&typekind) => {
            Err(format!("unsupported item size {itemsize} for type kind '{shown}'"))
        }
        RefTypestr::Unsupported => Err(format!("unsupported type kind '{shown}'")),
    }
}

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
