"""pygame's BufferProxy, rebuilt in Rust.

``BufferProxy`` exports memory that Python did not allocate (a C library's frame
buffer, a Rust-owned image, ctypes, mmap or shared memory) through the buffer
protocol and both array interfaces, without copying.
"""

from typing import TYPE_CHECKING

from bufferproxy._bufferproxy import BufferProxy, get_array_interface

__version__: str  # the installed distribution's version, read on first access

__all__ = ["BufferProxy", "__version__", "get_array_interface"]


if not TYPE_CHECKING:  # a module __getattr__ would make type checkers accept any name

    def __getattr__(name: str) -> str:
        # importlib.metadata takes ~35 ms to import: pay for it only when the version is read.
        if name == "__version__":
            from importlib.metadata import version

            globals()["__version__"] = found = version("bufferproxy")
            return found
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
