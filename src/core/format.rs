//! Item types: array-interface typestrs, PEP 3118 format strings and type kinds.
//!
//! Every item type a proxy handles is one row of one table (DECISIONS.md, "Types and
//! formats"), whichever way it arrives: a description's typestr, an exporter's format or
//! an `__array_struct__` (typekind, item size) pair.
//!
//! | typestr (numpy's spelling) | format handed to consumers | kind |
//! |---|---|---|
//! | `\|b1` | `?` | bool |
//! | `\|i1`, `\|u1` | `b`, `B` | 1-byte integers |
//! | `<i2` `<u2` `<i4` `<u4` `<i8` `<u8` (native order) | `h` `H` `i` `I` `q` `Q` | integers |
//! | `<f2` `<f4` `<f8` (native order) | `e` `f` `d` | floats |
//! | `<c8` `<c16` (native order) | `Zf` `Zd` | complex |
//! | the same, byte-swapped (`>i2` on little-endian) | `>h`, `>e`, `>Zf`, ... | |
//! | `\|S<n>` | `<n>s` | bytes |
//! | `\|V<n>`, and integers of other sizes (`\|i3`) | `<n>x` | void |
//!
//! Native-order items get the bare single-character code (`h`, not pygame's `=h`) because
//! `memoryview` indexes, lists, compares and casts only those. Sizes may have several
//! digits and go up to `i32::MAX` (the `itemsize` of a `PyArrayInterface` is a C `int`).
//! Object (`O`), datetime (`M`, `m`) and unicode (`U`) items are refused by name.
//!
//! * [`typestr_to_format`] turns a typestr into the format consumers see;
//! * [`typestr_of`] gives the (normalised) typestr `__array_interface__` reports for a
//!   format: `"|u2"` comes back as `"<u2"`, `">i3"` as `"<V3"`;
//! * [`check_exporter_format`] accepts a buffer-protocol exporter's format: one item of
//!   the table, with an optional byte-order prefix and a count of 1 (any count before
//!   `s` and `x`); the format itself is passed on unchanged.
//!
//! An exporter of Rust memory needs little of this: it passes its PEP 3118 format to
//! [`py::export::export`](crate::py::export::export) as an
//! [`ItemFormat`](crate::py::export::ItemFormat), built from a [`Format`] for the short
//! ones (`"B"`, `"<f"`, `"16s"`, ...). [`format_itemsize`] checks that a format and an
//! item size agree.
//!
//! ```
//! use bufferproxy::core::format::{format_itemsize, typestr_of, Format};
//!
//! let rgba = Format::from_bytes(b"B").unwrap();
//! assert_eq!(rgba, Format::UNSIGNED_BYTES);
//! assert_eq!(format_itemsize(rgba.as_bytes()), Some(1));
//! assert_eq!(format_itemsize(b"<f"), Some(4));
//! assert_eq!(format_itemsize(b"Zd"), Some(16));
//! // What `__array_interface__` reports for such items.
//! assert_eq!(typestr_of(Some(b"<f"), 4), "<f4");
//! assert_eq!(typestr_of(Some(b"10s"), 10), "|S10");
//! assert_eq!(typestr_of(None, 1), "|u1");
//! ```

use super::error::value_error;
use super::Error;
use std::fmt;

/// The byte order character of this machine in a typestr (`b'<'` on little-endian).
pub const NATIVE_ORDER: u8 = if cfg!(target_endian = "little") { b'<' } else { b'>' };
/// The byte order character of the other machines in a typestr.
pub const SWAPPED_ORDER: u8 = if cfg!(target_endian = "little") { b'>' } else { b'<' };

/// The largest item size: the `itemsize` of a `PyArrayInterface` is a C `int` (numpy has
/// the same limit).
pub const MAX_ITEMSIZE: isize = i32::MAX as isize;

/// Type kind letters of the array interface (typestrs and `PyArrayInterface.typekind`).
pub mod kind {
    /// Boolean.
    pub const BOOL: u8 = b'b';
    /// Signed integer.
    pub const SIGNED: u8 = b'i';
    /// Unsigned integer.
    pub const UNSIGNED: u8 = b'u';
    /// Floating point.
    pub const FLOAT: u8 = b'f';
    /// Complex floating point.
    pub const COMPLEX: u8 = b'c';
    /// A fixed-size byte string.
    pub const BYTES: u8 = b'S';
    /// A chunk of bytes with no meaning of its own.
    pub const VOID: u8 = b'V';
}

