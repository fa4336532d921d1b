"""PyBUF request flags: the proxy answers every flag combination like CPython's memoryview.

Buffers are requested through ctypes (`PyObject_GetBuffer` / `PyBuffer_Release`) with explicit
flags, from the proxy and from a `memoryview` of an equivalent exporter (the reference), and
the results are compared field by field.

One documented exception (DECISIONS.md, "A request without PyBUF_ND ... With PyBUF_FORMAT it
is served"): PyBUF_FORMAT without PyBUF_ND is served, as bytes, bytearray, `array.array`, numpy
and pygame serve it, where memoryview alone refuses it. See `reference_request`.
"""

import array
import ctypes
import functools
import itertools
import math
import struct
import sys

import numpy as np
import pytest
from cstructs import (
    Py_buffer,
    PyBUF_ANY_CONTIGUOUS,
    PyBUF_C_CONTIGUOUS,
    PyBUF_CONTIG,
    PyBUF_CONTIG_RO,
    PyBUF_F_CONTIGUOUS,
    PyBUF_FORMAT,
    PyBUF_FULL,
    PyBUF_FULL_RO,
    PyBUF_INDIRECT,
    PyBUF_ND,
    PyBUF_RECORDS,
    PyBUF_RECORDS_RO,
    PyBUF_SIMPLE,
    PyBUF_STRIDED,
    PyBUF_STRIDED_RO,
    PyBUF_STRIDES,
    PyBUF_WRITABLE,
)
from hypothesis import given
from hypothesis import strategies as st

from bufferproxy import BufferProxy
from bufferproxy._testing import Exporter

BASE_FLAGS = {
    "WRITABLE": PyBUF_WRITABLE,
    "FORMAT": PyBUF_FORMAT,
    "ND": PyBUF_ND,
    "STRIDES": PyBUF_STRIDES,
    "C_CONTIGUOUS": PyBUF_C_CONTIGUOUS,
    "F_CONTIGUOUS": PyBUF_F_CONTIGUOUS,
    "ANY_CONTIGUOUS": PyBUF_ANY_CONTIGUOUS,
    "INDIRECT": PyBUF_INDIRECT,
}

NAMED_FLAGS = {
    "SIMPLE": PyBUF_SIMPLE,
    **BASE_FLAGS,
    "CONTIG": PyBUF_CONTIG,
    "CONTIG_RO": PyBUF_CONTIG_RO,
    "STRIDED": PyBUF_STRIDED,
    "STRIDED_RO": PyBUF_STRIDED_RO,
    "RECORDS": PyBUF_RECORDS,
    "RECORDS_RO": PyBUF_RECORDS_RO,
    "FULL": PyBUF_FULL,
    "FULL_RO": PyBUF_FULL_RO,
    "FORMAT|ND": PyBUF_FORMAT | PyBUF_ND,
    "WRITABLE|FORMAT": PyBUF_WRITABLE | PyBUF_FORMAT,
    "C|F_CONTIGUOUS": PyBUF_C_CONTIGUOUS | PyBUF_F_CONTIGUOUS,
    "C_CONTIGUOUS|FORMAT": PyBUF_C_CONTIGUOUS | PyBUF_FORMAT,
    "F_CONTIGUOUS|WRITABLE": PyBUF_F_CONTIGUOUS | PyBUF_WRITABLE,
    "ANY_CONTIGUOUS|FORMAT": PyBUF_ANY_CONTIGUOUS | PyBUF_FORMAT,
}

# Every request that can be spelled as a union of the named flags (each implies its bits).
ALL_FLAG_VALUES = sorted(
    {
        functools.reduce(lambda a, b: a | b, combo, 0)
        for n in range(len(BASE_FLAGS) + 1)
        for combo in itertools.combinations(BASE_FLAGS.values(), n)
    }
)


def flag_names(flags):
    names = [name for name, bit in BASE_FLAGS.items() if flags & bit == bit]
    return "|".join(names) or "SIMPLE"


PyBUF_READ = 0x100  # a PyMemoryView_FromMemory flag, not a request flag

