//! [`Slot`]: a value set at most once, then read without locking; [`ObjectCell`]: an
//! object reference guarded by the interpreter lock.
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
use std::sync::atomic::{AtomicPtr, Ordering};

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
