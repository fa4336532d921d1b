//! `rust_exporter`: an extension module whose `Image` class owns RGBA pixels in Rust
//! and lends them to Python (numpy, `memoryview`, Pillow, `bufferproxy.BufferProxy`)
//! through the buffer protocol, without copying, using `bufferproxy::py::export`.
//!
//! What it takes to do this right, each point marked in the code below:
//!
//! 1. `__getbuffer__` describes the memory with a validated `Layout` and hands it to
//!    `export::export`, which answers the request as `memoryview` would (serving the
//!    format without the shape, as bytes and numpy do) and
//!    makes the view hold a reference to the image;
//! 2. `__releasebuffer__` calls `export::release`, once per successful export;
//! 3. the image counts its live exports and refuses to reallocate its pixels
//!    (`resize`) while any is alive: a consumer's pointer must never dangle;
//! 4. Rust code reaches the pixels only through the `Vec`'s raw pointer while they may
//!    be exported, never through a reference a consumer's write could invalidate;
//! 5. the pixels and the export count sit behind one lock, so "no export is alive"
//!    and "reallocate" are one step, even on a free-threaded interpreter.

use bufferproxy::core::format::Format;
use bufferproxy::core::Layout;
use bufferproxy::py::export::{self, ItemFormat, Memory};
use pyo3::exceptions::{PyBufferError, PyIndexError, PyMemoryError, PyOverflowError};
use pyo3::ffi;
use pyo3::prelude::*;
use std::ffi::c_int;
use std::ptr;
use std::sync::{Mutex, MutexGuard, PoisonError};

/// Bytes per pixel: red, green, blue, alpha.
const CHANNELS: usize = 4;

/// The pixels and everything that must change together with them.
struct Pixels {
    width: usize,
    height: usize,
    /// Shape `(height, width, 4)`, C order, one byte per item.
    layout: Layout,
    /// Never reallocated while `exports > 0`.
    data: Vec<u8>,
    /// Buffer exports not yet released.
    exports: usize,
}

impl Pixels {
    /// Zero-filled (transparent black) pixels; `MemoryError` or `OverflowError` rather
    /// than an abort for sizes that cannot be allocated.
    fn new(width: usize, height: usize) -> PyResult<Self> {
        let dim = |n: usize| {
            isize::try_from(n).map_err(|_| PyOverflowError::new_err("image size out of range"))
        };
        // `Layout::new` refuses a byte length beyond isize::MAX (a ValueError).
        let layout = Layout::new(&[dim(height)?, dim(width)?, CHANNELS as isize], None, 1)?;
        let len = layout.len().unsigned_abs();
        let mut data = Vec::new();
        data.try_reserve_exact(len).map_err(|_| {
            PyMemoryError::new_err(format!("cannot allocate {len} bytes of pixels"))
        })?;
        data.resize(len, 0);
        Ok(Pixels { width, height, layout, data, exports: 0 })
    }

    /// The byte offset of pixel `(x, y)`, or `IndexError`.
    fn offset(&self, x: usize, y: usize) -> PyResult<usize> {
        if x >= self.width || y >= self.height {
            return Err(PyIndexError::new_err(format!(
                "pixel ({x}, {y}) is outside the {}x{} image",
                self.width, self.height
            )));
        }
        Ok((y * self.width + x) * CHANNELS)
    }
}

/// An RGBA image of ``width`` x ``height`` pixels, owned by Rust.
///
/// It exports its pixels through the buffer protocol with shape ``(height, width, 4)``,
/// strides ``(4 * width, 4, 1)`` and format ``"B"``, writable unless ``readonly``:
/// ``numpy.asarray(image)`` and ``memoryview(image)`` share its memory.
/// ``resize`` raises ``BufferError`` while any export is alive.
#[pyclass(module = "rust_exporter", frozen)]
pub struct Image {
    readonly: bool,
    pixels: Mutex<Pixels>,
}

impl Image {
    fn pixels(&self) -> MutexGuard<'_, Pixels> {
        // No critical section leaves `Pixels` half-updated, so a panic elsewhere cannot
        // have broken it: ignore poisoning.
        self.pixels.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[pymethods]
impl Image {
    #[new]
    #[pyo3(signature = (width, height, *, readonly = false))]
    fn new(width: usize, height: usize, readonly: bool) -> PyResult<Self> {
        Ok(Image { readonly, pixels: Mutex::new(Pixels::new(width, height)?) })
    }

    /// Width in pixels.
    #[getter]
    fn width(&self) -> usize {
        self.pixels().width
    }

