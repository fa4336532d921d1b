//! Typestrs and PEP 3118 formats from arbitrary bytes: `typestr_to_format`,
//! `check_exporter_format`, `format_itemsize`, `typestr_of`, `arraystruct_to_format`
//! and `Format::from_bytes` never panic, agree with the tables of tests/core_props.rs,
//! and accepted typestrs round-trip through their normalised form.
#![no_main]

use arbitrary::Arbitrary;
use bufferproxy::core::format::{
    arraystruct_to_format, check_exporter_format, format_itemsize, is_swapped, typekind_of,
    typestr_of, typestr_to_format, Format,
};
use bufferproxy::core::Error;
use bufferproxy_fuzz::{
    ref_arraystruct, ref_exporter_itemsize, ref_exporter_typestr, ref_normalised, ref_typestr,
};
use libfuzzer_sys::fuzz_target;

/// The characters the grammars care about; `Mapped` bytes are drawn from them so that
/// short inputs hit valid typestrs and formats often.
const ALPHABET: &[u8] = b"<>|=!@iufVbBhHlLqQdx?ec0123456789";

#[derive(Arbitrary, Debug)]
enum Text {
    Raw(Vec<u8>),
    Mapped(Vec<u8>),
}

impl Text {
    fn bytes(&self) -> Vec<u8> {
        match self {
            Text::Raw(b) => b.clone(),
            Text::Mapped(b) => {
                b.iter().map(|&c| ALPHABET[usize::from(c) % ALPHABET.len()]).collect()
            }
        }
    }
}

#[derive(Arbitrary, Debug)]
struct Input {
    typestr: Text,
    format: Option<Text>,
    itemsize: i8,
    big_itemsize: isize,
    typekind: u8,
    struct_itemsize: i32,
    notswapped: bool,
}

fn check_typestr(ts: &[u8]) {
    let shown = ts.escape_ascii().to_string();
    match (ref_typestr(ts), typestr_to_format(ts)) {
        (None, Err(e)) => {
            assert!(matches!(e, Error::Value(_)), "{shown}: {e:?}");
            assert!(e.message().contains(&shown), "error does not name {shown}: {e}");
        }
        (None, Ok(f)) => panic!("{shown} accepted as {f:?}"),
        (Some(r), Err(e)) => panic!("{shown} rejected ({e:?}), expected {r:?}"),
        (Some((want, n)), Ok((f, size))) => {
            assert_eq!(f.as_str(), want, "{shown}");
            assert_eq!(size, n, "{shown}");
            let mut with_nul = want.into_bytes();
            with_nul.push(0);
            assert_eq!(f.as_bytes_with_nul(), &with_nul[..]);
            // What we export is what we accept from an exporter.
            assert_eq!(format_itemsize(f.as_bytes()), Some(size), "{shown}");
            assert_eq!(check_exporter_format(Some(f.as_bytes()), size), Ok(()), "{shown}");
            // The reported typestr is normalised, and normalising is a fixed point.
            let back = typestr_of(Some(f.as_bytes()), size);
            assert_eq!(back, ref_normalised(ts), "{shown}");
            let (f2, size2) = typestr_to_format(back.as_bytes()).expect("normalised typestr");
            assert_eq!((f2, size2), (f, size), "{shown} -> {back}");
            assert_eq!(typestr_of(Some(f2.as_bytes()), size2), back);
        }
    }
}

fn check_format(fmt: &[u8], itemsize: isize) {
    let shown = fmt.escape_ascii().to_string();
    let want = ref_exporter_itemsize(fmt);
    assert_eq!(format_itemsize(fmt), want, "format_itemsize({shown})");
    let got = check_exporter_format(Some(fmt), itemsize);
    assert_eq!(got.is_ok(), want == Some(itemsize), "{shown} itemsize {itemsize}: {got:?}");
    if let Err(e) = got {
        assert!(matches!(e, Error::Value(_)), "{e:?}");
    }
    // These never fail, whatever the bytes.
    let ts = typestr_of(Some(fmt), itemsize);
    assert!(ts.len() >= 3, "{ts:?}");
    let _ = (typekind_of(Some(fmt)), is_swapped(Some(fmt)));
    if let Some(n) = want {
        assert_eq!(typestr_of(Some(fmt), n), ref_exporter_typestr(fmt, n), "{shown}");
    }
    // Any short NUL-free format is stored inline, unchanged.
    match Format::from_bytes(fmt) {
        Some(f) => {
            assert!(fmt.len() < 4 && !fmt.contains(&0), "{shown}");
            assert_eq!(f.as_bytes(), fmt);
            assert_eq!(f.as_bytes_with_nul().last(), Some(&0));
            assert!(f.as_str().is_empty() || f.as_str().as_bytes() == fmt);
        }
        None => assert!(fmt.len() >= 4 || fmt.contains(&0), "{shown}"),
    }
}

fuzz_target!(|input: Input| {
    check_typestr(&input.typestr.bytes());

    let itemsize = isize::from(input.itemsize);
    match &input.format {
        Some(text) => {
            let fmt = text.bytes();
            check_format(&fmt, itemsize);
            check_format(&fmt, input.big_itemsize);
        }
        None => {
            assert_eq!(check_exporter_format(None, itemsize).is_ok(), itemsize == 1);
            assert_eq!(typestr_of(None, 1), "|u1");
        }
    }

    let (kind, size, ns) = (input.typekind, input.struct_itemsize, input.notswapped);
    match (ref_arraystruct(kind, size, ns), arraystruct_to_format(kind, size, ns)) {
        (Some(want), Ok(f)) => {
            assert_eq!(f.as_str(), want);
            // The format given to consumers is one we accept back from an exporter.
            assert_eq!(check_exporter_format(Some(f.as_bytes()), size as isize), Ok(()));
        }
        (None, Err(e)) => assert!(matches!(e, Error::Value(_)), "{e:?}"),
        (w, g) => panic!("arraystruct ({kind}, {size}, {ns}): want {w:?}, got {g:?}"),
    }
});