# Private function objects (PYFUNCTYPE: the GIL is held and a set Python error is raised).
_get_buffer = ctypes.PYFUNCTYPE(
    ctypes.c_int, ctypes.py_object, ctypes.POINTER(Py_buffer), ctypes.c_int
)(("PyObject_GetBuffer", ctypes.pythonapi))
_release_buffer = ctypes.PYFUNCTYPE(None, ctypes.POINTER(Py_buffer))(
    ("PyBuffer_Release", ctypes.pythonapi)
)


def _array(pointer, ndim):
    if not pointer:
        return None
    return tuple(pointer[i] for i in range(ndim))


def request(obj, flags):
    """PyObject_GetBuffer(obj, flags): a snapshot dict of the Py_buffer, or the BufferError."""
    view = Py_buffer()
    try:
        _get_buffer(obj, ctypes.byref(view), flags)
    except BufferError as exc:
        return exc.with_traceback(None)  # the traceback would keep `obj` alive
    try:
        return {
            "buf": view.buf or 0,
            "obj": view.obj,
            "len": view.len,
            "itemsize": view.itemsize,
            "readonly": view.readonly,
            "ndim": view.ndim,
            "format": view.format,
            "shape": _array(view.shape, view.ndim),
            "strides": _array(view.strides, view.ndim),
            "suboffsets": _array(view.suboffsets, view.ndim),
        }
    finally:
        _release_buffer(ctypes.byref(view))


def format_itemsize(fmt):
    return struct.calcsize(fmt.decode("ascii"))


def format_without_shape(flags):
    """PyBUF_FORMAT requested without PyBUF_ND: the one request memoryview refuses and we serve."""
    return flags & PyBUF_FORMAT == PyBUF_FORMAT and flags & PyBUF_ND != PyBUF_ND


def reference_request(reference, flags):
    """The reference answer to `flags`: memoryview's `memory_getbuf`, with one exception.

    DECISIONS.md, "A request without PyBUF_ND ... With PyBUF_FORMAT it is served (format and
    item size filled) ...; memoryview's refusal of that one combination is not copied."
    `memory_getbuf` (Objects/memoryobject.c) makes that refusal its very last check, after the
    writable, contiguity and "no strides needs C-contiguous" checks, so the modelled answer is
    memoryview's answer to the same request without PyBUF_FORMAT (ndim 1, NULL shape and
    strides, or the BufferError that request gets), with the item format filled in.
    """
    if not format_without_shape(flags):
        return request(reference, flags)
    theirs = request(reference, flags & ~PyBUF_FORMAT)
    if not isinstance(theirs, BufferError):
        theirs["format"] = reference.format.encode("ascii")
    return theirs


# DECISIONS.md, "Types and formats": native-order 8-byte ints are handed out as `q`/`Q`, where
# numpy's own export (the reference for description parents) says `l`/`L` (same size here).
LONG_AS_LONG_LONG = {b"l": b"q", b"L": b"Q"} if struct.calcsize("l") == 8 else {}


def expected_format(kind, reference_format):
    """The format a proxy over a `kind` parent hands out, given the reference's format."""
    if reference_format is None or kind in EXPORTER_KINDS:
        # DECISIONS.md, "Types and formats": an exporter parent's own format is passed
        # through unchanged.
        return reference_format
    # Descriptions (dict, __array_struct__, __array_interface__): the format table, which
    # gives native items their single-character code (`h`, not pygame's `=h`) and keeps the
    # byte-order prefix of swapped items (`>i`), as numpy does.
    return LONG_AS_LONG_LONG.get(reference_format, reference_format)


