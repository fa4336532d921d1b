"""pygame's BufferProxy, rebuilt in Rust.

``BufferProxy`` exports memory that Python did not allocate (a C library's frame
buffer, a Rust-owned image, ctypes, mmap or shared memory) through the buffer
protocol and both array interfaces, without copying.
"""

from importlib.metadata import version as _version

from bufferproxy._bufferproxy import BufferProxy, get_array_interface

__version__: str = _version("bufferproxy")

__all__ = ["BufferProxy", "__version__", "get_array_interface"]
