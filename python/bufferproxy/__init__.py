"""pygame's BufferProxy, rebuilt in Rust.

``BufferProxy`` exports memory that Python did not allocate (a C library's frame
buffer, a Rust-owned image, ctypes, mmap or shared memory) through the buffer
protocol and both array interfaces, without copying.
"""

from bufferproxy._bufferproxy import BufferProxy, get_array_interface

__all__ = ["BufferProxy", "get_array_interface"]