/// The typestr kinds numpy has that a proxy refuses by name: no foreign memory holds them.
fn refused_kind(kind: u8) -> Option<&'static str> {
    match kind {
        b'O' => Some("object"),
        b'M' => Some("datetime"),
        b'm' => Some("timedelta"),
        b'U' => Some("unicode"),
        _ => None,
    }
}

/// The PEP 3118 codes of the same items (numpy exports unicode as `w`), refused by name.
fn refused_code(code: u8) -> Option<&'static str> {
    match code {
        b'O' => Some("object"),
        b'w' => Some("unicode"),
        _ => None,
    }
}

/// One item type of the table: its kind, its size, and whether its bytes are in the other
/// machines' order.
///
/// Only the table's rows can be built ([`Item::new`]): integers of sizes other than 1, 2, 4
/// and 8 are void, and only multi-byte numbers can be swapped.
///
/// ```
/// use bufferproxy::core::format::{kind, Item};
///
/// let half = Item::new(kind::FLOAT, 2, false).unwrap();
/// assert_eq!(half.format().as_str(), "e");
/// let odd = Item::new(kind::SIGNED, 3, true).unwrap();
/// assert_eq!((odd.kind, odd.swapped, odd.format().as_str()), (kind::VOID, false, "3x"));
/// assert!(Item::new(kind::FLOAT, 3, false).is_none());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Item {
    /// The kind letter ([`kind`]).
    pub kind: u8,
    /// The size in bytes, `1..=MAX_ITEMSIZE`.
    pub size: isize,
    /// Whether the bytes are in the other machines' order.
    pub swapped: bool,
}

impl Item {
    /// The table's row for a kind and size, if it has one.
    pub fn new(kind_letter: u8, size: isize, swapped: bool) -> Option<Item> {
        use kind::*;
        if !(1..=MAX_ITEMSIZE).contains(&size) {
            return None;
        }
        let kind = match (kind_letter, size) {
            (BOOL, 1) => BOOL,
            (SIGNED | UNSIGNED, 1 | 2 | 4 | 8) => kind_letter,
            (SIGNED | UNSIGNED | VOID, _) => VOID,
            (FLOAT, 2 | 4 | 8) | (COMPLEX, 8 | 16) | (BYTES, _) => kind_letter,
            _ => return None,
        };
        let swapped = swapped && size > 1 && matches!(kind, SIGNED | UNSIGNED | FLOAT | COMPLEX);
        Some(Item { kind, size, swapped })
    }

    /// The PEP 3118 format consumers are handed for this item: the bare code for native
    /// order, the other machines' order prefix (`>` on little-endian) when swapped.
    pub fn format(&self) -> Format {
        use kind::*;
        let code: &[u8] = match (self.kind, self.size) {
            (BOOL, _) => b"?",
            (SIGNED, 1) => b"b",
            (UNSIGNED, 1) => b"B",
            (SIGNED, 2) => b"h",
            (UNSIGNED, 2) => b"H",
            (SIGNED, 4) => b"i",
            (UNSIGNED, 4) => b"I",
            (SIGNED, _) => b"q",
            (UNSIGNED, _) => b"Q",
            (FLOAT, 2) => b"e",
            (FLOAT, 4) => b"f",
            (FLOAT, _) => b"d",
            (COMPLEX, 8) => b"Zf",
            (COMPLEX, _) => b"Zd",
            (BYTES, _) => return Format::counted(self.size, b's'),
            _ => return Format::counted(self.size, b'x'),
        };
        let mut format = Format::EMPTY;
        if self.swapped {
            format.push(SWAPPED_ORDER);
        }
        code.iter().for_each(|&c| format.push(c));
        format
    }

    /// The array-interface typestr of this item, in numpy's spelling (`|` for single
    /// bytes, bools and byte strings), except that void items of several bytes carry this
    /// machine's order (`<V3`), as pygame reports them.
    pub fn typestr(&self) -> String {
        let order = if self.size == 1 || matches!(self.kind, kind::BOOL | kind::BYTES) {
            b'|'
        } else if self.swapped {
            SWAPPED_ORDER
        } else {
            NATIVE_ORDER
        };
        format!("{}{}{}", char::from(order), char::from(self.kind), self.size)
    }
}

/// Capacity of a [`Format`], in characters.
const FORMAT_CAPACITY: usize = 15;

