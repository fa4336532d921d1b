"""Exporter parents: buffer protocol, then `__array_struct__`, then `__array_interface__`."""

import array
import ctypes
import gc
import math
import random
import struct
import sys

import numpy as np
import pytest
from cstructs import (
    PAI_ALIGNED,
    PAI_CONTIGUOUS,
    PAI_FORTRAN,
    PAI_NOTSWAPPED,
    PAI_WRITEABLE,
    PyArrayInterface,
)
from hypothesis import given
from hypothesis import strategies as st

from bufferproxy import BufferProxy
from bufferproxy._testing import Exporter

NATIVE = "<" if sys.byteorder == "little" else ">"
SWAPPED = ">" if NATIVE == "<" else "<"


# A private function object (not the shared ctypes.pythonapi attribute, whose argtypes other
# modules might set differently).
_capsule_new = ctypes.PYFUNCTYPE(
    ctypes.py_object, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p
)(("PyCapsule_New", ctypes.pythonapi))


class CapsuleSource:
    """Owns a PyArrayInterface describing numpy array `arr`; hands out capsules over it.

    The capsules have no destructor: the struct lives as long as this object, which the
    exporter objects below keep alive (and the proxy keeps its parent alive).
    """

    def __init__(self, arr, *, two=2, typekind=None, itemsize=None, name=None):
        self.arr = arr
        self.name = name
        ndim = arr.ndim
        self.shape = (ctypes.c_ssize_t * max(ndim, 1))(*arr.shape)
        self.strides = (ctypes.c_ssize_t * max(ndim, 1))(*arr.strides)
        flags = PAI_ALIGNED
        if arr.dtype.byteorder != SWAPPED:
            flags |= PAI_NOTSWAPPED
        if arr.flags.writeable:
            flags |= PAI_WRITEABLE
        if arr.flags.c_contiguous:
            flags |= PAI_CONTIGUOUS
        if arr.flags.f_contiguous:
            flags |= PAI_FORTRAN
        self.inter = PyArrayInterface(
            two=two,
            nd=ndim,
            typekind=(typekind or arr.dtype.kind).encode("ascii"),
            itemsize=itemsize or arr.itemsize,
            flags=flags,
            shape=self.shape,
            strides=self.strides,
            data=arr.ctypes.data,
        )

    def capsule(self):
        return _capsule_new(ctypes.addressof(self.inter), self.name, None)


def interface_of(arr, **changes):
    """An `__array_interface__` dict for numpy array `arr` (explicit strides)."""
    inter = {
        "version": 3,
        "typestr": arr.__array_interface__["typestr"],
        "shape": arr.shape,
        "strides": arr.strides,
        "data": (arr.ctypes.data, not arr.flags.writeable),
    }
    inter.update(changes)
    return inter


MISSING = object()


def make_parent(*, struct_getter=MISSING, interface_getter=MISSING, base=object, name="Parent"):
    """An instance of a fresh class `name` with the given property getters.

    Each getter is a zero-argument callable; every access is logged in `obj.log`.
    """
    log = []
    namespace = {}
    if struct_getter is not MISSING:

        def get_struct(self):
            log.append("struct")
            return struct_getter()

        namespace["__array_struct__"] = property(get_struct)
    if interface_getter is not MISSING:

        def get_interface(self):
            log.append("interface")
            return interface_getter()

        namespace["__array_interface__"] = property(get_interface)
    cls = type(name, (base,), namespace)
    obj = cls()
    obj.log = log
    return obj


class GetterError(Exception):
    """Raised by getters on purpose."""


def raiser(exc):
    def getter():
        raise exc

    return getter


def constant(value):
    return lambda: value


def as_void(arr):
    """`arr` viewed as raw items (numpy copies nothing for the field-less dtype of 'x')."""
    return arr.view(np.dtype((np.void, arr.itemsize)))


def c_strides(shape, itemsize):
    strides = []
    step = itemsize
    for n in reversed(shape):
        strides.append(step)
        step *= n
    return tuple(reversed(strides))


# --------------------------------------------------------------------------- exporter order


def test_buffer_protocol_wins_over_array_struct_and_interface():
    other = np.arange(4, dtype=np.int32)
    source = CapsuleSource(other)
    parent = make_parent(
        struct_getter=source.capsule,
        interface_getter=lambda: interface_of(other),
        base=bytearray,
        name="Everything",
    )
    parent.extend(b"buffer protocol")
    proxy = BufferProxy(parent)
    assert proxy.raw == b"buffer protocol"
    assert proxy.length == 15
    assert proxy.__array_interface__["typestr"] == "|u1"
    assert proxy.parent is parent
    assert parent.log == []


def test_array_struct_wins_over_array_interface():
    by_struct = np.arange(6, dtype=np.int16).reshape(2, 3)
    by_interface = np.arange(10, dtype=np.float64)
    source = CapsuleSource(by_struct)
    parent = make_parent(
        struct_getter=source.capsule, interface_getter=lambda: interface_of(by_interface)
    )
    proxy = BufferProxy(parent)
    assert proxy.length == 12
    assert proxy.raw == by_struct.tobytes()
    inter = proxy.__array_interface__
    assert inter["shape"] == (2, 3)
    assert inter["data"] == (by_struct.ctypes.data, False)
    assert parent.log == ["struct"]


def test_array_interface_used_when_alone():
    arr = np.arange(12, dtype=np.uint16).reshape(3, 4)[:, ::2]
    parent = make_parent(interface_getter=lambda: interface_of(arr))
    proxy = BufferProxy(parent)
    assert proxy.length == 12
    assert proxy.raw == arr.tobytes()
    assert proxy.__array_interface__["strides"] == arr.strides
    assert parent.log == ["interface"]


