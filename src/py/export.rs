//! Filling a `Py_buffer` for a consumer: the one place the proxy and the test
//! exporter (and any Rust code exporting its own memory) hand memory to Python.
//!
//! [`export`] negotiates the request flags against the layout (as `memoryview`
//! does) and fills the view; [`release`] undoes it. Shape, strides and format are
//! copied into one allocation owned by the view (`Py_buffer.internal`), together with
//! a `keep` value that is dropped when the consumer releases the view: put there
//! whatever must stay alive, or must happen, until then.
//!
//! # The pattern
//!
//! A `#[pyclass]` that owns its memory exports it from `__getbuffer__` with [`export`]
//! and frees the export from `__releasebuffer__` with [`release`]. `export` takes:
//!
//! * `view` and `flags`, exactly as `__getbuffer__` received them;
//! * `owner`, the exporting object (`slf`): the view holds a strong reference to it in
//!   `view.obj`, so the object, and memory it owns, outlive every consumer;
//! * a [`Memory`]: the address of the first item, its [`Layout`] and whether consumers
//!   may write;
//! * an [`ItemFormat`]: the PEP 3118 format of one item;
//! * `keep`: any value to drop at release (`()` when the owner keeps everything alive).
//!
//! It answers every `PyBUF_*` request as `memoryview` would, but serves the format without
//! the shape as bytes, numpy and pygame do (see
//! [`negotiate`]): a writable request for read-only memory, or a contiguous one for a
//! strided layout, raises `BufferError` and fills nothing.
//!
//! # Safety contract
//!
//! The functions are `unsafe` because a consumer gets a raw pointer and trusts it until
//! it releases the view, which can be much later (a numpy array made from the object
//! lives as long as it likes). The exporter promises that, from `export` until
//! `release`:
//!
//! 1. the bytes `addr + extent.lo .. addr + extent.hi` ([`Layout::extent`]) stay
//!    allocated: **not freed, reallocated or moved**. Memory owned by `owner` is kept
//!    allocated by the view's reference to it, but resizing it, swapping it or
//!    replacing it must be refused while exports are alive: count them in
//!    `__getbuffer__`/`__releasebuffer__` and raise `BufferError` otherwise, as
//!    `bytearray` does;
//! 2. the bytes are readable, and writable unless [`Memory::readonly`];
//! 3. Rust code does not hold a `&mut` (or, for writable exports, a `&`) reference to
//!    those bytes across a point where a consumer may write: consumers write through
//!    the pointer whenever they like, from any thread that holds it, including numpy
//!    copies that release the GIL. Reach the bytes through raw pointers or
//!    `UnsafeCell`, or through a `Vec`'s `as_ptr`/`as_mut_ptr`, which create no
//!    reference to the contents;
//! 4. `view` is the pointer the `__getbuffer__` slot received, and every successful
//!    export is released exactly once, by [`release`], from the owner's
//!    `__releasebuffer__` (CPython's `PyBuffer_Release` calls it, then drops
//!    `view.obj`).
//!
//! The layout, format and grant are copied into the view, so a [`Layout`] borrowed for
//! the call may be dropped or changed afterwards; only the memory itself is borrowed
//! for the life of the view.
//!
//! # Example
//!
//! An RGBA image of `height x width` pixels (shape `(height, width, 4)`, format `"B"`)
//! that counts its exports and refuses to resize while one is alive. The pixels and the
//! count sit behind one lock, so checking the count and reallocating are one step.
//! `examples/rust_exporter/` in the repository is the same class as an installable
//! extension module, with its tests.
//!
//! ```
//! use bufferproxy::core::format::Format;
//! use bufferproxy::core::Layout;
//! use bufferproxy::py::export::{self, ItemFormat, Memory};
//! use pyo3::exceptions::PyBufferError;
//! use pyo3::ffi;
//! use pyo3::prelude::*;
//! use std::ffi::c_int;
//! use std::sync::{Mutex, MutexGuard, PoisonError};
//!
//! struct Pixels {
//!     data: Vec<u8>,
//!     layout: Layout,
//!     exports: usize,
//! }
//!
//! #[pyclass(frozen)]
//! struct Image {
//!     pixels: Mutex<Pixels>,
//! }
//!
//! impl Image {
//!     fn pixels(&self) -> MutexGuard<'_, Pixels> {
//!         self.pixels.lock().unwrap_or_else(PoisonError::into_inner)
//!     }
//! }
//!
//! #[pymethods]
//! impl Image {
//!     #[new]
//!     fn new(width: usize, height: usize) -> PyResult<Self> {
//!         let layout = Layout::new(&[height as isize, width as isize, 4], None, 1)?;
//!         let data = vec![0; layout.len() as usize];
//!         Ok(Image { pixels: Mutex::new(Pixels { data, layout, exports: 0 }) })
//!     }
//!
//!     fn resize(&self, width: usize, height: usize) -> PyResult<()> {
//!         let mut pixels = self.pixels();
//!         if pixels.exports > 0 {
//!             return Err(PyBufferError::new_err("cannot resize an exported image"));
//!         }
//!         pixels.layout = Layout::new(&[height as isize, width as isize, 4], None, 1)?;
//!         let len = pixels.layout.len() as usize;
//!         pixels.data.resize(len, 0); // may reallocate: no export may be alive
//!         Ok(())
//!     }
//!
//!     unsafe fn __getbuffer__(
//!         slf: Bound<'_, Self>,
//!         view: *mut ffi::Py_buffer,
//!         flags: c_int,
//!     ) -> PyResult<()> {
//!         let mut pixels = slf.get().pixels();
//!         // `as_mut_ptr` creates no reference to the bytes that a consumer's writes
//!         // would invalidate.
//!         let addr = pixels.data.as_mut_ptr() as usize;
//!         let memory = Memory { addr, layout: &pixels.layout, readonly: false };
//!         let format = ItemFormat::Inline(Format::UNSIGNED_BYTES);
//!         // SAFETY: `view` and `flags` come from CPython. The bytes are the `Vec`'s
//!         // buffer, owned by `slf`, which the view keeps alive; `resize` refuses to
//!         // reallocate them until `__releasebuffer__` has counted every export back.
//!         unsafe { export::export(view, slf.clone().into_any(), memory, format, flags, ())? };
//!         pixels.exports += 1; // only once the export succeeded
//!         Ok(())
//!     }
//!
//!     unsafe fn __releasebuffer__(&self, view: *mut ffi::Py_buffer) {
//!         self.pixels().exports -= 1;
//!         // SAFETY: `view` was filled by a successful `__getbuffer__` and CPython
//!         // releases it once.
//!         unsafe { export::release(view) }
//!     }
//! }
//!
//! # fn main() -> PyResult<()> {
//! Python::initialize();
//! Python::attach(|py| {
//!     let image = Bound::new(py, Image::new(3, 2)?)?;
//!     let locals = pyo3::types::PyDict::new(py);
//!     locals.set_item("image", &image)?;
//!     py.run(
//!         cr#"
//! view = memoryview(image)
//! assert (view.shape, view.strides, view.format) == ((2, 3, 4), (12, 4, 1), "B")
//! view[1, 2, 3] = 255
//! try:
//!     image.resize(4, 4)
//! except BufferError:
//!     pass
//! else:
//!     raise AssertionError("resized while exported")
//! assert bytes(view)[-1] == 255
//! view.release()
//! image.resize(4, 4)
//! assert memoryview(image).shape == (4, 4, 4)
//! "#,
//!         None,
//!         Some(&locals),
//!     )?;
//!     assert_eq!(image.get().pixels().exports, 0);
//!     Ok(())
//! })
//! # }
//! ```

