"""Item types: every numeric type numpy can share (DECISIONS.md, "Types and formats").

One table (src/core/format.rs) serves descriptions' typestrs, exporters' formats and
`__array_struct__` (typekind, item size) pairs alike: bool, integers, float16/32/64,
complex64/128 (native or byte-swapped), byte strings `S<n>` and void `V<n>` of any size.

* `memoryview(proxy)` behaves as `memoryview(array)` does (hypothesis, over dtypes and
  layouts): same list, same items, same equality, same byte cast, or the same exception
  (memoryview itself cannot index `Zf`, `>i`, `3x`, ...).
* numpy shares the memory through the buffer protocol, the array interface and DLPack;
  DLPack refuses what it has no type for, with the reason.
* Object, datetime, timedelta and unicode items are refused by name.
"""

import ctypes
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
from hypothesis import event, given
from hypothesis import strategies as st

from bufferproxy import BufferProxy

N = "<" if sys.byteorder == "little" else ">"  # this machine's byte order in a typestr
S = ">" if N == "<" else "<"  # the other machines'

# (numpy dtype, the typestr a proxy reports, the format a description or __array_struct__
# parent hands to consumers). DECISIONS.md, "Types and formats": numpy's typestr spelling,
# except void items of several bytes, which carry this machine's order (`<V3`); native
# single-character formats for native-order numbers, the other order's prefix when swapped.
ROWS = [
    ("?", "|b1", "?"),
    ("i1", "|i1", "b"),
    ("u1", "|u1", "B"),
    (N + "i2", N + "i2", "h"),
    (S + "i2", S + "i2", S + "h"),
    (N + "u2", N + "u2", "H"),
    (S + "u2", S + "u2", S + "H"),
    (N + "i4", N + "i4", "i"),
    (S + "i4", S + "i4", S + "i"),
    (N + "u4", N + "u4", "I"),
    (S + "u4", S + "u4", S + "I"),
    (N + "i8", N + "i8", "q"),
    (S + "i8", S + "i8", S + "q"),
    (N + "u8", N + "u8", "Q"),
    (S + "u8", S + "u8", S + "Q"),
    (N + "f2", N + "f2", "e"),
    (S + "f2", S + "f2", S + "e"),
    (N + "f4", N + "f4", "f"),
    (S + "f4", S + "f4", S + "f"),
    (N + "f8", N + "f8", "d"),
    (S + "f8", S + "f8", S + "d"),
    (N + "c8", N + "c8", "Zf"),
    (S + "c8", S + "c8", S + "Zf"),
    (N + "c16", N + "c16", "Zd"),
    (S + "c16", S + "c16", S + "Zd"),
    *[(f"S{n}", f"|S{n}", f"{n}s") for n in range(1, 17)],
    ("V1", "|V1", "1x"),
    *[(f"V{n}", f"{N}V{n}", f"{n}x") for n in range(2, 17)],
]
DTYPES = [row[0] for row in ROWS]
TYPESTR = {row[0]: row[1] for row in ROWS}

# What DLPack has a type for: native-order numbers and bools.
DLPACK_TYPED = [d for d in DTYPES if d[0] not in (S, "S", "V")]
# The reason DLPack cannot take the others, as the BufferError names it.
DLPACK_REFUSED = [
    *[(d, "byte-swapped") for d in DTYPES if d[0] == S],
    *[(d, "no type for byte strings") for d in DTYPES if d[0] == "S"],
    *[(d, "no numeric type") for d in DTYPES if d[0] == "V"],
]


def fill(dtype, nbytes, data):
    """An array of `nbytes` bytes of `data` read as `dtype` (bools kept 0 or 1)."""
    raw = np.frombuffer(bytes(data[:nbytes]), dtype=np.uint8).copy()
    if np.dtype(dtype).kind == "b":
        raw &= 1
    return raw.view(dtype)


def sample(dtype, shape=(2, 3)):
    """A C-contiguous array of `dtype` holding varied bytes."""
    itemsize = np.dtype(dtype).itemsize
    nbytes = itemsize * int(np.prod(shape))
    return fill(dtype, nbytes, [(7 * i + 3) % 256 for i in range(nbytes)]).reshape(shape)


