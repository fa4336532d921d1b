"""Dict buffer descriptions: keys, validation order and error types, types, zero-size arrays,
layouts (hypothesis) and `data` given as a buffer object.

Every proxy here describes memory the test owns (ctypes buffers, bytearrays, numpy arrays).
The only raw addresses that point elsewhere are for zero-size arrays (nothing is read) and for
the "validation pygame does not do" cases, which run in a subprocess so that a crash shows up
as a failed test instead of killing the session.
"""

import ctypes
import gc
import itertools
import json
import math
import random
import re
import struct
import subprocess
import sys
import textwrap
import weakref

import numpy as np
import pytest
from cstructs import (
    Py_buffer,
    PyBUF_FORMAT,
    PyBUF_FULL_RO,
    PyBUF_SIMPLE,
    PyBUF_STRIDES,
    PyBUF_WRITABLE,
)
from hypothesis import given
from hypothesis import strategies as st

import bufferproxy
from bufferproxy import BufferProxy

PTR_BITS = ctypes.sizeof(ctypes.c_void_p) * 8
ISIZE_MAX = sys.maxsize
NATIVE = "<" if sys.byteorder == "little" else ">"
KEYS = ("shape", "typestr", "data", "strides")

# --------------------------------------------------------------------------------------------
# helpers


_get_buffer = ctypes.pythonapi.PyObject_GetBuffer
_get_buffer.argtypes = (ctypes.py_object, ctypes.POINTER(Py_buffer), ctypes.c_int)
_get_buffer.restype = ctypes.c_int
_release_buffer = ctypes.pythonapi.PyBuffer_Release
_release_buffer.argtypes = (ctypes.POINTER(Py_buffer),)
_release_buffer.restype = None


def get_buffer_info(obj, flags):
    """Request a buffer from `obj` with the exact PyBUF flags, as a C consumer would."""
    view = Py_buffer()
    _get_buffer(obj, ctypes.byref(view), flags)  # raises the exporter's exception
    try:
        return {"buf": view.buf or 0, "len": view.len, "readonly": bool(view.readonly)}
    finally:
        _release_buffer(ctypes.byref(view))


def owned(data):
    """A ctypes buffer holding `data` (at least one byte) and its address."""
    buf = ctypes.create_string_buffer(bytes(data), max(len(data), 1))
    return buf, ctypes.addressof(buf)


def describe(addr, shape, typestr="|u1", readonly=False, strides=None, **extra):
    d = {"shape": shape, "typestr": typestr, "data": (addr, readonly)}
    if strides is not None:
        d["strides"] = strides
    d.update(extra)
    return d


def c_strides(shape, itemsize):
    strides = [0] * len(shape)
    step = itemsize
    for i in reversed(range(len(shape))):
        strides[i] = step
        step *= shape[i]
    return tuple(strides)


def f_strides(shape, itemsize):
    strides = [0] * len(shape)
    step = itemsize
    for i in range(len(shape)):
        strides[i] = step
        step *= shape[i]
    return tuple(strides)


def is_c_contiguous(shape, strides, itemsize):
    """PyBuffer_IsContiguous(view, 'C') from CPython."""
    if math.prod(shape) == 0:
        return True
    step = itemsize
    for dim, stride in zip(reversed(shape), reversed(strides), strict=True):
        if dim > 1 and stride != step:
            return False
        step *= dim
    return True


def is_f_contiguous(shape, strides, itemsize):
    """PyBuffer_IsContiguous(view, 'F') from CPython."""
    if math.prod(shape) == 0:
        return True
    step = itemsize
    for dim, stride in zip(shape, strides, strict=True):
        if dim > 1 and stride != step:
            return False
        step *= dim
    return True


def extent(shape, strides, itemsize):
    """(lowest, highest + 1) byte offsets touched, relative to the start address."""
    if math.prod(shape) == 0:
        return 0, 0
    lo = sum(min(0, (n - 1) * s) for n, s in zip(shape, strides, strict=True))
    hi = sum(max(0, (n - 1) * s) for n, s in zip(shape, strides, strict=True)) + itemsize
    return lo, hi


def gather_c_order(memory, start, shape, strides, itemsize):
    """The items of a strided layout in C (row-major) order, as bytes."""
    out = bytearray()
    for index in itertools.product(*(range(n) for n in shape)):
        offset = start + sum(i * s for i, s in zip(index, strides, strict=True))
        out += memory[offset : offset + itemsize]
    return bytes(out)


def unpack_items(view):
    """The items of a memoryview in C order, decoded with the struct module (memoryview.tolist
    refuses byte-swapped formats such as '>H', as it does for numpy's own swapped arrays)."""
    return [item[0] for item in struct.iter_unpack(view.format, view.tobytes())]


class IntSub(int):
    pass


class Index:
    """Not an int, but usable as one through __index__."""

    def __init__(self, value):
        self.value = value

    def __index__(self):
        return self.value


class BoolError(Exception):
    pass


class BadBool:
    def __bool__(self):
        raise BoolError("bool() failed")


# --------------------------------------------------------------------------------------------
# the keys


def test_minimal_description_exports_the_memory():
    buf, addr = owned(bytes(range(12)))
    proxy = BufferProxy(describe(addr, (3, 4)))
    assert proxy.length == 12
    assert proxy.raw == bytes(range(12))
    assert proxy.parent is None
    view = memoryview(proxy)
    assert view.shape == (3, 4)
    assert view.strides == (4, 1)
    assert view.format == "B"
    assert not view.readonly
    assert view.tolist() == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]
    array = np.asarray(proxy)
    assert array.dtype == np.uint8
    np.testing.assert_array_equal(array, np.arange(12, dtype=np.uint8).reshape(3, 4))
    # shares the memory, no copy
    array[1, 2] = 200
    assert buf.raw[6] == 200
    assert view[1, 2] == 200
    assert proxy.__array_interface__ == {
        "version": 3,
        "typestr": "|u1",
        "shape": (3, 4),
        "strides": (4, 1),
        "data": (addr, False),
    }


def test_dict_subclass_is_a_description():
    class Description(dict):
        pass

    _buf, addr = owned(struct.pack("<3H", 1, 2, 513))
    parent = object()
    proxy = BufferProxy(Description(describe(addr, (3,), "<u2", parent=parent)))
    assert proxy.parent is parent
    assert proxy.length == 6
    assert unpack_items(memoryview(proxy)) == [1, 2, 513]
    assert np.asarray(proxy).tolist() == [1, 2, 513]
    assert proxy.__array_interface__["data"] == (addr, False)


def test_parent_key_is_returned_and_kept_alive():
    class Parent:
        pass

    _buf, addr = owned(b"abcd")
    parent = Parent()
    ref = weakref.ref(parent)
    proxy = BufferProxy(describe(addr, (4,), parent=parent))
    del parent
    gc.collect()
    assert proxy.parent is ref()
    assert ref() is not None
    assert proxy.raw == b"abcd"
    del proxy
    gc.collect()
    assert ref() is None


def test_strides_key_is_used_by_every_consumer():
    # a 2x3 array of little-endian u2 items padded to rows of 8 items
    memory = struct.pack("<16H", *range(100, 116))
    _buf, addr = owned(memory)
    proxy = BufferProxy(describe(addr, (2, 3), "<u2", strides=(16, 4)))
    expected = [[100, 102, 104], [108, 110, 112]]
    assert proxy.length == 12
    assert memoryview(proxy).strides == (16, 4)
    assert unpack_items(memoryview(proxy)) == [*expected[0], *expected[1]]
    assert np.asarray(proxy).tolist() == expected
    assert np.asarray(proxy).strides == (16, 4)
    assert proxy.raw == struct.pack("<6H", 100, 102, 104, 108, 110, 112)
    assert proxy.__array_interface__["strides"] == (16, 4)


def test_unknown_keys_are_ignored():
    _buf, addr = owned(b"xyz")
    proxy = BufferProxy(describe(addr, (3,), version=99, descr=[("", "|u1")], mask=None))
    assert proxy.raw == b"xyz"
    assert set(proxy.__array_interface__) == {"version", "typestr", "shape", "strides", "data"}


