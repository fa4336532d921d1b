//! Typestrs and PEP 3118 formats from arbitrary bytes: `typestr_to_format`,
//! `check_exporter_format`, `format_item`, `format_itemsize`, `typestr_of`, `typekind_of`,
//! `is_swapped`, `arraystruct_to_format`, `Item::new` and `Format::from_bytes` never
//! panic, agree with the tables of tests/core_props.rs (section 5, DECISIONS.md "Types
//! and formats"), give its exact error messages, and accepted typestrs round-trip through
//! their normalised form.
#![no_main]

use arbitrary::Arbitrary;
use bufferproxy::core::format::{
    arraystruct_to_format, check_exporter_format, format_item, format_itemsize, is_swapped,
    typekind_of, typestr_of, typestr_to_format, Format, Item,
};
use bufferproxy::core::Error;
use bufferproxy_fuzz::{
    ref_arraystruct, ref_exporter, ref_format, ref_report, ref_row, ref_typestr, ref_void_report,
    Num, RefExporter, RefItem, RefTypestr, NATIVE, SWAPPED,
};
use libfuzzer_sys::fuzz_target;

/// The characters the grammars care about; `Mapped` bytes are drawn from them so that
/// short inputs hit valid typestrs and formats often: orders and prefixes, typestr kinds
/// (refused ones included), format codes (`Z` for `Zf`/`Zd`, `s`, `x`, the refused `O`
/// and `w`, the unsupported `g`), and digits for multi-digit sizes and counts.
const ALPHABET: &[u8] = b"<>|=!@iufcbSVOMmUbBhHiIlLqQefdZsxw?g0123456789";

/// A count or size in decimal, biased towards the limit of a C `int`.
#[derive(Arbitrary, Debug)]
enum Count {
    Small(u8),
    NearMax(i8),
    Raw(u64),
}

impl Count {
    fn digits(&self) -> String {
        match *self {
            Count::Small(n) => n.to_string(),
            // Not the model's MAX_SIZE, so that a wrong limit there still shows.
            Count::NearMax(d) => (i32::MAX as u64).wrapping_add_signed(i64::from(d)).to_string(),
            Count::Raw(n) => n.to_string(),
        }
    }
}

#[derive(Arbitrary, Debug)]
enum Text {
    Raw(Vec<u8>),
    Mapped(Vec<u8>),
    /// Two mapped characters (an order and a kind, or a prefix and a code), a decimal
    /// count, then mapped characters (a code, a tail).
    Counted(u8, u8, Count, Vec<u8>),
}

fn mapped(c: u8) -> u8 {
    ALPHABET[usize::from(c) % ALPHABET.len()]
}

impl Text {
    fn bytes(&self) -> Vec<u8> {
        match self {
            Text::Raw(b) => b.clone(),
            Text::Mapped(b) => b.iter().map(|&c| mapped(c)).collect(),
            Text::Counted(a, b, count, rest) => {
                let mut out = vec![mapped(*a), mapped(*b)];
                out.extend_from_slice(count.digits().as_bytes());
                out.extend(rest.iter().map(|&c| mapped(c)));
                out
            }
        }
    }
}

#[derive(Arbitrary, Debug)]
struct Input {
    typestr: Text,
    format: Option<Text>,
    itemsize: i8,
    big_itemsize: Num,
    typekind: u8,
    struct_itemsize: i32,
    notswapped: bool,
}

fn lib_item(item: RefItem) -> Item {
    Item { kind: item.kind, size: item.size, swapped: item.swapped }
}

/// Everything the format functions say about a format the table hands out (or accepts):
/// item, size, kind, order, reported typestr.
fn check_handed_out(f: &[u8], item: RefItem) {
    let shown = f.escape_ascii().to_string();
    assert_eq!(check_exporter_format(Some(f), item.size), Ok(lib_item(item)), "{shown}");
    assert_eq!(format_item(Some(f)), Some(lib_item(item)), "{shown}");
    assert_eq!(format_itemsize(f), Some(item.size), "{shown}");
    assert_eq!(typekind_of(Some(f)), item.kind, "{shown}");
    assert_eq!(is_swapped(Some(f)), item.swapped, "{shown}");
    assert_eq!(typestr_of(Some(f), item.size), ref_report(item), "{shown}");
}

