//! Contiguity with CPython's rules (`Objects/abstract.c`, `PyBuffer_IsContiguous`):
//! an array with no bytes is contiguous in every order, and dimensions of length 1
//! are ignored whatever their stride.

/// Whether items are laid out in C (row-major) order with no gaps.
pub fn is_c_contiguous(shape: &[isize], strides: &[isize], itemsize: isize) -> bool {
    contiguous(shape.iter().zip(strides).rev(), itemsize, shape)
}

/// Whether items are laid out in Fortran (column-major) order with no gaps.
pub fn is_f_contiguous(shape: &[isize], strides: &[isize], itemsize: isize) -> bool {
    contiguous(shape.iter().zip(strides), itemsize, shape)
}

fn contiguous<'a>(
    dims: impl Iterator<Item = (&'a isize, &'a isize)>,
    itemsize: isize,
    shape: &[isize],
) -> bool {
    if shape.contains(&0) {
        return true;
    }
    let mut expected = itemsize;
    for (&dim, &stride) in dims {
        if dim > 1 && stride != expected {
            return false;
        }
        // Only reached for validated layouts in practice; saturating keeps it total.
        expected = expected.saturating_mul(dim);
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_and_f() {
        assert!(is_c_contiguous(&[2, 3], &[3, 1], 1));
        assert!(!is_f_contiguous(&[2, 3], &[3, 1], 1));
        assert!(is_f_contiguous(&[2, 3], &[1, 2], 1));
        assert!(!is_c_contiguous(&[2, 3], &[1, 2], 1));
    }

    #[test]
    fn length_one_dimensions_are_ignored() {
        assert!(is_c_contiguous(&[1, 4], &[999, 2], 2));
        assert!(is_f_contiguous(&[1, 4], &[-5, 2], 2));
    }

    #[test]
    fn empty_is_contiguous_whatever_the_strides() {
        assert!(is_c_contiguous(&[3, 0], &[7, 5], 1));
        assert!(is_f_contiguous(&[3, 0], &[7, 5], 1));
    }

    #[test]
    fn zero_dim_is_both() {
        assert!(is_c_contiguous(&[], &[], 4));
        assert!(is_f_contiguous(&[], &[], 4));
    }

    #[test]
    fn negative_stride_is_not_contiguous() {
        assert!(!is_c_contiguous(&[3], &[-1], 1));
    }
}