use crate::core::format::Format;
use crate::core::request::{negotiate, Grant};
use crate::core::Layout;
use crate::py::slot::{Owning, PyBox};
use pyo3::ffi;
use pyo3::prelude::*;
use std::ffi::{c_int, c_void, CString};
use std::mem::{align_of, size_of, MaybeUninit};
use std::ptr;

/// A PEP 3118 format string for an export: what `memoryview.format` shows and numpy
/// reads its dtype from.
///
/// It is passed to consumers verbatim and is not checked here; it must describe
/// items of `layout.itemsize()` bytes (consumers check: numpy refuses a mismatch).
/// [`format_itemsize`](crate::core::format::format_itemsize) computes the size of the
/// single-item formats.
///
/// ```
/// use bufferproxy::core::format::Format;
/// use bufferproxy::py::export::ItemFormat;
/// use std::ffi::CString;
///
/// // Bytes, little-endian f32: short formats are stored inline (no allocation).
/// let bytes = ItemFormat::Inline(Format::UNSIGNED_BYTES);
/// let floats = ItemFormat::Inline(Format::from_bytes(b"<f").unwrap());
/// // A struct of two little-endian u16 and a float: any format, owned.
/// let record = ItemFormat::Owned(CString::new("T{<H:x:<H:y:<f:z:}").unwrap());
/// # let _ = (bytes, floats, record);
/// ```
#[derive(Debug, Clone)]
pub enum ItemFormat {
    /// A short format (at most three characters), stored inline.
    Inline(Format),
    /// Any other format, verbatim (the `CString` is moved into the view's storage).
    Owned(CString),
}

