//! [`Slot`]: a value set at most once, then read without locking ([`EitherSlot`]: one of
//! two types, each behind its own kind of owning pointer, a `Box` or a [`PyBox`]);
//! [`ObjectCell`]: an object reference guarded by the interpreter lock; [`FirstUse`]: the
//! gate that makes a proxy's first use run once across threads.
//!
//! The proxy keeps its parsed description and its held acquisition in slots. Reads are a
//! single atomic load, which matters on paths like `proxy.length` that do nothing else.
//!
//! Not `OnceLock`: CPython may traverse a subclass instance for the garbage collector
//! before pyo3 has written its contents, while the memory is still zero-filled. A zeroed
//! `Slot` is a null pointer, i.e. empty; a zeroed `OnceLock` reads as initialised.

use pyo3::prelude::*;
use std::cell::UnsafeCell;
use std::marker::PhantomData;
use std::ptr;
use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, PoisonError};

/// An optional boxed value, set once (first writer wins) and taken only with exclusive
/// access.
pub struct Slot<T>(AtomicPtr<T>, PhantomData<*mut T>);

// SAFETY: the slot owns its value (like a `Box<T>`), so sending the slot sends the value.
unsafe impl<T: Send> Send for Slot<T> {}
// SAFETY: through `&Slot`, threads read `&T` (needs `T: Sync`) and store values that
// another thread may later drop (needs `T: Send`).
unsafe impl<T: Send + Sync> Sync for Slot<T> {}

impl<T> Slot<T> {
    /// An empty slot.
    pub const fn new() -> Self {
        Slot(AtomicPtr::new(ptr::null_mut()), PhantomData)
    }

    /// The value, if set.
    pub fn get(&self) -> Option<&T> {
        let p = self.0.load(Ordering::Acquire);
        // SAFETY: a non-null pointer came from `Box::into_raw` in `set` and is freed only
        // through `take` (or drop), which need `&mut self`: it outlives this borrow of
        // `self`. The Acquire load pairs with the Release in `set`, so the value is fully
        // written before it is seen.
        unsafe { p.as_ref() }
    }

    /// Stores `value` unless a value is there already. Returns the value that stays, and
    /// the rejected one, for the caller to drop (dropping may run Python code, so not
    /// here).
    pub fn set(&self, value: Box<T>) -> (&T, Option<Box<T>>) {
        let new = Box::into_raw(value);
        match self.0.compare_exchange(ptr::null_mut(), new, Ordering::AcqRel, Ordering::Acquire) {
            // SAFETY: `new` is now owned by the slot and lives as long as `get` says.
            Ok(_) => (unsafe { &*new }, None),
            Err(existing) => {
                // SAFETY: the slot was not empty: `existing` is its live value (as in
                // `get`); `new` was not stored, so ownership comes back to the caller.
                unsafe { (&*existing, Some(Box::from_raw(new))) }
            }
        }
    }

    /// As [`set`](Self::set), for a writer no other writer can race (the holder of a
    /// proxy's first-use gate): a load and a plain store instead of a compare-and-swap, a
    /// locked instruction. Were two writers to race, one value would be leaked, never
    /// freed twice.
    pub fn set_exclusive(&self, value: Box<T>) -> Option<Box<T>> {
        if !self.0.load(Ordering::Relaxed).is_null() {
            return Some(value);
        }
        self.0.store(Box::into_raw(value), Ordering::Release);
        None
    }

    /// Puts `value` in the slot (or empties it), handing the old value back.
    ///
    /// # Safety
    ///
    /// No reference returned by [`get`](Self::get) or [`set`](Self::set) may still be in
    /// use: the old value is handed back, and dropping it frees what they point to. The
    /// proxy relies on the interpreter lock here: it reads slots only for short stretches
    /// that run no Python code, or on objects the garbage collector cannot be clearing.
    pub unsafe fn replace(&self, value: Option<Box<T>>) -> Option<Box<T>> {
        let new = value.map_or(ptr::null_mut(), Box::into_raw);
        let old = self.0.swap(new, Ordering::AcqRel);
        // SAFETY: a non-null pointer came from `Box::into_raw`; it has just left the slot,
        // and the caller guarantees nobody still borrows it.
        (!old.is_null()).then(|| unsafe { Box::from_raw(old) })
    }