/// A short PEP 3118 format string owned inline, NUL-terminated for C consumers.
///
/// At most fifteen characters, which covers every single-item format of the table with a
/// byte-order prefix and a count (`"<f"`, `"=1I"`, `"2147483647x"`). Copying one
/// allocates nothing, which is why exports use it
/// ([`ItemFormat::Inline`](crate::py::export::ItemFormat::Inline)).
///
/// ```
/// use bufferproxy::core::format::Format;
///
/// let f = Format::from_bytes(b"<H").unwrap();
/// assert_eq!(f.as_str(), "<H");
/// assert_eq!(f.as_bytes_with_nul(), b"<H\0");
/// assert!(Format::from_bytes(b"T{<H:x:<H:y:<f:z:}").is_none()); // use ItemFormat::Owned
/// assert!(Format::from_bytes(b"B\0").is_none());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Format {
    bytes: [u8; FORMAT_CAPACITY + 1],
    len: u8,
}

impl Format {
    /// `"B"`: unsigned bytes, what a missing format means.
    pub const UNSIGNED_BYTES: Format = {
        let mut bytes = [0; FORMAT_CAPACITY + 1];
        bytes[0] = b'B';
        Format { bytes, len: 1 }
    };

    const EMPTY: Format = Format { bytes: [0; FORMAT_CAPACITY + 1], len: 0 };

    /// Appends a character; callers stay within the capacity.
    fn push(&mut self, c: u8) {
        self.bytes[usize::from(self.len)] = c;
        self.len += 1;
    }

    /// `"<count><code>"`, for a count of at most [`MAX_ITEMSIZE`] (ten digits).
    fn counted(count: isize, code: u8) -> Format {
        debug_assert!((1..=MAX_ITEMSIZE).contains(&count));
        let mut digits = [0u8; 10];
        let mut n = count.unsigned_abs();
        let mut start = digits.len();
        loop {
            start -= 1;
            digits[start] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        let mut format = Format::EMPTY;
        digits[start..].iter().for_each(|&c| format.push(c));
        format.push(code);
        format
    }

    /// A format of at most fifteen characters with no NUL, stored inline; `None` for
    /// anything else. The characters are not checked to be a valid format.
    pub fn from_bytes(s: &[u8]) -> Option<Self> {
        if s.len() > FORMAT_CAPACITY || s.contains(&0) {
            return None;
        }
        let mut bytes = [0; FORMAT_CAPACITY + 1];
        bytes[..s.len()].copy_from_slice(s);
        Some(Format { bytes, len: s.len() as u8 })
    }

    /// The format characters, without the terminating NUL.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    /// The format characters followed by one NUL byte.
    pub fn as_bytes_with_nul(&self) -> &[u8] {
        &self.bytes[..=usize::from(self.len)]
    }

    /// The format as text (always ASCII).
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(self.as_bytes()).unwrap_or_default()
    }
}

impl fmt::Debug for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Format({:?})", self.as_str())
    }
}

/// A size or count written in decimal: no sign, no leading zero, at most [`MAX_ITEMSIZE`].
fn parse_count(digits: &[u8]) -> Option<isize> {
    if digits.is_empty() || digits[0] == b'0' || digits.len() > 10 {
        return None;
    }
    let mut n: isize = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        n = n * 10 + isize::from(d - b'0');
    }
    (n <= MAX_ITEMSIZE).then_some(n)
}

/// Converts an array-interface typestr into the PEP 3118 format consumers see and the item
/// size.
///
/// Byte order `<`, `>` or `|` (`|` and the machine's own order give native items), a kind
/// letter of the table (`b i u f c S V`), and a size of one or more digits that the kind
/// can have. Integers of sizes other than 1, 2, 4 and 8 are void (`"3x"`).
///
/// # Errors
///
/// [`Error::Value`] naming the typestr: `"unsupported typestr '<f3'"`, or for object,
/// datetime, timedelta and unicode items `"object items (typestr '|O8') are not
/// supported"`.
///
/// ```
/// use bufferproxy::core::format::typestr_to_format;
///
/// let (format, itemsize) = typestr_to_format(b"|u1")?;
/// assert_eq!((format.as_str(), itemsize), ("B", 1));
/// // The machine's own order gets the bare code, the other one a prefix.
/// let (native, swapped) =
///     if cfg!(target_endian = "little") { (b"<f8", b">f8") } else { (b">f8", b"<f8") };
/// assert_eq!(typestr_to_format(native)?.0.as_str(), "d");
/// assert_eq!(typestr_to_format(swapped)?.0.as_str().get(1..), Some("d"));
/// assert_eq!(typestr_to_format(b"|V3")?.0.as_str(), "3x");
/// assert_eq!(typestr_to_format(b"|S10")?, (bufferproxy::core::format::Format::from_bytes(b"10s").unwrap(), 10));
/// assert!(typestr_to_format(b"<f3").is_err());
/// # Ok::<(), bufferproxy::core::Error>(())
/// ```
pub fn typestr_to_format(typestr: &[u8]) -> Result<(Format, isize), Error> {
    typestr_item(typestr).map(|item| (item.format(), item.size))
}

