//! `gather`, `gather_uninit`, `scatter`, `contiguous_bytes` and `check_span` on small
//! layouts and bounded buffers: each either refuses (the span does not fit, or the
//! linear side has the wrong size) exactly when an i128 reference says so, or agrees
//! with an item-by-item copy. Out-of-bounds access would panic (slices are checked).
#![no_main]

use arbitrary::Arbitrary;
use bufferproxy::core::copy::{check_span, contiguous_bytes, gather, gather_uninit, scatter};
use bufferproxy::core::{Error, Layout};
use bufferproxy_fuzz::{
    c_order_offsets, f_order_offsets, naive_gather, naive_scatter, random_bytes, ref_layout,
    ref_span_ok, Num,
};
use libfuzzer_sys::fuzz_target;
use std::mem::MaybeUninit;

const MAX_NDIM: usize = 4;
const MAX_DIM: u8 = 6;
const MAX_MEM: usize = 4096;

#[derive(Arbitrary, Debug)]
enum Strides {
    /// `None`: the default C order.
    Default,
    /// Dense Fortran order.
    Fortran,
    /// Small byte strides (overlaps, zeros, negatives, gaps, misaligned).
    Bytes(Vec<i8>),
    /// Small multiples of the item size (-8..=7 items).
    Items(Vec<i8>),
}

#[derive(Arbitrary, Debug)]
enum Placement {
    /// Memory covers the extent exactly, plus padding on either side.
    Fit { pad_lo: u8, pad_hi: u8 },
    /// Arbitrary (bounded) memory size and origin: mostly refused.
    Free { mem_len: u16, origin: u16 },
}

#[derive(Arbitrary, Debug)]
struct Input {
    shape: Vec<u8>,
    strides: Strides,
    itemsize: u8,
    placement: Placement,
    /// Added to the correct linear length (0: right size).
    linear_delta: i8,
    seed: u64,
    /// Unbounded span check (no memory touched): memory size, origin, a layout with
    /// arbitrary strides and a linear length.
    span_mem_len: usize,
    span_origin: usize,
    span_strides: Vec<Num>,
    span_linear_len: usize,
}