    /// Empties the slot, handing its value back.
    pub fn take(&mut self) -> Option<Box<T>> {
        let p = std::mem::replace(self.0.get_mut(), ptr::null_mut());
        // SAFETY: a non-null pointer came from `Box::into_raw` and, the slot being empty
        // now, is owned by nobody else.
        (!p.is_null()).then(|| unsafe { Box::from_raw(p) })
    }
}

impl<T> Drop for Slot<T> {
    fn drop(&mut self) {
        drop(self.take());
    }
}

impl<T> Default for Slot<T> {
    fn default() -> Self {
        Slot::new()
    }
}

/// One of two values.
pub enum Either<A, B> {
    /// The first kind.
    Left(A),
    /// The second kind.
    Right(B),
}

/// An owning pointer that a slot keeps as one word: a `Box`, or a [`PyBox`].
///
/// # Safety
///
/// `into_raw` gives a non-null pointer to the value, which stays at that address until
/// `from_raw` takes it back (once), and `from_raw` accepts exactly what `into_raw` gave.
pub unsafe trait Owning {
    /// What the pointer owns.
    type Target;
    /// Gives up ownership, as a raw pointer.
    fn into_raw(self) -> *mut Self::Target;
    /// Takes ownership back.
    ///
    /// # Safety
    ///
    /// `ptr` came from `into_raw` of this type, and is owned by nobody else.
    unsafe fn from_raw(ptr: *mut Self::Target) -> Self;
}

// SAFETY: `Box::into_raw` gives a non-null pointer that `Box::from_raw` takes back.
unsafe impl<T> Owning for Box<T> {
    type Target = T;
    fn into_raw(self) -> *mut T {
        Box::into_raw(self)
    }
    unsafe fn from_raw(ptr: *mut T) -> Self {
        // SAFETY: the caller's guarantee.
        unsafe { Box::from_raw(ptr) }
    }
}

/// A value in memory from the interpreter's allocator (`PyMem_Malloc`: pymalloc for
/// small sizes, where the C library's `malloc` and `free` cost twice as much), at a fixed
/// address until it is dropped. It is made and dropped attached to the interpreter (the
/// drop attaches if it must; [`free`](Self::free) is for callers that know they are), as
/// that allocator needs. Types aligned beyond what it guarantees, and zero-sized ones, go
/// to Rust's global allocator instead.
pub struct PyBox<T>(ptr::NonNull<T>, PhantomData<T>);

// SAFETY: the box owns its value, like a `Box<T>`; freeing attaches to the interpreter
// from any thread.
unsafe impl<T: Send> Send for PyBox<T> {}
// SAFETY: shared access gives only `&T`.
unsafe impl<T: Sync> Sync for PyBox<T> {}

impl<T> PyBox<T> {
    /// Whether `T` comes from `PyMem_Malloc`, which aligns to 16 bytes on 64-bit builds
    /// and 8 on 32-bit ones (only the word size is relied on here).
    const PYMEM: bool =
        std::mem::align_of::<T>() <= std::mem::size_of::<usize>() && std::mem::size_of::<T>() > 0;

    /// Moves `value` into new memory; `MemoryError` if there is none.
    pub fn new(_py: Python<'_>, value: T) -> PyResult<Self> {
        let raw = if Self::PYMEM {
            // SAFETY: attached (`_py`), as PyMem_Malloc needs; a non-zero size.
            unsafe { pyo3::ffi::PyMem_Malloc(std::mem::size_of::<T>()) }.cast::<T>()
        } else {
            Box::into_raw(Box::<T>::new_uninit()).cast::<T>()
        };
        let Some(raw) = ptr::NonNull::new(raw) else {
            return Err(pyo3::exceptions::PyMemoryError::new_err(()));
        };
        // SAFETY: `raw` is fresh memory of T's size, aligned for it (PYMEM, or Box).
        unsafe { raw.as_ptr().write(value) };
        Ok(PyBox(raw, PhantomData))
    }

    /// Drops the value and frees its memory, as dropping the box does, without checking
    /// that this thread is attached: `_py` says it is.
    pub fn free(self, _py: Python<'_>) {
        // SAFETY: the box owns the value, and gives it up here; attached (`_py`).
        unsafe { Self::release(Owning::into_raw(self)) }
    }