/// The item a typestr describes: [`typestr_to_format`] before the format is written.
///
/// # Errors
///
/// As for [`typestr_to_format`].
pub fn typestr_item(typestr: &[u8]) -> Result<Item, Error> {
    let shown = typestr.escape_ascii();
    let unsupported = || value_error!("unsupported typestr '{shown}'");
    let &[order, kind_letter, ref digits @ ..] = typestr else {
        return Err(value_error!("expected 'typestr' to be at least length 3, got '{shown}'"));
    };
    if digits.is_empty() {
        return Err(value_error!("expected 'typestr' to be at least length 3, got '{shown}'"));
    }
    if let Some(name) = refused_kind(kind_letter) {
        return Err(value_error!("{name} items (typestr '{shown}') are not supported"));
    }
    let swapped = match order {
        b'|' => false,
        o if o == NATIVE_ORDER => false,
        o if o == SWAPPED_ORDER => true,
        _ => return Err(unsupported()),
    };
    let size = parse_count(digits).ok_or_else(unsupported)?;
    Item::new(kind_letter, size, swapped).ok_or_else(unsupported)
}

/// Converts the type fields of a `PyArrayInterface` into a format, by the same table as a
/// typestr: `(b'i', 3)` is void, as `"|i3"` is.
///
/// `notswapped` is the `NOTSWAPPED` flag: items in this machine's byte order.
///
/// # Errors
///
/// [`Error::Value`] for a kind not in the table, or a size that kind cannot have.
///
/// ```
/// use bufferproxy::core::format::arraystruct_to_format;
///
/// assert_eq!(arraystruct_to_format(b'u', 4, true)?.as_str(), "I");
/// assert_eq!(arraystruct_to_format(b'V', 3, true)?.as_str(), "3x");
/// assert_eq!(arraystruct_to_format(b'i', 3, true)?.as_str(), "3x");
/// assert_eq!(arraystruct_to_format(b'c', 8, true)?.as_str(), "Zf");
/// assert!(arraystruct_to_format(b'f', 3, true).is_err());
/// # Ok::<(), bufferproxy::core::Error>(())
/// ```
pub fn arraystruct_to_format(
    typekind: u8,
    itemsize: i32,
    notswapped: bool,
) -> Result<Format, Error> {
    arraystruct_item(typekind, itemsize, notswapped).map(|item| item.format())
}

/// The item of a `PyArrayInterface`'s type fields: [`arraystruct_to_format`] before the
/// format is written.
///
/// # Errors
///
/// As for [`arraystruct_to_format`].
pub fn arraystruct_item(typekind: u8, itemsize: i32, notswapped: bool) -> Result<Item, Error> {
    let shown = typekind.escape_ascii();
    if let Some(name) = refused_kind(typekind) {
        return Err(value_error!("{name} items (type kind '{shown}') are not supported"));
    }
    if !b"biufcSV".contains(&typekind) {
        return Err(value_error!("unsupported type kind '{shown}'"));
    }
    Item::new(typekind, itemsize as isize, !notswapped)
        .ok_or_else(|| value_error!("unsupported item size {itemsize} for type kind '{shown}'"))
}