fuzz_target!(|input: Input| {
    let shape: Vec<isize> =
        input.shape.iter().take(MAX_NDIM).map(|&d| isize::from(d % (MAX_DIM + 1))).collect();
    let n = shape.len();
    let itemsize = isize::from(input.itemsize % 9 + 1);
    let pick = |v: &[i8], scale: isize| -> Vec<isize> {
        (0..n).map(|d| isize::from(v.get(d).copied().unwrap_or(1)) * scale).collect()
    };
    let strides: Option<Vec<isize>> = match &input.strides {
        Strides::Default => None,
        Strides::Fortran => {
            let mut step = itemsize;
            Some(
                shape
                    .iter()
                    .map(|&d| {
                        let s = step;
                        step *= d.max(1);
                        s
                    })
                    .collect(),
            )
        }
        Strides::Bytes(v) => Some(pick(v, 1)),
        Strides::Items(v) => Some(pick(v, 1).iter().map(|s| s / 16 * itemsize).collect()),
    };
    let layout = Layout::new(&shape, strides.as_deref(), itemsize)
        .unwrap_or_else(|e| panic!("small layout refused: {shape:?} {strides:?} {itemsize}: {e}"));
    let strides = layout.strides().to_vec();
    let offsets = c_order_offsets(&shape, &strides);
    let (lo, hi) = match (offsets.iter().min(), offsets.iter().max()) {
        (Some(&lo), Some(&hi)) => (lo, hi + itemsize as i128),
        _ => (0, 0),
    };
    let (mem_len, origin) = match input.placement {
        Placement::Fit { pad_lo, pad_hi } => {
            let size = usize::from(pad_lo) + (hi - lo) as usize + usize::from(pad_hi);
            (size, usize::from(pad_lo) + (-lo) as usize)
        }
        Placement::Free { mem_len, origin } => {
            (usize::from(mem_len) % MAX_MEM, usize::from(origin) % MAX_MEM)
        }
    };
    let len = layout.len() as usize;
    assert_eq!(len, offsets.len() * itemsize as usize);
    let linear_len = len.saturating_add_signed(isize::from(input.linear_delta)).min(2 * MAX_MEM);
    let ok = ref_span_ok(mem_len, origin, lo, hi) && linear_len == len;
    let is_value_err = |r: &Result<(), Error>| matches!(r, Err(Error::Value(_)));

    assert_eq!(check_span(mem_len, origin, &layout, linear_len).is_ok(), ok);
    let mem = random_bytes(input.seed, mem_len);
    let item = itemsize as usize;

    // gather: out is untouched on refusal.
    let mut out = vec![0xA5u8; linear_len];
    let r = gather(&mem, origin, &layout, &mut out);
    let want = ok.then(|| naive_gather(&mem, origin, &offsets, item));
    match &want {
        Some(w) => assert_eq!((&r, &out), (&Ok(()), w), "gather {layout:?} at {origin}"),
        None => {
            assert!(is_value_err(&r), "{r:?}");
            assert!(out.iter().all(|&b| b == 0xA5));
        }
    }

    // gather_uninit: two runs over different fill bytes catch a byte left unwritten.
    for fill in [0x00u8, 0xFF] {
        let mut out = vec![MaybeUninit::new(fill); linear_len];
        let r = gather_uninit(&mem, origin, &layout, &mut out);
        // SAFETY: every element was initialised with `fill` above, and gather_uninit
        // only ever stores initialised bytes into it.
        let out: Vec<u8> = out.iter().map(|b| unsafe { b.assume_init() }).collect();
        match &want {
            Some(w) => assert_eq!((&r, &out), (&Ok(()), w), "gather_uninit {layout:?} fill {fill}"),
            None => {
                assert!(is_value_err(&r), "{r:?}");
                assert!(out.iter().all(|&b| b == fill));
            }
        }
    }

    // scatter: the last write (C order) wins where items overlap; nothing on refusal.
    let data = random_bytes(input.seed.rotate_left(17) ^ 0x5555, linear_len);
    let mut got = mem.clone();
    let r = scatter(&data, &mut got, origin, &layout);
    if ok {
        let mut want = mem.clone();
        naive_scatter(&data, &mut want, origin, &offsets, item);
        assert_eq!((&r, &got), (&Ok(()), &want), "scatter {layout:?} at {origin}");
    } else {
        assert!(is_value_err(&r), "{r:?}");
        assert_eq!(got, mem, "a refused scatter wrote");
    }

    // contiguous_bytes: the items in memory order, for C- or Fortran-contiguous layouts.
    let r = contiguous_bytes(&mem, origin, &layout);
    let span_ok = ref_span_ok(mem_len, origin, lo, hi);
    match r {
        Ok(None) => assert!(!layout.is_contiguous()),
        Ok(Some(slice)) => {
            assert!(layout.is_contiguous() && span_ok);
            let in_order = if layout.is_c_contiguous() {
                offsets.clone()
            } else {
                f_order_offsets(&shape, &strides)
            };
            assert_eq!(slice, &naive_gather(&mem, origin, &in_order, item)[..]);
        }
        Err(e) => {
            assert!(layout.is_contiguous() && !span_ok, "{e:?}");
            assert!(matches!(e, Error::Value(_)));
        }
    }

    // check_span with unbounded numbers and a layout with arbitrary strides.
    let span_strides: Vec<isize> = input.span_strides.iter().map(|s| s.get()).collect();
    if let (Some(r), Ok(l)) = (
        ref_layout(&shape, Some(&span_strides), itemsize),
        Layout::new(&shape, Some(&span_strides), itemsize),
    ) {
        let (mem_len, origin, linear) =
            (input.span_mem_len, input.span_origin, input.span_linear_len);
        let want = ref_span_ok(mem_len, origin, r.extent.lo as i128, r.extent.hi as i128)
            && linear == r.len as usize;
        let got = check_span(mem_len, origin, &l, linear);
        assert_eq!(got.is_ok(), want, "check_span({mem_len}, {origin}, {l:?}, {linear}): {got:?}");
    }
});