    /// # Safety
    ///
    /// `raw` is the pointer of a box that gave it up, and the thread is attached.
    unsafe fn release(raw: *mut T) {
        // SAFETY: the value is initialised and dropped once, here; then its memory goes
        // back where `new` took it from (PyMem_Free with the interpreter attached).
        unsafe {
            ptr::drop_in_place(raw);
            if Self::PYMEM {
                pyo3::ffi::PyMem_Free(raw.cast());
            } else {
                drop(Box::from_raw(raw.cast::<std::mem::MaybeUninit<T>>()));
            }
        }
    }
}

impl<T> std::ops::Deref for PyBox<T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the box owns an initialised value until it drops.
        unsafe { self.0.as_ref() }
    }
}

impl<T> std::ops::DerefMut for PyBox<T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as for `deref`, and `&mut self` makes the borrow exclusive.
        unsafe { self.0.as_mut() }
    }
}

impl<T> Drop for PyBox<T> {
    fn drop(&mut self) {
        let raw = self.0.as_ptr();
        // SAFETY: the box owns the value and is going; attached, as `release` needs.
        attached(|| unsafe { Self::release(raw) });
    }
}

// SAFETY: `PyBox::into_raw` gives the box's non-null pointer (its value stays there), and
// `from_raw` rebuilds the box that owns it.
unsafe impl<T> Owning for PyBox<T> {
    type Target = T;
    fn into_raw(self) -> *mut T {
        let raw = self.0.as_ptr();
        std::mem::forget(self);
        raw
    }
    unsafe fn from_raw(ptr: *mut T) -> Self {
        // SAFETY: the caller's guarantee: `ptr` came from `into_raw`, so it is non-null.
        PyBox(unsafe { ptr::NonNull::new_unchecked(ptr) }, PhantomData)
    }
}

/// Runs `f` attached to the interpreter: at once when this thread already is (values are
/// dropped from deallocators and collectors, which are), else through `Python::attach`.
/// The check skips pyo3's thread-local bookkeeping, which costs a tenth of what creating
/// and dropping a proxy over an ndarray does.
pub fn attached(f: impl FnOnce()) {
    #[cfg(not(any(Py_LIMITED_API, PyPy, GraalPy)))]
    // SAFETY: PyGILState_Check may be called from any thread; it only reads thread state.
    if unsafe { pyo3::ffi::PyGILState_Check() } == 1 {
        return f();
    }
    Python::attach(|_| f());
}

/// A [`Slot`] for a value of one of two types, each behind its own owning pointer, set
/// once and read without locking. The kind is the pointer's low bit (both types are
/// aligned to at least 2), so either kind costs one allocation of its own size.
/// Zero-filled memory is an empty slot.
pub struct EitherSlot<A: Owning, B: Owning>(AtomicUsize, PhantomData<(A, B)>);

// SAFETY: the slot owns its value (an `A` or a `B`); see `Slot`.
unsafe impl<A: Owning + Send, B: Owning + Send> Send for EitherSlot<A, B> {}
// SAFETY: as for `Slot`: threads read the targets through shared references, and store
// values another thread may drop.
unsafe impl<A, B> Sync for EitherSlot<A, B>
where
    A: Owning + Send,
    B: Owning + Send,
    A::Target: Sync,
    B::Target: Sync,
{
}

impl<A: Owning, B: Owning> EitherSlot<A, B> {
    const RIGHT: usize = 1;
    const ALIGNED: () =
        assert!(std::mem::align_of::<A::Target>() >= 2 && std::mem::align_of::<B::Target>() >= 2);

    /// An empty slot.
    pub const fn new() -> Self {
        let () = Self::ALIGNED;
        EitherSlot(AtomicUsize::new(0), PhantomData)
    }

    fn into_word(value: Either<A, B>) -> usize {
        match value {
            Either::Left(a) => a.into_raw() as usize,
            Either::Right(b) => b.into_raw() as usize | Self::RIGHT,
        }
    }

