//! Item types: array-interface typestrs, PEP 3118 format strings and type kinds.
//!
//! The conversions follow pygame 2.6.1 so that code written against pygame sees the
//! same formats and typestrs:
//!
//! * a typestr such as `"<u4"` becomes the format a consumer sees (`"=I"`), see
//!   [`typestr_to_format`];
//! * the typestr reported back by `__array_interface__` is derived from the format
//!   and item size ([`typestr_of`]), which normalises it (`"|u2"` becomes `"<u2"`,
//!   `">i3"` becomes `"<V3"`);
//! * formats accepted from buffer-protocol exporters are single numeric items or pad
//!   bytes ([`check_exporter_format`]).
//!
//! An exporter of Rust memory needs little of this: it passes its PEP 3118 format to
//! [`py::export::export`](crate::py::export::export) as an
//! [`ItemFormat`](crate::py::export::ItemFormat), built from a [`Format`] for the short
//! ones (`"B"`, `"<f"`, `"=I"`, ...). [`format_itemsize`] checks that a format and an
//! item size agree.
//!
//! ```
//! use bufferproxy::core::format::{format_itemsize, typestr_of, Format};
//!
//! let rgba = Format::from_bytes(b"B").unwrap();
//! assert_eq!(rgba, Format::UNSIGNED_BYTES);
//! assert_eq!(format_itemsize(rgba.as_bytes()), Some(1));
//! assert_eq!(format_itemsize(b"<f"), Some(4));
//! // What `__array_interface__` reports for such items.
//! assert_eq!(typestr_of(Some(b"<f"), 4), "<f4");
//! assert_eq!(typestr_of(None, 1), "|u1");
//! ```

use super::error::value_error;
use super::Error;
use std::fmt;

/// The byte order character of this machine in a typestr (`b'<'` on little-endian).
pub const NATIVE_ORDER: u8 = if cfg!(target_endian = "little") { b'<' } else { b'>' };
/// The byte order character of the other machines in a typestr.
pub const SWAPPED_ORDER: u8 = if cfg!(target_endian = "little") { b'>' } else { b'<' };

/// Type kind letters of the array interface.
pub mod kind {
    /// Signed integer.
    pub const SIGNED: u8 = b'i';
    /// Unsigned integer.
    pub const UNSIGNED: u8 = b'u';
    /// Floating point.
    pub const FLOAT: u8 = b'f';
    /// A chunk of bytes with no numeric meaning.
    pub const VOID: u8 = b'V';
}

/// A short PEP 3118 format string owned inline, NUL-terminated for C consumers.
///
/// At most three characters, which covers every single-item numeric format with a
/// byte-order prefix (`"<f"`, `"=I"`) and pad runs (`"3x"`). Copying one allocates
/// nothing, which is why exports use it
/// ([`ItemFormat::Inline`](crate::py::export::ItemFormat::Inline)).
///
/// ```
/// use bufferproxy::core::format::Format;
///
/// let f = Format::from_bytes(b"<H").unwrap();
/// assert_eq!(f.as_str(), "<H");
/// assert_eq!(f.as_bytes_with_nul(), b"<H\0");
/// assert!(Format::from_bytes(b"T{h}").is_none()); // too long: use ItemFormat::Owned
/// assert!(Format::from_bytes(b"B\0").is_none());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Format {
    bytes: [u8; 4],
    len: u8,
}

impl Format {
    /// `"B"`: unsigned bytes, what a missing format means.
    pub const UNSIGNED_BYTES: Format = Format { bytes: [b'B', 0, 0, 0], len: 1 };

    fn new(s: &[u8]) -> Self {
        debug_assert!(s.len() < 4 && !s.contains(&0));
        let mut bytes = [0u8; 4];
        bytes[..s.len()].copy_from_slice(s);
        Format { bytes, len: s.len() as u8 }
    }

