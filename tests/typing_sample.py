"""Typed code that uses bufferproxy the way an application would.

tests/test_typing.py checks this file with ``mypy --strict`` (no error may be reported, and
each ``type: ignore`` must still be needed, so the refusals below are checked too) and also
runs it (``main`` and ``REFUSED``), so that every claim here holds at runtime as well.
"""

import ctypes
import hashlib
import sys
from collections.abc import Callable
from typing import Any, assert_type

from bufferproxy import BufferProxy, get_array_interface


def frame_proxy(frame: ctypes.Array[ctypes.c_uint8]) -> BufferProxy:
    """A proxy over a ctypes frame buffer, described by a dict."""
    return BufferProxy(
        {
            "shape": (len(frame),),
            "typestr": "|u1",
            "data": (ctypes.addressof(frame), False),
            "parent": frame,
        }
    )


def checksum(proxy: BufferProxy) -> int:
    length: int = proxy.length
    raw: bytes = proxy.raw
    assert_type(proxy.length, int)
    assert_type(proxy.raw, bytes)
    return sum(raw[:length])


def fill(proxy: BufferProxy) -> None:
    proxy.write(b"ab")
    proxy.write(bytearray(b"cd"), 2)
    proxy.write(memoryview(b"ef"), offset=4)
    proxy.write("g", offset=6)


def digest(proxy: BufferProxy) -> str:
    # From Python 3.12 the proxy is a Buffer to the type checker (PEP 688: the stub declares
    # __buffer__ where the interpreter has it), so buffer-taking functions accept it. Before
    # 3.12 no stub may claim a method the interpreter lacks, so type checkers do not see a
    # Buffer there, although every such call works at runtime.
    if sys.version_info >= (3, 12):
        with memoryview(proxy) as view:
            assert_type(view, memoryview)
        return hashlib.sha256(proxy).hexdigest()
    else:
        with memoryview(proxy) as view:  # type: ignore[arg-type]
            assert_type(view, memoryview)
        return hashlib.sha256(proxy).hexdigest()  # type: ignore[arg-type]


def describe(proxy: BufferProxy) -> tuple[dict[str, Any], dict[str, Any], object]:
    return proxy.__array_interface__, get_array_interface(proxy), proxy.parent


# Uses the type checker must reject, each with the exception it raises at runtime.


def write_int(proxy: BufferProxy) -> None:
    proxy.write(42)  # type: ignore[arg-type]


def write_at_float_offset(proxy: BufferProxy) -> None:
    proxy.write(b"x", offset=1.5)  # type: ignore[arg-type]


def assign_length(proxy: BufferProxy) -> None:
    proxy.length = 3  # type: ignore[misc]


def construct_without_parent(proxy: BufferProxy) -> None:
    BufferProxy()  # type: ignore[call-arg]


REFUSED: tuple[tuple[Callable[[BufferProxy], None], type[Exception]], ...] = (
    (write_int, TypeError),
    (write_at_float_offset, TypeError),
    (assign_length, AttributeError),
    (construct_without_parent, TypeError),
)


def main() -> int:
    frame = (ctypes.c_uint8 * 8)()
    proxy = frame_proxy(frame)
    fill(proxy)
    assert bytes(frame) == b"abcdefg\x00"
    assert digest(proxy) == hashlib.sha256(b"abcdefg\x00").hexdigest()
    interface, from_struct, parent = describe(proxy)
    assert interface == from_struct
    assert parent is frame
    return checksum(proxy)