    /// # Safety
    ///
    /// `word` is non-zero and came from `into_word`, and the value it points to is alive
    /// for `'a`.
    unsafe fn borrow<'a>(word: usize) -> Either<&'a A::Target, &'a B::Target> {
        // SAFETY: the caller's guarantee; the tag says which pointer the word came from.
        unsafe {
            if word & Self::RIGHT == 0 {
                Either::Left(&*(word as *const A::Target))
            } else {
                Either::Right(&*((word & !Self::RIGHT) as *const B::Target))
            }
        }
    }

    /// # Safety
    ///
    /// `word` is non-zero, came from `into_word`, and is owned by nobody else.
    unsafe fn unbox(word: usize) -> Either<A, B> {
        // SAFETY: the caller's guarantee; the tag says which pointer the word came from.
        unsafe {
            if word & Self::RIGHT == 0 {
                Either::Left(A::from_raw(word as *mut A::Target))
            } else {
                Either::Right(B::from_raw((word & !Self::RIGHT) as *mut B::Target))
            }
        }
    }

    /// The value, if set.
    pub fn get(&self) -> Option<Either<&A::Target, &B::Target>> {
        let word = self.0.load(Ordering::Acquire);
        // SAFETY: as in `Slot::get`: a non-zero word came from `set_exclusive` and is freed
        // only through `take`/`take_shared` (exclusive, or the caller's promise) or drop.
        (word != 0).then(|| unsafe { Self::borrow(word) })
    }

    /// Stores `value` unless a value is there already (handing it back, for the caller to
    /// drop), for a writer no other writer can race; see [`Slot::set_exclusive`].
    pub fn set_exclusive(&self, value: Either<A, B>) -> Option<Either<A, B>> {
        if self.0.load(Ordering::Relaxed) != 0 {
            return Some(value);
        }
        self.0.store(Self::into_word(value), Ordering::Release);
        None
    }

    /// Empties the slot, handing its value back.
    pub fn take(&mut self) -> Option<Either<A, B>> {
        let word = std::mem::replace(self.0.get_mut(), 0);
        // SAFETY: a non-zero word came from `into_word`, and `&mut self` means nobody
        // borrows the value.
        (word != 0).then(|| unsafe { Self::unbox(word) })
    }

    /// Empties the slot, handing the old value back.
    ///
    /// # Safety
    ///
    /// As for [`Slot::replace`]: no reference returned by [`get`](Self::get) may still be
    /// in use.
    pub unsafe fn take_shared(&self) -> Option<Either<A, B>> {
        let old = self.0.swap(0, Ordering::AcqRel);
        // SAFETY: a non-zero word came from `into_word`; it has just left the slot and the
        // caller guarantees nobody still borrows it.
        (old != 0).then(|| unsafe { Self::unbox(old) })
    }
}

impl<A: Owning, B: Owning> Drop for EitherSlot<A, B> {
    fn drop(&mut self) {
        drop(self.take());
    }
}

impl<A: Owning, B: Owning> Default for EitherSlot<A, B> {
    fn default() -> Self {
        EitherSlot::new()
    }
}

/// An optional object reference, read and replaced only by code that holds the
/// interpreter lock (the module declares that it needs the GIL, so on free-threaded
/// builds the interpreter turns it back on). Zero-filled memory is an empty cell.
///
/// Unlike a [`Slot`], the value sits inline (no allocation) and can be replaced: readers
/// get a new reference, never a borrow that a replacement could invalidate.
pub struct ObjectCell(UnsafeCell<Option<Py<PyAny>>>);

// SAFETY: every access happens with the interpreter lock held (methods take a `Python`
// token; `peek` is for the garbage collector, which runs with the lock), so no two threads
// touch the cell at once, and `Py<PyAny>` itself is `Send + Sync`.
unsafe impl Sync for ObjectCell {}

impl ObjectCell {
    /// A cell holding `value`.
    pub fn new(value: Option<Py<PyAny>>) -> Self {
        ObjectCell(UnsafeCell::new(value))
    }

    /// A new reference to the object, if any.
    pub fn get<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyAny>> {
        // SAFETY: the lock is held (`py`) and no reference into the cell outlives a call,
        // so this shared read overlaps no write.
        unsafe { (*self.0.get()).as_ref().map(|o| o.bind(py).clone()) }
    }