    /// Height in pixels.
    #[getter]
    fn height(&self) -> usize {
        self.pixels().height
    }

    /// Whether exported views are read-only.
    #[getter]
    fn readonly(&self) -> bool {
        self.readonly
    }

    /// Number of buffer exports not yet released.
    #[getter]
    fn exports(&self) -> usize {
        self.pixels().exports
    }

    /// The ``(r, g, b, a)`` of pixel ``(x, y)``.
    fn pixel(&self, x: usize, y: usize) -> PyResult<(u8, u8, u8, u8)> {
        let pixels = self.pixels();
        let at = pixels.offset(x, y)?;
        let mut rgba = [0u8; CHANNELS];
        // SAFETY: `offset` checked that `at + 4 <= data.len()`. Read through the raw
        // pointer (point 4): consumers may hold pointers into these bytes.
        unsafe { ptr::copy_nonoverlapping(pixels.data.as_ptr().add(at), rgba.as_mut_ptr(), 4) };
        let [r, g, b, a] = rgba;
        Ok((r, g, b, a))
    }

    /// Sets pixel ``(x, y)`` to ``(r, g, b, a)``; exported views see the change.
    fn set_pixel(&self, x: usize, y: usize, rgba: (u8, u8, u8, u8)) -> PyResult<()> {
        let mut pixels = self.pixels();
        let at = pixels.offset(x, y)?;
        let (r, g, b, a) = rgba;
        let dst = pixels.data.as_mut_ptr();
        // SAFETY: `offset` checked that `at + 4 <= data.len()`. Written through the raw
        // pointer (point 4), which `as_mut_ptr` derives without creating a reference.
        unsafe { ptr::copy_nonoverlapping([r, g, b, a].as_ptr(), dst.add(at), 4) };
        Ok(())
    }

    /// Reallocates the image as ``width`` x ``height`` transparent black pixels.
    ///
    /// Raises ``BufferError`` while any export (a ``memoryview``, a numpy array, ...)
    /// is alive: it would be left pointing at freed memory.
    fn resize(&self, width: usize, height: usize) -> PyResult<()> {
        let mut pixels = self.pixels();
        // Point 3 (and 5: checked under the same lock as the reallocation).
        if pixels.exports > 0 {
            return Err(PyBufferError::new_err(format!(
                "cannot resize an Image while {} buffer export(s) are alive",
                pixels.exports
            )));
        }
        *pixels = Pixels::new(width, height)?;
        Ok(())
    }

    fn __repr__(&self) -> String {
        let pixels = self.pixels();
        format!(
            "Image(width={}, height={}, readonly={}, exports={})",
            pixels.width,
            pixels.height,
            if self.readonly { "True" } else { "False" },
            pixels.exports
        )
    }

    /// Point 1: describe the pixels and let `export::export` fill the view.
    unsafe fn __getbuffer__(
        slf: Bound<'_, Self>,
        view: *mut ffi::Py_buffer,
        flags: c_int,
    ) -> PyResult<()> {
        let this = slf.get();
        let mut pixels = this.pixels();
        // `as_mut_ptr` creates no reference to the bytes (point 4). An empty image
        // exports the Vec's dangling, non-null pointer with length 0, as bytearray does.
        let addr = pixels.data.as_mut_ptr() as usize;
        let memory = Memory { addr, layout: &pixels.layout, readonly: this.readonly };
        let format = ItemFormat::Inline(Format::UNSIGNED_BYTES);
        // SAFETY: `view` and `flags` are what CPython handed to this slot. The bytes
        // are the Vec's buffer, `layout.len()` bytes from `addr`, owned by `slf`: the
        // view keeps `slf` alive (export stores it in `view.obj`), and `resize`, the only
        // code that reallocates `data`, refuses while the export counted below is alive.
        // Rust reaches the bytes only through raw pointers.
        unsafe { export::export(view, slf.clone().into_any(), memory, format, flags, ())? };
        // Counted only once the export succeeded: a refused request fills nothing and
        // will not be released.
        pixels.exports += 1;
        Ok(())
    }

    /// Point 2: one release per successful export.
    unsafe fn __releasebuffer__(&self, view: *mut ffi::Py_buffer) {
        self.pixels().exports -= 1;
        // SAFETY: CPython calls this slot once for each view that `__getbuffer__` filled
        // successfully, which is what `release` needs.
        unsafe { export::release(view) }
    }
}

/// Example extension module: an RGBA ``Image`` that exports its Rust-owned pixels
/// through the buffer protocol with ``bufferproxy::py::export``.
#[pymodule]
fn rust_exporter(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Image>()?;
    Ok(())
}
