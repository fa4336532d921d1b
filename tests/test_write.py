"""BufferProxy.write(buffer, offset=0): accepted sources, argument errors, read-only and
non-contiguous targets, bounds, and where the bytes land (checked through ctypes and numpy)."""

import array
import ctypes
import math
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bufferproxy import BufferProxy

ISIZE_MAX = sys.maxsize
GUARD = 8  # bytes before and after every destination, which must never change
FILL = 0xA5


class Destination:
    """A ctypes buffer the test owns, with guard bytes around the described region."""

    def __init__(self, size, fill=FILL):
        self.size = size
        self.buffer = (ctypes.c_uint8 * (size + 2 * GUARD))(*([fill] * (size + 2 * GUARD)))
        self.address = ctypes.addressof(self.buffer) + GUARD

    def whole(self):
        return bytes(self.buffer)

    def region(self):
        return bytes(self.buffer)[GUARD : GUARD + self.size]

    def proxy(self, shape=None, typestr="|u1", strides=None, readonly=False, **extra):
        if shape is None:
            shape = (self.size // int(typestr[2]),)
        description = {"shape": shape, "typestr": typestr, "data": (self.address, readonly)}
        if strides is not None:
            description["strides"] = strides
        description.update(extra)
        return BufferProxy(description)


def expected_after(before, data, offset):
    """`before` (the whole buffer, guards included) with `data` written `offset` bytes into
    the described region."""
    out = bytearray(before)
    out[GUARD + offset : GUARD + offset + len(data)] = data
    return bytes(out)


class Index:
    def __init__(self, value):
        self.value = value

    def __index__(self):
        return self.value


class IntSub(int):
    pass


# --------------------------------------------------------------------------------------------
# accepted sources


SOURCES = {
    "bytes": (lambda: b"\x01\x02\x03\x04", b"\x01\x02\x03\x04"),
    "str-ascii": (lambda: "abcd", b"abcd"),
    "str-utf8": (lambda: "\u00e9\u20ac", "\u00e9\u20ac".encode()),
    "str-nul": (lambda: "a\0b", b"a\0b"),
    "bytearray": (lambda: bytearray(b"\x10\x20\x30"), b"\x10\x20\x30"),
    "memoryview-bytes": (lambda: memoryview(b"wxyz"), b"wxyz"),
    "memoryview-slice": (lambda: memoryview(b"0123456789")[2:6], b"2345"),
    "memoryview-readonly": (lambda: memoryview(bytearray(b"ro")).toreadonly(), b"ro"),
    "memoryview-2d": (lambda: memoryview(b"abcdef").cast("B", (2, 3)), b"abcdef"),
    "memoryview-int-format": (
        lambda: memoryview(array.array("I", [0x01020304])),
        array.array("I", [0x01020304]).tobytes(),
    ),
    "numpy-u1": (lambda: np.arange(5, dtype=np.uint8), bytes(range(5))),
    "numpy-u4": (
        lambda: np.array([1, 0xDEADBEEF], dtype="<u4"),
        (1).to_bytes(4, "little") + (0xDEADBEEF).to_bytes(4, "little"),
    ),
    "numpy-2d-c": (
        lambda: np.arange(6, dtype=">i2").reshape(2, 3),
        np.arange(6, dtype=">i2").tobytes(),
    ),
    "numpy-f8": (lambda: np.array([1.5]), np.array([1.5]).tobytes()),
    "array-array": (lambda: array.array("h", [-1, 2]), array.array("h", [-1, 2]).tobytes()),
    "ctypes-array": (lambda: (ctypes.c_uint8 * 3)(7, 8, 9), b"\x07\x08\x09"),
    "empty-bytes": (lambda: b"", b""),
    "empty-str": (lambda: "", b""),
    "empty-numpy": (lambda: np.zeros(0, dtype=np.uint8), b""),
}


@pytest.mark.parametrize("name", sorted(SOURCES))
@pytest.mark.parametrize("offset", [0, 3])
def test_accepted_sources_land_at_offset(name, offset):
    make, expected_bytes = SOURCES[name]
    dest = Destination(24)
    proxy = dest.proxy()
    before = dest.whole()
    source = make()
    assert proxy.write(source, offset) is None
    assert dest.whole() == expected_after(before, expected_bytes, offset)
    assert proxy.raw == expected_after(before, expected_bytes, offset)[GUARD : GUARD + 24]
    # the source is untouched
    if isinstance(source, str):
        assert source == make()
    else:
        assert memoryview(source).tobytes() == expected_bytes


def test_keyword_arguments():
    dest = Destination(6)
    proxy = dest.proxy()
    proxy.write(buffer=b"ab", offset=4)
    proxy.write(b"cd", offset=1)
    proxy.write(offset=0, buffer=b"Z")
    assert dest.region() == b"Zcd" + bytes([FILL]) + b"ab"


@pytest.mark.parametrize("offset", [np.int64(2), np.uint8(2), IntSub(2), Index(2), 2])
def test_offset_accepts_any_index_integer(offset):
    dest = Destination(4)
    dest.proxy().write(b"xy", offset)
    assert dest.region() == bytes([FILL, FILL]) + b"xy"


def test_bool_offset_is_an_integer():
    dest = Destination(4)
    dest.proxy().write(b"x", True)
    assert dest.region() == bytes([FILL]) + b"x" + bytes([FILL, FILL])


# --------------------------------------------------------------------------------------------
# argument errors: TypeError / OverflowError, before anything else


NON_BUFFERS = [5, None, [1, 2], (1, 2), 1.5, object(), {b"a": 1}, iter(b"ab")]


@pytest.mark.parametrize("source", NON_BUFFERS, ids=lambda s: type(s).__name__)
def test_non_bytes_like_source_is_type_error(source):
    dest = Destination(8)
    before = dest.whole()
    with pytest.raises(TypeError):
        dest.proxy().write(source)
    assert dest.whole() == before


def _non_c_contiguous_sources():
    data = np.arange(12, dtype=np.uint8)
    return {
        "numpy-step": data[::2],
        "numpy-reversed": data[::-1],
        "numpy-fortran": np.asfortranarray(data.reshape(3, 4)),
        "numpy-column": data.reshape(3, 4)[:, 1],
        "memoryview-step": memoryview(bytes(range(12)))[::2],
        "memoryview-reversed": memoryview(bytes(range(12)))[::-1],
        "memoryview-fortran": memoryview(np.asfortranarray(data.reshape(3, 4))),
    }


@pytest.mark.parametrize("name", sorted(_non_c_contiguous_sources()))
def test_non_c_contiguous_source_is_type_error(name):
    source = _non_c_contiguous_sources()[name]
    assert not memoryview(source).c_contiguous
    dest = Destination(16)
    before = dest.whole()
    with pytest.raises(TypeError):
        dest.proxy().write(source)
    assert dest.whole() == before


@pytest.mark.parametrize("offset", [1.0, 0.0, "1", b"1", None, 1j, [1], np.float64(1.0)])
def test_offset_not_an_integer_is_type_error(offset):
    dest = Destination(8)
    before = dest.whole()
    with pytest.raises(TypeError):
        dest.proxy().write(b"x", offset)
    assert dest.whole() == before


@pytest.mark.parametrize("offset", [ISIZE_MAX + 1, 2**64, 2**100, -ISIZE_MAX - 2, -(2**100)])
def test_offset_beyond_isize_is_overflow_error(offset):
    dest = Destination(8)
    before = dest.whole()
    with pytest.raises(OverflowError):
        dest.proxy().write(b"x", offset)
    assert dest.whole() == before


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        ((), {}),
        ((b"a", 0, 0), {}),
        ((b"a",), {"off": 1}),
        ((b"a",), {"offset": 1, "extra": 2}),
        ((), {"offset": 1}),
        ((b"a",), {"buffer": b"b"}),
    ],
)
def test_wrong_arguments_are_type_error(args, kwargs):
    dest = Destination(8)
    before = dest.whole()
    with pytest.raises(TypeError):
        dest.proxy().write(*args, **kwargs)
    assert dest.whole() == before


