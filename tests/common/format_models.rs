//! Reference models of the item-type table (DECISIONS.md, "Types and formats", in
//! particular "Beyond pygame: every numeric type numpy can share"), written as plain tables
//! and string building, never calling the functions under test.
//!
//! Shared by the property tests (`tests/core_props.rs`, section 5) and the fuzz targets
//! (`fuzz/src/lib.rs`), which include this file with `#[path]`; it lives in a subfolder of
//! `tests/` so that cargo does not build it as a test of its own.

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
