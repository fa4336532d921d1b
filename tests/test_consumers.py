"""Real consumers of a BufferProxy: each one reads or writes the parent's memory.

Sharing is proven by writing through one side and reading the other (or by comparing
addresses); copying, where a consumer copies, by showing that a later change does not follow.

| consumer                                       | memory          | why (notes below)      |
|------------------------------------------------|-----------------|------------------------|
| numpy.asarray, numpy.array(copy=False)         | shares          | buffer protocol (1)    |
| numpy.frombuffer                               | shares          | buffer protocol (1)    |
| numpy on an object with `__array_interface__`  | shares          | the address (2)        |
| numpy on an object with `__array_struct__`     | shares          | the capsule (2)        |
| numpy.from_dlpack                              | shares          | DLPack capsule (3)     |
| memoryview, memoryview.cast                    | shares          | buffer protocol (4)    |
| struct.unpack_from / struct.pack_into          | in place        | transient export       |
| array.array.frombytes                          | copies          | owns its storage (5)   |
| bytes(proxy), proxy.raw                        | copies          | immutable snapshots    |
| ctypes from_buffer, writable proxy             | shares          | holds the export       |
| ctypes from_buffer, read-only proxy            | TypeError       | ctypes wants writable  |
| ctypes from_buffer_copy                        | copies          | by definition          |
| hashlib.sha256                                 | reads in place  | C-contiguous only (6)  |
| BytesIO.readinto, FileIO.readinto              | writes in place | writable export        |
| FileIO.write                                   | copies out      | to the file            |
| mmap parent, anonymous or file-backed          | shares          | exporter parent (7)    |
| SharedMemory parent (.buf, dict data, address) | shares          | every mapping sees it  |
| Pillow frombuffer, modes L, RGBA, RGBX, I;16   | shares          | Pillow maps it (8)     |
| Pillow frombuffer, modes I and F               | copies          | not mapped (8)         |
| Pillow Image.tobytes() + proxy.write           | copies in       | write() copies         |
| pygame.image.frombuffer                        | shares          | keeps the proxy (9)    |
| pygame Surface.get_view() as parent            | shares          | surface locked (10)    |
| jax.numpy.from_dlpack, 64-byte-aligned address | shares          | DLPack capsule (11)    |
| jax.numpy.from_dlpack, any other address       | copies          | XLA's alignment (11)   |
| pyarrow.py_buffer                              | shares          | holds the export (12)  |
| pyarrow.Tensor.from_numpy(np.asarray(proxy))   | shares          | numpy's view           |

1. numpy tries the buffer protocol before either array interface and keeps the export (a
   memoryview) as the array's base, so the parent's `after` runs when the array dies.
2. numpy builds the array on the reported address and keeps the object as its base. Over
   `__array_interface__` that object must keep the proxy alive (the proxy holds the memory);
   the `__array_struct__` capsule keeps the proxy alive by itself, also at interpreter exit.
3. The capsule keeps the proxy (and so the memory) alive until numpy deletes the tensor;
   read-only data comes through a versioned capsule as a read-only array.
4. A view of the export, strided layouts included. Native-order items carry the bare
   single-character formats (`H`, `d`), which memoryview indexes, lists, compares and casts
   (pygame's `=H` left it raising NotImplementedError). Byte-swapped items (`>H`) it compares
   and casts to `B` but cannot index, as for numpy's own swapped arrays: numpy reads them.
5. frombytes takes only itemsize-1 exports, as it does for memoryview and numpy sources.
6. A strided layout cannot be exported without strides: BufferError; hash `proxy.raw`.
7. The proxy holds the mmap's export, so `mmap.close()` refuses until the proxy is gone;
   writes to a file-backed map reach the file.
8. `Image.frombuffer(mode, size, proxy, "raw", mode, 0, 1)`. Pillow maps the buffer only
   for the modes in its `_MAPMODES` (Pillow 13: L, P, RGBX, RGBA, CMYK, I;16*) and marks
   such images read-only; for the rest (I and F included) it decodes a copy.
9. pygame releases the export at once (the `after` runs) but keeps a reference to the proxy,
   and so to the memory, for the surface's life.
10. pygame's own BufferProxy locks the surface while our proxy holds its export.
11. XLA (jax's CPU backend) takes the DLPack tensor in place only at an address that is a
    multiple of 64 bytes, and then holds the capsule, so the proxy, as long as the jax array
    lives; at any other address it copies, and later changes do not follow. Strided layouts
    jax refuses (compact strides only). jax 0.10 (the newest for CPython 3.11) asks for a
    legacy capsule, which cannot mark data read-only, so read-only data is refused with
    BufferError; jax 0.12 asks for DLPack 1.0 and shares it read-only.
12. py_buffer asks for a contiguous export without PyBUF_FORMAT and holds it while the
    pyarrow buffer lives. Over a buffer-protocol parent the parent then leaves the format
    NULL, which pygame 2.6.1's BufferProxy dereferences: it crashes (SIGSEGV).

A consumer that fails while it holds an export (struct, ctypes, numpy above) keeps its own
error: the description's `after` runs without disturbing it.
"""