def _bad_calls():
    return {
        "float-offset": ((b"x", 1.0), TypeError),
        "str-offset": ((b"x", "0"), TypeError),
        "huge-offset": ((b"x", 2**64), OverflowError),
        "int-source": ((5,), TypeError),
        "none-source": ((None,), TypeError),
        "list-source": (([1],), TypeError),
        "strided-source": ((np.arange(8, dtype=np.uint8)[::2],), TypeError),
        "surrogate-str": (("\ud800",), UnicodeEncodeError),
    }


def _bad_targets():
    """Targets that would fail with another error (or succeed) if the arguments were valid."""

    def readonly(dest):
        return dest.proxy(readonly=True)

    def non_contiguous(dest):
        return dest.proxy(shape=(4,), strides=(2,))

    def invalid_description(dest):
        return dest.proxy(typestr="|x1")

    def non_exporter(dest):
        return BufferProxy(1)

    def tiny(dest):
        return dest.proxy(shape=(0,))

    def writable(dest):
        return dest.proxy()

    return {
        "readonly": readonly,
        "non-contiguous": non_contiguous,
        "invalid-description": invalid_description,
        "non-exporter": non_exporter,
        "zero-length": tiny,
        "writable": writable,
    }


@pytest.mark.parametrize("call", sorted(_bad_calls()))
@pytest.mark.parametrize("target", sorted(_bad_targets()))
def test_argument_errors_come_before_anything_else(call, target):
    args, error = _bad_calls()[call]
    dest = Destination(8)
    proxy = _bad_targets()[target](dest)
    before = dest.whole()
    with pytest.raises(error):
        proxy.write(*args)
    assert dest.whole() == before


