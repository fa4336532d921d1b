//! `Layout::new` (and `Layout::bytes`, contiguity, `negotiate`) against i128 and
//! brute-force references: accepted exactly when tests/core_props.rs says so, with the
//! same length, strides and extent, and never a panic.
#![no_main]

use arbitrary::Arbitrary;
use bufferproxy::core::request::negotiate;
use bufferproxy::core::{Error, Extent, Layout};
use bufferproxy_fuzz::{
    brute_contiguous, c_order_offsets, f_order_offsets, item_count, ref_getbuf, ref_layout, Num,
};
use libfuzzer_sys::fuzz_target;

/// Items enumerated one by one at most (brute-force extent and contiguity).
const BRUTE_MAX_ITEMS: i128 = 4096;

#[derive(Arbitrary, Debug)]
struct Input {
    shape: Vec<Num>,
    strides: Option<Vec<Num>>,
    itemsize: Num,
    bytes_len: usize,
    request: i32,
    readonly: bool,
}

fuzz_target!(|input: Input| {
    let shape: Vec<isize> = input.shape.iter().map(|n| n.get()).collect();
    let strides: Option<Vec<isize>> = input.strides.map(|s| s.iter().map(|n| n.get()).collect());
    let itemsize = input.itemsize.get();

    let expected = ref_layout(&shape, strides.as_deref(), itemsize);
    let got = Layout::new(&shape, strides.as_deref(), itemsize);
    match (expected, got) {
        (None, Err(e)) => assert!(matches!(e, Error::Value(_)), "{e:?}"),
        (None, Ok(l)) => panic!("accepted an invalid layout: {l:?}"),
        (Some(r), Err(e)) => panic!("rejected a valid layout ({r:?}): {e:?}"),
        (Some(r), Ok(l)) => {
            assert_eq!(l.shape(), &shape[..]);
            assert_eq!(l.ndim(), shape.len());
            assert_eq!(l.itemsize(), itemsize);
            assert_eq!(l.len(), r.len);
            assert_eq!(l.is_empty(), r.len == 0);
            assert_eq!(l.extent(), r.extent);
            let e = l.extent();
            assert!(e.lo <= 0 && 0 <= e.hi, "{e:?}");
            assert_eq!(e.size() as i128, e.hi as i128 - e.lo as i128);
            match (&strides, &r.strides) {
                (Some(given), _) => assert_eq!(l.strides(), &given[..]),
                (None, Some(c)) => assert_eq!(l.strides(), &c[..]),
                (None, None) => assert_eq!(l.len(), 0),
            }
            assert_eq!(l.clone(), l);

            // Small enough to enumerate: extent and contiguity by brute force.
            let (c, f) = if item_count(&shape) <= BRUTE_MAX_ITEMS {
                let offsets = c_order_offsets(&shape, l.strides());
                let want = match (offsets.iter().min(), offsets.iter().max()) {
                    (Some(&lo), Some(&hi)) => (lo, hi + itemsize as i128),
                    _ => (0, 0),
                };
                assert_eq!((e.lo as i128, e.hi as i128), want, "extent of {l:?}");
                let c = brute_contiguous(&offsets, itemsize);
                let f = brute_contiguous(&f_order_offsets(&shape, l.strides()), itemsize);
                assert_eq!(l.is_c_contiguous(), c, "C contiguity of {l:?}");
                assert_eq!(l.is_f_contiguous(), f, "F contiguity of {l:?}");
                (c, f)
            } else {
                (l.is_c_contiguous(), l.is_f_contiguous())
            };
            assert_eq!(l.is_contiguous(), c || f);

            match (
                ref_getbuf(c, f, input.readonly, input.request),
                negotiate(&l, input.readonly, input.request),
            ) {
                (Some(w), Ok(g)) => assert_eq!(g, w, "request {:#x}", input.request),
                (None, Err(e)) => assert!(matches!(e, Error::Buffer(_)), "{e:?}"),
                (w, g) => panic!("request {:#x}: want {w:?}, got {g:?}", input.request),
            }
        }
    }

    // A plain run of bytes: fine exactly when the length fits isize.
    match Layout::bytes(input.bytes_len) {
        Ok(l) => {
            let n = input.bytes_len as isize;
            assert!(input.bytes_len <= isize::MAX as usize);
            assert_eq!((l.shape(), l.strides(), l.itemsize(), l.len()), (&[n][..], &[1][..], 1, n));
            assert_eq!(l.extent(), Extent { lo: 0, hi: n });
            assert!(l.is_c_contiguous() && l.is_f_contiguous());
        }
        Err(e) => {
            assert!(input.bytes_len > isize::MAX as usize, "{e:?}");
            assert!(matches!(e, Error::Value(_)));
        }
    }
});
