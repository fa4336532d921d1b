//! Emits pyo3's `Py_3_*` and `Py_LIMITED_API` cfgs for the interpreter being built for,
//! so version-specific fast paths (see `src/py/acquire/exporter.rs`) are chosen at compile time.
fn main() {
    pyo3_build_config::use_pyo3_cfgs();
}