def test_exporter_read_once_at_first_use():
    arr = np.arange(5, dtype=np.uint8)
    source = CapsuleSource(arr)
    parent = make_parent(struct_getter=source.capsule)
    proxy = BufferProxy(parent)
    assert parent.log == []
    assert proxy.length == 5
    _ = proxy.raw, proxy.__array_interface__, proxy.__array_struct__, repr(proxy)
    assert parent.log == ["struct"]


BAD_STRUCT_GETTERS = {
    "raises": lambda arr: raiser(GetterError("struct getter failed")),
    "raises-attributeerror": lambda arr: raiser(AttributeError("no struct today")),
    "int": lambda arr: constant(5),
    "none": lambda arr: constant(None),
    "dict": lambda arr: constant(interface_of(arr)),
    "named-capsule": lambda arr: CapsuleSource(arr, name=b"numpy").capsule,
    "two-is-3": lambda arr: CapsuleSource(arr, two=3).capsule,
    "two-is-0": lambda arr: CapsuleSource(arr, two=0).capsule,
}


@pytest.mark.parametrize("kind", list(BAD_STRUCT_GETTERS))
def test_bad_array_struct_is_skipped_for_array_interface(kind):
    wrong = np.full(3, 255, dtype=np.uint8)
    right = np.arange(8, dtype=np.int32).reshape(2, 4)
    parent = make_parent(
        struct_getter=BAD_STRUCT_GETTERS[kind](wrong),
        interface_getter=lambda: interface_of(right),
    )
    proxy = BufferProxy(parent)
    assert proxy.length == 32
    assert proxy.raw == right.tobytes()
    assert proxy.__array_interface__["data"] == (right.ctypes.data, False)
    assert parent.log == ["struct", "interface"]


BAD_INTERFACE_GETTERS = {
    "raises": raiser(GetterError("interface getter failed")),
    "int": constant(3),
    "none": constant(None),
    "list": constant([("shape", (1,))]),
    "tuple": constant(((1,), "|u1")),
    "str": constant("{'shape': (1,)}"),
}


@pytest.mark.parametrize("struct_kind", [None, *BAD_STRUCT_GETTERS])
@pytest.mark.parametrize("interface_kind", [None, *BAD_INTERFACE_GETTERS])
def test_nothing_usable_raises_value_error(struct_kind, interface_kind):
    arr = np.arange(3, dtype=np.uint8)
    kwargs = {}
    if struct_kind is not None:
        kwargs["struct_getter"] = BAD_STRUCT_GETTERS[struct_kind](arr)
    if interface_kind is not None:
        kwargs["interface_getter"] = BAD_INTERFACE_GETTERS[interface_kind]
    parent = make_parent(name="Useless", **kwargs)
    proxy = BufferProxy(parent)  # construction never exports
    assert parent.log == []
    message = r"^Useless object does not export an array buffer$"
    with pytest.raises(ValueError, match=message) as info:
        _ = proxy.length
    cause = info.value.__cause__
    assert isinstance(cause, BaseException)
    if interface_kind == "raises":
        # The interface getter is tried last; its exception is the cause.
        assert isinstance(cause, GetterError)
        assert str(cause) == "interface getter failed"
    expected_log = (["struct"] if struct_kind else []) + (["interface"] if interface_kind else [])
    assert parent.log == expected_log


@pytest.mark.parametrize(
    ("obj", "type_name"),
    [
        (1, "int"),
        (1.5, "float"),
        (None, "NoneType"),
        ("text", "str"),
        ([1, 2, 3], "list"),
        ((1, 2), "tuple"),
        (object(), "object"),
    ],
)
def test_builtin_non_exporters_raise_value_error(obj, type_name):
    proxy = BufferProxy(obj)
    message = f"^{type_name} object does not export an array buffer$"
    for attribute in ("length", "raw", "parent", "__array_interface__", "__array_struct__"):
        with pytest.raises(ValueError, match=message) as info:
            getattr(proxy, attribute)
        # The last interface tried is missing: the cause says so.
        cause = info.value.__cause__
        assert isinstance(cause, AttributeError)
        assert str(cause) == f"'{type_name}' object has no attribute '__array_interface__'"
    with pytest.raises(ValueError, match=message):
        repr(proxy)
    with pytest.raises(ValueError, match=message):
        memoryview(proxy)


def test_failed_first_use_is_retried():
    arr = np.arange(4, dtype=np.uint8)
    state = {"ready": False}

    def interface():
        if not state["ready"]:
            raise GetterError("not yet")
        return interface_of(arr)

    parent = make_parent(interface_getter=interface, name="Late")
    proxy = BufferProxy(parent)
    with pytest.raises(ValueError, match="Late object does not export an array buffer"):
        _ = proxy.length
    state["ready"] = True
    assert proxy.length == 4
    assert proxy.raw == bytes(range(4))


# --------------------------------------------------------------------------- validation errors


def error_of(parent):
    with pytest.raises(Exception) as info:  # noqa: PT011 - the type is compared below
        _ = BufferProxy(parent).length
    return info.value


@pytest.mark.parametrize(
    "changes",
    [
        {"shape": MISSING},
        {"shape": [4]},
        {"shape": ()},
        {"shape": None},
        {"typestr": MISSING},
        {"typestr": "<x9"},
        {"typestr": 5},
        {"typestr": "<i2 "},
        {"data": MISSING},
        {"data": None},
        {"data": (0,)},
        {"strides": None},
        {"strides": (1, 1)},
        {"strides": [1]},
    ],
    ids=lambda changes: ",".join(
        f"{k}={'missing' if v is MISSING else repr(v)}" for k, v in changes.items()
    ),
)
def test_invalid_array_interface_dict_raises_like_a_description(changes):
    arr = np.arange(4, dtype=np.uint8)
    inter = {k: v for k, v in interface_of(arr, **changes).items() if v is not MISSING}
    # A valid struct-less exporter whose dict fails validation: no fallback, same error as the
    # dict given directly as a description.
    parent = make_parent(interface_getter=lambda: dict(inter), name="BadDict")
    from_exporter = error_of(parent)
    from_description = error_of(dict(inter))
    assert type(from_exporter) is type(from_description)
    assert str(from_exporter) == str(from_description)
    assert "does not export" not in str(from_exporter)
    assert parent.log == ["interface"]