impl ItemFormat {
    fn as_ptr(&self) -> *const std::ffi::c_char {
        match self {
            ItemFormat::Inline(f) => f.as_bytes_with_nul().as_ptr().cast(),
            ItemFormat::Owned(s) => s.as_ptr(),
        }
    }
}

/// The memory an export describes: where the first item is, how the items are laid
/// out around it, and whether consumers may write.
///
/// With negative strides the first item is not the lowest byte: for memory starting at
/// `base`, `addr` is `base + (-layout.extent().lo)`, and the memory must cover
/// `layout.extent().size()` bytes from `base`.
///
/// ```
/// use bufferproxy::core::Layout;
/// use bufferproxy::py::export::Memory;
///
/// // A 2 x 3 image of RGBA pixels, bottom row first (rows reversed, as in BMP files).
/// let pixels = vec![0u8; 24];
/// let layout = Layout::new(&[2, 3, 4], Some(&[-12, 4, 1]), 1)?;
/// let base = pixels.as_ptr() as usize;
/// let addr = base + layout.extent().lo.unsigned_abs();
/// let memory = Memory { addr, layout: &layout, readonly: true };
/// assert_eq!(memory.addr, base + 12);
/// assert_eq!(layout.extent().size(), pixels.len());
/// # Ok::<(), bufferproxy::core::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Memory<'a> {
    /// Address of the first item (the `Py_buffer.buf` consumers get).
    pub addr: usize,
    /// Layout of the items around `addr`; copied into the view, so it is only borrowed
    /// for the call.
    pub layout: &'a Layout,
    /// Whether consumers must not write: writable requests are then refused with
    /// `BufferError`, and every view says `readonly = 1`.
    pub readonly: bool,
}

/// What a filled view points into; lives until the consumer releases the view.
///
/// One allocation per export: the layout (whose shape and strides the view points to),
/// the format and the `keep` value. `release` comes first so that [`release`] can free a
/// storage without knowing `K`.
#[repr(C)]
struct Storage<K> {
    release: unsafe fn(*mut c_void),
    layout: Layout,
    format: ItemFormat,
    _keep: K,
}

/// What [`fill_described`] stores: the value that describes (and keeps) the memory, and
/// the format; the view points into both. `release` first, as in [`Storage`].
#[repr(C)]
struct DescribedStorage<K> {
    release: unsafe fn(*mut c_void),
    format: ItemFormat,
    keep: K,
}

/// A storage in memory from the interpreter's allocator (as a consumer's view is made and
/// released attached), given up to the view: aborts if there is no memory, as `Box` does.
fn leak_storage<S>(py: Python<'_>, storage: S) -> *mut S {
    match PyBox::new(py, storage) {
        Ok(boxed) => Owning::into_raw(boxed),
        Err(_) => std::alloc::handle_alloc_error(std::alloc::Layout::new::<S>()),
    }
}

/// Frees a storage (`Storage<K>` or `DescribedStorage<K>`) leaked by a fill function.
///
/// # Safety
///
/// `storage` must come from [`leak_storage::<S>`](leak_storage) and not have been freed;
/// the thread is attached (as [`release`] is called from a `bf_releasebuffer` slot).
unsafe fn free_storage<S>(storage: *mut c_void) {
    // SAFETY: the caller's guarantees: a box given up to the view, freed once, attached.
    unsafe { PyBox::from_raw(storage.cast::<S>()).free(Python::assume_attached()) }
}

/// A value that owns (or keeps alive) memory and knows how it is laid out: what
/// [`fill_described`] exports without copying the layout.
pub trait Describe {
    /// The memory this value describes; valid as long as the value lives.
    fn memory(&self) -> Memory<'_>;
    /// The items' PEP 3118 format.
    fn format(&self) -> ItemFormat;
}