class StrKey(str):
    """A str subclass key: equal to (and hashing like) the plain name."""


class LookalikeKey:
    """A non-str key that a dict lookup of `name` finds: same hash, equal to it."""

    def __init__(self, name):
        self.name = name

    def __hash__(self):
        return hash(self.name)

    def __eq__(self, other):
        return other == self.name


def _rebuilt(name):
    """`name` as a new, non-interned str object."""
    text = "".join(list(name))
    assert text == name
    return text


@pytest.mark.parametrize(
    "make_key",
    [_rebuilt, StrKey, LookalikeKey],
    ids=["non-interned str", "str subclass", "non-str key equal to the name"],
)
@pytest.mark.parametrize("padding", [0, 40], ids=["small dict", "large dict"])
def test_keys_are_found_as_a_dict_lookup_finds_them(make_key, padding):
    """The description is read as pygame's PyDict_GetItemString reads it: any key equal to
    the name (same hash) counts, whatever its identity, type or the dict's size."""
    _buf, addr = owned(bytes(range(6)))
    parent = object()
    calls = []
    items = {
        "shape": (2, 3),
        "typestr": "|u1",
        "data": (addr, False),
        "strides": (3, 1),
        "parent": parent,
        "before": lambda p: calls.append(("before", p)),
        "after": lambda p: calls.append(("after", p)),
    }
    desc = {make_key(name): value for name, value in items.items()}
    desc.update((f"unused{i}", i) for i in range(padding))
    proxy = BufferProxy(desc)
    assert proxy.parent is parent
    assert proxy.raw == bytes(range(6))
    assert np.asarray(proxy).tolist() == [[0, 1, 2], [3, 4, 5]]
    assert calls == [("before", parent), ("before", parent), ("after", parent)]
    del proxy
    gc.collect()
    assert calls[-1] == ("after", parent)
    assert len(calls) == 4


def test_missing_key_is_reported_even_with_lookalike_keys_of_other_names():
    _buf, addr = owned(b"ab")
    desc = {LookalikeKey("shape"): (2,), "data": (addr, False), 7: "typestr"}
    with pytest.raises(ValueError, match="'typestr'"):
        _ = BufferProxy(desc).length


@pytest.mark.parametrize(
    ("flag", "readonly"),
    [
        (False, False),
        (True, True),
        (0, False),
        (1, True),
        (None, False),
        ("", False),
        ("no", True),
        ([], False),
        ([0], True),
        (np.bool_(True), True),
        (np.bool_(False), False),
    ],
)
def test_readonly_flag_is_any_truth_value(flag, readonly):
    _buf, addr = owned(b"\x01\x02\x03\x04")
    proxy = BufferProxy(describe(addr, (4,), readonly=flag))
    assert proxy.__array_interface__["data"][1] is readonly
    assert memoryview(proxy).readonly is readonly
    assert np.asarray(proxy).flags.writeable is (not readonly)
    assert get_buffer_info(proxy, PyBUF_FULL_RO)["readonly"] is readonly


def test_default_strides_are_c_order():
    _buf, addr = owned(bytes(range(24)))
    proxy = BufferProxy(describe(addr, (2, 3, 4)))
    assert proxy.__array_interface__["strides"] == (12, 4, 1)
    assert memoryview(proxy).strides == (12, 4, 1)
    proxy = BufferProxy(describe(addr, (3, 2), "<u4"))
    assert proxy.__array_interface__["strides"] == (8, 4)
    assert memoryview(proxy).strides == (8, 4)
    assert np.asarray(proxy).flags.c_contiguous


# --------------------------------------------------------------------------------------------
# missing and wrong-typed keys: ValueError, in the order shape, typestr, data, strides


def _first_use(proxy):
    return proxy.__array_interface__


@pytest.fixture
def memory():
    buf, addr = owned(bytes(64))
    yield addr
    del buf


class _Missing:
    def __repr__(self):
        return "<missing>"


_MISSING = _Missing()


def _wrong_key_cases(addr):
    ok = {"shape": (2,), "typestr": "|u1", "data": (addr, False)}

    def with_(**changes):
        d = dict(ok)
        for key, value in changes.items():
            if value is _MISSING:
                d.pop(key, None)
            else:
                d[key] = value
        return d

    # (description, key expected in the message, keys that must not be blamed)
    return [
        ({}, "shape", ()),
        (with_(shape=_MISSING), "shape", ()),
        (with_(shape=[2]), "shape", ()),
        (with_(shape=2), "shape", ()),
        (with_(shape=None), "shape", ()),
        (with_(shape=(2.0,)), "shape", ()),
        (with_(shape=("2",)), "shape", ()),
        (with_(shape=(np.int64(2),)), "shape", ()),
        (with_(shape=(Index(2),)), "shape", ()),
        (with_(shape=(2, None)), "shape", ()),
        (with_(shape=()), "shape", ()),
        (with_(shape=(), typestr=_MISSING, data=_MISSING), "shape", ("typestr", "data")),
        (with_(shape=[2], typestr=5, data=[0], strides=[1]), "shape", ("typestr", "data")),
        (with_(shape=(Index(2),), typestr=_MISSING), "shape", ("typestr",)),
        (with_(typestr=_MISSING), "typestr", ()),
        (with_(typestr=5), "typestr", ()),
        (with_(typestr=None), "typestr", ()),
        (with_(typestr=bytearray(b"|u1")), "typestr", ()),
        (with_(typestr=["|", "u", "1"]), "typestr", ()),
        (with_(typestr=5, data=_MISSING), "typestr", ("data",)),
        (with_(typestr=5, data=[addr, False], strides=[1]), "typestr", ("data",)),
        (with_(data=_MISSING), "data", ()),
        (with_(data=[addr, False]), "data", ()),
        (with_(data=addr), "data", ()),
        (with_(data=None), "data", ()),
        (with_(data=(addr,)), "data", ()),
        (with_(data=(addr, False, 0)), "data", ()),
        (with_(data=(float(addr), False)), "data", ()),
        (with_(data=(np.int64(addr), False)), "data", ()),
        (with_(data=(Index(addr), False)), "data", ()),
        (with_(data=(str(addr), False)), "data", ()),
        (with_(data=(None, False)), "data", ()),
        (with_(data=[addr, False], strides=[1]), "data", ()),
        (with_(data=None, strides=(1, 1)), "data", ()),
        (with_(strides=[1]), "strides", ()),
        (with_(strides=None), "strides", ()),
        (with_(strides=1), "strides", ()),
        (with_(strides=(1.0,)), "strides", ()),
        (with_(strides=(np.int64(1),)), "strides", ()),
        (with_(strides=(Index(1),)), "strides", ()),
        # wrong-typed strides are reported before any value check of the other keys
        (with_(strides=[1], typestr="|x1"), "strides", ()),
        (with_(strides=[1], shape=(ISIZE_MAX + 1,)), "strides", ()),
        (with_(strides=[1], data=(2**PTR_BITS, False)), "strides", ()),
        (with_(strides=[1], data=(addr, BadBool())), "strides", ()),
        (with_(strides=[1], typestr="\u00e9\u00e9\u00e9"), "strides", ()),
    ]


@pytest.mark.parametrize("case", range(len(_wrong_key_cases(0))))
def test_missing_or_wrong_type_key_is_value_error_in_key_order(memory, case):
    description, key, not_blamed = _wrong_key_cases(memory)[case]
    proxy = BufferProxy(description)  # construction validates nothing
    with pytest.raises(ValueError, match=re.escape(key)) as info:
        _first_use(proxy)
    message = str(info.value)
    for other in not_blamed:
        assert other not in message, (description, message)


@pytest.mark.parametrize("use", ["length", "raw", "parent", "repr", "array_struct", "memoryview"])
def test_invalid_description_fails_on_every_use(memory, use):
    proxy = BufferProxy({"shape": [2], "typestr": "|u1", "data": (memory, False)})
    actions = {
        "length": lambda: proxy.length,
        "raw": lambda: proxy.raw,
        "parent": lambda: proxy.parent,
        "repr": lambda: repr(proxy),
        "array_struct": lambda: proxy.__array_struct__,
        "memoryview": lambda: memoryview(proxy),
    }
    for _ in range(2):  # nothing is cached: the error repeats
        with pytest.raises(ValueError, match="shape"):
            actions[use]()