def test_numpy_style_interface_with_strides_none_is_a_validation_error():
    # numpy's own `__array_interface__` uses strides=None for C-contiguous arrays; as in
    # pygame, that is a wrong-typed strides entry.
    arr = np.arange(6, dtype=np.int16)
    parent = make_parent(interface_getter=lambda: arr.__array_interface__, name="NumpyDict")
    with pytest.raises(ValueError, match="strides") as info:
        _ = BufferProxy(parent).length
    assert "does not export" not in str(info.value)


def test_zero_dim_array_interface_is_a_validation_error():
    arr = np.array(5, dtype=np.int32)
    parent = make_parent(interface_getter=lambda: interface_of(arr), name="Scalar")
    error = error_of(parent)
    assert type(error) is ValueError
    assert "does not export" not in str(error)


@pytest.mark.parametrize(
    ("dtype", "typekind", "itemsize"),
    [
        ("O", None, None),
        ("u1", "x", None),
        ("V3", "f", None),
        ("<u2", "b", None),
        ("<u2", "c", None),
        ("<M8[s]", None, None),
        ("<U2", None, None),
        ("<m8[s]", None, None),
    ],
    ids=[
        "object",
        "kind-x",
        "float-size-3",
        "bool-size-2",
        "complex-size-2",
        "datetime",
        "unicode",
        "timedelta",
    ],
)
def test_invalid_array_struct_raises_its_validation_error(dtype, typekind, itemsize):
    # DECISIONS.md, "Types and formats": an __array_struct__ (typekind, itemsize) follows the
    # typestr table; kinds outside it, sizes a kind cannot have, and object/datetime/unicode
    # items stay ValueError.
    wrong = np.zeros(3, dtype=dtype)
    right = np.arange(4, dtype=np.uint8)
    source = CapsuleSource(wrong, typekind=typekind, itemsize=itemsize)
    parent = make_parent(
        struct_getter=source.capsule, interface_getter=lambda: interface_of(right), name="BadCap"
    )
    error = error_of(parent)
    assert type(error) is ValueError
    assert "does not export" not in str(error)
    # The capsule was of the right kind: no fallback to `__array_interface__`.
    assert parent.log == ["struct"]


# DECISIONS.md, "Types and formats" ("Beyond pygame: every numeric type numpy can share"): the
# __array_struct__ typekinds b, f (size 2), c and S are accepted, with numpy's typestr spelling
# and the table's format.
ACCEPTED_STRUCT_DTYPES = {
    "bool": ("?", "?"),
    "float16": ("<f2", "e"),
    "complex64": ("<c8", "Zf"),
    "complex128": ("<c16", "Zd"),
    "complex-swapped": (">c8", ">Zf"),
    "bytes": ("S3", "3s"),
    "bytes-long": ("S12", "12s"),
    "void-long": ("V16", "16x"),
}