def description(arr):
    """A dict description of `arr` built from its `__array_interface__`, `arr` as parent."""
    inter = arr.__array_interface__
    desc = {"shape": inter["shape"], "typestr": inter["typestr"], "data": inter["data"]}
    if inter["strides"] is not None:  # descriptions take strides only as a tuple
        desc["strides"] = inter["strides"]
    desc["parent"] = arr  # keeps the memory alive as long as the proxy
    return desc


class Interface:
    """Exposes an `__array_interface__` dict (keep the proxy it came from alive)."""

    def __init__(self, inter):
        self.__array_interface__ = inter


class StructExporter:
    """Exposes only `source.__array_struct__` (no buffer protocol)."""

    def __init__(self, source):
        self.source = source

    @property
    def __array_struct__(self):
        return self.source.__array_struct__


# ---------------------------------------------------------------------------------------
# memoryview(proxy) against memoryview(array), over dtypes and layouts


def normalise(value):
    """Lists and items compared by bits: a NaN equals itself, -0.0 differs from 0.0."""
    if isinstance(value, (list, tuple)):
        return [normalise(v) for v in value]
    if isinstance(value, float):
        return ("float", value.hex())
    return value


def outcome(operation, *args):
    """`("ok", result)` or `("raises", exception type)`."""
    try:
        return ("ok", normalise(operation(*args)))
    except Exception as exc:  # the type is what is compared
        return ("raises", type(exc))


def view_operations(index, single):
    """What is compared, each applied to (a view, another view of the same items)."""
    return {
        "tolist": lambda view, _: view.tolist(),
        "index": lambda view, _: view[index],
        "single": lambda view, _: view[single],
        "eq": lambda view, other: view == other,
        "cast": lambda view, _: view.cast("B").tolist(),
    }


LAYOUTS = ["C", "F", "strided", "negative", "zero-size", "0-dim"]