/// Negotiates `flags` for `memory` and fills `view` for `owner`: the body of a
/// `__getbuffer__` method.
///
/// `owner` becomes `view.obj` (the reference is moved into the view), `keep` is dropped
/// when the view is released. The request is decided by
/// [`negotiate`], as `memoryview` would (and serving the format without the shape, as
/// bytes, numpy and pygame do).
/// The module documentation shows the whole `__getbuffer__`/`__releasebuffer__` pair.
///
/// # Errors
///
/// `BufferError` when the request cannot be met (a writable request over read-only
/// memory, a contiguity the layout lacks, ...). On error nothing is filled
/// (`view.obj` stays NULL) and `keep` is dropped: count an export only after `export`
/// returned `Ok`.
///
/// # Safety
///
/// `view` must be the `Py_buffer` handed to a `bf_getbuffer` slot (`__getbuffer__`),
/// and the memory described (`memory.layout`'s extent around `memory.addr`) must stay
/// valid for reads, and for writes unless `memory.readonly`, until the view is released
/// with [`release`]: `owner` or `keep` must be what keeps it alive, and it must not be
/// freed, reallocated or moved meanwhile. Consumers may write to writable memory at any
/// time until then, so no Rust reference to those bytes may be held across such
/// writes. See the [module documentation](self#safety-contract).
pub unsafe fn export<K: Send + 'static>(
    view: *mut ffi::Py_buffer,
    owner: Bound<'_, PyAny>,
    memory: Memory<'_>,
    format: ItemFormat,
    flags: c_int,
    keep: K,
) -> PyResult<()> {
    let grant = negotiate(memory.layout, memory.readonly, flags)?;
    // SAFETY: the caller's guarantees are ours to pass on; the grant was just negotiated.
    unsafe { fill(view, owner, memory, format, grant, keep) };
    Ok(())
}

/// Fills `view` with an already negotiated `grant`. `keep` is dropped when the view is
/// released.
///
/// [`export`] is `negotiate` followed by `fill`; call them apart when something must
/// happen between deciding the request and handing out the pointer, which may then not
/// fail (the proxy acquires its parent's memory there). A 0-dimensional layout gets a
/// NULL shape and strides whatever was granted, as from `memoryview`.
///
/// The usual shape: `let grant = negotiate(&layout, readonly, flags)?;`, then the side
/// effect that must not happen for a refused request (locking, mapping, acquiring),
/// then `fill(view, owner, memory, format, grant, guard)` with the lock or mapping guard
/// as `keep`, so it is undone when the consumer releases the view.
///
/// # Safety
///
/// As for [`export`]; `grant` must come from [`negotiate`] for this memory (the same
/// layout and `readonly`): a grant without strides for a strided layout, say, would
/// make consumers read the wrong bytes, and past the end.
pub unsafe fn fill<K: Send + 'static>(
    view: *mut ffi::Py_buffer,
    owner: Bound<'_, PyAny>,
    memory: Memory<'_>,
    format: ItemFormat,
    grant: Grant,
    keep: K,
) {
    let storage = leak_storage(
        owner.py(),
        Storage {
            release: free_storage::<Storage<K>>,
            layout: memory.layout.clone(),
            format,
            _keep: keep,
        },
    );
    // SAFETY: `storage` was just allocated and is only freed by `release`; it does not
    // move while it is leaked, so pointers into it stay valid until then.
    let s = unsafe { &*storage };
    let memory = Memory { layout: &s.layout, ..memory };
    // SAFETY: the caller's guarantees, and the storage belongs to the view from now on.
    unsafe { write_view(view, owner, memory, &s.format, grant, storage.cast()) };
}

/// [`fill`] for a `keep` value that itself describes the memory (see [`Describe`]): the
/// view points into `keep`'s own layout instead of a copy. The proxy exports this way.
///
/// # Safety
///
/// As for [`fill`], with `keep.memory()` as the memory.
pub unsafe fn fill_described<K: Describe + Send + 'static>(
    view: *mut ffi::Py_buffer,
    owner: Bound<'_, PyAny>,
    grant: Grant,
    keep: K,
) {
    // SAFETY: the caller's guarantees, for the `keep` written here.
    let filled = unsafe {
        fill_described_with(view, &owner, |out| {
            out.write(keep);
            Ok(grant)
        })
    };
    // Only the storage's allocation can fail: abort, as `Box` does.
    if filled.is_err() {
        std::alloc::handle_alloc_error(std::alloc::Layout::new::<DescribedStorage<K>>());
    }
}

/// A [`DescribedStorage`] before its format and `keep` value are written: the same layout
/// (`repr(C)`, and `MaybeUninit` is transparent), so once both are written it is one.
#[repr(C)]
struct UninitStorage<K> {
    release: unsafe fn(*mut c_void),
    format: MaybeUninit<ItemFormat>,
    keep: MaybeUninit<K>,
}