    /// Whether the cell holds `obj` itself.
    pub fn is(&self, _py: Python<'_>, obj: &Bound<'_, PyAny>) -> bool {
        // SAFETY: as for `get`.
        unsafe { (*self.0.get()).as_ref().is_some_and(|o| o.is(obj)) }
    }

    /// Puts `value` in the cell, handing back the old value (drop it after this returns:
    /// dropping may run Python code).
    pub fn replace(&self, _py: Python<'_>, value: Option<Py<PyAny>>) -> Option<Py<PyAny>> {
        // SAFETY: the lock is held (`py`), and no borrow of the cell's contents exists
        // outside these methods' bodies, none of which runs Python code while borrowing.
        unsafe { std::mem::replace(&mut *self.0.get(), value) }
    }

    /// The object, borrowed, for the garbage collector's traversal.
    ///
    /// # Safety
    ///
    /// Only while the interpreter lock is held and nothing can call [`replace`](Self::replace)
    /// (a `tp_traverse` runs no Python code).
    pub unsafe fn peek(&self) -> Option<&Py<PyAny>> {
        // SAFETY: the caller's guarantee: no write overlaps the returned borrow.
        unsafe { (*self.0.get()).as_ref() }
    }
}

/// Makes a proxy's first use happen once across threads: the thread that claims the gate
/// runs it; others wait, detached from the interpreter, until it is done; the claiming
/// thread coming back (from inside a callback the first use runs) is told so instead of
/// recursing.
///
/// Zero-filled memory is an open gate. Waiting uses one process-wide condition variable:
/// first uses are short and rarely contended, so waking every waiter costs nothing worth a
/// lock per proxy.
///
/// Once the first use has succeeded, the gate's word keeps what `proxy.length` answers
/// (the held length, with [`HELD`] set), so that the hottest getter reads one word.
pub struct FirstUse(AtomicUsize);

/// The bit that marks a gate's word as "done, holding this length" (thread states are user
/// space addresses, and lengths fit `isize`: neither has the top bit).
const HELD: usize = 1 << (usize::BITS - 1);

/// The outcome of [`FirstUse::claim`].
pub enum Claim<'a> {
    /// This thread runs the first use; the gate reopens (and waiters wake) when the guard
    /// drops, whatever the outcome.
    Mine(ClaimGuard<'a>),
    /// This thread is already running the first use, further up its stack.
    Reentrant,
    /// Another thread is running it: wait with [`FirstUse::wait`], then look again.
    Busy,
}

/// Holds a [`FirstUse`] gate closed; reopens it on drop (marked done, if
/// [`done`](Self::done) was called).
pub struct ClaimGuard<'a> {
    gate: &'a FirstUse,
    open_as: usize,
}

impl ClaimGuard<'_> {
    /// Marks the first use done, holding `len` bytes: the gate opens with that mark.
    pub fn done(&mut self, len: isize) {
        self.open_as = len.unsigned_abs() | HELD;
    }
}

/// The lock and condition variable every gate's waiters share, and how many threads are
/// waiting (so that opening an uncontended gate costs no lock and no wake-up call).
static GATE_LOCK: Mutex<()> = Mutex::new(());
static GATE_OPENED: Condvar = Condvar::new();
static WAITERS: AtomicUsize = AtomicUsize::new(0);

/// Identifies the calling thread: the address of its Python thread state, unique among the
/// threads attached to the interpreter and never 0 (cheaper than a thread-local in a shared
/// library, which costs a `__tls_get_addr` call).
fn this_thread(_py: Python<'_>) -> usize {
    // SAFETY: the thread is attached (`_py`), so it has a current thread state; the call
    // only reads it.
    unsafe { pyo3::ffi::PyThreadState_Get() as usize }
}

impl FirstUse {
    /// An open gate.
    pub const fn new() -> Self {
        FirstUse(AtomicUsize::new(0))
    }