def assert_like_reference(proxy, reference, flags, kind):
    """The proxy's answer to `flags` matches the reference exporter's answer."""
    refcount = sys.getrefcount(proxy)
    ours = request(proxy, flags)
    theirs = reference_request(reference, flags)
    assert sys.getrefcount(proxy) == refcount  # the export was released
    label = f"flags={flags:#x} ({flag_names(flags)})"
    if isinstance(theirs, BufferError):
        assert isinstance(ours, BufferError), f"{label}: expected BufferError, got {ours}"
        return
    assert not isinstance(ours, BufferError), f"{label}: unexpected {ours!r}"
    assert ours["obj"] == id(proxy), label
    for key in ("buf", "len", "itemsize", "readonly", "ndim"):
        assert ours[key] == theirs[key], f"{label}: {key} {ours[key]} != {theirs[key]}"
    # Shape and strides values; for ndim == 0 only NULL-ness differs (see the dedicated test).
    for key in ("shape", "strides"):
        if ours["ndim"] == 0:
            assert not ours[key], f"{label}: {key} {ours[key]}"
        else:
            assert ours[key] == theirs[key], f"{label}: {key} {ours[key]} != {theirs[key]}"
    assert ours["suboffsets"] is None, label
    # NULL format iff FORMAT not requested.
    assert (ours["format"] is None) == (flags & PyBUF_FORMAT != PyBUF_FORMAT), label
    assert (ours["format"] is None) == (theirs["format"] is None), label
    if ours["format"] is not None:
        assert format_itemsize(ours["format"]) == ours["itemsize"], label
    assert ours["format"] == expected_format(kind, theirs["format"]), label
    if format_without_shape(flags):
        # Served (DECISIONS.md, "A request without PyBUF_ND"): one dimension, no shape.
        assert (ours["ndim"], ours["shape"], ours["strides"]) == (1, None, None), label
        assert ours["format"] is not None, label
    if ours["ndim"]:
        assert (ours["shape"] is None) == (flags & PyBUF_ND != PyBUF_ND), label
        assert (ours["strides"] is None) == (flags & PyBUF_STRIDES != PyBUF_STRIDES), label


def reference_is_ambiguous(reference, arr):
    """memoryview and numpy disagree on contiguity (a CPython corner): skip the comparison."""
    view = memoryview(reference)
    try:
        return (view.c_contiguous, view.f_contiguous) != (
            arr.flags.c_contiguous,
            arr.flags.f_contiguous,
        )
    finally:
        view.release()


# --------------------------------------------------------------------------- layouts


def describe(arr):
    """A dict description of numpy array `arr` (kept alive through the 'parent' key)."""
    return {
        "shape": arr.shape,
        "typestr": arr.__array_interface__["typestr"],
        "strides": arr.strides,
        "data": (arr.ctypes.data, not arr.flags.writeable),
        "parent": arr,
    }


class StructOnly:
    """Exposes numpy's own `__array_struct__` capsule and nothing else."""

    def __init__(self, arr):
        self.arr = arr
        self.__array_struct__ = arr.__array_struct__


class InterfaceOnly:
    """Exposes an explicit-strides `__array_interface__` dict and nothing else."""

    def __init__(self, arr):
        self.arr = arr
        self.__array_interface__ = {**describe(arr), "version": 3}


def to_exporter(arr):
    view = memoryview(arr)
    try:
        return Exporter(
            arr.shape, view.format, strides=arr.strides, readonly=not arr.flags.writeable
        )
    finally:
        view.release()


KINDS = ["buffer", "dict", "struct", "interface", "exporter"]
EXPORTER_KINDS = ("buffer", "exporter")  # buffer-protocol parents; the others are descriptions


def make_pair(kind, arr):
    """(proxy, reference exporter, numpy array with the same layout) for a parent kind."""
    with memoryview(arr) as view:
        strides = view.strides
    if strides != arr.strides:
        # numpy's buffer export reports canonical strides for zero-size arrays and size-1
        # axes, whatever `arr.strides` says: make both agree so that every kind describes the
        # same layout as the reference.
        arr = np.lib.stride_tricks.as_strided(
            arr, arr.shape, strides, writeable=arr.flags.writeable
        )
    if kind == "buffer":
        return BufferProxy(arr), memoryview(arr), arr
    if kind == "dict" and arr.ndim:  # 0-dim cannot be described by a dict
        return BufferProxy(describe(arr)), memoryview(arr), arr
    if kind == "interface" and arr.ndim:
        return BufferProxy(InterfaceOnly(arr)), memoryview(arr), arr
    if kind in ("struct", "interface", "dict"):
        return BufferProxy(StructOnly(arr)), memoryview(arr), arr
    exporter = to_exporter(arr)
    return BufferProxy(exporter), memoryview(exporter), arr


def readonly(arr):
    arr.flags.writeable = False
    return arr