def test_argument_errors_do_not_call_before():
    dest = Destination(8)
    log = []
    proxy = dest.proxy(before=lambda parent: log.append("before"), after=log.append)
    for args in [(b"x", 1.5), (None,), (b"x", 2**70), (np.arange(4, dtype=np.uint8)[::2],)]:
        with pytest.raises((TypeError, OverflowError)):
            proxy.write(*args)
    assert log == []


def test_surrogate_str_is_unicode_encode_error():
    dest = Destination(8)
    before = dest.whole()
    with pytest.raises(UnicodeEncodeError):
        dest.proxy().write("a\udc80b")
    assert dest.whole() == before


# --------------------------------------------------------------------------------------------
# target errors


@pytest.mark.parametrize("readonly", [True, 1, "yes"])
def test_read_only_target_is_buffer_error(readonly):
    dest = Destination(8)
    before = dest.whole()
    proxy = dest.proxy(readonly=readonly)
    with pytest.raises(BufferError):
        proxy.write(b"x")
    assert proxy.length == 8
    with pytest.raises(BufferError):
        proxy.write(b"x")
    assert dest.whole() == before


def test_read_only_checked_before_contiguity_and_bounds():
    dest = Destination(8)
    before = dest.whole()
    proxy = dest.proxy(shape=(4,), strides=(2,), readonly=True)
    for args in [(b"x",), (b"x" * 100,), (b"x", 50), (b"x", -1)]:
        with pytest.raises(BufferError):
            proxy.write(*args)
    proxy = dest.proxy(readonly=True)
    for args in [(b"x" * 100,), (b"x", 8), (b"x", -1)]:
        with pytest.raises(BufferError):
            proxy.write(*args)
    assert dest.whole() == before


def test_read_only_parents():
    readonly_array = np.zeros(4, dtype=np.uint8)
    readonly_array.flags.writeable = False
    for parent in [b"abcd", readonly_array, memoryview(bytearray(4)).toreadonly()]:
        snapshot = bytes(parent)
        with pytest.raises(BufferError):
            BufferProxy(parent).write(b"x")
        assert bytes(parent) == snapshot


@pytest.mark.parametrize(
    ("shape", "strides", "typestr", "size", "start"),
    [
        ((4,), (2,), "|u1", 8, 0),
        ((4,), (-1,), "|u1", 4, 3),
        ((2,), (8,), "<u4", 12, 0),
        ((2, 3), (8, 2), "|u1", 16, 0),
        ((2, 3), (2, 4), "|u1", 12, 0),
        ((2, 2), (1, 1), "|u1", 3, 0),  # overlapping rows
        ((3,), (0,), "<u2", 2, 0),
        ((2, 2), (-2, 1), "|u1", 4, 2),
    ],
)
def test_non_contiguous_target_is_value_error(shape, strides, typestr, size, start):
    dest = Destination(size)
    before = dest.whole()
    proxy = BufferProxy(
        {
            "shape": shape,
            "typestr": typestr,
            "data": (dest.address + start, False),
            "strides": strides,
        }
    )
    view = memoryview(proxy)
    assert not view.c_contiguous
    assert not view.f_contiguous
    view.release()
    for args in [(b"x",), (b"",), (b"x" * 100,), (b"x", -1), (b"x", 100)]:
        with pytest.raises(ValueError):  # noqa: PT011 (the message is not specified)
            proxy.write(*args)
    assert dest.whole() == before