fn check_typestr(ts: &[u8]) {
    let shown = ts.escape_ascii().to_string();
    match (ref_typestr(ts), typestr_to_format(ts)) {
        (RefTypestr::Item(item), Ok((f, size))) => {
            let want = ref_format(item);
            assert_eq!(f.as_str(), want, "{shown}");
            assert_eq!(f.as_bytes(), want.as_bytes(), "{shown}");
            let mut with_nul = want.into_bytes();
            with_nul.push(0);
            assert_eq!(f.as_bytes_with_nul(), &with_nul[..], "{shown}");
            assert_eq!(size, item.size, "{shown}");
            // What we hand out is what we accept back from an exporter.
            check_handed_out(f.as_bytes(), item);
            // The reported typestr is normalised, and normalising is a fixed point.
            let back = typestr_of(Some(f.as_bytes()), size);
            assert_eq!(ref_typestr(back.as_bytes()), RefTypestr::Item(item), "{shown} -> {back}");
            let (f2, size2) = typestr_to_format(back.as_bytes()).expect("normalised typestr");
            assert_eq!((f2, size2), (f, size), "{shown} -> {back}");
            assert_eq!(typestr_of(Some(f2.as_bytes()), size2), back);
        }
        (RefTypestr::Item(item), Err(e)) => panic!("{shown} rejected ({e:?}), expected {item:?}"),
        (want, Ok(f)) => panic!("{shown} accepted as {f:?}, expected {want:?}"),
        (RefTypestr::Short, Err(e)) => {
            assert!(matches!(e, Error::Value(_)), "{shown}: {e:?}");
            assert!(
                e.message().starts_with("expected 'typestr' to be at least length 3"),
                "{shown}: {e}"
            );
            assert!(e.message().contains(&format!("'{shown}'")), "{shown}: {e}");
        }
        (RefTypestr::Named(name), Err(e)) => assert_eq!(
            e,
            Error::Value(format!("{name} items (typestr '{shown}') are not supported"))
        ),
        (RefTypestr::Unsupported, Err(e)) => {
            assert_eq!(e, Error::Value(format!("unsupported typestr '{shown}'")))
        }
    }
}

/// `check_exporter_format` for one format and item size, error messages included.
fn check_exporter_size(fmt: &[u8], want: RefExporter, itemsize: isize) {
    let shown = fmt.escape_ascii().to_string();
    match (want, check_exporter_format(Some(fmt), itemsize)) {
        (RefExporter::Item(item), Ok(i)) if item.size == itemsize => {
            assert_eq!(i, lib_item(item), "{shown}")
        }
        (RefExporter::Item(item), Err(e)) if item.size != itemsize => assert_eq!(
            e,
            Error::Value(format!(
                "format '{shown}' describes {}-byte items but the exporter says {itemsize}",
                item.size
            ))
        ),
        (RefExporter::Unsupported, Err(e)) => assert_eq!(
            e,
            Error::Value(format!("unsupported array element type (format '{shown}')"))
        ),
        (RefExporter::Record, Err(e)) => assert_eq!(
            e,
            Error::Value(format!("arrays of records are unsupported (format '{shown}')"))
        ),
        (RefExporter::Named(name), Err(e)) => assert_eq!(
            e,
            Error::Value(format!("{name} items (format '{shown}') are not supported"))
        ),
        (w, g) => panic!("format {shown} itemsize {itemsize}: want {w:?}, got {g:?}"),
    }
}