def fixed_layouts():
    grid = np.arange(48, dtype=np.int16).reshape(6, 8)
    return {
        "C-2d": grid,
        "F-2d": np.asfortranarray(grid),
        "1d": np.arange(10, dtype=np.float64),
        "1d-strided": np.arange(10, dtype=np.uint32)[::3],
        "1d-negative": np.arange(10, dtype=np.uint8)[::-1],
        "non-contiguous": grid[1:5:2, ::3],
        "negative-2d": grid[::-1, ::-2],
        "size-1-dims": np.arange(4, dtype=np.int32).reshape(1, 4, 1)[:, ::1, :],
        "zero-size": np.zeros((3, 0), dtype=np.float32),
        "zero-size-strided": np.zeros((4, 6), dtype=np.int16)[::2, 3:3],
        "0-dim": np.array(3.25, dtype=np.float64),
        "readonly-C": readonly(np.arange(12, dtype=np.uint16).reshape(3, 4)),
        "readonly-F": readonly(np.asfortranarray(np.arange(12, dtype=np.int64).reshape(3, 4))),
        "readonly-strided": readonly(np.arange(30, dtype=np.float32).reshape(5, 6)[::2, 1::2]),
        "readonly-zero-size": readonly(np.zeros((0,), dtype=np.int8)),
        "swapped": np.arange(6, dtype=(">" if sys.byteorder == "little" else "<") + "i4"),
        "broadcast-zero-stride": np.broadcast_to(np.arange(3, dtype=np.int16), (4, 3)),
    }


FIXED_LAYOUTS = fixed_layouts()


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("layout", list(FIXED_LAYOUTS))
def test_every_flag_combination_like_memoryview(layout, kind):
    arr = FIXED_LAYOUTS[layout]
    proxy, reference, arr = make_pair(kind, arr)
    assert not reference_is_ambiguous(reference, arr)
    for flags in ALL_FLAG_VALUES:
        assert_like_reference(proxy, reference, flags, kind)


@pytest.mark.parametrize("name", list(NAMED_FLAGS))
@pytest.mark.parametrize(
    "layout", ["C-2d", "F-2d", "non-contiguous", "zero-size", "0-dim", "readonly-C"]
)
def test_named_flags_like_memoryview(layout, name):
    arr = FIXED_LAYOUTS[layout]
    for kind in KINDS:
        proxy, reference, _ = make_pair(kind, arr)
        assert_like_reference(proxy, reference, NAMED_FLAGS[name], kind)


@pytest.mark.parametrize("kind", KINDS)
def test_zero_dim_export_has_null_shape_and_strides(kind):
    # The C API docs: "If ndim is 0 ... shape, strides and suboffsets MUST be NULL", and
    # memoryview does so even when ND/STRIDES are requested.
    arr = np.array(2.5, dtype=np.float64)
    proxy, reference, _ = make_pair(kind, arr)
    for flags in (PyBUF_ND, PyBUF_STRIDES, PyBUF_RECORDS_RO, PyBUF_FULL):
        theirs = request(reference, flags)
        assert (theirs["ndim"], theirs["shape"], theirs["strides"]) == (0, None, None)
        ours = request(proxy, flags)
        label = flag_names(flags)
        assert (ours["ndim"], ours["shape"], ours["strides"]) == (0, None, None), label
        assert ours["suboffsets"] is None