/// Why an exporter's format was refused.
enum Refusal {
    /// Not one item of the table.
    Unsupported,
    /// One item followed by more: a record.
    Record,
    /// A kind refused by name (object, unicode).
    Named(&'static str),
}

/// Parses the format of one item: an optional byte-order prefix (`@=<>!`), an optional
/// count (1, or any count before `s` and `x`), then a code of the table (`bBhHiIlLqQ`,
/// `e f d`, `?`, `Zf`, `Zd`, `s`, `x`). Native sizes with no prefix or `@`, standard sizes
/// otherwise (only `l`/`L` differ).
#[inline]
fn parse_format(format: &[u8]) -> Result<Item, Refusal> {
    // The common case, one code with no prefix or count (`"B"`, `"d"`), is a lookup.
    if let [code] = *format {
        if let Some((kind, size)) = code_item(code, true) {
            return Ok(Item { kind, size, swapped: false });
        }
    }
    parse_long_format(format)
}

/// [`parse_format`] past its one-code case.
#[inline(never)]
fn parse_long_format(format: &[u8]) -> Result<Item, Refusal> {
    let (prefix, rest) = match format.split_first() {
        Some((&p @ (b'@' | b'=' | b'<' | b'>' | b'!'), rest)) => (Some(p), rest),
        _ => (None, format),
    };
    let digits = rest.iter().take_while(|c| c.is_ascii_digit()).count();
    let count = match digits {
        0 => None,
        _ => Some(parse_count(&rest[..digits]).ok_or(Refusal::Unsupported)?),
    };
    let rest = &rest[digits..];
    let counted = matches!(rest.first(), Some(b's' | b'x'));
    let native = matches!(prefix, None | Some(b'@'));
    let (kind_letter, size, tail) = match rest {
        [b'Z', b'f', tail @ ..] => (kind::COMPLEX, 8, tail),
        [b'Z', b'd', tail @ ..] => (kind::COMPLEX, 16, tail),
        [code, tail @ ..] => match code_item(*code, native) {
            Some((kind_letter, size)) if counted => (kind_letter, count.unwrap_or(size), tail),
            Some((kind_letter, size)) => (kind_letter, size, tail),
            None => return Err(refused_code(*code).map_or(Refusal::Unsupported, Refusal::Named)),
        },
        [] => return Err(Refusal::Unsupported),
    };
    if !tail.is_empty() {
        return Err(Refusal::Record);
    }
    if !counted && count.is_some_and(|n| n != 1) {
        return Err(Refusal::Unsupported);
    }
    let swapped = match prefix {
        Some(b'<') => NATIVE_ORDER != b'<',
        Some(b'>' | b'!') => NATIVE_ORDER != b'>',
        _ => false,
    };
    // Integers keep their kind here whatever their size: the codes give only 1, 2, 4, 8.
    Item::new(kind_letter, size, swapped).ok_or(Refusal::Unsupported)
}

/// The kind and size of a one-character code (`s` and `x` for a count of 1); `native` sizes
/// (no prefix or `@`) differ from standard ones for `l`/`L` only.
#[inline]
fn code_item(code: u8, native: bool) -> Option<(u8, isize)> {
    let long = if native { std::mem::size_of::<std::ffi::c_long>() as isize } else { 4 };
    Some(match code {
        b'?' => (kind::BOOL, 1),
        b'b' => (kind::SIGNED, 1),
        b'B' => (kind::UNSIGNED, 1),
        b'h' => (kind::SIGNED, 2),
        b'H' => (kind::UNSIGNED, 2),
        b'i' => (kind::SIGNED, 4),
        b'I' => (kind::UNSIGNED, 4),
        b'l' => (kind::SIGNED, long),
        b'L' => (kind::UNSIGNED, long),
        b'q' => (kind::SIGNED, 8),
        b'Q' => (kind::UNSIGNED, 8),
        b'e' => (kind::FLOAT, 2),
        b'f' => (kind::FLOAT, 4),
        b'd' => (kind::FLOAT, 8),
        b's' => (kind::BYTES, 1),
        b'x' => (kind::VOID, 1),
        _ => return None,
    })
}

/// The item a single-item format describes, if it is one of the table; `None` (no format)
/// means `"B"`, as PEP 3118 says.
///
/// ```
/// use bufferproxy::core::format::{format_item, kind};
///
/// let item = format_item(Some(b"<Zd")).unwrap();
/// assert_eq!((item.kind, item.size), (kind::COMPLEX, 16));
/// assert_eq!(format_item(None).unwrap().kind, kind::UNSIGNED);
/// assert!(format_item(Some(b"hh")).is_none());
/// ```
pub fn format_item(format: Option<&[u8]>) -> Option<Item> {
    parse_format(format.unwrap_or(b"B")).ok()
}

/// The array-interface type kind ([`kind`]) of a single-item format; a format outside the
/// table is [`kind::VOID`]. `None` (no format) means `"B"`.
///
/// ```
/// use bufferproxy::core::format::{kind, typekind_of};
///
/// assert_eq!(typekind_of(Some(b"<h")), kind::SIGNED);
/// assert_eq!(typekind_of(Some(b"d")), kind::FLOAT);
/// assert_eq!(typekind_of(Some(b"?")), kind::BOOL);
/// assert_eq!(typekind_of(Some(b"3x")), kind::VOID);
/// assert_eq!(typekind_of(None), kind::UNSIGNED);
/// ```
pub fn typekind_of(format: Option<&[u8]>) -> u8 {
    format_item(format).map_or(kind::VOID, |item| item.kind)
}

/// Whether items of this format are stored in the other machines' byte order: a `<`,
/// `>` or `!` prefix that is not this machine's order, on a multi-byte number.
///
/// ```
/// use bufferproxy::core::format::is_swapped;
///
/// assert!(!is_swapped(Some(b"=I")) && !is_swapped(Some(b"I")) && !is_swapped(None));
/// assert_ne!(is_swapped(Some(b"<I")), is_swapped(Some(b">I")));
/// assert_eq!(is_swapped(Some(b"!I")), cfg!(target_endian = "little"));
/// assert!(!is_swapped(Some(b">4s")));
/// ```
pub fn is_swapped(format: Option<&[u8]>) -> bool {
    format_item(format).is_some_and(|item| item.swapped)
}

/// The (normalised) array-interface typestr of items with this format and size, as
/// `__array_interface__` reports it ([`Item::typestr`]); a format outside the table is
/// reported as void.
///
/// ```
/// use bufferproxy::core::format::typestr_of;
///
/// assert_eq!(typestr_of(Some(b"B"), 1), "|u1");
/// assert_eq!(typestr_of(Some(b">h"), 2), ">i2");
/// assert_eq!(typestr_of(Some(b"?"), 1), "|b1");
/// assert_eq!(typestr_of(Some(b"3x"), 3).get(1..), Some("V3"));
/// ```
pub fn typestr_of(format: Option<&[u8]>, itemsize: isize) -> String {
    let item = format_item(format).filter(|item| item.size == itemsize).unwrap_or(Item {
        kind: kind::VOID,
        size: itemsize,
        swapped: false,
    });
    item.typestr()
}

/// The item size a single-item format describes, if it is one of the table (see
/// [`check_exporter_format`] for the grammar). Native sizes without a prefix or with `@`,
/// standard sizes otherwise (`"l"` is 8 bytes on 64-bit Linux, `"<l"` always 4).
///
/// ```
/// use bufferproxy::core::format::format_itemsize;
///
/// assert_eq!(format_itemsize(b"B"), Some(1));
/// assert_eq!(format_itemsize(b"=1H"), Some(2));
/// assert_eq!(format_itemsize(b"<l"), Some(4));
/// assert_eq!(format_itemsize(b"16x"), Some(16));
/// assert_eq!(format_itemsize(b"e"), Some(2));
/// assert_eq!(format_itemsize(b"2H"), None); // two items
/// assert_eq!(format_itemsize(b"g"), None); // long double is not in the table
/// ```
pub fn format_itemsize(format: &[u8]) -> Option<isize> {
    parse_format(format).ok().map(|item| item.size)
}

/// Checks the format of a buffer-protocol exporter and returns its item: one item of the
/// table, with at most one byte-order prefix (`@=<>!`) and a count of 1 (any count before
/// `s` and `x`), whose size agrees with the exporter's item size. `None` (no format)
/// means `"B"`.
///
/// # Errors
///
/// [`Error::Value`] with pygame's messages (`"unsupported array element type"`,
/// `"arrays of records are unsupported"`), naming object and unicode items, or for a size
/// mismatch.
///
/// ```
/// use bufferproxy::core::format::check_exporter_format;
///
/// assert!(check_exporter_format(Some(b"<f"), 4).is_ok());
/// assert!(check_exporter_format(Some(b"Zf"), 8).is_ok());
/// assert!(check_exporter_format(None, 1).is_ok());
/// assert!(check_exporter_format(Some(b"<f"), 8).is_err()); // size mismatch
/// assert!(check_exporter_format(Some(b"hh"), 4).is_err()); // a record
/// assert!(check_exporter_format(Some(b"O"), 8).is_err()); // object items
/// assert!(check_exporter_format(None, 2).is_err());
/// ```
pub fn check_exporter_format(format: Option<&[u8]>, itemsize: isize) -> Result<Item, Error> {
    let Some(format) = format else {
        return match Item::new(kind::UNSIGNED, itemsize, false) {
            Some(item) if itemsize == 1 => Ok(item),
            _ => Err(value_error!("exporter gave no format for {itemsize}-byte items")),
        };
    };
    let shown = || format.escape_ascii();
    let item = parse_format(format).map_err(|refusal| match refusal {
        Refusal::Unsupported => {
            value_error!("unsupported array element type (format '{}')", shown())
        }
        Refusal::Record => value_error!("arrays of records are unsupported (format '{}')", shown()),
        Refusal::Named(name) => {
            value_error!("{name} items (format '{}') are not supported", shown())
        }
    })?;
    if item.size != itemsize {
        return Err(value_error!(
            "format '{}' describes {}-byte items but the exporter says {itemsize}",
            shown(),
            item.size
        ));
    }
    Ok(item)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(ts: &str) -> String {
        let (f, size) = typestr_to_format(ts.as_bytes()).unwrap();
        format!("{}:{}", f.as_str(), size)
    }

    #[test]
    fn typestr_table() {
        // Written for little-endian machines, where `<` is native.
        if cfg!(target_endian = "big") {
            return;
        }
        assert_eq!(fmt("|u1"), "B:1");
        assert_eq!(fmt("<i1"), "b:1");
        assert_eq!(fmt(">u1"), "B:1");
        assert_eq!(fmt("<i2"), "h:2");
        assert_eq!(fmt("|u2"), "H:2");
        assert_eq!(fmt(">u4"), ">I:4");
        assert_eq!(fmt(">i8"), ">q:8");
        assert_eq!(fmt("<i3"), "3x:3");
        assert_eq!(fmt(">u9"), "9x:9");
        assert_eq!(fmt("<i16"), "16x:16");
        assert_eq!(fmt("|V1"), "1x:1");
        assert_eq!(fmt(">V4"), "4x:4");
        assert_eq!(fmt("|V16"), "16x:16");
        assert_eq!(fmt("<f4"), "f:4");
        assert_eq!(fmt(">f8"), ">d:8");
        assert_eq!(fmt("<f2"), "e:2");
        assert_eq!(fmt(">f2"), ">e:2");
        assert_eq!(fmt("|b1"), "?:1");
        assert_eq!(fmt("<c8"), "Zf:8");
        assert_eq!(fmt(">c16"), ">Zd:16");
        assert_eq!(fmt("|S1"), "1s:1");
        assert_eq!(fmt("|S10"), "10s:10");
        assert_eq!(fmt(">S4"), "4s:4");
        assert_eq!(fmt("|V2147483647"), "2147483647x:2147483647");
    }

    #[test]
    fn bad_typestrs_name_themselves() {
        for ts in [
            "=u1",
            "<f3",
            "<f16",
            "<x1",
            "<u0",
            "<uu",
            "!i2",
            "|b2",
            "<c1",
            "<c4",
            "|S0",
            "|V01",
            "|V2147483648",
            "|V99999999999",
            "<u1x",
            "<g8",
        ] {
            let e = typestr_to_format(ts.as_bytes()).unwrap_err();
            assert_eq!(e, Error::Value(format!("unsupported typestr '{ts}'")), "{ts}");
        }
        for (ts, name) in
            [("|O8", "object"), ("<M8", "datetime"), ("<m8", "timedelta"), ("<U4", "unicode")]
        {
            let e = typestr_to_format(ts.as_bytes()).unwrap_err();
            assert_eq!(e, Error::Value(format!("{name} items (typestr '{ts}') are not supported")));
        }
        for ts in ["", "<", "<u"] {
            let e = typestr_to_format(ts.as_bytes()).unwrap_err();
            assert!(e.message().starts_with("expected 'typestr' to be at least length 3"), "{e}");
        }
    }

    #[test]
    fn reported_typestr_is_normalised() {
        if cfg!(target_endian = "big") {
            return;
        }
        let back = |ts: &str| {
            let (f, size) = typestr_to_format(ts.as_bytes()).unwrap();
            typestr_of(Some(f.as_bytes()), size)
        };
        assert_eq!(back("|u2"), "<u2");
        assert_eq!(back("|i3"), "<V3");
        assert_eq!(back(">i3"), "<V3");
        assert_eq!(back(">u1"), "|u1");
        assert_eq!(back("|V1"), "|V1");
        assert_eq!(back(">f8"), ">f8");
        assert_eq!(back("<i8"), "<i8");
        assert_eq!(back("|f2"), "<f2");
        assert_eq!(back("<b1"), "|b1");
        assert_eq!(back(">c8"), ">c8");
        assert_eq!(back("<S3"), "|S3");
        assert_eq!(back("|V16"), "<V16");
    }

    #[test]
    fn exporter_formats() {
        for (f, size) in [
            ("B", 1),
            ("b", 1),
            ("=h", 2),
            ("<H", 2),
            ("!i", 4),
            ("l", std::mem::size_of::<std::ffi::c_long>() as isize),
            ("<l", 4),
            ("q", 8),
            ("d", 8),
            ("f", 4),
            ("e", 2),
            (">e", 2),
            ("?", 1),
            ("Zf", 8),
            ("<Zd", 16),
            ("=1Zf", 8),
            ("x", 1),
            ("3x", 3),
            ("9x", 9),
            ("10x", 10),
            ("s", 1),
            ("16s", 16),
            ("1h", 2),
            ("=1h", 2),
            ("@Q", 8),
        ] {
            let item = check_exporter_format(Some(f.as_bytes()), size);
            assert_eq!(item.map(|i| i.size), Ok(size), "{f}");
        }
        for f in ["", "=", "1", " ", "2h", "=2h", "0x", "=!", " h", "g", "Zg", "Z", "c", "01x"] {
            let e = check_exporter_format(Some(f.as_bytes()), 2).unwrap_err();
            assert!(e.message().starts_with("unsupported array element type"), "{f}: {e}");
        }
        for f in ["hh", "=hh", "1hx", "3xx", "h ", "ZfZf"] {
            let e = check_exporter_format(Some(f.as_bytes()), 2).unwrap_err();
            assert!(e.message().starts_with("arrays of records"), "{f}: {e}");
        }
        for (f, name) in [("O", "object"), ("3w", "unicode")] {
            let e = check_exporter_format(Some(f.as_bytes()), 8).unwrap_err();
            assert!(e.message().starts_with(&format!("{name} items")), "{f}: {e}");
        }
        assert!(check_exporter_format(Some(b"h"), 3).is_err());
        assert!(check_exporter_format(Some(b"11x"), 2).is_err());
        assert!(check_exporter_format(None, 1).is_ok());
    }

    #[test]
    fn kinds_and_orders_of_exporter_formats() {
        if cfg!(target_endian = "big") {
            return;
        }
        assert_eq!(typestr_of(Some(b"<h"), 2), "<i2");
        assert_eq!(typestr_of(Some(b">h"), 2), ">i2");
        assert_eq!(typestr_of(Some(b"!h"), 2), ">i2");
        assert_eq!(typestr_of(Some(b"B"), 1), "|u1");
        assert_eq!(typestr_of(Some(b"3x"), 3), "<V3");
        assert_eq!(typestr_of(Some(b"x"), 1), "|V1");
        assert_eq!(typestr_of(Some(b"=1h"), 2), "<i2");
        assert_eq!(typestr_of(Some(b">4s"), 4), "|S4");
        assert_eq!(typestr_of(Some(b">Zf"), 8), ">c8");
        assert_eq!(typestr_of(Some(b"?"), 1), "|b1");
        assert_eq!(typestr_of(None, 1), "|u1");
        assert!(is_swapped(Some(b">I")) && is_swapped(Some(b"!I")) && !is_swapped(Some(b"<I")));
        assert!(!is_swapped(Some(b">B")) && !is_swapped(Some(b">3x")));
    }

    #[test]
    fn arraystruct_formats() {
        if cfg!(target_endian = "big") {
            return;
        }
        let f = |k: u8, size, notswapped| arraystruct_to_format(k, size, notswapped);
        assert_eq!(f(b'i', 1, true).unwrap().as_str(), "b");
        assert_eq!(f(b'i', 1, false).unwrap().as_str(), "b");
        assert_eq!(f(b'u', 4, false).unwrap().as_str(), ">I");
        assert_eq!(f(b'f', 8, true).unwrap().as_str(), "d");
        assert_eq!(f(b'f', 2, true).unwrap().as_str(), "e");
        assert_eq!(f(b'b', 1, true).unwrap().as_str(), "?");
        assert_eq!(f(b'c', 16, false).unwrap().as_str(), ">Zd");
        assert_eq!(f(b'S', 12, true).unwrap().as_str(), "12s");
        assert_eq!(f(b'V', 3, true).unwrap().as_str(), "3x");
        assert_eq!(f(b'V', 10, true).unwrap().as_str(), "10x");
        assert_eq!(f(b'i', 3, false).unwrap().as_str(), "3x");
        assert!(f(b'b', 2, true).is_err());
        assert!(f(b'f', 3, true).is_err());
        assert!(f(b'V', 0, true).is_err());
        assert!(f(b'V', -1, true).is_err());
        assert!(f(b'x', 1, true).unwrap_err().message().starts_with("unsupported type kind"));
        assert!(f(b'O', 8, true).unwrap_err().message().starts_with("object items"));
    }

    #[test]
    fn formats_fit_inline() {
        let widest = Item::new(kind::VOID, MAX_ITEMSIZE, false).unwrap().format();
        assert_eq!(widest.as_bytes_with_nul(), b"2147483647x\0");
        assert!(Format::from_bytes(&[b'x'; FORMAT_CAPACITY]).is_some());
        assert!(Format::from_bytes(&[b'x'; FORMAT_CAPACITY + 1]).is_none());
    }
}