@pytest.mark.parametrize("data", [b"abcde", "abcde", b"x" * 100, "\u00e9\u00e9\u00e9"])
@pytest.mark.parametrize("offset", [0, 1, 3, -1, -100, 100, ISIZE_MAX])
def test_buffer_longer_than_length_is_value_error(data, offset):
    dest = Destination(4)
    before = dest.whole()
    with pytest.raises(ValueError):  # noqa: PT011 (the message is not specified)
        dest.proxy().write(data, offset)
    assert dest.whole() == before


@pytest.mark.parametrize(
    ("data", "offset"),
    [
        (b"x", -1),
        (b"", -1),
        (b"x", -ISIZE_MAX - 1),
        (b"x", 4),
        (b"", 4),
        (b"x", 5),
        (b"", 100),
        (b"x", ISIZE_MAX),
        (b"xy", 3),
        (b"xyz", 2),
        (b"xyzw", 1),
        ("\u00e9", 3),
    ],
)
def test_offset_out_of_range_is_index_error(data, offset):
    dest = Destination(4)
    before = dest.whole()
    with pytest.raises(IndexError):
        dest.proxy().write(data, offset)
    assert dest.whole() == before


@pytest.mark.parametrize("data", [b"", b"x"])
def test_zero_length_target_has_no_valid_offset(data):
    dest = Destination(0)
    before = dest.whole()
    proxy = dest.proxy(shape=(0,))
    error = IndexError if not data else ValueError
    with pytest.raises(error):
        proxy.write(data)
    assert dest.whole() == before


@pytest.mark.parametrize(
    ("data", "offset"),
    [(b"", 0), (b"", 3), (b"x", 3), (b"abcd", 0), (b"ab", 2), ("\u00e9", 2), (b"abc", 1)],
)
def test_writes_at_the_boundaries(data, offset):
    dest = Destination(4)
    before = dest.whole()
    dest.proxy().write(data, offset)
    encoded = data.encode() if isinstance(data, str) else data
    assert dest.whole() == expected_after(before, encoded, offset)


# --------------------------------------------------------------------------------------------
# where the bytes land


def test_c_contiguous_2d_target_memory_order():
    dest = Destination(12)
    proxy = dest.proxy(shape=(2, 3), typestr="<u2")
    proxy.write(bytes(range(1, 9)), 2)
    array = np.frombuffer(dest.buffer, dtype="<u2", count=6, offset=GUARD).reshape(2, 3)
    assert array.tolist() == [[0xA5A5, 0x0201, 0x0403], [0x0605, 0x0807, 0xA5A5]]
    assert np.asarray(proxy).tolist() == array.tolist()


def test_f_contiguous_target_memory_order():
    dest = Destination(12)
    proxy = dest.proxy(shape=(2, 3), typestr="<u2", strides=(2, 4))
    assert memoryview(proxy).f_contiguous
    assert not memoryview(proxy).c_contiguous
    payload = np.array([10, 20, 30, 40, 50, 60], dtype="<u2").tobytes()
    proxy.write(payload)
    assert dest.region() == payload  # memory order
    logical = np.asarray(proxy)
    assert logical.tolist() == [[10, 30, 50], [20, 40, 60]]  # Fortran order
    assert logical.tobytes(order="F") == payload
    assert proxy.raw == payload  # contiguous: raw is memory order too


def test_contiguous_with_irrelevant_strides_is_writable():
    # dimensions of length 1 may have any stride: still C-contiguous (PEP 3118 / CPython)
    dest = Destination(4)
    proxy = dest.proxy(shape=(1, 4, 1), strides=(999, 1, -7))
    assert memoryview(proxy).c_contiguous
    proxy.write(b"abc", 1)
    assert dest.region() == bytes([FILL]) + b"abc"