# DECISIONS.md, "A request without PyBUF_ND ... With PyBUF_FORMAT it is served": the C-contiguous
# layouts below get ndim 1, NULL shape and strides, and the item format.
C_CONTIGUOUS_LAYOUTS = [
    "C-2d",
    "1d",
    "size-1-dims",
    "zero-size",
    "0-dim",
    "readonly-C",
    "readonly-zero-size",
    "swapped",
]
NOT_C_CONTIGUOUS_LAYOUTS = [
    "F-2d",
    "1d-strided",
    "1d-negative",
    "non-contiguous",
    "negative-2d",
    "readonly-F",
    "readonly-strided",
    "broadcast-zero-stride",
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("layout", C_CONTIGUOUS_LAYOUTS)
def test_format_without_shape_is_served(layout, kind):
    arr = FIXED_LAYOUTS[layout]
    proxy, reference, arr = make_pair(kind, arr)
    # memoryview, the reference everywhere else, refuses this one request...
    assert isinstance(request(reference, PyBUF_FORMAT), BufferError)
    # ...and the proxy serves it, as bytes, bytearray, array.array and numpy do.
    requests = [PyBUF_FORMAT] + [PyBUF_WRITABLE | PyBUF_FORMAT] * arr.flags.writeable
    for flags in requests:
        refcount = sys.getrefcount(proxy)
        ours = request(proxy, flags)
        assert sys.getrefcount(proxy) == refcount  # the export was released
        label = flag_names(flags)
        assert not isinstance(ours, BufferError), f"{label}: {ours!r}"
        assert ours["obj"] == id(proxy), label
        assert ours["ndim"] == 1, label
        assert ours["shape"] is ours["strides"] is ours["suboffsets"] is None, label
        assert ours["format"] == expected_format(kind, reference.format.encode("ascii")), label
        assert ours["itemsize"] == arr.itemsize == format_itemsize(ours["format"]), label
        assert ours["len"] == arr.nbytes, label
        assert ours["readonly"] == (not arr.flags.writeable), label
        if arr.size:
            assert ours["buf"] == request(reference, PyBUF_SIMPLE)["buf"], label
            assert ctypes.string_at(ours["buf"], ours["len"]) == reference.tobytes(), label
    if not arr.flags.writeable:
        # The writable check still comes first.
        assert isinstance(request(proxy, PyBUF_WRITABLE | PyBUF_FORMAT), BufferError)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("layout", NOT_C_CONTIGUOUS_LAYOUTS)
def test_format_without_shape_needs_c_contiguous_data(layout, kind):
    # Without PyBUF_ND (and so without PyBUF_STRIDES) the consumer assumes C order.
    arr = FIXED_LAYOUTS[layout]
    proxy, reference, arr = make_pair(kind, arr)
    assert not arr.flags.c_contiguous
    refcount = sys.getrefcount(proxy)
    for flags in (PyBUF_FORMAT, PyBUF_WRITABLE | PyBUF_FORMAT):
        assert isinstance(request(proxy, flags), BufferError), flag_names(flags)
        # As memoryview refuses the same request without the format.
        assert isinstance(request(reference, flags & ~PyBUF_FORMAT), BufferError)
    assert sys.getrefcount(proxy) == refcount
    # The same data is served once the consumer asks for the strides.
    assert isinstance(request(proxy, PyBUF_RECORDS_RO), dict)


@pytest.mark.parametrize(
    "parent",
    [
        b"bytes parent",
        bytearray(b"bytearray parent"),
        array.array("h", [1, -2, 3]),
        array.array("d", [0.5, 1.5]),
        array.array("Q", [2**64 - 1]),
    ],
    ids=["bytes", "bytearray", "array-h", "array-d", "array-Q"],
)
def test_format_without_shape_like_the_exporters_that_serve_it(parent):
    # The exporters DECISIONS.md names as serving PyBUF_FORMAT without PyBUF_ND give
    # exactly the same answer as a proxy over them (numpy too, but with ndim 0).
    proxy = BufferProxy(parent)
    code = parent.typecode if isinstance(parent, array.array) else "B"
    for flags in (PyBUF_FORMAT, PyBUF_WRITABLE | PyBUF_FORMAT):
        theirs = request(parent, flags)
        ours = request(proxy, flags)
        if isinstance(theirs, BufferError):  # bytes are read-only
            assert isinstance(ours, BufferError)
            continue
        assert ours["obj"] == id(proxy)
        del ours["obj"], theirs["obj"]
        assert ours == theirs
        assert (ours["ndim"], ours["shape"], ours["strides"]) == (1, None, None)
        assert ours["format"] == code.encode("ascii")
        assert ours["len"] == proxy.length


def test_expected_outcomes_for_a_c_contiguous_proxy():
    arr = np.arange(12, dtype=np.int32).reshape(3, 4)
    proxy = BufferProxy(arr)
    simple = request(proxy, PyBUF_SIMPLE)
    assert simple["buf"] == arr.ctypes.data
    assert simple["len"] == 48
    assert simple["itemsize"] == 4
    assert simple["format"] is None
    assert simple["shape"] is None
    assert simple["strides"] is None
    assert simple["readonly"] == 0
    records = request(proxy, PyBUF_RECORDS)
    assert records["shape"] == (3, 4)
    assert records["strides"] == (16, 4)
    assert format_itemsize(records["format"]) == 4
    contig = request(proxy, PyBUF_CONTIG)
    assert contig["shape"] == (3, 4)
    assert contig["strides"] is None
    assert contig["format"] is None
    assert not isinstance(request(proxy, PyBUF_F_CONTIGUOUS), dict)
    assert isinstance(request(proxy, PyBUF_ANY_CONTIGUOUS), dict)


def test_expected_outcomes_for_a_non_contiguous_proxy():
    arr = np.arange(24, dtype=np.int16).reshape(4, 6)[:, ::2]
    proxy = BufferProxy(arr)
    for flags in (
        PyBUF_SIMPLE,
        PyBUF_ND,
        PyBUF_CONTIG_RO,
        PyBUF_C_CONTIGUOUS,
        PyBUF_F_CONTIGUOUS,
        PyBUF_ANY_CONTIGUOUS,
    ):
        assert isinstance(request(proxy, flags), BufferError), flag_names(flags)
    strided = request(proxy, PyBUF_STRIDED_RO)
    assert strided["shape"] == (4, 3)
    assert strided["strides"] == (12, 4)
    assert strided["len"] == 24
    full = request(proxy, PyBUF_FULL)
    assert full["suboffsets"] is None
    assert full["readonly"] == 0


def test_expected_outcomes_for_a_read_only_proxy():
    proxy = BufferProxy(b"read only")
    for flags in (PyBUF_WRITABLE, PyBUF_CONTIG, PyBUF_STRIDED, PyBUF_RECORDS, PyBUF_FULL):
        assert isinstance(request(proxy, flags), BufferError), flag_names(flags)
    for flags in (PyBUF_SIMPLE, PyBUF_CONTIG_RO, PyBUF_STRIDED_RO, PyBUF_FULL_RO):
        result = request(proxy, flags)
        assert result["readonly"] == 1
        assert result["len"] == 9


def test_consumer_write_request_on_read_only_description_is_buffer_error():
    arr = readonly(np.zeros(4, dtype=np.uint8))
    proxy = BufferProxy(describe(arr))
    assert isinstance(request(proxy, PyBUF_WRITABLE), BufferError)
    assert request(proxy, PyBUF_SIMPLE)["readonly"] == 1
    assert not np.asarray(proxy).flags.writeable
    with memoryview(proxy) as view:
        assert view.readonly


@pytest.mark.parametrize(
    "make_parent",
    [
        lambda: b"bytes parent",
        lambda: bytearray(b"bytearray parent"),
        lambda: np.arange(12, dtype=np.int32).reshape(3, 4),
        lambda: np.arange(12, dtype=np.int32).reshape(3, 4)[:, ::2],
        lambda: Exporter((2, 3), "<h"),
        lambda: Exporter((2, 3), "3x"),
    ],
    ids=["bytes", "bytearray", "ndarray", "ndarray-strided", "Exporter", "Exporter-3x"],
)
@pytest.mark.parametrize(
    "flags",
    [PyBUF_SIMPLE, PyBUF_ND, PyBUF_STRIDES, PyBUF_CONTIG_RO, PyBUF_STRIDED_RO, PyBUF_INDIRECT],
    ids=["SIMPLE", "ND", "STRIDES", "CONTIG_RO", "STRIDED_RO", "INDIRECT"],
)
def test_no_format_request_over_buffer_protocol_parent(make_parent, flags):
    # pygame 2.6.1 dereferences a NULL format here; it must simply work.
    parent = make_parent()
    proxy = BufferProxy(parent)
    assert proxy.length > 0
    result = request(proxy, flags)
    reference = request(memoryview(parent), flags)
    if isinstance(reference, BufferError):
        assert isinstance(result, BufferError)
    else:
        assert result["format"] is None
        assert result["len"] == proxy.length
        assert result["buf"] == reference["buf"]


def test_every_raw_flag_value_is_safe():
    # Requests that are not unions of the named flags (e.g. C_CONTIGUOUS's own bit without
    # STRIDES) must not crash either: success or BufferError, never anything else.
    arrays = [
        np.arange(12, dtype=np.int16).reshape(3, 4),
        np.asfortranarray(np.arange(12, dtype=np.int16).reshape(3, 4)),
        np.arange(12, dtype=np.int16).reshape(3, 4)[:, ::2],
        np.zeros((0, 2), dtype=np.int16),
        np.array(1, dtype=np.int16),
        readonly(np.arange(4, dtype=np.int16)),
    ]
    for arr in arrays:
        for kind in KINDS:
            proxy, _, _ = make_pair(kind, arr)
            for flags in range(0x200):
                if flags == PyBUF_READ and sys.version_info >= (3, 13):
                    # CPython 3.13 refuses PyBUF_READ (0x100) itself, before asking any
                    # exporter: SystemError "bad argument to internal function".
                    with pytest.raises(SystemError):
                        request(proxy, flags)
                    continue
                result = request(proxy, flags)
                if isinstance(result, BufferError):
                    continue
                assert result["len"] == arr.nbytes
                assert result["itemsize"] == arr.itemsize
                assert result["suboffsets"] is None
                if arr.size:
                    assert result["buf"] == arr.ctypes.data or kind == "exporter"
                if flags & PyBUF_WRITABLE:
                    assert result["readonly"] == 0


def test_exports_are_released_after_every_request():
    exporter = Exporter((3, 4), "<i")
    proxy = BufferProxy(exporter)
    assert proxy.length == 48
    held = exporter.exports
    for flags in ALL_FLAG_VALUES:
        request(proxy, flags)
        assert exporter.exports == held, flag_names(flags)


def test_failed_requests_do_not_leak_references():
    arr = readonly(np.arange(8, dtype=np.uint8)[::2])
    proxy = BufferProxy(arr)
    _ = proxy.length
    before = sys.getrefcount(proxy), sys.getrefcount(arr)
    for flags in (PyBUF_WRITABLE, PyBUF_SIMPLE, PyBUF_C_CONTIGUOUS, PyBUF_FORMAT):
        assert isinstance(request(proxy, flags), BufferError)
    assert (sys.getrefcount(proxy), sys.getrefcount(arr)) == before


# --------------------------------------------------------------------------- hypothesis


DTYPES = ["u1", "i1", "<i2", ">u2", "<i4", ">f4", "<f8", "<u8", "V3"]


@st.composite
def numpy_layouts(draw):
    dtype = np.dtype(draw(st.sampled_from(DTYPES)))
    shape = tuple(draw(st.lists(st.integers(0, 5), max_size=3)))
    arr = np.frombuffer(bytes(range(256)) * (1 + math.prod(shape) * dtype.itemsize // 256), "u1")
    arr = arr[: math.prod(shape) * dtype.itemsize].copy().view(dtype).reshape(shape)
    ndim = len(shape)
    if ndim and draw(st.booleans()):
        arr = arr.transpose(draw(st.permutations(range(ndim))))
    if ndim and draw(st.booleans()):
        steps = [draw(st.sampled_from([1, 2, 3, -1, -2])) for _ in range(ndim)]
        arr = arr[tuple(slice(None, None, step) for step in steps)]
    if draw(st.booleans()):
        arr = np.asfortranarray(arr) if draw(st.booleans()) else np.ascontiguousarray(arr)
    if ndim and draw(st.booleans()):
        # A zero stride: broadcast one axis (numpy marks the result read-only).
        axis = draw(st.integers(0, ndim - 1))
        index = tuple(slice(0, 1) if k == axis else slice(None) for k in range(ndim))
        arr = np.broadcast_to(arr[index], arr.shape)
    if draw(st.booleans()):
        arr = arr.view()
        arr.flags.writeable = False
    return arr


@given(
    arr=numpy_layouts(),
    kind=st.sampled_from(KINDS),
    flags=st.lists(st.sampled_from(list(BASE_FLAGS.values())), max_size=4).map(
        lambda bits: functools.reduce(lambda a, b: a | b, bits, 0)
    ),
)
def test_flags_like_memoryview_hypothesis(arr, kind, flags):
    proxy, reference, arr = make_pair(kind, arr)
    if reference_is_ambiguous(reference, arr):
        request(proxy, flags)  # must not crash; the reference itself is inconsistent
        return
    assert_like_reference(proxy, reference, flags, kind)


@given(arr=numpy_layouts(), kind=st.sampled_from(KINDS))
def test_all_flags_like_memoryview_hypothesis(arr, kind):
    proxy, reference, arr = make_pair(kind, arr)
    if reference_is_ambiguous(reference, arr):
        return
    for flags in ALL_FLAG_VALUES:
        assert_like_reference(proxy, reference, flags, kind)