    /// Tries to close the gate for this thread (also over a "done" mark: the caller looked
    /// and found nothing held, as after the collector cleared the proxy).
    ///
    /// Every write to a gate's word is made attached to the interpreter, whose lock the
    /// module needs (`gil_used`): no other thread can write between this look and this
    /// store, so a plain store claims the gate. An atomic read-modify-write would be a
    /// locked instruction, a tenth of the time the first use of a proxy takes.
    pub fn claim(&self, py: Python<'_>) -> Claim<'_> {
        let me = this_thread(py);
        let current = self.0.load(Ordering::Acquire);
        if current != 0 && current & HELD == 0 {
            return if current == me { Claim::Reentrant } else { Claim::Busy };
        }
        self.0.store(me, Ordering::Relaxed);
        Claim::Mine(ClaimGuard { gate: self, open_as: 0 })
    }

    /// Whether some thread holds the gate closed, or the first use is done.
    pub fn is_claimed(&self) -> bool {
        self.0.load(Ordering::Acquire) != 0
    }

    /// The length the first use left, once it is done.
    pub fn held_len(&self) -> Option<isize> {
        let word = self.0.load(Ordering::Acquire);
        // The mask leaves a value below 2^63, which fits isize.
        (word & HELD != 0).then_some((word & !HELD) as isize)
    }

    /// Forgets the first use (the collector cleared what it held).
    pub fn reset(&self, _py: Python<'_>) {
        self.0.store(0, Ordering::Release);
    }

    /// Blocks, detached from the interpreter, until the gate is open (it may be claimed
    /// again at once: callers look at what the first use left, then claim again).
    pub fn wait(&self, py: Python<'_>) {
        // Counted while still attached: the thread holding the gate opens it attached,
        // after this thread detaches, so it sees the count (the interpreter lock orders
        // the two) and wakes this thread.
        WAITERS.fetch_add(1, Ordering::Relaxed);
        py.detach(|| {
            let mut guard = GATE_LOCK.lock().unwrap_or_else(PoisonError::into_inner);
            // Closed while the word is a thread's (open: 0, or marked done).
            while matches!(self.0.load(Ordering::Acquire), w if w != 0 && w & HELD == 0) {
                guard = GATE_OPENED.wait(guard).unwrap_or_else(PoisonError::into_inner);
            }
        });
        WAITERS.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Default for FirstUse {
    fn default() -> Self {
        FirstUse::new()
    }
}

impl Drop for ClaimGuard<'_> {
    fn drop(&mut self) {
        // Dropped attached (the guard lives in `claim`'s caller, which is).
        self.gate.0.store(self.open_as, Ordering::Release);
        // A waiter counts itself while attached, before it detaches to look at the gate
        // under the lock; so its count is seen here. It looks under the lock and sleeps
        // on the condition variable without letting go of it, and notifying takes the
        // lock: either it sees the gate open, or it is asleep when notified. With no
        // waiter (the usual case) nothing more is done.
        if WAITERS.load(Ordering::Relaxed) > 0 {
            let _lock = GATE_LOCK.lock().unwrap_or_else(PoisonError::into_inner);
            GATE_OPENED.notify_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    /// Values `PyMem_Malloc` does not serve (aligned beyond a word, or zero-sized) come from
    /// Rust's allocator, aligned as their type says, and are dropped once when freed.
    #[test]
    fn values_pymem_cannot_hold_use_rusts_allocator() {
        static DROPS: AtomicUsize = AtomicUsize::new(0);
        #[repr(align(64))]
        struct Wide(u8);
        impl Drop for Wide {
            fn drop(&mut self) {
                DROPS.fetch_add(usize::from(self.0), Ordering::Relaxed);
            }
        }
        struct Empty;
        impl Drop for Empty {
            fn drop(&mut self) {
                DROPS.fetch_add(100, Ordering::Relaxed);
            }
        }
        const { assert!(!PyBox::<Wide>::PYMEM && !PyBox::<Empty>::PYMEM && PyBox::<u64>::PYMEM) };
        // SAFETY: a token only: neither type reaches the interpreter's allocator, and
        // `free` makes no check that would call into it.
        let py = unsafe { Python::assume_attached() };
        let wide = PyBox::new(py, Wide(7)).unwrap();
        assert_eq!(std::ptr::from_ref::<Wide>(&wide) as usize % 64, 0);
        assert_eq!((*wide).0, 7);
        wide.free(py);
        PyBox::new(py, Empty).unwrap().free(py);
        assert_eq!(DROPS.load(Ordering::Relaxed), 107);
    }
}