    /// A format of at most three characters with no NUL, stored inline; `None` for
    /// anything else. The characters are not checked to be a valid format.
    pub fn from_bytes(s: &[u8]) -> Option<Self> {
        (s.len() < 4 && !s.contains(&0)).then(|| Format::new(s))
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

/// The format of a run of `n` pad bytes (`"1x"` .. `"9x"`).
fn pad(n: u8) -> Format {
    Format::new(&[b'0' + n, b'x'])
}

/// Converts a three-character typestr into the PEP 3118 format and item size pygame
/// exports for it.
///
/// Byte order `<`, `>` or `|` (`|` and the native order give native formats), kind
/// `i`, `u`, `f` or `V`, size `1`..`9` (floats: 4 or 8). Sizes with no C type (3, 5,
/// ...) and kind `V` become pad bytes (`"3x"`).
///
/// # Errors
///
/// [`Error::Value`] naming the typestr, for anything else.
///
/// ```
/// use bufferproxy::core::format::typestr_to_format;
///
/// let (format, itemsize) = typestr_to_format(b"|u1")?;
/// assert_eq!((format.as_str(), itemsize), ("B", 1));
/// // The machine's own order (`<` here on little-endian) becomes `=`.
/// let native = if cfg!(target_endian = "little") { b"<f8" } else { b">f8" };
/// assert_eq!(typestr_to_format(native)?.0.as_str(), "=d");
/// assert_eq!(typestr_to_format(b"|V3")?.0.as_str(), "3x");
/// assert!(typestr_to_format(b"<f2").is_err());
/// # Ok::<(), bufferproxy::core::Error>(())
/// ```
pub fn typestr_to_format(typestr: &[u8]) -> Result<(Format, isize), Error> {
    let unsupported = || value_error!("unsupported typestr '{}'", typestr.escape_ascii());
    let &[order, kind_char, size_char] = typestr else {
        return Err(value_error!(
            "expected 'typestr' to be length 3, got '{}'",
            typestr.escape_ascii()
        ));
    };
    let prefix = match order {
        b'|' => b'=',
        o if o == NATIVE_ORDER => b'=',
        o if o == SWAPPED_ORDER => SWAPPED_ORDER,
        _ => return Err(unsupported()),
    };
    let size = match size_char {
        b'1'..=b'9' => size_char - b'0',
        _ => return Err(unsupported()),
    };
    let format = match (kind_char, size) {
        (b'i', 1) => Format::new(b"b"),
        (b'u', 1) => Format::new(b"B"),
        (b'i' | b'u', 2 | 4 | 8) => {
            let c = match (size, kind_char == b'i') {
                (2, true) => b'h',
                (2, false) => b'H',
                (4, true) => b'i',
                (4, false) => b'I',
                (_, true) => b'q',
                (_, false) => b'Q',
            };
            Format::new(&[prefix, c])
        }
        (b'i' | b'u', _) | (b'V', _) => pad(size),
        (b'f', 4) => Format::new(&[prefix, b'f']),
        (b'f', 8) => Format::new(&[prefix, b'd']),
        _ => return Err(unsupported()),
    };
    Ok((format, isize::from(size)))
}

/// Converts the type fields of a `PyArrayInterface` into a format, as pygame does.
///
/// `notswapped` is the `NOTSWAPPED` flag: items in this machine's byte order.
///
/// # Errors
///
/// [`Error::Value`] for a kind other than `i`, `u`, `f`, `V`, or a size that kind
/// cannot have.
///
/// ```
/// use bufferproxy::core::format::arraystruct_to_format;
///
/// assert_eq!(arraystruct_to_format(b'u', 4, true)?.as_str(), "=I");
/// assert_eq!(arraystruct_to_format(b'V', 3, true)?.as_str(), "3x");
/// assert!(arraystruct_to_format(b'f', 2, true).is_err());
/// # Ok::<(), bufferproxy::core::Error>(())
/// ```
pub fn arraystruct_to_format(
    typekind: u8,
    itemsize: i32,
    notswapped: bool,
) -> Result<Format, Error> {
    let prefix = if notswapped { b'=' } else { SWAPPED_ORDER };
    let c = match (typekind, itemsize) {
        (b'i', 1) => b'b',
        (b'i', 2) => b'h',
        (b'i', 4) => b'i',
        (b'i', 8) => b'q',
        (b'u', 1) => b'B',
        (b'u', 2) => b'H',
        (b'u', 4) => b'I',
        (b'u', 8) => b'Q',
        (b'f', 4) => b'f',
        (b'f', 8) => b'd',
        (b'V', 1..=9) => return Ok(pad(itemsize as u8)),
        (b'i' | b'u' | b'f' | b'V', _) => {
            return Err(value_error!(
                "unsupported item size {itemsize} for type kind '{}'",
                typekind.escape_ascii()
            ))
        }
        _ => return Err(value_error!("unsupported type kind '{}'", typekind.escape_ascii())),
    };
    Ok(Format::new(&[prefix, c]))
}

/// Splits a format into its byte-order prefix (if any) and the rest.
fn split_prefix(format: &[u8]) -> (Option<u8>, &[u8]) {
    match format.split_first() {
        Some((&p @ (b'@' | b'=' | b'<' | b'>' | b'!'), rest)) => (Some(p), rest),
        _ => (None, format),
    }
}

/// The type character of a single-item format, after its prefix and count.
/// A missing format (`None`) means unsigned bytes, as PEP 3118 says.
fn type_char(format: Option<&[u8]>) -> u8 {
    let Some(format) = format else { return b'B' };
    let (_, rest) = split_prefix(format);
    let start = rest.iter().position(|c| !c.is_ascii_digit()).unwrap_or(rest.len());
    rest.get(start).copied().unwrap_or(0)
}

/// The array-interface type kind ([`kind`]) of a single-item format; anything that is
/// not an integer or a float is [`kind::VOID`]. `None` (no format) means `"B"`.
///
/// ```
/// use bufferproxy::core::format::{kind, typekind_of};
///
/// assert_eq!(typekind_of(Some(b"<h")), kind::SIGNED);
/// assert_eq!(typekind_of(Some(b"d")), kind::FLOAT);
/// assert_eq!(typekind_of(Some(b"3x")), kind::VOID);
/// assert_eq!(typekind_of(None), kind::UNSIGNED);
/// ```
pub fn typekind_of(format: Option<&[u8]>) -> u8 {
    match type_char(format) {
        b'b' | b'h' | b'i' | b'l' | b'q' => kind::SIGNED,
        b'B' | b'H' | b'I' | b'L' | b'Q' => kind::UNSIGNED,
        b'f' | b'd' => kind::FLOAT,
        _ => kind::VOID,
    }
}

/// Whether items of this format are stored in the other machines' byte order: a `<`,
/// `>` or `!` prefix that is not this machine's order.
///
/// ```
/// use bufferproxy::core::format::is_swapped;
///
/// assert!(!is_swapped(Some(b"=I")) && !is_swapped(Some(b"I")) && !is_swapped(None));
/// assert_ne!(is_swapped(Some(b"<I")), is_swapped(Some(b">I")));
/// assert_eq!(is_swapped(Some(b"!I")), cfg!(target_endian = "little"));
/// ```
pub fn is_swapped(format: Option<&[u8]>) -> bool {
    let prefix = format.and_then(|f| split_prefix(f).0);
    match prefix {
        Some(b'<') => NATIVE_ORDER != b'<',
        Some(b'>' | b'!') => NATIVE_ORDER != b'>',
        _ => false,
    }
}

/// The byte-order character of the array-interface typestr for a format.
fn byteorder_of(format: Option<&[u8]>, itemsize: isize) -> u8 {
    if itemsize == 1 {
        return b'|';
    }
    match format.and_then(|f| split_prefix(f).0) {
        Some(b'<') => b'<',
        Some(b'>' | b'!') => b'>',
        _ => NATIVE_ORDER,
    }
}

/// The (normalised) array-interface typestr of items with this format and size, as
/// `__array_interface__` reports it: byte order `|` for 1-byte items, else the format's
/// order (native when it has none), then its [`typekind_of`], then the size.
///
/// ```
/// use bufferproxy::core::format::typestr_of;
///
/// assert_eq!(typestr_of(Some(b"B"), 1), "|u1");
/// assert_eq!(typestr_of(Some(b">h"), 2), ">i2");
/// assert_eq!(typestr_of(Some(b"3x"), 3).get(1..), Some("V3"));
/// ```
pub fn typestr_of(format: Option<&[u8]>, itemsize: isize) -> String {
    format!(
        "{}{}{}",
        char::from(byteorder_of(format, itemsize)),
        char::from(typekind_of(format)),
        itemsize
    )
}

/// Item size of a type character: native sizes with no prefix or `@`, standard sizes otherwise.
fn type_size(c: u8, native: bool) -> Option<isize> {
    Some(match c {
        b'b' | b'B' | b'x' => 1,
        b'h' | b'H' => 2,
        b'i' | b'I' | b'f' => 4,
        b'l' | b'L' if native => std::mem::size_of::<std::ffi::c_long>() as isize,
        b'l' | b'L' => 4,
        b'q' | b'Q' | b'd' => 8,
        _ => return None,
    })
}

/// The item size a single-item format describes, if it is one this crate accepts:
/// one of `bBhHiIlLqQfd` (with an optional byte-order prefix and a count of 1) or pad
/// bytes (`x`, `2x`..`9x`). Native sizes without a prefix or with `@`, standard sizes
/// otherwise (`"l"` is 8 bytes on 64-bit Linux, `"<l"` always 4).
///
/// ```
/// use bufferproxy::core::format::format_itemsize;
///
/// assert_eq!(format_itemsize(b"B"), Some(1));
/// assert_eq!(format_itemsize(b"=1H"), Some(2));
/// assert_eq!(format_itemsize(b"<l"), Some(4));
/// assert_eq!(format_itemsize(b"4x"), Some(4));
/// assert_eq!(format_itemsize(b"2H"), None); // two items
/// assert_eq!(format_itemsize(b"e"), None); // half floats are not supported
/// ```
pub fn format_itemsize(format: &[u8]) -> Option<isize> {
    let (prefix, rest) = split_prefix(format);
    let native = matches!(prefix, None | Some(b'@'));
    match rest {
        [c] => type_size(*c, native),
        [b'1', c] => type_size(*c, native),
        [n @ b'2'..=b'9', b'x'] => Some(isize::from(n - b'0')),
        _ => None,
    }
}

/// Checks the format of a buffer-protocol exporter: one numeric item (`bBhHiIlLqQfd`)
/// or pad bytes (`x`, `2x`..`9x`), with at most one byte-order prefix and a count of 1,
/// whose size agrees with the exporter's item size. `None` (no format) means `"B"`.
///
/// # Errors
///
/// [`Error::Value`] with pygame's messages (`"unsupported array element type"`,
/// `"arrays of records are unsupported"`), or for a size mismatch.
///
/// ```
/// use bufferproxy::core::format::check_exporter_format;
///
/// assert!(check_exporter_format(Some(b"<f"), 4).is_ok());
/// assert!(check_exporter_format(None, 1).is_ok());
/// assert!(check_exporter_format(Some(b"<f"), 8).is_err()); // size mismatch
/// assert!(check_exporter_format(Some(b"hh"), 4).is_err()); // a record
/// assert!(check_exporter_format(None, 2).is_err());
/// ```
pub fn check_exporter_format(format: Option<&[u8]>, itemsize: isize) -> Result<(), Error> {
    let Some(format) = format else {
        return if itemsize == 1 {
            Ok(())
        } else {
            Err(value_error!("exporter gave no format for {itemsize}-byte items"))
        };
    };
    let shown = format.escape_ascii();
    let (_, rest) = split_prefix(format);
    // Skip a count: 1 for any item, 2..9 only before pad bytes.
    let rest = match rest {
        [b'1', tail @ ..] => tail,
        [b'2'..=b'9', tail @ ..] if tail.first() == Some(&b'x') => tail,
        _ => rest,
    };
    match rest.split_first() {
        Some((c, tail)) if b"bBhHiIlLqQfdx".contains(c) => {
            if !tail.is_empty() {
                return Err(value_error!("arrays of records are unsupported (format '{shown}')"));
            }
        }
        _ => return Err(value_error!("unsupported array element type (format '{shown}')")),
    }
    match format_itemsize(format) {
        Some(size) if size == itemsize => Ok(()),
        Some(size) => Err(value_error!(
            "format '{shown}' describes {size}-byte items but the exporter says {itemsize}"
        )),
        None => Err(value_error!("unsupported array element type (format '{shown}')")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(ts: &str) -> String {
        let (f, size) = typestr_to_format(ts.as_bytes()).unwrap();
        format!("{}:{}", f.as_str(), size)
    }

    #[test]
    fn typestr_table_matches_pygame() {
        assert_eq!(fmt("|u1"), "B:1");
        assert_eq!(fmt("<i1"), "b:1");
        assert_eq!(fmt(">u1"), "B:1");
        assert_eq!(fmt("<i2"), "=h:2");
        assert_eq!(fmt("|u2"), "=H:2");
        assert_eq!(fmt(">u4"), ">I:4");
        assert_eq!(fmt(">i8"), ">q:8");
        assert_eq!(fmt("<i3"), "3x:3");
        assert_eq!(fmt(">u9"), "9x:9");
        assert_eq!(fmt("|V1"), "1x:1");
        assert_eq!(fmt(">V4"), "4x:4");
        assert_eq!(fmt("<f4"), "=f:4");
        assert_eq!(fmt(">f8"), ">d:8");
    }

    #[test]
    fn bad_typestrs_name_themselves() {
        for ts in ["=u1", "<f2", "<x1", "<u0", "<uu", "!i2", "|b1", "<c1"] {
            let e = typestr_to_format(ts.as_bytes()).unwrap_err();
            assert_eq!(e, Error::Value(format!("unsupported typestr '{ts}'")), "{ts}");
        }
        assert!(matches!(typestr_to_format(b"<u"), Err(Error::Value(_))));
    }

    #[test]
    fn reported_typestr_is_normalised() {
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
    }

    #[test]
    fn exporter_formats() {
        for (f, size) in [
            ("B", 1),
            ("b", 1),
            ("=h", 2),
            ("<H", 2),
            ("!i", 4),
            ("l", 8),
            ("<l", 4),
            ("q", 8),
            ("d", 8),
            ("f", 4),
            ("x", 1),
            ("3x", 3),
            ("9x", 9),
            ("1h", 2),
            ("=1h", 2),
            ("@Q", 8),
        ] {
            assert_eq!(check_exporter_format(Some(f.as_bytes()), size), Ok(()), "{f}");
        }
        for f in ["?", "", "e", "s", "2h", "10x", "T{h}", "<<h", "c"] {
            let e = check_exporter_format(Some(f.as_bytes()), 1).unwrap_err();
            assert!(e.message().starts_with("unsupported array element type"), "{f}: {e}");
        }
        for f in ["hh", "=hh", "1hx", "3xx"] {
            let e = check_exporter_format(Some(f.as_bytes()), 2).unwrap_err();
            assert!(e.message().starts_with("arrays of records"), "{f}: {e}");
        }
        assert!(check_exporter_format(Some(b"h"), 3).is_err());
        assert_eq!(check_exporter_format(None, 1), Ok(()));
    }

    #[test]
    fn kinds_and_orders_of_exporter_formats() {
        assert_eq!(typestr_of(Some(b"<h"), 2), "<i2");
        assert_eq!(typestr_of(Some(b">h"), 2), ">i2");
        assert_eq!(typestr_of(Some(b"!h"), 2), ">i2");
        assert_eq!(typestr_of(Some(b"B"), 1), "|u1");
        assert_eq!(typestr_of(Some(b"3x"), 3), "<V3");
        assert_eq!(typestr_of(Some(b"x"), 1), "|V1");
        assert_eq!(typestr_of(Some(b"=1h"), 2), "<i2");
        assert_eq!(typestr_of(None, 1), "|u1");
        assert!(is_swapped(Some(b">I")) && is_swapped(Some(b"!I")) && !is_swapped(Some(b"<I")));
    }

    #[test]
    fn arraystruct_formats() {
        assert_eq!(arraystruct_to_format(b'i', 1, true).unwrap().as_str(), "=b");
        assert_eq!(arraystruct_to_format(b'u', 4, false).unwrap().as_str(), ">I");
        assert_eq!(arraystruct_to_format(b'f', 8, true).unwrap().as_str(), "=d");
        assert_eq!(arraystruct_to_format(b'V', 3, true).unwrap().as_str(), "3x");
        assert!(arraystruct_to_format(b'b', 1, true).is_err());
        assert!(arraystruct_to_format(b'f', 2, true).is_err());
        assert!(arraystruct_to_format(b'V', 10, true).is_err());
    }
}