@pytest.mark.parametrize(
    ("dtype", "fmt"), ACCEPTED_STRUCT_DTYPES.values(), ids=ACCEPTED_STRUCT_DTYPES
)
def test_array_struct_new_item_types_accepted(dtype, fmt):
    base = np.frombuffer(bytes(range(48)) * 2, dtype=np.uint8).copy()
    arr = base.view(dtype)[: 96 // np.dtype(dtype).itemsize]
    source = CapsuleSource(arr)
    parent = make_parent(struct_getter=source.capsule, name="NewKind")
    proxy = BufferProxy(parent)
    assert proxy.length == arr.nbytes
    assert proxy.raw == arr.tobytes()
    inter = proxy.__array_interface__
    # DECISIONS.md, "Types and formats": void items of several bytes are reported as '<V16'.
    expected = NATIVE + arr.dtype.str[1:] if arr.dtype.kind == "V" else arr.dtype.str
    assert inter["typestr"] == expected
    assert inter["shape"] == arr.shape
    assert inter["data"] == (arr.ctypes.data, False)
    assert parent.log == ["struct"]
    with memoryview(proxy) as view:
        assert view.format == fmt
        assert view.itemsize == arr.itemsize
        assert view.tobytes() == arr.tobytes()
    seen = np.asarray(proxy)
    if arr.dtype.kind == "V":
        # numpy reads '16x' as a field-less structured dtype (its PEP 3118 parser), the same
        # dtype as for its own array's export.
        assert seen.dtype == np.asarray(memoryview(arr)).dtype
    else:
        assert seen.dtype == arr.dtype
    assert np.shares_memory(seen, arr)
    assert as_void(seen).tobytes() == arr.tobytes()


def test_rejected_buffer_format_is_not_skipped():
    class Record(ctypes.Structure):
        _fields_ = (("a", ctypes.c_int16), ("b", ctypes.c_int16))

    arr = np.arange(4, dtype=np.uint8)
    source = CapsuleSource(arr)
    parent = make_parent(struct_getter=source.capsule, base=Record, name="RecordWithStruct")
    error = error_of(parent)
    assert type(error) is ValueError
    assert "does not export" not in str(error)
    assert parent.log == []


# ------------------------------------------------------------------ __array_struct__ parents


def numpy_layouts():
    base = np.arange(60, dtype=np.int32).reshape(3, 4, 5)
    ro = np.arange(12, dtype=np.float32).reshape(3, 4)
    ro.flags.writeable = False
    return {
        "c": base,
        "f": np.asfortranarray(base),
        "strided": base[:, ::2, 1:],
        "negative": base[::-1, :, ::-2],
        "u1": np.arange(10, dtype=np.uint8),
        "swapped": np.arange(6, dtype=SWAPPED + "i2").reshape(2, 3),
        "f8": np.linspace(0, 1, 7),
        "zero-size": np.zeros((3, 0), dtype=np.int16),
        "readonly": ro,
    }


NUMPY_LAYOUTS = numpy_layouts()


@pytest.mark.parametrize("name", list(NUMPY_LAYOUTS))
@pytest.mark.parametrize("route", ["struct", "interface"])
def test_array_protocol_parent_reads_and_shares_memory(name, route):
    arr = NUMPY_LAYOUTS[name]
    source = CapsuleSource(arr)
    if route == "struct":
        parent = make_parent(struct_getter=source.capsule)
    else:
        parent = make_parent(interface_getter=lambda: interface_of(arr))
    proxy = BufferProxy(parent)
    assert proxy.length == arr.nbytes
    assert proxy.raw == arr.tobytes(order="A")  # contiguous data: memory order
    assert proxy.parent is parent
    inter = proxy.__array_interface__
    assert inter["shape"] == arr.shape
    assert inter["strides"] == arr.strides
    assert inter["data"] == (arr.ctypes.data, not arr.flags.writeable)
    view = memoryview(proxy)
    assert view.shape == arr.shape
    assert view.strides == arr.strides
    assert view.itemsize == arr.itemsize
    assert view.readonly == (not arr.flags.writeable)
    assert view.tobytes() == arr.tobytes()
    view.release()
    seen = np.asarray(proxy)
    np.testing.assert_array_equal(seen, arr)
    assert np.shares_memory(seen, arr) or arr.size == 0
    if arr.flags.writeable and arr.size:
        seen[(0,) * arr.ndim] = 99
        assert arr[(0,) * arr.ndim] == 99


def test_zero_dim_array_struct_length_is_itemsize():
    arr = np.array(0x0102030405060708, dtype=np.int64)
    source = CapsuleSource(arr)
    proxy = BufferProxy(make_parent(struct_getter=source.capsule))
    assert proxy.length == 8
    assert proxy.raw == arr.tobytes()
    inter = proxy.__array_interface__
    assert inter["shape"] == ()
    assert inter["strides"] == ()
    assert np.asarray(proxy) == arr


def test_numpy_own_array_struct_via_wrapper():
    arr = np.arange(12, dtype=np.float32).reshape(4, 3)[::2]
    parent = make_parent(struct_getter=lambda: arr.__array_struct__)
    proxy = BufferProxy(parent)
    assert proxy.length == 24
    assert proxy.raw == arr.tobytes()


# ------------------------------------------------------------------ buffer-protocol parents


def _ctypes_grid():
    grid = ((ctypes.c_int16 * 3) * 2)()
    for i in range(2):
        for j in range(3):
            grid[i][j] = 10 * i + j
    return grid


def _f_order():
    return np.asfortranarray(np.arange(12, dtype=np.int32).reshape(3, 4))


BUFFER_PARENTS = {
    "bytes": lambda: b"some bytes",
    "empty-bytes": lambda: b"",
    "bytearray": lambda: bytearray(b"a bytearray"),
    "memoryview": lambda: memoryview(bytearray(b"0123456789")),
    "memoryview-cast": lambda: memoryview(bytearray(range(24))).cast("h", (3, 4)),
    "memoryview-strided": lambda: memoryview(bytearray(range(24))).cast("i")[::-2],
    "array-b": lambda: array.array("b", [-1, 2, -3]),
    "array-H": lambda: array.array("H", [1, 2, 65535]),
    "array-i": lambda: array.array("i", [1, -2, 3]),
    "array-L": lambda: array.array("L", [7, 8]),
    "array-q": lambda: array.array("q", [-(2**62), 2**62]),
    "array-f": lambda: array.array("f", [0.5, 1.5]),
    "array-d": lambda: array.array("d", [math.pi, math.e]),
    "numpy-C": lambda: np.arange(24, dtype=np.int16).reshape(2, 3, 4),
    "numpy-F": _f_order,
    "numpy-strided": lambda: np.arange(40, dtype=np.uint32).reshape(5, 8)[1::2, ::3],
    "numpy-negative": lambda: np.arange(40, dtype=np.float64).reshape(5, 8)[::-1, ::-3],
    "numpy-0-dim": lambda: np.array(-7, dtype=np.int64),
    "numpy-zero-size": lambda: np.zeros((4, 0, 2), dtype=np.uint16),
    "numpy-swapped": lambda: np.arange(6, dtype=SWAPPED + "u4"),
    "numpy-V3": lambda: np.frombuffer(bytes(range(12)), dtype="V3").copy(),
    "ctypes-array": lambda: (ctypes.c_int32 * 5)(1, 2, 3, 4, 5),
    "ctypes-uint8": lambda: (ctypes.c_uint8 * 4)(9, 8, 7, 6),
    "ctypes-2d": _ctypes_grid,
    "ctypes-double": lambda: ctypes.c_double(1.25),
    "ctypes-int64": lambda: ctypes.c_int64(-3),
    "Exporter": lambda: Exporter((3, 2), "<h"),
}


@pytest.mark.parametrize("name", list(BUFFER_PARENTS))
def test_buffer_protocol_parent(name):
    parent = BUFFER_PARENTS[name]()
    reference = memoryview(parent)
    proxy = BufferProxy(parent)
    assert proxy.parent is parent
    assert proxy.length == reference.nbytes
    assert proxy.raw == reference.tobytes(order="A")  # contiguous data: memory order
    inter = proxy.__array_interface__
    assert inter["shape"] == reference.shape
    assert inter["strides"] == reference.strides
    assert inter["data"][1] == reference.readonly
    view = memoryview(proxy)
    assert view.shape == reference.shape
    assert view.strides == reference.strides
    assert view.itemsize == reference.itemsize
    assert view.ndim == reference.ndim
    assert view.readonly == reference.readonly
    assert view.nbytes == reference.nbytes
    assert view.tobytes() == reference.tobytes()
    assert struct.calcsize(view.format) == view.itemsize
    view.release()
    seen = np.asarray(proxy)
    assert seen.shape == reference.shape
    assert as_void(seen).tobytes() == reference.tobytes()
    assert seen.flags.writeable == (not reference.readonly)
    if seen.size:
        direct = np.asarray(reference)
        assert np.shares_memory(seen, direct)
        del direct
    reference.release()


def test_bytearray_parent_writes_through_numpy():
    buf = bytearray(6)
    proxy = BufferProxy(buf)
    seen = np.asarray(proxy)
    seen[:] = np.arange(1, 7, dtype=np.uint8)
    assert buf == bytearray(range(1, 7))
    assert proxy.raw == bytes(range(1, 7))


def test_ctypes_parent_writes_through_numpy():
    values = (ctypes.c_int32 * 3)(1, 2, 3)
    proxy = BufferProxy(values)
    seen = np.asarray(proxy)
    assert seen.flags.writeable
    seen[1] = -20
    assert list(values) == [1, -20, 3]


REJECTED_BUFFER_PARENTS = {
    "numpy-structured": lambda: np.zeros(3, dtype=[("a", "<i2"), ("b", "<f4")]),
    "numpy-longdouble": lambda: np.zeros(3, dtype=np.longdouble),
    "numpy-clongdouble": lambda: np.zeros(3, dtype=np.clongdouble),
    "ctypes-char": lambda: (ctypes.c_char * 3)(),
    "ctypes-pointer": lambda: ctypes.c_void_p(),
    "memoryview-c": lambda: memoryview(bytearray(4)).cast("c"),
}


@pytest.mark.parametrize("name", list(REJECTED_BUFFER_PARENTS))
def test_buffer_protocol_parent_with_rejected_format(name):
    parent = REJECTED_BUFFER_PARENTS[name]()
    proxy = BufferProxy(parent)
    with pytest.raises(ValueError) as info:  # noqa: PT011 - message not specified
        _ = proxy.length
    assert "does not export" not in str(info.value)


def test_buffer_protocol_parent_with_object_items_is_refused_by_name():
    # DECISIONS.md, "Types and formats": object items raise ValueError naming them.
    proxy = BufferProxy(Exporter((3,), "O", itemsize=8))
    with pytest.raises(ValueError, match="object"):
        _ = proxy.length


def _numpy_parent(dtype):
    return lambda: np.frombuffer(bytearray(range(1, 49)), dtype=np.uint8).view(dtype).copy()


# DECISIONS.md, "Types and formats" ("Beyond pygame: every numeric type numpy can share"):
# bool, float16, complex and bytes exporters are accepted and their formats passed through.
ACCEPTED_NEW_BUFFER_PARENTS = {
    "numpy-bool": lambda: np.array([True, False, True]),
    "numpy-float16": _numpy_parent(np.float16),
    "numpy-float16-swapped": _numpy_parent(">f2"),
    "numpy-complex64": _numpy_parent(np.complex64),
    "numpy-complex128": _numpy_parent(np.complex128),
    "numpy-S3": _numpy_parent("S3"),
    "numpy-S12": _numpy_parent("S12"),
    "ctypes-bool": lambda: ctypes.c_bool(True),
    "memoryview-?": lambda: memoryview(bytearray(b"\x01\x00\x01\x01")).cast("?"),
}


@pytest.mark.parametrize("name", list(ACCEPTED_NEW_BUFFER_PARENTS))
def test_buffer_protocol_parent_with_new_item_type(name):
    parent = ACCEPTED_NEW_BUFFER_PARENTS[name]()
    with memoryview(parent) as own:
        own_format, own_bytes, own_shape = own.format, own.tobytes(), own.shape
    proxy = BufferProxy(parent)
    assert proxy.length == len(own_bytes)
    assert proxy.raw == own_bytes
    with memoryview(proxy) as view:
        assert view.format == own_format  # an exporter's own format is passed on unchanged
        assert view.shape == own_shape
        assert view.tobytes() == own_bytes
    seen = np.asarray(proxy)
    reference = np.asarray(parent)
    assert seen.dtype == reference.dtype
    assert seen.shape == reference.shape
    assert np.shares_memory(seen, reference)
    assert proxy.__array_interface__["typestr"] == reference.dtype.str


# --------------------------------------------------------------------------- Exporter formats

ACCEPTED_FORMATS = [
    *"bBhHiIlLqQfd",
    *(order + code for order in "<>=@!" for code in "bBhHiIlLqQfd"),
    "x",
    "1x",
    "2x",
    "3x",
    "9x",
    "<3x",
    "=5x",
    "1h",
    "=1h",
    "<1d",
    ">1Q",
    "1B",
]

REJECTED_FORMATS = [
    "hh",
    "g",
    "<g",
    "Zg",
    "2?",
    "2e",
    "2Zd",
    "3w",
    "0s",
    "0x",
    "?e",
    "3s2s",
    "Z",
    "Zh",
    "p",
    "c",
    "n",
    "N",
    "P",
    "2h",
    "=2h",
    "<<h",
    "h<",
    "xx",
    "T{<h:a:<h:b:}",
    "T{h}",
    "(2)h",
    "",
    "<",
    "1",
    "w",
    "u",
    "O",
]


@pytest.mark.parametrize("fmt", REJECTED_FORMATS)
def test_exporter_rejected_format(fmt):
    exporter = Exporter((2, 3), fmt)
    proxy = BufferProxy(exporter)
    with pytest.raises(ValueError) as info:  # noqa: PT011 - message not specified
        _ = proxy.length
    assert "does not export" not in str(info.value)
    assert exporter.exports == 0  # nothing stays acquired after a failed first use
    with pytest.raises(ValueError):  # noqa: PT011
        memoryview(proxy)
    assert exporter.exports == 0


# DECISIONS.md, "Types and formats" ("Beyond pygame: every numeric type numpy can share"):
# exporter formats ? e Zf Zd <n>s <n>x (any n) are accepted; the format is passed on unchanged
# and __array_interface__ reports numpy's typestr.  (format, item size, typestr, numpy dtype)
NEW_FORMATS = [
    ("?", 1, "|b1", "?"),
    ("<?", 1, "|b1", "?"),
    ("e", 2, NATIVE + "f2", NATIVE + "f2"),
    ("<e", 2, "<f2", "<f2"),
    (">e", 2, ">f2", ">f2"),
    ("Zf", 8, NATIVE + "c8", NATIVE + "c8"),
    ("Zd", 16, NATIVE + "c16", NATIVE + "c16"),
    ("!Zd", 16, ">c16", ">c16"),
    ("s", 1, "|S1", "S1"),
    ("3s", 3, "|S3", "S3"),
    ("12s", 12, "|S12", "S12"),
    ("1e", 2, NATIVE + "f2", NATIVE + "f2"),
    ("10x", 10, NATIVE + "V10", None),
    ("123x", 123, NATIVE + "V123", None),
]


@pytest.mark.parametrize(("fmt", "itemsize", "typestr", "dtype"), NEW_FORMATS)
def test_exporter_new_format_accepted(fmt, itemsize, typestr, dtype):
    exporter = Exporter((2, 3), fmt)
    data = random.Random(fmt).randbytes(6 * itemsize)
    exporter.frombytes(data)
    proxy = BufferProxy(exporter)
    assert proxy.length == 6 * itemsize
    assert proxy.raw == data
    assert proxy.__array_interface__["typestr"] == typestr
    with memoryview(proxy) as view:
        assert view.format == fmt
        assert view.itemsize == itemsize
        assert view.shape == (2, 3)
        assert view.tobytes() == data
    seen = np.asarray(proxy)
    if dtype is None:
        # numpy turns '<n>x' into a field-less structured dtype, as for the exporter itself.
        assert seen.dtype == np.asarray(exporter).dtype
    else:
        assert seen.dtype == np.dtype(dtype)
    assert seen.shape == (2, 3)
    assert seen.__array_interface__["data"][0] == exporter.address
    assert as_void(seen).tobytes() == data
    proxy.write(data[::-1])
    assert exporter.tobytes() == data[::-1]


# Typestrs as pygame 2.6.1 reports them for these buffer formats (byte order: '|' for 1-byte
# items, '<'/'>' from the prefix ('!' is '>'), native otherwise; kind from the type character).
TYPESTRS = {
    "b": "|i1",
    "B": "|u1",
    "<B": "|u1",
    ">b": "|i1",
    "h": NATIVE + "i2",
    "=h": NATIVE + "i2",
    "@h": NATIVE + "i2",
    "<h": "<i2",
    ">h": ">i2",
    "!h": ">i2",
    "H": NATIVE + "u2",
    ">H": ">u2",
    "i": NATIVE + "i4",
    "<i": "<i4",
    "I": NATIVE + "u4",
    "!I": ">u4",
    "l": NATIVE + "i" + str(struct.calcsize("l")),
    "=l": NATIVE + "i4",
    "L": NATIVE + "u" + str(struct.calcsize("L")),
    "<L": "<u4",
    "q": NATIVE + "i8",
    ">q": ">i8",
    "Q": NATIVE + "u8",
    "=Q": NATIVE + "u8",
    "f": NATIVE + "f4",
    ">f": ">f4",
    "d": NATIVE + "f8",
    "<d": "<f8",
    "!d": ">f8",
    "x": "|V1",
    "1x": "|V1",
    "2x": NATIVE + "V2",
    "3x": NATIVE + "V3",
    "<3x": "<V3",
    "=5x": NATIVE + "V5",
    "9x": NATIVE + "V9",
}


@pytest.mark.parametrize(("fmt", "typestr"), list(TYPESTRS.items()))
def test_exporter_format_reported_typestr(fmt, typestr):
    exporter = Exporter((4,), fmt)
    proxy = BufferProxy(exporter)
    inter = proxy.__array_interface__
    assert inter["typestr"] == typestr
    assert inter["shape"] == (4,)
    assert inter["strides"] == (struct.calcsize(fmt),)
    assert inter["data"] == (exporter.address, False)
    capsule_view = np.asarray(make_parent(struct_getter=lambda: proxy.__array_struct__))
    assert capsule_view.itemsize == struct.calcsize(fmt)


@pytest.mark.parametrize("fmt", list(TYPESTRS))
def test_exporter_format_typestr_matches_pygame(fmt):
    pygame_bufferproxy = pytest.importorskip("pygame.bufferproxy")
    exporter = Exporter((2, 2), fmt)
    ours = BufferProxy(exporter).__array_interface__
    theirs = pygame_bufferproxy.BufferProxy(exporter).__array_interface__
    assert ours == theirs


@pytest.mark.parametrize(
    ("fmt", "typestr", "pygame_typestr"),
    [
        ("1h", NATIVE + "i2", NATIVE + "V2"),
        ("=1h", NATIVE + "i2", NATIVE + "V2"),
        ("<1d", "<f8", "<V8"),
        ("1B", "|u1", "|V1"),
    ],
)
def test_count_prefixed_format_reports_its_real_kind(fmt, typestr, pygame_typestr):
    # A deliberate difference (README table): pygame 2.6.1 takes the kind from the character
    # after the byte-order prefix, so a count of 1 turns it into 'V'; we skip the count.
    exporter = Exporter((2, 2), fmt)
    assert BufferProxy(exporter).__array_interface__["typestr"] == typestr
    assert np.asarray(BufferProxy(exporter)).dtype == np.dtype(typestr)
    pygame_bufferproxy = pytest.importorskip("pygame.bufferproxy")
    assert pygame_bufferproxy.BufferProxy(exporter).__array_interface__["typestr"] == pygame_typestr


# --------------------------------------------------------------------------- Exporter layouts

LAYOUT_FORMATS = ["B", "b", "<h", ">H", "=i", "!I", "q", "<Q", "f", ">d", "x", "3x", "1h", "=1h"]


@st.composite
def layouts(draw):
    fmt = draw(st.sampled_from(LAYOUT_FORMATS))
    itemsize = struct.calcsize(fmt)
    shape = tuple(draw(st.lists(st.integers(0, 4), max_size=3)))
    if draw(st.booleans()):
        strides = None
    else:
        stride = st.one_of(
            st.integers(-4, 4).map(lambda k: k * itemsize),
            st.integers(-3 * itemsize * 4, 3 * itemsize * 4),
        )
        strides = tuple(draw(stride) for _ in shape)
    readonly = draw(st.booleans())
    return fmt, itemsize, shape, strides, readonly


def base_offset(shape, strides):
    """Offset of the exported pointer inside an allocation exactly covering the layout."""
    if 0 in shape:
        return 0
    return -sum(min(0, s * (n - 1)) for n, s in zip(shape, strides, strict=True))


def gather(memory, shape, strides, itemsize):
    """The items of a layout over `memory` (the whole allocation), in C order."""
    start = base_offset(shape, strides)
    chunks = []
    for index in np.ndindex(*shape):
        offset = start + sum(i * s for i, s in zip(index, strides, strict=True))
        chunks.append(memory[offset : offset + itemsize])
    return b"".join(chunks)


def expected_raw(exporter):
    """`raw` per DECISIONS (Reading): contiguous data in memory order, anything else gathered
    in C order. Only a layout that is Fortran- but not C-contiguous tells the two apart."""
    with memoryview(exporter) as mv:
        if mv.f_contiguous and not mv.c_contiguous:
            return mv.tobytes(order="F")
    return exporter.tobytes()


@given(layout=layouts(), seed=st.integers(0, 2**32))
def test_exporter_layouts_read_through_proxy(layout, seed):
    fmt, itemsize, shape, strides, readonly = layout
    exporter = Exporter(shape, fmt, strides=strides, readonly=readonly)
    effective = strides if strides is not None else c_strides(shape, itemsize)
    memory = random.Random(seed).randbytes(len(exporter.memory()))
    exporter.set_memory(memory)
    expected = gather(memory, shape, effective, itemsize)
    assert exporter.tobytes() == expected

    proxy = BufferProxy(exporter)
    assert proxy.length == itemsize * math.prod(shape)
    assert proxy.raw == expected_raw(exporter)
    assert exporter.exports == 1

    inter = proxy.__array_interface__
    assert inter["shape"] == shape
    assert inter["strides"] == effective
    assert inter["data"] == (exporter.address, readonly)

    view = memoryview(proxy)
    assert view.shape == shape
    assert view.strides == effective
    assert view.itemsize == itemsize
    assert view.ndim == len(shape)
    assert view.readonly == readonly
    assert view.nbytes == proxy.length
    assert view.tobytes() == expected
    view.release()

    seen = np.asarray(proxy)
    assert seen.shape == shape
    assert seen.strides == effective
    assert seen.itemsize == itemsize
    assert seen.flags.writeable == (not readonly)
    assert as_void(seen).tobytes() == expected
    assert seen.__array_interface__["data"][0] == exporter.address
    del seen

    del proxy
    assert exporter.exports == 0


@given(layout=layouts(), data=st.data())
def test_exporter_layouts_write_through_numpy(layout, data):
    fmt, itemsize, shape, strides, _ = layout
    if 0 in shape:
        shape = tuple(n or 1 for n in shape)
    exporter = Exporter(shape, fmt, strides=strides)
    effective = strides if strides is not None else c_strides(shape, itemsize)
    proxy = BufferProxy(exporter)
    seen = np.asarray(proxy)
    assert seen.flags.writeable
    index = tuple(data.draw(st.integers(0, n - 1), label=f"index {k}") for k, n in enumerate(shape))
    pattern = data.draw(st.binary(min_size=itemsize, max_size=itemsize), label="pattern")
    as_bytes = seen.view(np.dtype((np.void, itemsize)))
    as_bytes[index] = np.void(pattern)
    offset = base_offset(shape, effective) + sum(
        i * s for i, s in zip(index, effective, strict=True)
    )
    assert exporter.memory()[offset : offset + itemsize] == pattern
    position = np.ravel_multi_index(index, shape) * itemsize if shape else 0
    assert exporter.tobytes()[position : position + itemsize] == pattern
    assert proxy.raw == expected_raw(exporter)


@given(layout=layouts())
def test_exporter_layouts_numpy_views_share_memory(layout):
    fmt, _, shape, strides, readonly = layout
    exporter = Exporter(shape, fmt, strides=strides, readonly=readonly)
    proxy = BufferProxy(exporter)
    first = np.asarray(proxy)
    second = np.asarray(proxy)
    direct = np.asarray(exporter)
    assert first.__array_interface__["data"][0] == direct.__array_interface__["data"][0]
    assert first.strides == direct.strides
    if first.size:
        assert np.shares_memory(first, second)
        assert np.shares_memory(first, direct)


# --------------------------------------------------------------------------- the held view


def test_bytearray_cannot_be_resized_while_held():
    buf = bytearray(b"abc")
    proxy = BufferProxy(buf)
    buf.extend(b"d")  # constructing a proxy exports nothing
    assert proxy.length == 4
    with pytest.raises(BufferError):
        buf.extend(b"e")
    with pytest.raises(BufferError):
        buf.clear()
    assert proxy.raw == b"abcd"
    buf[0:1] = b"A"  # in-place writes are still fine
    assert proxy.raw == b"Abcd"
    del proxy
    buf.extend(b"e")
    assert buf == bytearray(b"Abcde")


@pytest.mark.parametrize("attribute", ["length", "raw", "parent", "__array_interface__", "repr"])
def test_first_use_acquires_bytearray_export(attribute):
    buf = bytearray(8)
    proxy = BufferProxy(buf)
    if attribute == "repr":
        repr(proxy)
    else:
        getattr(proxy, attribute)
    with pytest.raises(BufferError):
        buf.append(0)
    del proxy
    buf.append(0)
    assert len(buf) == 9


def test_array_struct_access_acquires_export():
    exporter = Exporter((4,), "B")
    proxy = BufferProxy(exporter)
    capsule = proxy.__array_struct__
    assert exporter.exports == 1
    del capsule, proxy
    assert exporter.exports == 0


def test_exporter_exports_are_counted():
    exporter = Exporter((2, 4), "<i")
    proxy = BufferProxy(exporter)
    assert exporter.exports == 0
    assert proxy.length == 32
    assert exporter.exports == 1
    _ = proxy.raw
    _ = proxy.__array_interface__
    _ = proxy.parent
    _ = repr(proxy)
    assert exporter.exports == 1
    view = memoryview(proxy)
    assert exporter.exports >= 1
    view.release()
    assert exporter.exports == 1
    seen = np.asarray(proxy)
    del seen
    assert exporter.exports == 1
    del proxy
    assert exporter.exports == 0


def test_memoryview_export_without_prior_use_is_released():
    exporter = Exporter((3,), "h")
    proxy = BufferProxy(exporter)
    with memoryview(proxy) as view:
        assert view.tobytes() == bytes(6)
        assert exporter.exports >= 1
    del proxy
    assert exporter.exports == 0


def test_two_proxies_hold_two_exports():
    exporter = Exporter((3,), "B")
    first = BufferProxy(exporter)
    second = BufferProxy(exporter)
    _ = first.length, second.length
    assert exporter.exports == 2
    del first
    assert exporter.exports == 1
    del second
    assert exporter.exports == 0


# ------------------------------------------------- the held export, read in place or copied
#
# A buffer-protocol parent's export is held from first use and read where the exporter put
# its shape, strides and format. An export that leaves out its shape or strides (C
# exporters do), or whose `len` disagrees with its shape, is given back and taken again
# the copying way: both must behave the same.

QUIRKS = [None, "no-strides", "no-shape", "long-len"]


@pytest.mark.parametrize("quirk", QUIRKS)
def test_held_export_reads_the_same_in_place_or_copied(quirk):
    exporter = Exporter((6,), "h", quirk=quirk)
    exporter.frombytes(struct.pack("6h", *range(-3, 3)))
    proxy = BufferProxy(exporter)
    assert proxy.length == 12
    # One export is held; reading it in place takes one, the copying way two (the first is
    # given back).
    assert exporter.exports == 1
    assert exporter.getbuffers == (1 if quirk is None else 2)
    assert proxy.raw == struct.pack("6h", *range(-3, 3))
    assert memoryview(proxy).tolist() == list(range(-3, 3))
    inter = proxy.__array_interface__
    assert (inter["shape"], inter["strides"], inter["typestr"]) == ((6,), (2,), NATIVE + "i2")
    assert inter["data"] == (exporter.address, False)
    assert exporter.exports == 1
    # The memory is shared both ways.
    np.asarray(proxy)[0] = 99
    assert exporter.tobytes()[:2] == struct.pack("h", 99)
    del proxy
    assert exporter.exports == 0


# Leaving out the strides (or the shape) says C order, so only these apply to strided data.
@pytest.mark.parametrize("quirk", [None, "long-len"])
def test_held_export_of_a_strided_2d_parent(quirk):
    exporter = Exporter((3, 2), "i", strides=(-12, 4), quirk=quirk)
    exporter.frombytes(struct.pack("6i", *range(6)))
    proxy = BufferProxy(exporter)
    assert proxy.length == 24
    assert proxy.raw == struct.pack("6i", *range(6))
    assert np.asarray(proxy).tolist() == [[0, 1], [2, 3], [4, 5]]
    assert proxy.__array_interface__["strides"] == (-12, 4)


def test_held_export_refuses_what_the_copying_path_refuses():
    # Validation is the same on both paths: an item size the format contradicts.
    for quirk in (None, "no-strides"):
        with pytest.raises(ValueError, match="format"):
            _ = BufferProxy(Exporter((4,), "i", itemsize=2, quirk=quirk)).length


@pytest.mark.parametrize(
    "make_parent",
    [
        pytest.param(lambda arr: arr, id="ndarray"),
        pytest.param(
            lambda arr: {
                "shape": arr.shape,
                "typestr": arr.dtype.str,
                "strides": arr.strides,
                "data": (arr.ctypes.data, False),
            },
            id="dict",
        ),
        pytest.param(
            lambda arr: type(
                "Owner",
                (),
                {"__array_interface__": {**arr.__array_interface__, "strides": arr.strides}},
            )(),
            id="__array_interface__",
        ),
    ],
)
def test_array_struct_capsule_outlives_every_other_reference_to_the_proxy(make_parent):
    # The capsule's shape and strides are the held view's own, kept by the proxy, which
    # the capsule keeps alive.
    arr = np.arange(6, dtype=np.int16).reshape(2, 3)[:, ::-1]
    capsule = BufferProxy(make_parent(arr)).__array_struct__
    gc.collect()
    holder = type("Holder", (), {"__array_struct__": capsule})()
    got = np.asarray(holder)
    assert got.shape == (2, 3)
    assert got.strides == arr.strides
    assert got.tolist() == arr.tolist()