# --------------------------------------------------------------------------------------------
# int items: int, bool and int subclasses are accepted, other __index__ objects are not


def test_bool_and_int_subclass_items_are_accepted():
    _buf, addr = owned(bytes(range(6)))
    proxy = BufferProxy(
        {
            "shape": (True, IntSub(3)),
            "typestr": "<u2",
            "data": (IntSub(addr), False),
            "strides": (IntSub(6), IntSub(2)),
        }
    )
    ai = proxy.__array_interface__
    assert ai["shape"] == (1, 3)
    assert ai["strides"] == (6, 2)
    assert ai["data"] == (addr, False)
    for value in (*ai["shape"], *ai["strides"], ai["data"][0]):
        assert type(value) is int
    assert unpack_items(memoryview(proxy)) == list(struct.unpack("<3H", bytes(range(6))))
    assert np.asarray(proxy).shape == (1, 3)
    proxy = BufferProxy(describe(addr, (6,), strides=(True,)))
    assert proxy.raw == bytes(range(6))


def test_tuple_subclasses_are_tuples():
    class Tup(tuple):
        __slots__ = ()

    _buf, addr = owned(bytes(range(4)))
    proxy = BufferProxy(
        {"shape": Tup((2, 2)), "typestr": "|u1", "data": Tup((addr, False)), "strides": Tup((1, 2))}
    )
    assert proxy.raw == bytes(range(4))  # F-contiguous: memory order
    assert memoryview(proxy).tolist() == [[0, 2], [1, 3]]
    assert memoryview(proxy).tobytes() == bytes([0, 2, 1, 3])


# --------------------------------------------------------------------------------------------
# value checks after the type checks


@pytest.mark.parametrize(
    ("shape", "strides"), [((2,), ()), ((2,), (1, 1)), ((2, 2), (1,)), ((2, 2), (2, 1, 1))]
)
def test_strides_length_must_match_shape(memory, shape, strides):
    proxy = BufferProxy(describe(memory, shape, strides=strides))
    with pytest.raises(ValueError, match="strides"):
        _first_use(proxy)


def test_strides_length_checked_before_address_bool_and_typestr(memory):
    proxy = BufferProxy(
        {"shape": (2,), "typestr": "|x1", "data": (2**PTR_BITS, BadBool()), "strides": (1, 1)}
    )
    with pytest.raises(ValueError, match="strides"):
        _first_use(proxy)


@pytest.mark.parametrize("address", [2**PTR_BITS, 2**PTR_BITS + 12345, -(2 ** (PTR_BITS - 1)) - 1])
def test_address_not_fitting_a_pointer_is_overflow_error(address):
    proxy = BufferProxy(describe(address, (0,)))
    with pytest.raises(OverflowError):
        _first_use(proxy)
    # before bool(readonly), typestr and shape values
    proxy = BufferProxy({"shape": (ISIZE_MAX + 1,), "typestr": "|x1", "data": (address, BadBool())})
    with pytest.raises(OverflowError):
        _first_use(proxy)


@pytest.mark.parametrize(
    ("address", "reported"),
    [
        (-1, 2**PTR_BITS - 1),
        (-16, 2**PTR_BITS - 16),
        (-(2 ** (PTR_BITS - 1)), 2 ** (PTR_BITS - 1)),
        (2**PTR_BITS - 1, 2**PTR_BITS - 1),
        (2 ** (PTR_BITS - 1), 2 ** (PTR_BITS - 1)),
        (0, 0),
    ],
)
def test_addresses_wrap_like_pylong_asvoidptr_and_are_reported_unsigned(address, reported):
    # zero-size arrays: nothing is ever read at these addresses
    proxy = BufferProxy(describe(address, (0,), "<u4"))
    assert proxy.__array_interface__["data"] == (reported, False)
    assert bufferproxy.get_array_interface(proxy)["data"][0] == reported
    assert get_buffer_info(proxy, PyBUF_FULL_RO)["buf"] == reported
    assert proxy.length == 0
    assert proxy.raw == b""


def test_readonly_truth_value_exception_propagates(memory):
    proxy = BufferProxy(describe(memory, (2,), readonly=BadBool()))
    with pytest.raises(BoolError):
        _first_use(proxy)
    # evaluated before the typestr and the shape values are looked at
    proxy = BufferProxy({"shape": (ISIZE_MAX + 1,), "typestr": "|x1", "data": (memory, BadBool())})
    with pytest.raises(BoolError):
        _first_use(proxy)
    proxy = BufferProxy(
        {"shape": (2,), "typestr": "\u00e9\u00e9\u00e9", "data": (memory, BadBool())}
    )
    with pytest.raises(BoolError):
        _first_use(proxy)


@pytest.mark.parametrize(
    "description",
    [
        {"typestr": "|x1"},
        {"typestr": "\u00e9\u00e9\u00e9"},
        {"shape": (ISIZE_MAX + 1,)},
        {"strides": (ISIZE_MAX + 1,)},
    ],
    ids=["bad-typestr", "non-ascii-typestr", "huge-shape", "huge-stride"],
)
@pytest.mark.parametrize("request_kind", ["write", "PyBUF_WRITABLE"])
def test_writable_request_on_readonly_is_checked_before_typestr_and_values(
    memory, description, request_kind
):
    d = describe(memory, (2,), readonly=True)
    d.update(description)
    proxy = BufferProxy(d)
    request = {
        "write": lambda: proxy.write(b"x"),
        "PyBUF_WRITABLE": lambda: get_buffer_info(proxy, PyBUF_WRITABLE),
    }[request_kind]
    with pytest.raises(BufferError):
        request()


def test_writable_requests_on_readonly_data_fail_with_real_consumers():
    buf, addr = owned(b"\x01\x02\x03\x04")
    proxy = BufferProxy(describe(addr, (4,), readonly=True))
    with pytest.raises(BufferError):
        get_buffer_info(proxy, PyBUF_WRITABLE)
    with pytest.raises(BufferError):
        get_buffer_info(proxy, PyBUF_WRITABLE | PyBUF_FORMAT | PyBUF_STRIDES)
    with pytest.raises(BufferError):
        proxy.write(b"\xff")
    # read-only requests work
    assert get_buffer_info(proxy, PyBUF_SIMPLE) == {"buf": addr, "len": 4, "readonly": True}
    view = memoryview(proxy)
    assert view.readonly
    with pytest.raises(TypeError, match="read-only"):
        view[0] = 0xFF
    array = np.asarray(proxy)
    assert not array.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        array[0] = 0xFF
    # ctypes asks for a simple buffer and then refuses read-only memory itself
    with pytest.raises(TypeError, match="not writable"):
        (ctypes.c_char * 4).from_buffer(proxy)
    view.release()
    del array
    assert buf.raw == b"\x01\x02\x03\x04"


def test_writable_consumers_write_through_writable_data():
    buf, addr = owned(bytes(4))
    proxy = BufferProxy(describe(addr, (4,)))
    assert get_buffer_info(proxy, PyBUF_WRITABLE) == {"buf": addr, "len": 4, "readonly": False}
    view = memoryview(proxy)
    view[0] = 1
    array = np.asarray(proxy)
    array[1] = 2
    chars = (ctypes.c_char * 4).from_buffer(proxy)
    chars[2] = b"\x03"
    struct.pack_into("B", proxy, 3, 4)
    assert buf.raw == b"\x01\x02\x03\x04"
    del chars
    view.release()