import array
import ctypes
import gc
import hashlib
import io
import math
import mmap
import os
import struct
import subprocess
import sys
import weakref
from multiprocessing import shared_memory

import numpy as np
import pytest
from consumer_helpers import Locks, address_of, described
from PIL import Image

from bufferproxy import BufferProxy

os.environ["PYGAME_HIDE_SUPPORT_PROMPT"] = "1"
import pygame

NATIVE = "<" if sys.byteorder == "little" else ">"


# --------------------------------------------------------------------------- numpy


def test_numpy_asarray_shares_both_ways():
    frame = (ctypes.c_uint16 * 12)(*range(12))
    proxy = BufferProxy(
        {"shape": (3, 4), "typestr": NATIVE + "u2", "data": (ctypes.addressof(frame), False)}
    )
    arr = np.asarray(proxy)
    assert arr.dtype == np.uint16
    assert arr.shape == (3, 4)
    assert arr.ctypes.data == ctypes.addressof(frame)
    assert arr.flags.writeable
    arr[2, 3] = 4000
    assert frame[11] == 4000
    frame[0] = 77
    assert arr[0, 0] == 77


def test_numpy_asarray_of_read_only_data_is_read_only():
    data = bytes(range(8))
    arr = np.asarray(described(data, (2, 4)))
    assert not arr.flags.writeable
    assert arr.ctypes.data == address_of(data)
    with pytest.raises(ValueError, match="read-only"):
        arr[0, 0] = 1


def test_numpy_frombuffer_shares():
    data = bytearray(16)
    arr = np.frombuffer(described(data, (4, 4)), dtype="<u4")
    arr[1] = 0x11223344
    assert data[4:8] == bytes.fromhex("44332211")
    data[12] = 9
    assert arr[3] == 9


def test_numpy_array_copy_false_never_copies():
    data = bytearray(range(24))
    proxy = described(data, (3, 4), strides=(8, 2))  # strided: numpy still need not copy
    arr = np.array(proxy, copy=False)  # numpy 2: raises rather than copy
    assert np.shares_memory(arr, np.frombuffer(data, dtype=np.uint8))
    arr[1] = 0
    assert data[8:16] == bytes([0, 9, 0, 11, 0, 13, 0, 15])


class InterfaceHolder:
    """Exposes a proxy's Python-level array interface and nothing else.

    numpy builds the array on the interface's address and keeps this object as the base:
    holding the proxy keeps the proxy's acquisition of the memory alive as long as numpy needs it.
    """

    def __init__(self, proxy):
        self.proxy = proxy
        self.__array_interface__ = proxy.__array_interface__


class StructHolder:
    """Exposes a proxy's `__array_struct__` capsule and nothing else (no reference to the proxy)."""

    def __init__(self, proxy):
        self.__array_struct__ = proxy.__array_struct__


def test_numpy_through_array_interface_shares():
    data = bytearray(24)
    proxy = described(data, (2, 3), "<i4")
    holder = InterfaceHolder(proxy)
    arr = np.asarray(holder)
    assert arr.base is holder
    assert arr.dtype == np.dtype("<i4")
    assert arr.ctypes.data == address_of(data)
    arr[1, 2] = -2
    assert data[20:24] == (-2).to_bytes(4, "little", signed=True)
    data[0] = 5
    assert arr[0, 0] == 5


def test_numpy_through_array_interface_of_read_only_data():
    data = bytes(range(6))
    arr = np.asarray(InterfaceHolder(described(data, (6,))))
    assert not arr.flags.writeable
    assert arr.tolist() == list(range(6))