fn check_format(fmt: &[u8], itemsizes: [isize; 2]) {
    let shown = fmt.escape_ascii().to_string();
    let want = ref_exporter(fmt);
    for itemsize in itemsizes {
        check_exporter_size(fmt, want, itemsize);
        // Never fails, whatever the bytes and the size.
        let ts = typestr_of(Some(fmt), itemsize);
        assert!(ts.len() >= 3, "{ts:?}");
    }
    match want {
        RefExporter::Item(item) => {
            for itemsize in [item.size - 1, item.size, item.size + 1] {
                check_exporter_size(fmt, want, itemsize);
            }
            check_handed_out(fmt, item);
            // The reported typestr leads back to the same item, whose own format is the
            // table's (an exporter's `=1h` comes back as `h`).
            let back = ref_report(item);
            let (f, size) = typestr_to_format(back.as_bytes())
                .unwrap_or_else(|e| panic!("{shown} -> {back}: {e:?}"));
            assert_eq!(f.as_str(), ref_format(item), "{shown} -> {back}");
            assert_eq!(size, item.size, "{shown} -> {back}");
            assert_eq!(ref_exporter(f.as_bytes()), want, "{shown} -> {back}");
            // With an item size that disagrees, the items are void of that size.
            for other in [item.size + 1, item.size + 2] {
                assert_eq!(typestr_of(Some(fmt), other), ref_void_report(other), "{shown}");
            }
        }
        _ => {
            assert_eq!(format_item(Some(fmt)), None, "{shown}");
            assert_eq!(format_itemsize(fmt), None, "{shown}");
            assert_eq!(typekind_of(Some(fmt)), b'V', "{shown}");
            assert!(!is_swapped(Some(fmt)), "{shown}");
            for n in [1, 2, 3, 8, 17] {
                assert_eq!(typestr_of(Some(fmt), n), ref_void_report(n), "{shown}");
            }
        }
    }
    // Any format of at most 15 NUL-free bytes is stored inline, unchanged.
    let short = fmt.len() <= 15 && !fmt.contains(&0);
    match Format::from_bytes(fmt) {
        Some(f) => {
            assert!(short, "{shown}");
            assert_eq!(f.as_bytes(), fmt);
            let mut with_nul = fmt.to_vec();
            with_nul.push(0);
            assert_eq!(f.as_bytes_with_nul(), &with_nul[..]);
            assert!(f.as_str().is_empty() || f.as_str().as_bytes() == fmt);
        }
        None => assert!(!short, "{shown}"),
    }
}

fn check_arraystruct(kind: u8, size: i32, notswapped: bool) {
    let mut ts = vec![if notswapped { NATIVE } else { SWAPPED }, kind];
    ts.extend_from_slice(size.to_string().as_bytes());
    match (ref_arraystruct(kind, size, notswapped), arraystruct_to_format(kind, size, notswapped)) {
        (Ok(item), Ok(f)) => {
            assert_eq!(f.as_str(), ref_format(item), "({kind}, {size}, {notswapped})");
            // The same row as the equivalent typestr.
            assert_eq!(typestr_to_format(&ts), Ok((f, item.size)));
            // The format given to consumers is one we accept back from an exporter.
            check_handed_out(f.as_bytes(), item);
        }
        (Err(want), Err(e)) => {
            assert_eq!(e, Error::Value(want));
            assert!(typestr_to_format(&ts).is_err());
        }
        (w, g) => panic!("arraystruct ({kind}, {size}, {notswapped}): want {w:?}, got {g:?}"),
    }
}

fn check_item_new(kind: u8, size: isize, swapped: bool) {
    let want = u64::try_from(size).ok().and_then(|n| ref_row(kind, n, swapped));
    let got = Item::new(kind, size, swapped);
    assert_eq!(got, want.map(lib_item), "Item::new({kind}, {size}, {swapped})");
    if let (Some(item), Some(got)) = (want, got) {
        assert_eq!(got.format().as_str(), ref_format(item));
        assert_eq!(got.typestr(), ref_report(item));
    }
}

fuzz_target!(|input: Input| {
    check_typestr(&input.typestr.bytes());

    let itemsize = isize::from(input.itemsize);
    let big_itemsize = input.big_itemsize.get();
    match &input.format {
        Some(text) => check_format(&text.bytes(), [itemsize, big_itemsize]),
        None => {
            match check_exporter_format(None, itemsize) {
                Ok(item) => {
                    assert_eq!(itemsize, 1);
                    assert_eq!(item, Item { kind: b'u', size: 1, swapped: false });
                }
                Err(e) => {
                    assert_ne!(itemsize, 1);
                    let want = format!("exporter gave no format for {itemsize}-byte items");
                    assert_eq!(e, Error::Value(want));
                }
            }
            assert_eq!(typestr_of(None, 1), "|u1");
            assert_eq!((typekind_of(None), is_swapped(None)), (b'u', false));
        }
    }

    let (kind, size, ns) = (input.typekind, input.struct_itemsize, input.notswapped);
    check_arraystruct(kind, size, ns);
    check_item_new(kind, big_itemsize, !ns);
    check_item_new(kind, isize::from(input.itemsize), ns);
});