# DECISIONS.md, "Types and formats": "<f2" and "<b1" (a 1-byte item's order does not matter)
# are rows of the table now, so they left this list; test_typestr_formats_and_normalisation
# and the *_items_with_real_consumers tests below show them working.
@pytest.mark.parametrize(
    "typestr",
    [
        *("|x1", "|f1", ">f3", "<f9", "|u0", "<i0", "|V0", "=u4", "!i2", "xu1"),
        *("|c1", "<x2", "<u:", "<I4", "u1|", "   "),
        # kinds and sizes outside the table: no float16/32/64 of this size, no complex64/128,
        # bools are one byte, "=" is not an array-interface byte order, byte strings are not
        # empty, long double ("<f16", "<c32") is not shared
        *("<f3", "<c4", "|c2", "|b2", "=u1", "|S0", "<f16", "<c32", "<c12"),
        # sizes: decimal digits, no leading zero, no sign, at most 2147483647 (a C int)
        *("|u01", "|V01", "<f08", "|S00", "<u+1", "<u-1", "<u 1", "<u4 "),
        *("|V2147483648", "|S2147483648", "<u99999999999999999999", "|u1x"),
    ],
)
def test_typestr_not_understood_is_value_error_naming_it(memory, typestr):
    proxy = BufferProxy(describe(memory, (2,), typestr))
    with pytest.raises(ValueError, match=re.escape(f"unsupported typestr '{typestr}'")):
        _first_use(proxy)
    proxy = BufferProxy(describe(memory, (2,), typestr.encode()))
    with pytest.raises(ValueError, match=re.escape(f"unsupported typestr '{typestr}'")):
        _first_use(proxy)


@pytest.mark.parametrize(
    ("typestr", "name"),
    [
        ("|O8", "object"),
        ("<O8", "object"),
        ("<M8", "datetime"),
        (">M8", "datetime"),
        ("<m8", "timedelta"),
        ("<U1", "unicode"),
        ("|U1", "unicode"),
        ("<U4", "unicode"),
        ("<U12", "unicode"),
    ],
)
def test_object_datetime_timedelta_and_unicode_typestrs_are_refused_by_name(memory, typestr, name):
    # DECISIONS.md, "Types and formats": object, datetime and unicode items -> ValueError
    # naming them
    for given_typestr in (typestr, typestr.encode()):
        proxy = BufferProxy(describe(memory, (2,), given_typestr))
        with pytest.raises(
            ValueError, match=re.escape(f"{name} items (typestr '{typestr}') are not supported")
        ):
            _first_use(proxy)
        with pytest.raises(ValueError, match=re.escape(f"{name} items")):
            memoryview(proxy)


@pytest.mark.parametrize("typestr", ["", "|", "|u", "\u00e9\u00e9", b"", b"|u", "|S"])
def test_typestr_shorter_than_three_characters_is_value_error(memory, typestr):
    # DECISIONS.md, "Types and formats": sizes may have several digits, so the early check
    # is only "at least 3 characters"; longer typestrs are then read against the table
    proxy = BufferProxy(describe(memory, (2,), typestr))
    with pytest.raises(ValueError, match="expected 'typestr' to be at least 3 characters long"):
        _first_use(proxy)


@pytest.mark.parametrize(
    ("typestr", "fmt", "itemsize", "normalised"),
    [
        ("|u12", "12x", 12, "<V12"),
        ("<i16", "16x", 16, "<V16"),
        ("|V10", "10x", 10, "<V10"),
        ("|S12", "12s", 12, "|S12"),
        ("<c16", "Zd", 16, "<c16"),
    ],
)
def test_typestr_longer_than_three_characters_is_a_multi_digit_size(
    typestr, fmt, itemsize, normalised
):
    # DECISIONS.md, "Types and formats": sizes may have several digits; integers of sizes
    # with no C type are void, so "|u12" is "|V12" (pad bytes "12x")
    memory = bytes(range(2 * itemsize))
    _buf, addr = owned(memory)
    proxy = BufferProxy(describe(addr, (2,), typestr))
    assert proxy.length == 2 * itemsize
    assert proxy.raw == memory
    assert proxy.__array_interface__["typestr"] == normalised
    with memoryview(proxy) as view:
        assert view.format == fmt
        assert (view.itemsize, view.strides) == (itemsize, (itemsize,))
        assert view.tobytes() == memory
    array = np.asarray(proxy)
    assert array.dtype.itemsize == itemsize
    assert array.ctypes.data == addr


@pytest.mark.parametrize(
    ("typestr", "shown"),
    [
        ("<u4\0", "<u4\\x00"),
        (b"<u4\0", "<u4\\x00"),
        (b"<u\xff", "<u\\xff"),
        (b"|V1\x80", "|V1\\x80"),
    ],
)
def test_typestr_with_other_bytes_is_value_error_showing_them_escaped(memory, typestr, shown):
    proxy = BufferProxy(describe(memory, (2,), typestr))
    with pytest.raises(ValueError, match=re.escape(f"unsupported typestr '{shown}'")):
        _first_use(proxy)


def test_non_ascii_typestr_longer_than_three_characters_is_unicode_encode_error(memory):
    # the typestr is encoded as ASCII before it is read, whatever its length
    proxy = BufferProxy(describe(memory, (2,), "|u1\u00e9"))
    with pytest.raises(UnicodeEncodeError):
        _first_use(proxy)


@pytest.mark.parametrize("typestr", ["\u00e912", "|\u00e91", "<u\u0664", "\u20ac\u20ac\u20ac"])
def test_three_char_non_ascii_typestr_is_unicode_encode_error(memory, typestr):
    proxy = BufferProxy(describe(memory, (2,), typestr))
    with pytest.raises(UnicodeEncodeError):
        _first_use(proxy)


def test_typestr_checked_before_shape_and_stride_values(memory):
    proxy = BufferProxy(describe(memory, (ISIZE_MAX + 1,), "|x1"))
    with pytest.raises(ValueError, match=re.escape("|x1")):
        _first_use(proxy)
    proxy = BufferProxy(describe(memory, (2,), "\u00e912", strides=(ISIZE_MAX + 1,)))
    with pytest.raises(UnicodeEncodeError):
        _first_use(proxy)


@pytest.mark.parametrize(
    ("shape", "strides"),
    [
        ((ISIZE_MAX + 1,), None),
        ((2, ISIZE_MAX + 1), None),
        ((2**64,), None),
        ((-ISIZE_MAX - 2,), None),
        ((2**100,), (1,)),
        ((2,), (ISIZE_MAX + 1,)),
        ((2,), (-ISIZE_MAX - 2,)),
        ((2, 2), (1, 2**64)),
    ],
)
def test_shape_or_stride_value_beyond_isize_is_overflow_error(memory, shape, strides):
    proxy = BufferProxy(describe(memory, shape, strides=strides))
    with pytest.raises(OverflowError):
        _first_use(proxy)
    proxy = BufferProxy(describe(memory, shape, strides=strides))
    with pytest.raises(OverflowError):
        proxy.length  # noqa: B018


def test_extreme_isize_values_are_not_overflow_errors():
    # exactly isize min/max as a stride of a zero-size array: valid, nothing is read
    proxy = BufferProxy(describe(0, (0,), strides=(-ISIZE_MAX - 1,)))
    assert proxy.__array_interface__["strides"] == (-ISIZE_MAX - 1,)
    proxy = BufferProxy(describe(0, (0, 3), strides=(ISIZE_MAX, 1)))
    assert proxy.__array_interface__["strides"] == (ISIZE_MAX, 1)
    assert proxy.length == 0


# --------------------------------------------------------------------------------------------
# validation pygame does not do: negative dimensions and isize overflow of length or extent.
# These run in a subprocess with address 1 (unmapped): if memory were touched, it would crash.

_HALF = ISIZE_MAX // 2 + 1  # 2**62 on 64-bit