def test_numpy_through_array_struct_shares_and_keeps_the_proxy_alive():
    data = bytearray(range(12))
    proxy = described(data, (4, 3), strides=(3, 1))
    alive = weakref.ref(proxy)
    arr = np.asarray(StructHolder(proxy))
    del proxy
    gc.collect()
    assert alive() is not None  # the capsule in the array's base holds it
    assert arr.ctypes.data == address_of(data)
    assert arr.flags.writeable
    arr[3, 2] = 200
    assert data[11] == 200
    data[0] = 99
    assert arr[0, 0] == 99
    del arr
    gc.collect()
    assert alive() is None


def test_numpy_array_copy_false_through_array_struct():
    data = bytearray(8)
    arr = np.array(StructHolder(described(data, (8,))), copy=False)
    arr[:] = 7
    assert data == bytes([7] * 8)


def test_array_struct_capsule_alive_at_interpreter_exit(tmp_path):
    # A consumer that keeps the capsule (here a module global) until the interpreter exits.
    code = (
        "from bufferproxy import BufferProxy\n"
        "capsule = BufferProxy(bytearray(4)).__array_struct__\n"
        "print('done')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "done\n", "")


def test_numpy_from_dlpack_shares():
    data = bytearray(16)
    arr = np.from_dlpack(described(data, (4,), "<u4"))
    arr[0] = 1
    assert data[0] == 1


# --------------------------------------------------------------------------- memoryview, struct


def test_memoryview_shares_and_keeps_the_layout():
    data = bytearray(12)
    proxy = described(data, (3, 4))
    with memoryview(proxy) as view:
        assert view.format == "B"
        assert view.shape == (3, 4)
        assert view.strides == (4, 1)
        assert not view.readonly
        assert view.obj is proxy
        view[2, 1] = 0xEE
        assert data[9] == 0xEE
        data[0] = 7
        assert view[0, 0] == 7
        assert view.tolist()[0] == [7, 0, 0, 0]


_NATIVE_ITEMS = [
    ("i2", "h", [-2, 3, 32767, -32768]),
    ("u2", "H", [0, 1, 0xBEEF, 0xFFFF]),
    ("i4", "i", [-1, 2, 2**31 - 1, -(2**31)]),
    ("u4", "I", [0, 7, 0xDEADBEEF, 2**32 - 1]),
    ("i8", "q", [-(2**63), -5, 6, 2**63 - 1]),
    ("u8", "Q", [0, 2**40, 2**63, 2**64 - 1]),
    ("f4", "f", [1.5, -0.25, 1024.0, 0.0]),
    ("f8", "d", [2.5, -1e300, 1e-300, 0.0]),
]


@pytest.mark.parametrize(
    ("typestr", "code", "values"), _NATIVE_ITEMS, ids=[t for t, _c, _v in _NATIVE_ITEMS]
)
def test_memoryview_indexes_native_multibyte_items(typestr, code, values):
    # DECISIONS.md, "Types and formats": native-order 2/4/8-byte ints and 4/8-byte floats
    # get the native single-character code, so memoryview indexes, lists, compares and casts
    # them itself (pygame's "=h" left it raising NotImplementedError).
    data = bytearray(array.array(code, values).tobytes())
    itemsize = len(data) // 4
    proxy = described(data, (2, 2), NATIVE + typestr)
    same = memoryview(array.array(code, values)).cast("B").cast(code, (2, 2))
    with memoryview(proxy) as view:
        assert view.format == code
        assert (view.shape, view.strides, view.itemsize) == (
            (2, 2),
            (2 * itemsize, itemsize),
            itemsize,
        )
        assert view[0, 0] == values[0]
        assert view[1, 1] == values[3]
        assert view.tolist() == [values[:2], values[2:]]
        assert view == same
        assert view == np.array(values, dtype=NATIVE + typestr).reshape(2, 2)
        with view.cast("B") as octets:
            assert octets.tobytes() == bytes(data)
            with octets.cast(code) as flat:
                assert flat.tolist() == values
        view[1, 0] = values[0]  # a write through the view lands in the parent's memory
        assert struct.unpack_from(code, data, 2 * itemsize) == (values[0],)
        assert view != same


@pytest.mark.parametrize(
    ("typestr", "code", "values"), _NATIVE_ITEMS, ids=[t for t, _c, _v in _NATIVE_ITEMS]
)
def test_memoryview_indexes_native_items_of_an_array_struct_parent(typestr, code, values):
    # DECISIONS.md, "Types and formats": an __array_struct__ (typekind, itemsize) follows the
    # typestr table, native single-character formats included. (A buffer-protocol parent's
    # own format is passed through unchanged: numpy's "L" for uint64 stays "L".)
    source = np.array(values, dtype=NATIVE + typestr)
    proxy = BufferProxy(StructHolder(source))
    with memoryview(proxy) as view:
        assert view.format == code
        assert view.tolist() == values
        assert view[3] == values[3]
        view[0] = values[1]
    assert source[0] == values[1]
    with memoryview(BufferProxy(source)) as view:
        assert view.format == memoryview(source).format
        assert view.tolist() == [values[1], *values[1:]]


@pytest.mark.parametrize(
    ("typestr", "code"), [("i2", "h"), ("u4", "I"), ("i8", "q"), ("f4", "f"), ("f8", "d")]
)
def test_memoryview_of_byte_swapped_items_needs_numpy(typestr, code):
    # DECISIONS.md, "Types and formats": byte-swapped items carry the explicit prefix;
    # memoryview reports, compares and casts them to bytes but cannot index them, exactly as
    # for numpy's own byte-swapped arrays. numpy reads them.
    swapped = (">" if NATIVE == "<" else "<") + typestr
    values = [1, 2, 300] if typestr[0] in "iu" else [1.5, -2.0, 300.25]
    reference = np.array(values, dtype=swapped)
    data = bytearray(reference.tobytes())
    proxy = described(data, (3,), swapped)
    with memoryview(proxy) as view, memoryview(reference) as numpy_view:
        assert view.format == swapped[0] + code  # (numpy spells int64 "l", we "q")
        assert numpy_view.format[0] == swapped[0]
        for refused in (numpy_view, view):
            with pytest.raises(NotImplementedError, match="unsupported format"):
                refused[0]
            with pytest.raises(NotImplementedError, match="unsupported format"):
                refused.tolist()
        assert view == numpy_view  # (compared through the struct module)
        assert view.cast("B").tobytes() == bytes(data)
    array_view = np.asarray(proxy)
    assert array_view.dtype == np.dtype(swapped)
    assert array_view.tolist() == values
    array_view[0] = values[2]
    assert np.frombuffer(data, dtype=swapped).tolist() == [values[2], *values[1:]]


def test_struct_pack_into_and_unpack_from_work_in_place():
    data = bytearray(16)
    proxy = described(data, (2, 2), "<u4")
    struct.pack_into("<Id", proxy, 4, 7, 1.5)
    assert struct.unpack_from("<Id", data, 4) == (7, 1.5)
    struct.pack_into("<H", data, 0, 0xCAFE)
    assert struct.unpack_from("<H", proxy) == (0xCAFE,)
    with memoryview(proxy) as view:
        assert struct.unpack_from("<I", view, 4) == (7,)


def test_struct_pack_into_read_only_proxy_is_refused():
    proxy = described(bytes(8), (8,))
    with pytest.raises(TypeError, match="read-write"):
        struct.pack_into("<I", proxy, 0, 1)
    assert struct.unpack_from("<Q", proxy) == (0,)


# --------------------------------------------------------------------------- array.array


def test_array_frombytes_copies():
    data = bytearray(range(12))
    proxy = described(data, (3, 4))
    items = array.array("H")
    items.frombytes(proxy)
    assert items.tobytes() == bytes(data)
    data[0] = 0xFF
    assert items.tobytes()[0] == 0  # a copy: the change does not follow


def test_array_frombytes_wants_single_byte_items():
    # array.frombytes asks for a simple export and insists on itemsize 1; memoryview and numpy
    # report the real itemsize there too, and are refused the same way.
    proxy = described(bytearray(12), (3, 2), "<u2")
    for source in (proxy, np.zeros(6, dtype="<u2"), memoryview(array.array("H", range(6)))):
        with pytest.raises(TypeError, match="bytes-like object is required"):
            array.array("H").frombytes(source)
    items = array.array("H")
    with memoryview(proxy) as view, view.cast("B") as octets:
        items.frombytes(octets)
    assert len(items) == 6


def test_memoryview_cast_shares():
    data = bytearray(12)
    proxy = described(data, (3, 2), NATIVE + "u2")
    with memoryview(proxy) as view, view.cast("B") as octets, octets.cast("H") as items:
        assert (len(octets), len(items)) == (12, 6)
        items[5] = 0x1234
        assert struct.unpack_from("=H", data, 10) == (0x1234,)
        assert octets[10:12] == data[10:12]
        struct.pack_into("=H", data, 0, 0xABCD)
        assert items[0] == 0xABCD
        assert items.tolist() == list(array.array("H", bytes(data)))


def test_bytes_and_bytearray_copy():
    data = bytearray(range(6))
    proxy = described(data, (2, 3))
    snapshot, mutable, raw = bytes(proxy), bytearray(proxy), proxy.raw
    assert snapshot == mutable == raw == bytes(range(6))
    data[0] = 0xFF
    assert (snapshot[0], mutable[0], raw[0]) == (0, 0, 0)
    assert proxy.raw[0] == 0xFF


# --------------------------------------------------------------------------- ctypes


def test_ctypes_from_buffer_shares_memory():
    data = bytearray(8)
    locks = Locks()
    proxy = described(data, (2, 4), locks=locks)
    view = (ctypes.c_uint8 * 8).from_buffer(proxy)
    assert ctypes.addressof(view) == address_of(data)
    assert locks.open == 1  # the ctypes object holds the export
    view[7] = 42
    assert data[7] == 42
    data[0] = 1
    assert view[0] == 1
    del view
    gc.collect()
    assert locks.open == 0


def test_ctypes_from_buffer_of_read_only_proxy_raises_type_error():
    proxy = described(bytes(range(8)), (8,))
    with pytest.raises(TypeError, match="not writable"):
        (ctypes.c_uint8 * 8).from_buffer(proxy)
    copy = (ctypes.c_uint8 * 8).from_buffer_copy(proxy)
    assert list(copy) == list(range(8))


# --------------------------------------------------------------------------- hashlib, io, files


def test_hashlib_reads_the_memory():
    data = bytes(range(256)) * 3
    proxy = described(data, (3, 256))
    assert hashlib.sha256(proxy).hexdigest() == hashlib.sha256(data).hexdigest()
    digest = hashlib.sha256()
    digest.update(proxy)
    assert digest.digest() == hashlib.sha256(data).digest()


def test_hashlib_refuses_a_strided_layout():
    data = bytes(range(16))
    proxy = described(data, (4, 2), strides=(4, 2))
    with pytest.raises(BufferError):
        hashlib.sha256(proxy)
    assert hashlib.sha256(proxy.raw).digest() == hashlib.sha256(data[::2]).digest()


def test_bytesio_readinto_writes_into_the_parent():
    frame = (ctypes.c_uint8 * 8)()
    proxy = BufferProxy({"shape": (8,), "typestr": "|u1", "data": (ctypes.addressof(frame), False)})
    source = io.BytesIO(b"abcdefghij")
    assert source.readinto(proxy) == 8
    assert bytes(frame) == b"abcdefgh"
    assert source.read() == b"ij"


def test_bytesio_readinto_read_only_proxy_is_refused():
    with pytest.raises(TypeError, match="read-write"):
        io.BytesIO(b"x").readinto(described(bytes(4), (4,)))


def test_file_write_and_readinto(tmp_path):
    path = tmp_path / "pixels.bin"
    source = described(bytes(range(64)), (8, 8))
    with open(path, "wb", buffering=0) as f:
        assert f.write(source) == 64
    data = bytearray(64)
    with open(path, "rb", buffering=0) as f:
        assert f.readinto(described(data, (4, 4), "<u4")) == 64
    assert data == bytes(range(64))


# --------------------------------------------------------------------------- consumer errors


@pytest.mark.parametrize(
    ("consume", "error"),
    [
        pytest.param(lambda p: struct.unpack_from("<Q", p), struct.error, id="struct"),
        pytest.param(lambda p: (ctypes.c_uint8 * 4).from_buffer(p), TypeError, id="ctypes"),
        pytest.param(lambda p: np.frombuffer(p, dtype="<u8"), ValueError, id="numpy"),
    ],
)
def test_consumer_errors_survive_the_after_callback(monkeypatch, consume, error):
    unraisable = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    locks = Locks()
    proxy = described(bytes(4), (4,), locks=locks)
    with pytest.raises(error):
        consume(proxy)  # each consumer refuses these 4 read-only bytes
    assert locks.open == 0
    assert unraisable == []


# --------------------------------------------------------------------------- mmap


def test_anonymous_mmap_parent():
    mm = mmap.mmap(-1, 32)
    proxy = BufferProxy(mm)
    assert proxy.length == 32
    assert proxy.__array_interface__["data"][0] == address_of(mm)
    np.asarray(proxy)[3] = 33
    assert mm[3] == 33
    mm[4] = 44
    assert proxy.raw[4] == 44
    with pytest.raises(BufferError):
        mm.close()  # the proxy holds the mmap's export
    del proxy
    gc.collect()
    mm.close()


def test_file_backed_mmap_parent_writes_reach_the_file(tmp_path):
    path = tmp_path / "frame.bin"
    path.write_bytes(bytes(64))
    with open(path, "r+b") as f:
        mm = mmap.mmap(f.fileno(), 0)
    header = BufferProxy(mm)
    header.write(b"FRAME", offset=0)
    pixels = described(mm, (4, 4), "<u2", offset=32)
    np.asarray(pixels)[3, 3] = 0xABCD
    mm.flush()
    del header, pixels
    gc.collect()
    mm.close()
    content = path.read_bytes()
    assert content[:5] == b"FRAME"
    assert content[62:64] == b"\xcd\xab"
    assert content[5:62] == bytes(57)


def test_read_only_file_mmap_parent(tmp_path):
    path = tmp_path / "frame.bin"
    path.write_bytes(bytes(range(16)))
    with open(path, "rb") as f:
        mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    proxy = BufferProxy(mm)
    assert proxy.__array_interface__["data"][1] is True
    assert np.asarray(proxy).tolist() == list(range(16))
    with pytest.raises(BufferError):
        proxy.write(b"x")
    del proxy
    gc.collect()
    mm.close()


# --------------------------------------------------------------------------- shared memory


@pytest.fixture
def shm():
    segment = shared_memory.SharedMemory(create=True, size=64)
    try:
        yield segment
    finally:
        gc.collect()
        segment.close()
        segment.unlink()


def segment_proxy(segment, kind):
    """A proxy over `segment`, its memory reached the way `kind` says."""
    if kind == "buffer parent":
        return BufferProxy(segment.buf)
    if kind == "dict data object":
        return described(segment.buf, (64,))
    # The address, found with ctypes. The ctypes object holds an export of the segment, so as
    # the description's parent it keeps the mapping open while the proxy lives.
    anchor = ctypes.c_char.from_buffer(segment.buf)
    return BufferProxy(
        {
            "shape": (64,),
            "typestr": "|u1",
            "data": (ctypes.addressof(anchor), False),
            "parent": anchor,
        }
    )


@pytest.mark.parametrize("kind", ["buffer parent", "dict data object", "address and flag"])
def test_shared_memory_parent(shm, kind):
    other = shared_memory.SharedMemory(name=shm.name)  # a second mapping, as another process has
    try:
        proxy = segment_proxy(shm, kind)
        assert proxy.length == 64
        proxy.write(b"shared", offset=8)
        assert bytes(other.buf[8:14]) == b"shared"
        other.buf[0] = 0x5A
        assert proxy.raw[0] == 0x5A
        np.asarray(proxy)[63] = 0xFF
        assert other.buf[63] == 0xFF
        with pytest.raises(BufferError):
            shm.close()  # exports of the segment are still open
        del proxy
        gc.collect()
        shm.close()  # every export released
    finally:
        other.close()


# --------------------------------------------------------------------------- Pillow


@pytest.mark.parametrize(
    ("mode", "shape", "typestr", "pixel"),
    [
        ("L", (3, 4), "|u1", 200),
        ("RGBA", (3, 4, 4), "|u1", (1, 2, 3, 4)),
        ("RGBX", (3, 4, 4), "|u1", (9, 8, 7, 255)),
        ("I;16", (3, 4), "<u2", 0xBEEF),
    ],
)
def test_pillow_frombuffer_shares(mode, shape, typestr, pixel):
    data = bytearray(math.prod(shape) * int(typestr[2]))
    locks = Locks()
    proxy = described(data, shape, typestr, locks=locks)
    img = Image.frombuffer(mode, (4, 3), proxy, "raw", mode, 0, 1)
    assert img.size == (4, 3)
    assert locks.open == 1  # Pillow holds the export while the image lives
    assert img.getpixel((3, 1)) == (0 if isinstance(pixel, int) else (0,) * len(pixel))
    np.asarray(proxy)[1, 3] = pixel  # mutate the parent's memory...
    assert img.getpixel((3, 1)) == pixel  # ...and the image sees it
    del img
    gc.collect()
    assert locks.open == 0


@pytest.mark.parametrize(("mode", "typestr", "value"), [("I", "<i4", -7), ("F", "<f4", 2.5)])
def test_pillow_frombuffer_copies_unmapped_modes(mode, typestr, value):
    data = bytearray(48)
    proxy = described(data, (3, 4), typestr)
    np.asarray(proxy)[2, 1] = value
    img = Image.frombuffer(mode, (4, 3), proxy, "raw", mode, 0, 1)
    assert img.getpixel((1, 2)) == value
    np.asarray(proxy)[2, 1] = 0
    assert img.getpixel((1, 2)) == value  # decoded from a copy


def test_pillow_tobytes_written_through_the_proxy():
    source = Image.linear_gradient("L").resize((16, 8)).convert("RGBA")
    frame = (ctypes.c_uint8 * (16 * 8 * 4))()
    proxy = BufferProxy(
        {"shape": (8, 16, 4), "typestr": "|u1", "data": (ctypes.addressof(frame), False)}
    )
    proxy.write(source.tobytes())
    assert bytes(frame) == source.tobytes()
    back = Image.frombuffer("RGBA", (16, 8), proxy, "raw", "RGBA", 0, 1)
    assert back.tobytes() == source.tobytes()
    assert back.getpixel((5, 7)) == source.getpixel((5, 7))


# --------------------------------------------------------------------------- pygame


def test_pygame_image_frombuffer_shares_and_keeps_the_proxy():
    data = bytearray(4 * 3 * 4)
    locks = Locks()
    proxy = described(data, (3, 4, 4), locks=locks)
    alive = weakref.ref(proxy)
    surface = pygame.image.frombuffer(proxy, (4, 3), "RGBA")
    assert locks.open == 0  # pygame releases the export at once...
    del proxy
    gc.collect()
    assert alive() is not None  # ...but keeps the proxy, and so the memory
    data[4 * 6 : 4 * 7] = bytes((10, 20, 30, 40))
    assert tuple(surface.get_at((2, 1))) == (10, 20, 30, 40)
    del surface
    gc.collect()
    assert alive() is None


def test_pygame_surface_view_as_parent():
    surface = pygame.Surface((4, 3), 0, 32)
    proxy = BufferProxy(surface.get_view("2"))
    assert not surface.get_locked()  # nothing is acquired before the first use
    pixels = np.asarray(proxy)
    assert surface.get_locked()
    assert pixels.shape == (4, 3)  # pygame's (x, y) order, Fortran-ordered strides
    pixels[1, 2] = surface.map_rgb((10, 20, 30))
    del pixels, proxy
    gc.collect()
    assert not surface.get_locked()
    assert tuple(surface.get_at((1, 2)))[:3] == (10, 20, 30)


# --------------------------------------------------------------------------- strided layouts


def test_strided_dict_layout_through_numpy_and_memoryview():
    # A 3x4 view of every other byte of 3 rows of 10: row stride 10, column stride 2.
    data = bytearray(range(30))
    proxy = described(data, (3, 4), strides=(10, 2))
    expected = [[r * 10 + c * 2 for c in range(4)] for r in range(3)]

    arr = np.asarray(proxy)
    assert arr.strides == (10, 2)
    assert not arr.flags.c_contiguous
    assert arr.ctypes.data == address_of(data)
    assert arr.tolist() == expected

    with memoryview(proxy) as view:
        assert view.strides == (10, 2)
        assert not view.contiguous
        assert view.tolist() == expected
        assert view.tobytes() == proxy.raw == bytes(v for row in expected for v in row)
        view[2, 3] = 0xEE  # the item at 2 * 10 + 3 * 2
        assert data[26] == 0xEE

    arr[1, 1] = 0xDD
    assert data[12] == 0xDD
    assert (data[11], data[13]) == (11, 13)  # gaps untouched
    with pytest.raises(ValueError, match="contiguous"):
        proxy.write(b"x")