/// [`fill_described`] with the `keep` value made in place, in the storage the view will
/// own, so that a large value is not moved: `make` writes it and returns the grant it
/// negotiated, or fails, and then nothing is filled. The proxy exports this way.
///
/// # Safety
///
/// As for [`fill_described`], with the value `make` writes as `keep`.
pub(crate) unsafe fn fill_described_with<K: Describe + Send + 'static>(
    view: *mut ffi::Py_buffer,
    owner: &Bound<'_, PyAny>,
    make: impl FnOnce(&mut MaybeUninit<K>) -> PyResult<Grant>,
) -> PyResult<()> {
    const {
        assert!(size_of::<UninitStorage<K>>() == size_of::<DescribedStorage<K>>());
        assert!(align_of::<UninitStorage<K>>() == align_of::<DescribedStorage<K>>());
    }
    let py = owner.py();
    let mut boxed = PyBox::new(
        py,
        UninitStorage::<K> {
            release: free_storage::<DescribedStorage<K>>,
            format: MaybeUninit::uninit(),
            keep: MaybeUninit::uninit(),
        },
    )?;
    let grant = match make(&mut boxed.keep) {
        Ok(grant) => grant,
        Err(err) => {
            boxed.free(py); // nothing written to drop
            return Err(err);
        }
    };
    // SAFETY: `make` returned `Ok`, so it wrote `keep`.
    let format = unsafe { boxed.keep.assume_init_ref() }.format();
    boxed.format.write(format);
    // Both fields are written: from here the storage is a DescribedStorage<K> (the same
    // layout), the view's until `release` frees it as one.
    let storage = Owning::into_raw(boxed).cast::<DescribedStorage<K>>();
    // SAFETY: as in `fill`: the storage does not move while the view owns it.
    let s = unsafe { &*storage };
    // SAFETY: the caller's guarantees, and the storage belongs to the view from now on.
    unsafe {
        write_view(view, owner.clone(), s.keep.memory(), &s.format, grant, storage.cast());
    }
    Ok(())
}

/// Writes the fields of `view`. A 0-dimensional export has NULL shape and strides whatever
/// was requested (the buffer protocol requires it, and memoryview does the same).
///
/// # Safety
///
/// `view` is a valid, writable Py_buffer; `memory.layout` and `format` live inside
/// `storage`, which the view owns (`internal`) until [`release`] frees it.
unsafe fn write_view(
    view: *mut ffi::Py_buffer,
    owner: Bound<'_, PyAny>,
    memory: Memory<'_>,
    format: &ItemFormat,
    grant: Grant,
    storage: *mut c_void,
) {
    let layout = memory.layout;
    let dims = layout.ndim() > 0;
    let shape = if grant.shape && dims { layout.shape().as_ptr() } else { ptr::null() };
    let strides = if grant.strides && dims { layout.strides().as_ptr() } else { ptr::null() };
    let format = if grant.format { format.as_ptr() } else { ptr::null() };
    let ndim = if grant.shape { layout.ndim() as c_int } else { 1 };
    // SAFETY: the caller guarantees `view` is a valid, writable Py_buffer; every pointer
    // stored points into `storage`, which now belongs to the view until `release`.
    // Consumers do not write through shape, strides or format (they are `const` in
    // spirit; the C struct just does not say so).
    unsafe {
        let v = &mut *view;
        v.buf = memory.addr as *mut c_void;
        v.len = layout.len();
        v.readonly = c_int::from(memory.readonly);
        v.itemsize = layout.itemsize();
        v.format = format.cast_mut();
        v.ndim = ndim;
        v.shape = shape.cast_mut();
        v.strides = strides.cast_mut();
        v.suboffsets = ptr::null_mut();
        v.internal = storage;
        v.obj = owner.into_ptr();
    }
}

/// Frees what [`export`] stored in `view` (dropping its `keep` value): the body of a
/// `__releasebuffer__` method.
///
/// It does not touch `view.obj`: CPython's `PyBuffer_Release` drops that reference
/// after the slot returns. After `release` the exporter may count the export as gone
/// (and, once none is left, resize or free the memory).
///
/// # Safety
///
/// `view` must have been filled by [`export`], [`fill`] or [`fill_described`] and not
/// released since; call
/// it from the owner's `bf_releasebuffer` slot (`__releasebuffer__`).
pub unsafe fn release(view: *mut ffi::Py_buffer) {
    // SAFETY: `internal` holds the storage leaked by `fill`, whose first field is the
    // function that frees it (the struct is `repr(C)`); it is reclaimed exactly once here.
    unsafe {
        let internal = std::mem::replace(&mut (*view).internal, ptr::null_mut());
        if internal.is_null() {
            return;
        }
        let release = *internal.cast::<unsafe fn(*mut c_void)>();
        release(internal);
    }
}