EXTRA_CASES = {
    "negative-dim": ({"shape": (-1,)}, "shape"),
    "negative-dim-2d": ({"shape": (2, -3)}, "shape"),
    "negative-dim-with-zero": ({"shape": (0, -1)}, "shape"),
    "length-overflow": ({"shape": (_HALF, 4)}, "shape"),
    "length-overflow-itemsize": ({"shape": (_HALF // 4, 2), "typestr": "<u8"}, "shape"),
    "length-wraps-like-c": ({"shape": (2**32, 2**32)}, "shape"),
    "length-overflow-odd": ({"shape": (3, 3, _HALF // 4)}, "shape"),
    "extent-overflow": ({"shape": (3,), "strides": (_HALF,)}, "strides"),
    "extent-overflow-negative": ({"shape": (3,), "strides": (-_HALF,)}, "strides"),
    "extent-overflow-2d": ({"shape": (2, 2), "strides": (_HALF, _HALF)}, "strides"),
    "extent-overflow-mixed": ({"shape": (2, 2), "strides": (_HALF, -_HALF)}, "strides"),
    "extent-overflow-itemsize": (
        {"shape": (2,), "strides": (ISIZE_MAX - 3,), "typestr": "<u8"},
        "strides",
    ),
}
EXTRA_USES = ["length", "raw", "array_interface", "array_struct", "repr", "memoryview", "write"]

_EXTRA_SCRIPT = textwrap.dedent(
    """
    import json, sys
    from bufferproxy import BufferProxy

    cases = json.loads(sys.argv[1])
    uses = {
        "length": lambda p: p.length,
        "raw": lambda p: p.raw,
        "array_interface": lambda p: p.__array_interface__,
        "array_struct": lambda p: p.__array_struct__,
        "repr": repr,
        "memoryview": lambda p: memoryview(p).tobytes(),
        "write": lambda p: p.write(b"x"),
    }
    for name, (changes, _key) in cases.items():
        for use, action in uses.items():
            d = {"shape": (1,), "typestr": "|u1", "data": (1, False)}
            d.update({k: tuple(v) if isinstance(v, list) else v for k, v in changes.items()})
            print(json.dumps({"case": name, "use": use, "started": True}), flush=True)
            try:
                action(BufferProxy(d))
                result = {"type": None, "message": ""}
            except BaseException as exc:
                result = {"type": type(exc).__name__, "message": str(exc)}
            result.update(case=name, use=use)
            print(json.dumps(result), flush=True)
    """
)


@pytest.fixture(scope="module")
def extra_results():
    proc = subprocess.run(
        [sys.executable, "-c", _EXTRA_SCRIPT, json.dumps(EXTRA_CASES)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    results = {}
    crashed_at = None
    for line in proc.stdout.splitlines():
        record = json.loads(line)
        key = (record["case"], record["use"])
        if record.get("started"):
            crashed_at = key
        else:
            results[key] = record
            crashed_at = None
    return results, crashed_at, proc.returncode, proc.stderr


@pytest.mark.parametrize("use", EXTRA_USES)
@pytest.mark.parametrize("case", sorted(EXTRA_CASES))
def test_negative_dimension_and_isize_overflow_are_value_errors_before_memory_is_touched(
    extra_results, case, use
):
    results, crashed_at, returncode, stderr = extra_results
    assert (case, use) in results, (
        f"subprocess died (returncode {returncode}) during {crashed_at}: {stderr[-2000:]}"
    )
    record = results[(case, use)]
    _changes, key = EXTRA_CASES[case]
    assert record["type"] == "ValueError", record
    assert key in record["message"], record


# --------------------------------------------------------------------------------------------
# zero-size arrays


@pytest.mark.parametrize("shape", [(0,), (0, 3), (3, 0), (2, 0, 4), (0, 0)])
@pytest.mark.parametrize("typestr", ["|u1", "<u2", ">f8", "|V3"])
@pytest.mark.parametrize("use_null", [True, False])
def test_zero_size_arrays(shape, typestr, use_null):
    buf, addr = owned(b"\xaa" * 8)
    if use_null:
        addr = 0
    itemsize = int(typestr[2])
    proxy = BufferProxy(describe(addr, shape, typestr))
    assert proxy.length == 0
    assert proxy.raw == b""
    assert repr(proxy) == "<BufferProxy(0)>"
    expected_strides = c_strides(shape, itemsize)
    assert proxy.__array_interface__["strides"] == expected_strides
    assert proxy.__array_interface__["shape"] == shape
    assert proxy.__array_interface__["data"] == (addr, False)
    view = memoryview(proxy)
    assert view.shape == shape
    assert view.strides == expected_strides
    assert view.nbytes == 0
    assert view.tobytes() == b""
    assert view.itemsize == itemsize
    array = np.asarray(proxy)
    assert array.shape == shape
    assert array.size == 0
    assert array.dtype.itemsize == itemsize
    del array
    view.release()
    assert buf.raw == b"\xaa" * 8


def test_zero_size_array_with_explicit_strides():
    proxy = BufferProxy(describe(0, (4, 0), "<u4", strides=(-4, 100)))
    assert proxy.length == 0
    assert proxy.raw == b""
    assert proxy.__array_interface__["strides"] == (-4, 100)
    assert memoryview(proxy).tobytes() == b""


# --------------------------------------------------------------------------------------------
# types and formats


_FORMAT_CODES = {
    ("b", 1): "?",
    ("i", 1): "b",
    ("u", 1): "B",
    ("i", 2): "h",
    ("u", 2): "H",
    ("i", 4): "i",
    ("u", 4): "I",
    ("i", 8): "q",
    ("u", 8): "Q",
    ("f", 2): "e",
    ("f", 4): "f",
    ("f", 8): "d",
    ("c", 8): "Zf",
    ("c", 16): "Zd",
}


def expected_type(typestr):
    """(PEP 3118 format, itemsize, normalised typestr) as DECISIONS.md, "Types and formats"
    gives them: the bare code for native-order items (pygame said "=h"), the other order's
    prefix for byte-swapped ones, "<n>s" for byte strings and "<n>x" for void items and
    integers of sizes with no C type; typestrs come back in numpy's spelling."""
    order, kind, size = typestr[0], typestr[1], int(typestr[2:])
    if kind == "S":
        return f"{size}s", size, f"|S{size}"
    code = _FORMAT_CODES.get((kind, size))
    if code is None:  # odd sizes and V kinds are pad bytes
        return f"{size}x", size, ("|V1" if size == 1 else f"{NATIVE}V{size}")
    if size == 1:
        return code, 1, f"|{kind}1"
    if order in ("|", NATIVE):
        return code, size, f"{NATIVE}{kind}{size}"
    return f"{order}{code}", size, f"{order}{kind}{size}"


def struct_size(fmt):
    """The item size of a format by the struct module, which has no complex codes: a complex
    item ("Zf", ">Zd") is two of its parts."""
    if "Z" in fmt:
        return 2 * struct.calcsize(fmt.replace("Z", ""))
    return struct.calcsize(fmt)


_SIZES = {"i": [*range(1, 10), 12, 16], "u": [*range(1, 10), 10, 16], "V": [*range(1, 10), 16]}
_SIZES |= {"f": [2, 4, 8], "c": [8, 16], "b": [1], "S": [1, 4, 10]}
VALID_TYPESTRS = [
    order + kind + str(size) for order in "<>|" for kind in "iufVcbS" for size in _SIZES[kind]
]


@pytest.mark.parametrize("typestr", VALID_TYPESTRS)
def test_typestr_formats_and_normalisation(typestr):
    fmt, itemsize, normalised = expected_type(typestr)
    memory = bytes(range(3 * itemsize))
    _buf, addr = owned(memory)
    for given_typestr in (typestr, typestr.encode()):
        proxy = BufferProxy(describe(addr, (3,), given_typestr))
        assert proxy.length == 3 * itemsize
        ai = proxy.__array_interface__
        assert ai["typestr"] == normalised
        assert type(ai["typestr"]) is str
        view = memoryview(proxy)
        assert view.format == fmt
        assert view.itemsize == itemsize
        assert struct_size(view.format) == itemsize
        assert view.strides == (itemsize,)
        assert view.tobytes() == memory
        array = np.asarray(proxy)
        assert array.dtype.itemsize == itemsize
        assert array.tobytes() == memory
        if not fmt.endswith("x"):  # (numpy reads "<n>x" as a field-less structured dtype)
            assert array.dtype.str == normalised
        del array
        view.release()


@pytest.mark.parametrize(
    ("typestr", "fmt", "normalised"),
    [
        ("|u1", "B", "|u1"),
        ("<i2", "h", "<i2"),
        (">u4", ">I", ">u4"),
        ("|V3", "3x", "<V3"),
        ("<f8", "d", "<f8"),
        ("|u2", "H", "<u2"),
        ("|i3", "3x", "<V3"),
        (">i3", "3x", "<V3"),
        (">u1", "B", "|u1"),
        (b"|u2", "H", "<u2"),
        # beyond pygame: the rest of the table
        ("|b1", "?", "|b1"),
        ("<b1", "?", "|b1"),
        ("<f2", "e", "<f2"),
        (">f2", ">e", ">f2"),
        ("<c8", "Zf", "<c8"),
        ("<c16", "Zd", "<c16"),
        (">c16", ">Zd", ">c16"),
        ("|S4", "4s", "|S4"),
        ("<S10", "10s", "|S10"),
        ("|V16", "16x", "<V16"),
        ("<u12", "12x", "<V12"),
    ],
)
def test_typestr_examples_from_the_decisions(typestr, fmt, normalised):
    # DECISIONS.md, "Types and formats": native single-character formats (pygame gave "=h",
    # "=d", "=H" for the first rows), swapped items keep the prefix, numpy's typestr spelling
    if sys.byteorder != "little":
        fmt, _size, normalised = expected_type(
            typestr.decode() if isinstance(typestr, bytes) else typestr
        )
    _buf, addr = owned(bytes(32))
    proxy = BufferProxy(describe(addr, (2,), typestr))
    assert memoryview(proxy).format == fmt
    assert proxy.__array_interface__["typestr"] == normalised


def test_values_read_through_typestrs():
    memory = struct.pack("<h", -2) + struct.pack(">I", 0xDEADBEEF) + struct.pack("<d", 2.5)
    _buf, addr = owned(memory)
    assert unpack_items(memoryview(BufferProxy(describe(addr, (1,), "<i2")))) == [-2]
    assert unpack_items(memoryview(BufferProxy(describe(addr + 2, (1,), ">u4")))) == [0xDEADBEEF]
    assert np.asarray(BufferProxy(describe(addr + 2, (1,), ">u4"))).tolist() == [0xDEADBEEF]
    assert unpack_items(memoryview(BufferProxy(describe(addr + 6, (1,), "<f8")))) == [2.5]
    assert np.asarray(BufferProxy(describe(addr + 6, (1,), "|f8"))).tolist() == [2.5]
    if sys.byteorder == "little":
        # DECISIONS.md, "Types and formats": native single-character formats, so memoryview
        # itself reads native items (it refused pygame's "=h")
        assert memoryview(BufferProxy(describe(addr, (1,), "<i2"))).tolist() == [-2]
        assert memoryview(BufferProxy(describe(addr + 6, (1,), "|f8")))[0] == 2.5


# DECISIONS.md, "Types and formats", "Beyond pygame: every numeric type numpy can share":
# bool, float16, complex, bytes and void of any size work with real consumers, both ways.


def test_bool_items_with_real_consumers():
    memory = bytes([1, 0, 0, 1, 1, 0])
    buf, addr = owned(memory)
    proxy = BufferProxy(describe(addr, (2, 3), "|b1"))
    with memoryview(proxy) as view:
        assert (view.format, view.itemsize) == ("?", 1)
        assert view.tolist() == [[True, False, False], [True, True, False]]
        assert view[1, 1] is True
        view[0, 1] = True
    assert unpack_items(memoryview(proxy)) == [True, True, False, True, True, False]
    array = np.asarray(proxy)
    assert array.dtype == np.bool_
    assert array.ctypes.data == addr
    array[1, 2] = True
    assert buf.raw[:6] == bytes([1, 1, 0, 1, 1, 1])
    assert proxy.raw == bytes([1, 1, 0, 1, 1, 1])


def test_half_float_items_with_real_consumers():
    values = [1.5, -2.0, 65504.0, 0.0009765625]
    memory = struct.pack("<4e", *values) + struct.pack(">2e", 3.0, -0.5)
    buf, addr = owned(memory)
    native = BufferProxy(describe(addr, (4,), "<f2"))
    with memoryview(native) as view:
        assert (view.format, view.itemsize) == (("e" if NATIVE == "<" else "<e"), 2)
        assert unpack_items(view) == values
    array = np.asarray(native)
    assert array.dtype == np.dtype("<f2")
    assert array.tolist() == values
    array[0] = 0.25
    assert struct.unpack_from("<e", buf.raw) == (0.25,)
    swapped = BufferProxy(describe(addr + 8, (2,), ">f2"))
    with memoryview(swapped) as view:
        assert view.format == (">e" if NATIVE == "<" else "e")
        assert unpack_items(view) == [3.0, -0.5]
    assert np.asarray(swapped).dtype == np.dtype(">f2")
    assert np.asarray(swapped).tolist() == [3.0, -0.5]


@pytest.mark.parametrize(("typestr", "part"), [("<c8", "f"), ("<c16", "d")])
def test_complex_items_with_real_consumers(typestr, part):
    values = [1 + 2j, -0.5 + 0.25j, 3 - 4j]
    memory = struct.pack(f"<6{part}", *(x for v in values for x in (v.real, v.imag)))
    buf, addr = owned(memory)
    proxy = BufferProxy(describe(addr, (3,), typestr))
    itemsize = int(typestr[2:])
    with memoryview(proxy) as view:
        assert (view.format, view.itemsize) == (("Z" if NATIVE == "<" else ">Z") + part, itemsize)
        assert view.tobytes() == memory
    array = np.asarray(proxy)
    assert array.dtype == np.dtype(typestr)
    assert array.tolist() == values
    array[2] = 7j
    assert struct.unpack_from(f"<2{part}", buf.raw, 2 * itemsize) == (0.0, 7.0)
    assert np.from_dlpack(proxy).tolist() == [1 + 2j, -0.5 + 0.25j, 7j]


def test_bytes_items_with_real_consumers():
    memory = b"abcdEFGHijkl"
    buf, addr = owned(memory)
    proxy = BufferProxy(describe(addr, (3,), "|S4"))
    assert proxy.__array_interface__["typestr"] == "|S4"
    with memoryview(proxy) as view:
        assert (view.format, view.itemsize, view.shape) == ("4s", 4, (3,))
        assert unpack_items(view) == [b"abcd", b"EFGH", b"ijkl"]
    array = np.asarray(proxy)
    assert array.dtype == np.dtype("S4")
    assert array.tolist() == [b"abcd", b"EFGH", b"ijkl"]
    array[1] = b"xy"
    assert buf.raw[:12] == b"abcdxy\0\0ijkl"
    proxy.write(b"Z", offset=11)
    assert np.asarray(proxy).tolist() == [b"abcd", b"xy", b"ijkZ"]


def test_void_items_of_any_size_with_real_consumers():
    memory = bytes(range(48))
    _buf, addr = owned(memory)
    proxy = BufferProxy(describe(addr, (2, 2), "|V12"))
    assert proxy.length == 48
    assert proxy.raw == memory
    assert proxy.__array_interface__["typestr"] == "<V12"
    with memoryview(proxy) as view:
        assert (view.format, view.itemsize, view.strides) == ("12x", 12, (24, 12))
        assert view.tobytes() == memory
        assert view.cast("B").tolist() == list(memory)
    array = np.asarray(proxy)
    assert array.dtype.itemsize == 12
    assert array.ctypes.data == addr


def test_largest_item_size_is_2147483647():
    # DECISIONS.md, "Types and formats": sizes may have several digits; the limit is a C int,
    # the itemsize of a PyArrayInterface. A NULL address: nothing is read (see below).
    for typestr in ("|V2147483647", "|S2147483647", "<u2147483647"):
        proxy = BufferProxy(describe(0, (1,), typestr))
        assert proxy.length == 2147483647
        assert proxy.__array_interface__["typestr"][1:] == typestr[1:].replace("u", "V")
        assert bufferproxy.get_array_interface(proxy)["shape"] == (1,)
    for typestr in ("|V2147483648", "|S2147483648", "<i2147483648", "|V4294967297"):
        proxy = BufferProxy(describe(0, (1,), typestr))
        with pytest.raises(ValueError, match=re.escape(f"unsupported typestr '{typestr}'")):
            _first_use(proxy)


# --------------------------------------------------------------------------------------------
# a NULL address: the metadata works, the bytes are refused (DECISIONS.md, "Validation pygame
# does not do": a raw address of 0 is accepted, as pygame accepts it)


def _null_proxy(calls, readonly=False, shape=(4, 2), typestr="<u2"):
    parent = object()
    return parent, BufferProxy(
        describe(
            0,
            shape,
            typestr,
            readonly=readonly,
            parent=parent,
            before=lambda p: calls.append(("before", p)),
            after=lambda p: calls.append(("after", p)),
        )
    )


@pytest.mark.parametrize("readonly", [False, True])
def test_null_address_metadata_works(readonly):
    calls = []
    parent, proxy = _null_proxy(calls, readonly)
    assert proxy.length == 16
    assert repr(proxy) == "<BufferProxy(16)>"
    assert proxy.parent is parent
    assert calls == [("before", parent)]  # the held acquisition, once
    expected = {
        "version": 3,
        "typestr": f"{NATIVE}u2",
        "shape": (4, 2),
        "strides": (4, 2),
        "data": (0, readonly),
    }
    assert proxy.__array_interface__ == expected
    assert bufferproxy.get_array_interface(proxy) == expected
    capsule = proxy.__array_struct__
    assert type(capsule).__name__ == "PyCapsule"
    del capsule, proxy
    gc.collect()
    assert calls == [("before", parent), ("after", parent)]


def test_null_address_bytes_are_refused():
    calls = []
    _parent, proxy = _null_proxy(calls)
    # exports and writes refuse before any callback runs
    with pytest.raises(BufferError, match="NULL"):
        memoryview(proxy)
    with pytest.raises(BufferError, match="NULL"):
        get_buffer_info(proxy, PyBUF_SIMPLE)
    with pytest.raises(ValueError, match="NULL"):
        proxy.write(b"x")
    with pytest.raises(ValueError, match="NULL"):
        proxy.raw  # noqa: B018
    with pytest.raises(BufferError, match="NULL"):
        proxy.__dlpack__()
    # raw and __dlpack__ as the first use refuse before `before` too, and hold nothing
    assert calls == []
    assert proxy.length == 16  # still usable for its metadata
    assert calls == [("before", _parent)]
    # once the memory is held, they are refused all the same
    with pytest.raises(ValueError, match="NULL"):
        proxy.raw  # noqa: B018
    with pytest.raises(BufferError, match="NULL"):
        proxy.__dlpack__(max_version=(1, 0))
    assert calls == [("before", _parent)]
    # a read-only NULL description refuses a write as read-only first, like any other
    _parent, readonly_proxy = _null_proxy([], readonly=True)
    with pytest.raises(BufferError, match="read-only"):
        readonly_proxy.write(b"x")


def test_null_address_export_refused_even_when_before_would_raise():
    def before(parent):
        raise AssertionError("before must not run")

    proxy = BufferProxy(describe(0, (4,), before=before))
    with pytest.raises(BufferError, match="NULL"):
        memoryview(proxy)
    with pytest.raises(ValueError, match="NULL"):
        proxy.write(b"x")
    with pytest.raises(ValueError, match="NULL"):
        proxy.raw  # noqa: B018
    with pytest.raises(BufferError, match="NULL"):
        proxy.__dlpack__()


@pytest.mark.parametrize("typestr", ["|b1", "<f2", "<c16", "|S3", "|V5"])
def test_null_address_with_the_new_item_types(typestr):
    _fmt, itemsize, normalised = expected_type(typestr)
    proxy = BufferProxy(describe(0, (3,), typestr))
    assert proxy.length == 3 * itemsize
    assert proxy.__array_interface__["typestr"] == normalised
    with pytest.raises(BufferError, match="NULL"):
        memoryview(proxy)


# --------------------------------------------------------------------------------------------
# layouts: hypothesis


_LAYOUT_TYPESTRS = ["|u1", "|i1", "<u2", ">i2", "<i4", ">u4", "<f4", ">f8", "<u8", "|V3", "<V5"]
_LAYOUT_TYPESTRS += ["|b1", "<f2", ">f2", "<c8", ">c16", "|S3", "|V12", "|u10"]


@st.composite
def layouts(draw):
    typestr = draw(st.sampled_from(_LAYOUT_TYPESTRS))
    _fmt, itemsize, _norm = expected_type(typestr)
    ndim = draw(st.integers(1, 4))
    shape = tuple(draw(st.lists(st.integers(0, 4), min_size=ndim, max_size=ndim)))
    kind = draw(st.sampled_from(["default", "c", "f", "padded", "random"]))
    if kind == "default":
        strides = None
    elif kind == "c":
        strides = c_strides(shape, itemsize)
    elif kind == "f":
        strides = f_strides(shape, itemsize)
    elif kind == "padded":
        pad = draw(st.integers(1, 3))
        strides = tuple(s * (pad + 1) for s in c_strides(shape, itemsize))
        if draw(st.booleans()):
            strides = tuple(-s for s in strides)
    else:
        limit = 4 * itemsize * 4
        strides = tuple(draw(st.lists(st.integers(-limit, limit), min_size=ndim, max_size=ndim)))
    readonly = draw(st.booleans())
    seed = draw(st.integers(0, 2**32 - 1))
    return typestr, shape, strides, readonly, seed


@given(layouts())
def test_layouts_every_consumer_sees_the_same_items(layout):
    typestr, shape, strides, readonly, seed = layout
    fmt, itemsize, normalised = expected_type(typestr)
    effective = c_strides(shape, itemsize) if strides is None else strides
    lo, hi = extent(shape, effective, itemsize)
    size = hi - lo
    memory = random.Random(seed).randbytes(size)
    buf, base = owned(memory)
    start = -lo
    addr = base + start

    proxy = BufferProxy(describe(addr, shape, typestr, readonly=readonly, strides=strides))
    length = itemsize * math.prod(shape)
    c_order = gather_c_order(memory, start, shape, effective, itemsize)
    c_contig = is_c_contiguous(shape, effective, itemsize)
    f_contig = is_f_contiguous(shape, effective, itemsize)
    # contiguous data comes back in memory order, anything else gathered in C order
    expected_raw = memory[start : start + length] if f_contig and not c_contig else c_order

    assert proxy.length == length
    assert repr(proxy) == f"<BufferProxy({length})>"
    assert proxy.raw == expected_raw
    assert proxy.__array_interface__ == {
        "version": 3,
        "typestr": normalised,
        "shape": shape,
        "strides": effective,
        "data": (addr, readonly),
    }

    view = memoryview(proxy)
    assert view.shape == shape
    assert view.strides == effective
    assert view.format == fmt
    assert view.itemsize == itemsize
    assert view.nbytes == length
    assert view.readonly is readonly
    if length:  # (memoryview's flags differ from PyBuffer_IsContiguous for empty 1-D views)
        assert view.c_contiguous is c_contig
        assert view.f_contiguous is f_contig
    assert view.tobytes() == c_order
    assert view.tobytes(order="A") == expected_raw

    array = np.asarray(proxy)
    assert array.shape == shape
    assert array.dtype.itemsize == itemsize
    assert array.flags.writeable is (not readonly)
    if not fmt.endswith("x"):
        # (numpy turns pad-byte formats into a field-less structured dtype whose copies are
        # zero-filled, so only the layout can be compared for those)
        assert array.tobytes() == c_order
    if length:
        assert array.strides == effective
        assert array.ctypes.data == addr

    del array
    view.release()
    del proxy
    gc.collect()
    assert buf.raw[:size] == memory  # nothing was written


# --------------------------------------------------------------------------------------------
# `data` given as a buffer object, with an optional `offset`


def _address_of(obj):
    """The start address of a writable or read-only buffer, via numpy."""
    return np.frombuffer(obj, dtype=np.uint8).ctypes.data


def test_bytearray_data():
    data = bytearray(b"0123456789")
    proxy = BufferProxy({"shape": (2, 5), "typestr": "|u1", "data": data})
    assert proxy.length == 10
    assert proxy.raw == b"0123456789"
    assert proxy.__array_interface__["data"] == (_address_of(data), False)
    view = memoryview(proxy)
    assert view.tolist()[1] == list(b"56789")
    view[0, 0] = ord("X")
    np.asarray(proxy)[1, 4] = ord("Y")
    assert data == bytearray(b"X12345678Y")
    view.release()


@pytest.mark.parametrize(
    "make",
    [
        lambda: b"abcdef",
        lambda: memoryview(bytearray(b"abcdef")).toreadonly(),
        lambda: _readonly_array(b"abcdef"),
    ],
    ids=["bytes", "readonly-memoryview", "readonly-numpy"],
)
def test_read_only_buffer_data_makes_a_read_only_proxy(make):
    data = make()
    proxy = BufferProxy({"shape": (3,), "typestr": "<u2", "data": data, "offset": 0})
    assert proxy.raw == b"abcdef"
    assert proxy.__array_interface__["data"] == (_address_of(data), True)
    assert memoryview(proxy).readonly
    assert not np.asarray(proxy).flags.writeable
    with pytest.raises(BufferError):
        proxy.write(b"z")
    with pytest.raises(BufferError):
        get_buffer_info(proxy, PyBUF_WRITABLE)
    assert bytes(data) == b"abcdef"


def _readonly_array(content):
    array = np.frombuffer(bytearray(content), dtype=np.uint8)
    array.flags.writeable = False
    return array


def test_numpy_array_data_with_offset():
    array = np.arange(16, dtype=np.uint8)
    proxy = BufferProxy({"shape": (2, 3), "typestr": "|u1", "data": array, "offset": 5})
    assert proxy.__array_interface__["data"] == (array.ctypes.data + 5, False)
    assert proxy.raw == bytes(range(5, 11))
    np.testing.assert_array_equal(np.asarray(proxy), [[5, 6, 7], [8, 9, 10]])
    memoryview(proxy)[1, 2] = 99
    assert array[10] == 99


def test_offset_with_strides_and_negative_strides():
    data = bytearray(b"0123456789")
    proxy = BufferProxy(
        {"shape": (5,), "typestr": "|u1", "data": data, "offset": 1, "strides": (2,)}
    )
    assert proxy.raw == b"13579"
    assert memoryview(proxy).tobytes() == b"13579"
    proxy = BufferProxy(
        {"shape": (10,), "typestr": "|u1", "data": data, "offset": 9, "strides": (-1,)}
    )
    assert proxy.raw == b"9876543210"
    assert np.asarray(proxy).tobytes() == b"9876543210"
    assert proxy.__array_interface__["data"] == (_address_of(data) + 9, False)


@pytest.mark.parametrize(
    ("shape", "typestr", "strides", "offset", "fits"),
    [
        ((10,), "|u1", None, None, True),
        ((11,), "|u1", None, None, False),
        ((2, 5), "|u1", None, None, True),
        ((3, 4), "|u1", None, None, False),
        ((4,), "|u1", None, 6, True),
        ((4,), "|u1", None, 7, False),
        ((1,), "|u1", None, 9, True),
        ((1,), "|u1", None, 10, False),
        ((1,), "|u1", None, -1, False),
        ((5,), "<u2", None, None, True),
        ((6,), "<u2", None, None, False),
        ((4,), "<u2", None, 2, True),
        ((4,), "<u2", None, 3, False),
        ((1,), "|V9", None, 1, True),
        ((1,), "|V9", None, 2, False),
        ((4,), "|u1", (3,), None, True),
        ((5,), "|u1", (3,), None, False),
        ((10,), "|u1", (-1,), 9, True),
        ((10,), "|u1", (-1,), 8, False),
        ((3,), "<u2", (-4,), 8, True),
        ((3,), "<u2", (-4,), 9, False),
        ((3,), "<u2", (-4,), 7, False),
        ((2, 2), "|u1", (5, -1), 1, True),
        ((2, 2), "|u1", (5, -1), 0, False),
        ((10,), "|u1", (0,), 9, True),
    ],
)
def test_data_object_extent_must_fit(shape, typestr, strides, offset, fits):
    data = bytearray(range(10))
    description = {"shape": shape, "typestr": typestr, "data": data}
    if strides is not None:
        description["strides"] = strides
    if offset is not None:
        description["offset"] = offset
    proxy = BufferProxy(description)
    if fits:
        assert proxy.length == math.prod(shape) * expected_type(typestr)[1]
        assert memoryview(proxy).nbytes == proxy.length
    else:
        # (the message is not specified)
        with pytest.raises(ValueError):  # noqa: PT011
            proxy.raw  # noqa: B018
        with pytest.raises(ValueError):  # noqa: PT011
            memoryview(proxy)
    assert data == bytearray(range(10))


@st.composite
def fitted_layouts(draw):
    typestr = draw(st.sampled_from(["|u1", "<u2", ">i4", "|V3"]))
    itemsize = expected_type(typestr)[1]
    ndim = draw(st.integers(1, 3))
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=ndim, max_size=ndim)))
    strides = tuple(draw(st.lists(st.integers(-12, 12), min_size=ndim, max_size=ndim)))
    size = draw(st.integers(0, 64))
    offset = draw(st.integers(-8, 72))
    return typestr, itemsize, shape, strides, size, offset


@given(fitted_layouts(), st.randoms(use_true_random=False))
def test_data_object_layouts_fit_or_are_refused(layout, rng):
    typestr, itemsize, shape, strides, size, offset = layout
    content = rng.randbytes(size)
    data = bytearray(content)
    proxy = BufferProxy(
        {"shape": shape, "typestr": typestr, "data": data, "offset": offset, "strides": strides}
    )
    lo, hi = extent(shape, strides, itemsize)
    if offset + lo >= 0 and offset + hi <= size:
        expected = gather_c_order(content, offset, shape, strides, itemsize)
        assert memoryview(proxy).tobytes() == expected
        if typestr != "|V3":  # (numpy copies field-less void items as zeros)
            assert np.asarray(proxy).tobytes() == expected
        assert proxy.length == len(expected)
    else:
        with pytest.raises(ValueError):  # noqa: PT011
            proxy.length  # noqa: B018
    del proxy
    gc.collect()
    assert data == content
    data.extend(b"resizable again")


@pytest.mark.parametrize("data", [(0, False), (0, True)])
def test_offset_with_tuple_data_is_value_error(data):
    proxy = BufferProxy({"shape": (0,), "typestr": "|u1", "data": data, "offset": 0})
    with pytest.raises(ValueError, match="offset"):
        _first_use(proxy)


@pytest.mark.parametrize("data", [object(), "abc", 5, 1.5, {"a": 1}, [0, False]])
def test_data_that_is_neither_tuple_nor_buffer_is_value_error(data):
    proxy = BufferProxy({"shape": (1,), "typestr": "|u1", "data": data})
    with pytest.raises(ValueError, match="data"):
        _first_use(proxy)


def test_numpy_data_is_kept_alive():
    array = np.arange(8, dtype=np.uint8)
    ref = weakref.ref(array)
    description = {"shape": (8,), "typestr": "|u1", "data": array}
    proxy = BufferProxy(description)
    assert proxy.length == 8  # first use: the data's export is held from now on
    del array
    description.clear()  # the description has been read; dropping its items changes nothing
    del description
    gc.collect()
    assert ref() is not None
    assert proxy.raw == bytes(range(8))
    del proxy
    gc.collect()
    assert ref() is None


def test_bytearray_data_refcount_and_resize_lock():
    data = bytearray(b"abcdefgh")
    count = sys.getrefcount(data)
    proxy = BufferProxy({"shape": (8,), "typestr": "|u1", "data": data})
    assert proxy.raw == b"abcdefgh"
    assert sys.getrefcount(data) > count
    with pytest.raises(BufferError):
        data.extend(b"!")
    with pytest.raises(BufferError):
        data.pop()
    with pytest.raises(BufferError):
        del data[0]
    data[0] = ord("A")  # in-place changes are fine, and visible
    assert proxy.raw == b"Abcdefgh"
    del proxy
    gc.collect()
    assert sys.getrefcount(data) == count
    data.extend(b"!")
    assert data == bytearray(b"Abcdefgh!")


def test_bytes_data_write_refused_but_bytearray_write_lands():
    proxy = BufferProxy({"shape": (4,), "typestr": "|u1", "data": b"abcd"})
    with pytest.raises(BufferError):
        proxy.write(b"x")
    target = bytearray(b"abcd")
    proxy = BufferProxy({"shape": (2,), "typestr": "|u1", "data": target, "offset": 2})
    proxy.write(b"XY")
    assert target == bytearray(b"abXY")