@st.composite
def arrays(draw):
    """(array, layout): an array of any dtype of the table in one of the layouts."""
    dtype = draw(st.sampled_from(DTYPES))
    layout = draw(st.sampled_from(LAYOUTS))
    if layout == "0-dim":
        shape = ()
    else:
        shape = draw(st.lists(st.integers(1, 4), min_size=1, max_size=3))
        if layout == "zero-size":
            shape[draw(st.integers(0, len(shape) - 1))] = 0
    if layout == "F":
        base_shape = shape[::-1]
    elif layout == "strided":
        steps = draw(st.lists(st.integers(1, 3), min_size=len(shape), max_size=len(shape)))
        starts = [draw(st.integers(0, step - 1)) for step in steps]
        base_shape = [start + n * step for n, step, start in zip(shape, steps, starts, strict=True)]
    else:
        base_shape = shape
    itemsize = np.dtype(dtype).itemsize
    nbytes = itemsize * int(np.prod(base_shape))
    # A drawn pattern repeated over the whole buffer (a full draw overruns hypothesis's
    # buffer for the large strided bases).
    pattern = draw(st.binary(min_size=1, max_size=64))
    data = (pattern * (nbytes // len(pattern) + 1))[:nbytes]
    base = fill(dtype, nbytes, data).reshape(base_shape)
    if layout == "F":
        arr = base.T
    elif layout == "strided":
        arr = base[tuple(slice(a, None, s) for a, s in zip(starts, steps, strict=True))]
    elif layout == "negative":
        flips = draw(st.lists(st.booleans(), min_size=len(shape), max_size=len(shape)))
        flips[draw(st.integers(0, len(shape) - 1))] = True
        arr = base[tuple(slice(None, None, -1) if f else slice(None) for f in flips)]
    else:
        arr = base
    assert arr.shape == tuple(shape)
    return arr, layout


@given(arrays(), st.data())
def test_memoryview_of_a_proxy_behaves_as_memoryview_of_the_array(array_and_layout, data):
    arr, layout = array_and_layout
    expected_view = memoryview(arr)
    parents = [("exporter", BufferProxy(arr))]
    if arr.ndim:  # a description needs a non-empty shape
        desc = description(arr)
        parents.append(("description", BufferProxy(desc)))

    def indices(n):
        return st.integers(-n - 1, n)  # a few out of range too

    index = tuple(data.draw(indices(n), label="index") for n in arr.shape)
    single = data.draw(indices(arr.shape[0] if arr.ndim else 1), label="single index")
    operations = view_operations(index, single)
    # memoryview's own behaviour for the array (two views, so == does not short-cut).
    reference = {
        name: outcome(op, expected_view, memoryview(arr)) for name, op in operations.items()
    }
    for name, result in reference.items():
        event(f"{name} {result[0]}")

    for parent, proxy in parents:
        view = memoryview(proxy)
        context = (parent, layout, arr.dtype.str, arr.shape, arr.strides, index, single)
        assert view.shape == expected_view.shape, context
        assert view.strides == expected_view.strides, context
        assert view.itemsize == expected_view.itemsize, context
        assert view.nbytes == expected_view.nbytes == arr.nbytes, context
        assert view.readonly is False, context
        if parent == "exporter":
            # DECISIONS.md, "Types and formats": an exporter's own format passes unchanged.
            assert view.format == expected_view.format, context
        for name, op in operations.items():
            assert outcome(op, view, memoryview(arr)) == reference[name], (name, context)
        # Two views of the proxy compare as two views of the array do.
        assert outcome(operations["eq"], view, memoryview(proxy)) == reference["eq"], context
        if arr.flags.c_contiguous and arr.size:  # memoryview casts no zero-size view
            assert view.cast("B").tolist() == list(arr.tobytes()), context
        view.release()
    expected_view.release()


def test_memoryview_refusals_are_memoryviews_own():
    """Where memoryview cannot index, both raise NotImplementedError (not a proxy error)."""
    for dtype in (N + "c8", S + "i4", "V3", "S2"):
        arr = sample(dtype, (3,))
        for proxy in (BufferProxy(arr), BufferProxy(description(arr))):
            with pytest.raises(NotImplementedError):
                memoryview(proxy)[0]
            with pytest.raises(NotImplementedError):
                memoryview(arr)[0]
            assert memoryview(proxy).cast("B").tolist() == list(arr.tobytes())


# ---------------------------------------------------------------------------------------
# numpy through the buffer protocol


@pytest.mark.parametrize("dtype", DTYPES)
def test_numpy_asarray_shares_memory(dtype):
    arr = sample(dtype, (6,))
    proxy = BufferProxy(arr)
    got = np.asarray(proxy)
    assert np.shares_memory(got, arr)
    assert got.shape == arr.shape
    if dtype.startswith("V"):
        # numpy's PEP 3118 parser turns `<n>x` into a fieldless structured dtype: the same
        # dtype numpy gives for a memoryview of its own array.
        assert got.dtype == np.asarray(memoryview(arr)).dtype
        assert got.dtype.itemsize == arr.itemsize
        assert np.shares_memory(got.view(arr.dtype), arr)
        assert got.view(arr.dtype).tobytes() == arr.tobytes()
    else:
        assert got.dtype == arr.dtype
        assert got.tobytes() == arr.tobytes()
    mine, theirs = arr.view(np.uint8), got.view(np.uint8)
    theirs[0] ^= 1  # a write through numpy's array is seen in the parent...
    assert mine[0] == theirs[0]
    mine[-1] ^= 1  # ...and the other way round
    assert theirs[-1] == mine[-1]
    assert got.tobytes() == arr.tobytes()


# ---------------------------------------------------------------------------------------
# dict descriptions built from numpy's __array_interface__


@pytest.mark.parametrize(("dtype", "typestr", "format_"), ROWS)
def test_description_round_trips(dtype, typestr, format_):
    arr = sample(dtype)
    proxy = BufferProxy(description(arr))
    inter = proxy.__array_interface__
    # DECISIONS.md, "Types and formats": numpy's typestr spelling (`<V3` for void).
    assert inter["typestr"] == typestr
    assert np.dtype(inter["typestr"]) == arr.dtype
    assert inter["shape"] == arr.shape
    assert inter["strides"] == arr.strides
    assert inter["data"] == (arr.ctypes.data, False)
    assert inter["data"] == arr.__array_interface__["data"]
    # DECISIONS.md, "Types and formats": native single-character formats.
    assert memoryview(proxy).format == format_

    copied = np.array(Interface(inter))
    assert copied.dtype == arr.dtype
    assert copied.shape == arr.shape
    assert copied.tobytes() == arr.tobytes()

    assert proxy.raw == arr.tobytes()
    assert proxy.length == arr.nbytes

    new = bytes(reversed(arr.tobytes()))  # bools stay 0 or 1
    proxy.write(new)
    assert arr.tobytes() == new
    assert proxy.raw == new
    piece = new[: arr.itemsize]
    proxy.write(piece, arr.itemsize)
    assert arr.tobytes()[arr.itemsize : 2 * arr.itemsize] == piece
    assert proxy.raw == arr.tobytes()


@pytest.mark.parametrize(("dtype", "typestr", "format_"), ROWS)
def test_strided_description_round_trips(dtype, typestr, format_):
    base = sample(dtype, (4, 6))
    arr = base[::-2, 1::3]
    proxy = BufferProxy(description(arr))
    inter = proxy.__array_interface__
    assert inter["typestr"] == typestr
    assert (inter["shape"], inter["strides"]) == (arr.shape, arr.strides)
    assert inter["data"] == arr.__array_interface__["data"]
    copied = np.array(Interface(inter))
    assert copied.dtype == arr.dtype
    assert copied.tobytes() == arr.tobytes()
    # DECISIONS.md, "Reading": non-contiguous data is gathered in C order.
    assert proxy.raw == arr.tobytes()
    assert proxy.length == arr.nbytes


@pytest.mark.parametrize("dtype", DTYPES)
def test_exporter_interface_reports_the_table(dtype):
    arr = sample(dtype)
    proxy = BufferProxy(arr)
    inter = proxy.__array_interface__
    assert inter["typestr"] == TYPESTR[dtype]
    assert np.dtype(inter["typestr"]) == arr.dtype
    assert np.array(Interface(inter)).tobytes() == arr.tobytes()
    assert proxy.raw == arr.tobytes()


# ---------------------------------------------------------------------------------------
# DLPack


@pytest.mark.parametrize("parent", ["exporter", "description"])
@pytest.mark.parametrize("dtype", DLPACK_TYPED)
def test_dlpack_shares_memory(dtype, parent):
    arr = sample(dtype)
    proxy = BufferProxy(arr if parent == "exporter" else description(arr))
    got = np.from_dlpack(proxy)
    assert got.dtype == arr.dtype
    assert got.shape == arr.shape
    assert np.shares_memory(got, arr)
    assert got.tobytes() == arr.tobytes()
    arr.view(np.uint8)[0] ^= 1
    assert got.tobytes() == arr.tobytes()


@pytest.mark.parametrize("parent", ["exporter", "description"])
@pytest.mark.parametrize(("dtype", "reason"), DLPACK_REFUSED)
def test_dlpack_refuses_with_the_reason(dtype, reason, parent):
    arr = sample(dtype)
    proxy = BufferProxy(arr if parent == "exporter" else description(arr))
    with pytest.raises(BufferError, match=reason):
        np.from_dlpack(proxy)
    with pytest.raises(BufferError, match=reason):
        proxy.__dlpack__()
    if reason == "byte-swapped":
        with pytest.raises(BufferError, match="native byte order"):
            proxy.__dlpack__()
    # The refusal leaves the proxy usable.
    assert proxy.raw == arr.tobytes()


# ---------------------------------------------------------------------------------------
# What is refused by name


@pytest.mark.parametrize(
    ("make", "names"),
    [
        (lambda: np.array([1, None, "x"], dtype=object), ("object",)),
        (lambda: np.zeros(3, dtype="U4"), ("unicode",)),
        # numpy itself refuses the buffer export of datetimes ("cannot include dtype 'M'").
        (lambda: np.zeros(3, dtype="M8[s]"), ("'M'", "datetime")),
        (lambda: np.zeros(3, dtype="m8[s]"), ("'m'", "timedelta")),
    ],
    ids=["object", "unicode", "datetime", "timedelta"],
)
def test_exporters_of_refused_items(make, names):
    arr = make()
    proxy = BufferProxy(arr)
    with pytest.raises(ValueError, match="|".join(names)):
        _ = proxy.length
    with pytest.raises(ValueError, match="|".join(names)):  # nothing stays acquired
        _ = proxy.raw


@pytest.mark.parametrize(
    ("typestr", "name"),
    [("|O8", "object"), ("<M8", "datetime"), ("<m8", "timedelta"), ("<U4", "unicode")],
)
def test_descriptions_of_refused_items(typestr, name):
    buf = bytearray(64)
    proxy = BufferProxy({"shape": (2,), "typestr": typestr, "data": buf})
    with pytest.raises(ValueError, match=f"{name} items \\(typestr '{typestr}'\\)"):
        _ = proxy.length


# ---------------------------------------------------------------------------------------
# __array_struct__ parents


_capsule_new = ctypes.PYFUNCTYPE(
    ctypes.py_object, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p
)(("PyCapsule_New", ctypes.pythonapi))
_capsule_pointer = ctypes.PYFUNCTYPE(ctypes.c_void_p, ctypes.py_object, ctypes.c_char_p)(
    ("PyCapsule_GetPointer", ctypes.pythonapi)
)


class RawStruct:
    """Exposes a hand-made `PyArrayInterface` over `buf` (kept alive by this object)."""

    def __init__(self, buf, typekind, itemsize, shape):
        self.buf = buf
        self.shape = (ctypes.c_ssize_t * len(shape))(*shape)
        self.strides = (ctypes.c_ssize_t * len(shape))(itemsize)
        self.inter = PyArrayInterface(
            two=2,
            nd=len(shape),
            typekind=typekind,
            itemsize=itemsize,
            flags=PAI_ALIGNED | PAI_NOTSWAPPED | PAI_WRITEABLE | PAI_CONTIGUOUS | PAI_FORTRAN,
            shape=self.shape,
            strides=self.strides,
            data=ctypes.addressof(ctypes.c_char.from_buffer(buf)),
        )

    @property
    def __array_struct__(self):
        return _capsule_new(ctypes.addressof(self.inter), None, None)


@pytest.mark.parametrize("source", ["numpy", "proxy"])
@pytest.mark.parametrize(("dtype", "typestr", "format_"), ROWS)
def test_array_struct_parents_follow_the_table(dtype, typestr, format_, source):
    arr = sample(dtype)
    inner = arr if source == "numpy" else BufferProxy(description(arr))
    proxy = BufferProxy(StructExporter(inner))
    # DECISIONS.md, "Types and formats": an __array_struct__ exporter's (typekind,
    # itemsize) follows the same table as a typestr.
    assert proxy.__array_interface__["typestr"] == typestr
    assert memoryview(proxy).format == format_
    assert proxy.raw == arr.tobytes()
    assert np.array(Interface(proxy.__array_interface__)).dtype == arr.dtype


def test_description_of_odd_sized_ints_exports_void_typekind():
    buf = bytearray(range(6))
    proxy = BufferProxy({"shape": (2,), "typestr": "|i3", "data": buf})
    capsule = proxy.__array_struct__
    inter = PyArrayInterface.from_address(_capsule_pointer(capsule, None))
    assert (inter.typekind, inter.itemsize) == (b"V", 3)
    assert BufferProxy(StructExporter(proxy)).__array_interface__["typestr"] == N + "V3"


@pytest.mark.parametrize("itemsize", [3, 5, 6, 7, 9, 16])
@pytest.mark.parametrize("typekind", [b"i", b"u", b"V"])
def test_array_struct_odd_sized_ints_are_void(typekind, itemsize):
    # DECISIONS.md, "Types and formats": `i` with item size 3 is `V3`, as `|i3` is.
    buf = bytearray(range(2 * itemsize))
    proxy = BufferProxy(RawStruct(buf, typekind, itemsize, (2,)))
    assert proxy.__array_interface__["typestr"] == f"{N}V{itemsize}"
    assert memoryview(proxy).format == f"{itemsize}x"
    assert proxy.raw == bytes(buf)
    assert proxy.length == 2 * itemsize