def test_write_into_numpy_parents():
    c_array = np.zeros((2, 3), dtype=np.uint8)
    BufferProxy(c_array).write(b"\x01\x02\x03\x04", 1)
    assert c_array.tolist() == [[0, 1, 2], [3, 4, 0]]

    f_array = np.zeros((2, 3), dtype=np.uint8, order="F")
    BufferProxy(f_array).write(b"\x01\x02\x03\x04", 1)
    assert f_array.tobytes(order="F") == b"\x00\x01\x02\x03\x04\x00"
    assert f_array.tolist() == [[0, 2, 4], [1, 3, 0]]

    strided = np.zeros(8, dtype=np.uint8)[::2]
    with pytest.raises(ValueError):  # noqa: PT011 (the message is not specified)
        BufferProxy(strided).write(b"x")


def test_write_into_bytearray_parent_and_data():
    parent = bytearray(b"........")
    BufferProxy(parent).write(b"abc", 5)
    assert parent == bytearray(b".....abc")
    data = bytearray(b"........")
    BufferProxy({"shape": (4,), "typestr": "|u1", "data": data, "offset": 2}).write(b"XY", 1)
    assert data == bytearray(b"...XY...")


def test_write_into_multibyte_and_pad_typestrs():
    dest = Destination(9)
    proxy = dest.proxy(shape=(3,), typestr="|V3")
    assert proxy.length == 9
    proxy.write(b"123456789")
    assert dest.region() == b"123456789"
    proxy.write(b"ab", 7)
    assert dest.region() == b"1234567ab"
    with pytest.raises(ValueError):  # noqa: PT011 (the message is not specified)
        proxy.write(b"0123456789")


def test_written_bytes_visible_to_all_consumers():
    dest = Destination(4)
    proxy = dest.proxy()
    view = memoryview(proxy)
    array = np.asarray(proxy)
    proxy.write(b"\x09\x08", 1)
    assert view.tobytes() == bytes([FILL, 9, 8, FILL])
    assert array.tolist() == [FILL, 9, 8, FILL]
    assert proxy.raw == bytes([FILL, 9, 8, FILL])
    assert bytes((ctypes.c_uint8 * 4).from_address(dest.address)) == bytes([FILL, 9, 8, FILL])
    view.release()


def test_exporter_parent_fortran_layout():
    from bufferproxy._testing import Exporter

    exporter = Exporter((2, 3), "B", strides=(1, 2))
    BufferProxy(exporter).write(b"abcdef")
    assert exporter.memory() == b"abcdef"
    assert exporter.tobytes() == b"acebdf"
    assert exporter.exports == 0

    readonly = Exporter((4,), "B", readonly=True)
    with pytest.raises(BufferError):
        BufferProxy(readonly).write(b"x")
    assert readonly.memory() == bytes(4)


# --------------------------------------------------------------------------------------------
# hypothesis: random lengths, offsets and sources against a model


def _as_source(kind, payload):
    return {
        "bytes": lambda: payload,
        "bytearray": lambda: bytearray(payload),
        "memoryview": lambda: memoryview(payload),
        "numpy": lambda: np.frombuffer(payload, dtype=np.uint8),
        "str": lambda: payload.decode("ascii"),
    }[kind]()


@given(
    length=st.integers(0, 40),
    payload=st.binary(max_size=48),
    offset=st.integers(-5, 50) | st.sampled_from([-ISIZE_MAX - 1, ISIZE_MAX]),
    kind=st.sampled_from(["bytes", "bytearray", "memoryview", "numpy", "str"]),
    layout=st.sampled_from(["c-1d", "c-2d", "f-2d"]),
    fill=st.integers(0, 255),
)
def test_write_matches_a_model(length, payload, offset, kind, layout, fill):
    if kind == "str":
        payload = bytes(b & 0x7F for b in payload)
    source = _as_source(kind, payload)
    dest = Destination(length, fill)
    if layout == "c-1d" or length == 0:
        shape, strides = (length,), None
    else:
        rows = next(r for r in (4, 3, 2, 1) if length % r == 0)
        shape = (rows, length // rows)
        strides = (shape[1], 1) if layout == "c-2d" else (1, rows)
    proxy = dest.proxy(shape=shape, strides=strides)
    before = dest.whole()

    n = len(payload)
    if n > length:
        expected_error = ValueError
    elif offset < 0 or offset >= length or offset + n > length:
        expected_error = IndexError
    else:
        expected_error = None

    if expected_error is None:
        proxy.write(source, offset)
        assert dest.whole() == expected_after(before, payload, offset)
    else:
        with pytest.raises(expected_error):
            proxy.write(source, offset)
        assert dest.whole() == before
    assert math.prod(shape) == proxy.length == length
