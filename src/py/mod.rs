//! The binding layer: Python classes and functions over the core.

pub mod acquire;
pub mod dlpack;
pub mod errors;
pub mod export;
pub mod ffi;
pub mod interface;
pub mod proxy;
pub mod slot;
pub mod testing;
