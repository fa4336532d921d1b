"""Differential tests: ``bufferproxy.BufferProxy`` against pygame 2.6.1's ``BufferProxy``.

Every case is built twice, once per implementation, over memory the test owns: two identically
initialised ctypes arenas for dict descriptions, two identically initialised parents (our test
``Exporter``, numpy arrays, bytearrays, ...) otherwise.  The same scripted sequence of operations
then runs on each proxy and every observable is compared: exception types (never messages),
``length``, ``repr``, ``parent``, ``__array_interface__`` (data address relative to each side's
own memory), the ``PyArrayInterface`` behind ``__array_struct__``, ``get_array_interface``,
memoryview metadata and bytes, ``numpy.asarray``, explicit ``PyObject_GetBuffer`` requests,
``write()`` together with the memory it leaves behind, and the order and arguments of the
``before``/``after`` callbacks.

Memory rules.  A raw ``(address, readonly)`` description is only generated when its extent
(address, shape, strides, itemsize) lies inside the arena; an address outside owned memory is
only used for zero-size layouts, where nothing is read, and address 0 (NULL) also for non-empty
ones: pygame then only answers what reads no memory (metadata, callbacks); what would read or
write the bytes (pygame reads NULL) is checked against our rule alone.  Descriptions pygame
mishandles (negative dimensions, a length or extent overflowing ``isize``) and out-of-bounds
layouts over a ``data`` buffer object are never handed to pygame; for those only our own rule is
checked.  Parents pygame crashes on (ctypes arrays, which export NULL strides) are not used, and
explicit buffer requests to pygame always include ``PyBUF_ND`` (and ``PyBUF_FORMAT`` for exporter
parents).

Where DECISIONS.md deliberately differs from pygame the comparison checks our rule instead; each
such place carries a comment starting with "DECISIONS" that names the bullet it follows.  Item
types pygame refuses (bool, float16, complex, bytes: DECISIONS "Beyond pygame") are compared by
giving pygame a stand-in of the same size and byte order and replacing the types in its answers
by ours (``Rewrite``); sizes of several digits, which nothing in pygame can stand in for, are
checked against numpy alone.
"""

import array
import ctypes
import gc
import math
import os
import random
import re
import struct
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import pytest
from hypothesis import event, given, note
from hypothesis import strategies as st

os.environ["PYGAME_HIDE_SUPPORT_PROMPT"] = "1"
pygame = pytest.importorskip("pygame", minversion="2.6.1")

from cstructs import PAI_NOTSWAPPED, Py_buffer, PyArrayInterface  # noqa: E402
from pygame.bufferproxy import BufferProxy as PgProxy  # noqa: E402

import bufferproxy  # noqa: E402
from bufferproxy import BufferProxy  # noqa: E402
from bufferproxy._testing import Exporter  # noqa: E402

ISIZE_MAX = 2**63 - 1

# --------------------------------------------------------------------------------------------
# ctypes access to the C level: Py_buffer requests and the PyArrayInterface in a capsule.

PYBUF_WRITABLE = 0x0001
PYBUF_FORMAT = 0x0004
PYBUF_ND = 0x0008
PYBUF_STRIDES = 0x0010 | PYBUF_ND
PYBUF_C_CONTIGUOUS = 0x0020 | PYBUF_STRIDES
PYBUF_F_CONTIGUOUS = 0x0040 | PYBUF_STRIDES
PYBUF_ANY_CONTIGUOUS = 0x0080 | PYBUF_STRIDES
PYBUF_INDIRECT = 0x0100 | PYBUF_STRIDES
PYBUF_FULL_RO = PYBUF_INDIRECT | PYBUF_FORMAT

# Every request shape that includes PyBUF_ND.  Without ND, pygame reports ndim 0 where CPython's
# exporters report 1, and DECISIONS follows CPython there ("Buffer-protocol requests honour every
# PEP 3118 flag ... the way CPython's own exporters do"), so those requests are not compared.
ND_FLAG_SETS = tuple(
    base | extra
    for base in (
        PYBUF_ND,
        PYBUF_STRIDES,
        PYBUF_C_CONTIGUOUS,
        PYBUF_F_CONTIGUOUS,
        PYBUF_ANY_CONTIGUOUS,
        PYBUF_INDIRECT,
    )
    for extra in (0, PYBUF_WRITABLE, PYBUF_FORMAT, PYBUF_WRITABLE | PYBUF_FORMAT)
)
# pygame dereferences a NULL format when an exporter parent is asked without PyBUF_FORMAT.
FORMAT_FLAG_SETS = tuple(flags for flags in ND_FLAG_SETS if flags & PYBUF_FORMAT)
WRITABLE_FORMAT_FLAG_SETS = tuple(flags for flags in FORMAT_FLAG_SETS if flags & PYBUF_WRITABLE)


def _capi(name, restype, *argtypes):
    # Private prototypes: do not touch the shared ctypes.pythonapi function objects.
    return ctypes.PYFUNCTYPE(restype, *argtypes)((name, ctypes.pythonapi))


_get_buffer = _capi(
    "PyObject_GetBuffer", ctypes.c_int, ctypes.py_object, ctypes.POINTER(Py_buffer), ctypes.c_int
)
_release_buffer = _capi("PyBuffer_Release", None, ctypes.POINTER(Py_buffer))
_capsule_pointer = _capi("PyCapsule_GetPointer", ctypes.c_void_p, ctypes.py_object, ctypes.c_char_p)
_capsule_name = _capi("PyCapsule_GetName", ctypes.c_char_p, ctypes.py_object)
_capsule_new = _capi(
    "PyCapsule_New", ctypes.py_object, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p
)
CAPSULE_NAME = b"bufferproxy.test.named"  # module constant: a capsule keeps only the pointer


def _ssize_array(pointer, n):
    if n == 0:
        return ()  # nothing to read: whether the pointer is NULL is not observable
    return None if not pointer else tuple(pointer[i] for i in range(n))


def buffer_info(obj, flags, ref=0):
    """PyObject_GetBuffer(obj, flags) as a comparable dict; buf relative to ``ref``."""
    view = Py_buffer()
    _get_buffer(obj, ctypes.byref(view), flags)
    try:
        return {
            "buf": (view.buf or 0) - ref,
            "len": view.len,
            "itemsize": view.itemsize,
            "readonly": view.readonly,
            "ndim": view.ndim,
            "format": view.format,
            "shape": _ssize_array(view.shape, view.ndim),
            "strides": _ssize_array(view.strides, view.ndim),
            "suboffsets": _ssize_array(view.suboffsets, view.ndim),
        }
    finally:
        _release_buffer(ctypes.byref(view))


def read_array_struct(capsule, ref):
    """The PyArrayInterface held by an ``__array_struct__`` capsule, data relative to ``ref``."""
    name = _capsule_name(capsule)
    inter = PyArrayInterface.from_address(_capsule_pointer(capsule, None))
    nd = inter.nd
    # pygame leaves the shape/strides pointers uninitialised for nd == 0: read nothing then.
    return {
        "capsule": type(capsule).__name__,
        "name": name,
        "two": inter.two,
        "nd": nd,
        "typekind": inter.typekind,
        "itemsize": inter.itemsize,
        "flags": inter.flags,
        "shape": _ssize_array(inter.shape, nd),
        "strides": _ssize_array(inter.strides, nd),
        "data": (inter.data or 0) - ref,
        "descr": inter.descr,
    }


# --------------------------------------------------------------------------------------------
# Outcomes and normalisation


def norm_exc(exc_type):
    # pygame raises its own pygame.BufferError, a subclass of the builtin BufferError; DECISIONS
    # (Validation order, Writing) names the builtin BufferError.
    return BufferError if exc_type is pygame.BufferError else exc_type


def attempt(fn):
    """("ok", value) or ("err", exception type): messages are never compared."""
    try:
        return ("ok", fn())
    except Exception as exc:
        return ("err", norm_exc(type(exc)))


def typed(value):
    """A structure that compares values together with their exact types."""
    if isinstance(value, dict):
        return {key: typed(item) for key, item in value.items()}
    if isinstance(value, tuple | list):
        return (type(value).__name__, *[typed(item) for item in value])
    return (type(value).__name__, value)


def norm_interface(interface, ref):
    """An array-interface dict with its data address made relative to ``ref``."""
    result = dict(interface)
    data = result.get("data")
    if isinstance(data, tuple) and len(data) == 2 and type(data[0]) is int:
        result["data"] = (data[0] - ref, data[1])
    return typed(result)


@contextmanager
def capture_unraisable():
    caught = []
    previous = sys.unraisablehook
    sys.unraisablehook = lambda info: caught.append(info.exc_type)
    try:
        yield caught
    finally:
        sys.unraisablehook = previous


def rand_bytes(seed, n):
    return random.Random(seed).randbytes(n)


# --------------------------------------------------------------------------------------------
# Layout arithmetic (mirrors CPython's PyBuffer_IsContiguous)


def c_strides(shape, itemsize):
    strides, step = [], itemsize
    for n in reversed(shape):
        strides.append(step)
        step *= n
    return tuple(reversed(strides))


def f_strides(shape, itemsize):
    strides, step = [], itemsize
    for n in shape:
        strides.append(step)
        step *= n
    return tuple(strides)


def extent(shape, strides, itemsize):
    """(lo, hi): the bytes a layout touches relative to its start address; None when empty."""
    if 0 in shape:
        return None
    lo = sum(min(0, (n - 1) * s) for n, s in zip(shape, strides, strict=True))
    hi = sum(max(0, (n - 1) * s) for n, s in zip(shape, strides, strict=True)) + itemsize
    return lo, hi


def is_c_contiguous(shape, strides, itemsize):
    if 0 in shape:
        return True
    step = itemsize
    for n, s in reversed(list(zip(shape, strides, strict=True))):
        if n > 1 and s != step:
            return False
        step *= n
    return True


def is_f_contiguous(shape, strides, itemsize):
    if 0 in shape:
        return True
    step = itemsize
    for n, s in zip(shape, strides, strict=True):
        if n > 1 and s != step:
            return False
        step *= n
    return True


def contiguous_layout(layout):
    shape, strides, itemsize = layout[:3]
    return is_c_contiguous(shape, strides, itemsize) or is_f_contiguous(shape, strides, itemsize)


def gather(memory, start, shape, strides, itemsize):
    """C-order bytes of a strided layout over ``memory`` (numpy as the independent reference)."""
    if 0 in shape:
        return b""
    view = np.ndarray(
        shape, dtype=np.dtype((np.void, itemsize)), buffer=memory, offset=start, strides=strides
    )
    return view.tobytes()


def cpython_accepts(flags, layout):
    """Whether a CPython exporter serves ``flags`` for ``(shape, strides, itemsize, readonly)``."""
    shape, strides, itemsize, readonly = layout
    c_contig = is_c_contiguous(shape, strides, itemsize)
    f_contig = is_f_contiguous(shape, strides, itemsize)
    if flags & PYBUF_WRITABLE and readonly:
        return False
    if flags & 0x80 and not (c_contig or f_contig):
        return False
    if flags & 0x20 and not c_contig:
        return False
    if flags & 0x40 and not f_contig:
        return False
    return bool(flags & 0x10) or c_contig


# --------------------------------------------------------------------------------------------
# Odd values for descriptions


class IntSub(int):
    """int subclass: counts as an int (DECISIONS: "bool and int subclasses count")."""


class TupleSub(tuple):
    __slots__ = ()


class StrSub(str):
    __slots__ = ()


class BytesSub(bytes):
    __slots__ = ()


class DictSub(dict):
    """A dict subclass is a description too (DECISIONS: "A dict (or dict subclass)")."""


class Truthy:
    def __bool__(self):
        return True


class Falsy:
    def __len__(self):
        return 0


class BoolError(Exception):
    pass


class RaisingBool:
    def __bool__(self):
        raise BoolError("no truth value")


class NonBoolBool:
    def __bool__(self):
        return 2  # TypeError from bool()


class CallbackError(Exception):
    pass


class Marker:
    """A parent object for dict descriptions."""

    def __init__(self, name):
        self.name = name


class InterfaceExporter:
    """Exports a description through ``__array_interface__`` only."""

    def __init__(self, description):
        self._description = description

    @property
    def __array_interface__(self):
        return self._description


class Arena:
    """Owned memory for raw-address descriptions."""

    def __init__(self, data):
        self.mem = (ctypes.c_char * max(len(data), 1))()
        ctypes.memmove(self.mem, data, len(data))
        self.base = ctypes.addressof(self.mem)

    def snapshot(self):
        return self.mem.raw


MISSING = object()

VALID_TYPESTRS = tuple(
    order + kind + size for order in "<>|" for kind in "iuV" for size in "123456789"
) + tuple(order + "f" + size for order in "<>|" for size in "48")


def typestr_itemsize(typestr):
    """Item size for a typestr pygame understands, else None."""
    if isinstance(typestr, str):
        if len(typestr) != 3 or not typestr.isascii():
            return None
        raw = typestr.encode("ascii")
    elif isinstance(typestr, bytes):
        if len(typestr) != 3:
            return None
        raw = bytes(typestr)
    else:
        return None
    order, kind, size = chr(raw[0]), chr(raw[1]), chr(raw[2])
    if order not in "<>|":
        return None
    if kind in "iuV" and size in "123456789":
        return int(size)
    if kind == "f" and size in "48":
        return int(size)
    return None


# --------------------------------------------------------------------------------------------
# Our item table (DECISIONS.md, "Types and formats"), written out independently of the Rust one.

NATIVE = "<" if sys.byteorder == "little" else ">"
SWAPPED = ">" if NATIVE == "<" else "<"
MAX_ITEMSIZE = 2**31 - 1
TABLE_CODES = {("b", 1): "?", ("i", 1): "b", ("u", 1): "B", ("i", 2): "h", ("u", 2): "H"}
TABLE_CODES |= {("i", 4): "i", ("u", 4): "I", ("i", 8): "q", ("u", 8): "Q", ("f", 2): "e"}
TABLE_CODES |= {("f", 4): "f", ("f", 8): "d", ("c", 8): "Zf", ("c", 16): "Zd"}
CODE_KINDS = {code: kind for (kind, _), code in TABLE_CODES.items()}
# pygame's native formats for dict descriptions and __array_struct__ parents, and ours:
# DECISIONS.md, "Types and formats": native single-character formats.
PYGAME_NATIVE_FORMATS = {"=" + code: code for code in "bBhHiIqQfd"}


@dataclass(frozen=True)
class Item:
    """One row of our item table."""

    kind: str
    size: int
    swapped: bool

    @property
    def fmt(self):
        """The format handed to consumers for a description or __array_struct__ parent."""
        if self.kind == "S":
            return f"{self.size}s"
        if self.kind == "V":
            return f"{self.size}x"
        return (SWAPPED if self.swapped else "") + TABLE_CODES[self.kind, self.size]

    @property
    def typestr(self):
        """The typestr reported back: numpy's spelling, void of several bytes as '<V3'."""
        swapped_order = SWAPPED if self.swapped else NATIVE
        order = "|" if self.size == 1 or self.kind in "bS" else swapped_order
        return f"{order}{self.kind}{self.size}"


def make_item(kind, size, swapped):
    if not 1 <= size <= MAX_ITEMSIZE:
        return None
    if kind == "V" or (kind in "iu" and size not in (1, 2, 4, 8)):
        kind = "V"
    elif not ((kind, size) in TABLE_CODES or kind == "S"):
        return None
    return Item(kind, size, swapped and size > 1 and kind in "iufc")


def our_typestr_item(typestr):
    """Our item for a typestr (str or bytes), None where we refuse it."""
    if isinstance(typestr, str):
        if not typestr.isascii():
            return None
        typestr = typestr.encode("ascii")
    if not isinstance(typestr, bytes) or len(typestr) < 3:
        return None
    order, kind, digits = chr(typestr[0]), chr(typestr[1]), typestr[2:]
    if order not in "<>|" or not digits.isdigit() or digits[:1] == b"0":
        return None
    return make_item(kind, int(digits), order == SWAPPED)


def our_format_item(fmt):
    """Our item for an exporter's format (any count before s and x), None where refused."""
    prefix = fmt[:1] if fmt[:1] in ("@", "=", "<", ">", "!") else ""
    match = re.fullmatch(r"([1-9][0-9]*)?(Zf|Zd|[?bBhHiIlLqQefdsx])", fmt[len(prefix) :])
    if match is None:
        return None
    count, code = match.group(1), match.group(2)
    if count is not None and int(count) != 1 and code not in "sx":
        return None
    if code in "sx":
        kind, size = ("S" if code == "s" else "V"), int(count or 1)
    elif code in "lL":
        kind, size = ("i" if code == "l" else "u"), struct.calcsize(prefix + code)
    else:
        kind = CODE_KINDS[code]
        size = next(n for (k, n), c in TABLE_CODES.items() if c == code)
    swapped = (prefix == "<" and NATIVE != "<") or (prefix in (">", "!") and NATIVE != ">")
    return make_item(kind, size, swapped)


def numpy_dtype_of_format(fmt, itemsize):
    """(dtype.str, dtype.descr) numpy gives a buffer export with this format."""
    dtype = np.asarray(Exporter((0,), fmt, itemsize=itemsize)).dtype
    return dtype.str, dtype.descr


def pygame_stand_in(item):
    """A typestr pygame accepts with the same item size and byte-swapping as ``item``.

    DECISIONS.md, "Types and formats" ("Beyond pygame: every numeric type numpy can share"):
    pygame refuses bool, float16, complex and bytes items; the pygame side of a comparison gets
    this stand-in instead, and its reported types are then replaced by ours (``Rewrite``).
    """
    if item.swapped:
        return f"{SWAPPED}u{item.size}"
    return f"|V{item.size}"


@dataclass(frozen=True)
class Rewrite:
    """Our item type where pygame's answer names another (a stand-in, or a rule of ours).

    ``fmt`` is the format consumers get (None: keep pygame's); ``dtype`` numpy's reading of it.
    """

    item: Item
    fmt: str | None
    dtype: tuple | None


def native_format(fmt):
    """DECISIONS.md, "Types and formats": native single-character formats -- pygame's '=h'
    (and '=b', '=B', '=H', '=i', '=I', '=q', '=Q', '=f', '=d') is our 'h' for a description or
    an __array_struct__ parent; nothing else changes."""
    if isinstance(fmt, bytes):
        return PYGAME_NATIVE_FORMATS.get(fmt.decode(), fmt.decode()).encode()
    return PYGAME_NATIVE_FORMATS.get(fmt, fmt)


def expect_ours(op_name, outcome, rewrite, derived):
    """pygame's outcome of one op with our documented rules applied (see above): ``derived``
    for formats made from a typestr or typekind, ``rewrite`` for our item types."""
    if op_name == "flags":
        return tuple(expect_ours("flag", each, rewrite, derived) for each in outcome)
    if not isinstance(outcome, tuple) or outcome[0] != "ok":
        return outcome
    value = outcome[1]
    if op_name in ("mv", "mv_open"):
        fmt = value[0]
        if rewrite is not None and rewrite.fmt is not None:
            fmt = rewrite.fmt
        elif derived:
            fmt = native_format(fmt)
        return ("ok", (fmt, *value[1:]))
    if op_name == "flag":
        fmt = value["format"]
        if fmt is not None:
            if rewrite is not None and rewrite.fmt is not None:
                fmt = rewrite.fmt.encode()
            elif derived:
                fmt = native_format(fmt)
        return ("ok", {**value, "format": fmt})
    if rewrite is None:
        return outcome
    if op_name in ("ai", "gai", "gai_parent"):
        return ("ok", {**value, "typestr": ("str", rewrite.item.typestr)})
    if op_name == "as":
        flags = value["flags"] & ~PAI_NOTSWAPPED
        if not rewrite.item.swapped:
            flags |= PAI_NOTSWAPPED
        return ("ok", {**value, "typekind": rewrite.item.kind.encode(), "flags": flags})
    if op_name == "np" and rewrite.dtype is not None and value[0] != "object":
        return ("ok", (*rewrite.dtype, *value[2:]))
    return outcome


# Typestrs of the new rows pygame refuses (item sizes pygame can stand in for: 1-9 bytes);
# several-digit sizes are checked against numpy in test_several_digit_item_sizes_follow_our_rule.
NEW_TYPESTRS = ("|b1", "<b1", ">b1", "<f2", ">f2", "|f2", "<c8", ">c8", "|c8", "|S1", "|S3")
NEW_TYPESTRS += ("<S4", ">S9")
SEVERAL_DIGIT_TYPESTRS = ("<c16", ">c16", "|c16", "|S10", "|S16", "|V10", "<V16", "<i16")
SEVERAL_DIGIT_TYPESTRS += (">u12", "|V123")


def typestrs(clean):
    valid = st.one_of(st.sampled_from(VALID_TYPESTRS), st.sampled_from(NEW_TYPESTRS))
    assembled = st.builds(
        lambda order, kind, size: order + kind + size,
        st.sampled_from("<>|=!@ x"),
        st.sampled_from("iufVbcSUOMmB?x"),
        st.sampled_from("0123456789a"),
    )
    odd = st.sampled_from(
        (
            *("", "<u", "<u04", "<u4 ", "<u\u00e9", "\u00e9u4", "|V\u0661", "<u\x00", b"\xff<u"),
            *("|S0", "<f3", "|b2", "<c4", "|O8", "<M8", "<m8", "<U2", "<u4x"),
            *(b"<\x00u", b"<u", b"<u4\x00", 4, None, ["<", "u", "4"], bytearray(b"<u4"), ("<u4",)),
        )
    )
    bytes_valid = valid.map(str.encode)
    subclassed = st.one_of(valid.map(StrSub), valid.map(lambda s: BytesSub(s.encode())))
    if clean:
        return st.one_of(valid, valid, valid, valid, bytes_valid, subclassed)
    return st.one_of(valid, valid, valid, valid, assembled, bytes_valid, subclassed, odd)


SHAPE_CONTAINERS = ("tuple",) * 12 + ("tuplesub", "list", "missing", "empty", "int", "none", "str")
ITEM_MODES = ("plain",) * 6 + ("subtypes", "invalid")
STRIDE_MODES = ("absent",) * 6 + ("explicit",) * 6 + ("list", "none", "mismatch", "invalid", "str")
STRIDE_STYLES = ("c", "f", "perm", "neg", "zero", "pad", "random")
DATA_CONTAINERS = ("tuple",) * 12 + ("tuplesub", "list", "short", "long", "missing", "none", "int")
DATA_CONTAINERS += ("str",)
READONLY_VALUES = (False, True) * 3 + (0, 1, 2, None, "", "x", (), (0,), np.True_, np.False_)
READONLY_VALUES += (Truthy(), Falsy(), RaisingBool(), NonBoolBool(), 0.0, 1.0)
FOREIGN_ADDRESSES = (0, 1, 2**64 - 1, -1, -(2**63), 2**63, 2**64, -(2**63) - 1, 2**100)
FOREIGN_ADDRESSES += (False, True, IntSub(8))
BAD_ADDRESSES = (1.0, "0", None, b"\x00", np.uint64(8), (0,))


def _none(_value):
    return None


INVALID_ITEM_MAKERS = (float, str, np.int64, _none)


def wrap_items(draw, values, mode):
    if mode == "plain":
        return list(values)
    if mode == "subtypes":
        out = []
        for value in values:
            kind = draw(st.sampled_from(("int", "intsub", "bool")))
            if kind == "intsub":
                out.append(IntSub(value))
            elif kind == "bool" and value in (0, 1):
                out.append(bool(value))
            else:
                out.append(value)
        return out
    out = list(values)
    if out:
        index = draw(st.integers(0, len(out) - 1))
        out[index] = draw(st.sampled_from(INVALID_ITEM_MAKERS))(out[index])
    return out


def contain(kind, items):
    if kind == "tuple":
        return tuple(items)
    if kind == "tuplesub":
        return TupleSub(items)
    if kind == "list":
        return list(items)
    if kind == "empty":
        return ()
    if kind == "int":
        return 3
    if kind == "none":
        return None
    if kind == "str":
        return str(tuple(items))
    return MISSING


def explicit_strides(draw, dims, itemsize):
    style = draw(st.sampled_from(STRIDE_STYLES))
    nd = len(dims)
    if style == "c":
        return c_strides(dims, itemsize)
    if style == "f":
        return f_strides(dims, itemsize)
    if style == "perm":
        order = draw(st.permutations(range(nd)))
        strides, step = [0] * nd, itemsize
        for axis in reversed(order):
            strides[axis] = step
            step *= dims[axis]
        return tuple(strides)
    if style == "pad":
        return c_strides(dims, itemsize * draw(st.integers(2, 3)))
    if style == "random":
        bound = 4 * itemsize + 3
        return tuple(draw(st.lists(st.integers(-bound, bound), min_size=nd, max_size=nd)))
    picks = draw(st.lists(st.booleans(), min_size=nd, max_size=nd))
    base = c_strides(dims, itemsize)
    if style == "neg":
        return tuple(-s if pick else s for s, pick in zip(base, picks, strict=True))
    return tuple(0 if pick else s for s, pick in zip(base, picks, strict=True))  # "zero"


# --------------------------------------------------------------------------------------------
# Scripted operations

PAYLOAD_KINDS = ("bytes",) * 4 + ("str", "str_bad", "bytearray", "mv_bytes", "mv_bytearray")
PAYLOAD_KINDS += ("np_u1", "np_u2", "np_strided", "list", "int", "none")
OFFSET_KINDS = ("default",) * 2 + ("int",) * 4 + ("intsub", "bool", "npint", "float", "str")
OFFSET_KINDS += ("huge", "neg_huge")
READ_OPS = ("length", "raw", "ai", "as", "gai", "repr", "parent", "mv", "mv_open", "mv_close")


def write_ops(length):
    return st.tuples(
        st.just("write"),
        st.sampled_from(PAYLOAD_KINDS),
        st.binary(max_size=length + 2),
        st.sampled_from(OFFSET_KINDS),
        st.integers(-1, length + 1),
        st.booleans(),
    )


def script(length, extra_ops=()):
    simple = st.sampled_from((*READ_OPS, "np", "flags", *extra_ops)).map(lambda name: (name,))
    return st.lists(st.one_of(simple, simple, write_ops(length)), max_size=9)


def make_payload(kind, payload, for_pygame):
    if kind == "bytes":
        return bytes(payload)
    if kind == "str":
        return payload.decode("latin-1")
    if kind == "str_bad":
        return payload.decode("latin-1") + "\ud800"
    if kind in ("bytearray", "mv_bytes", "mv_bytearray"):
        if for_pygame:
            # DECISIONS (Writing: "any other C-contiguous bytes-like object ... pygame refuses
            # these"): pygame gets the equal bytes, so both sides must then behave the same.
            return bytes(payload)
        if kind == "bytearray":
            return bytearray(payload)
        if kind == "mv_bytes":
            return memoryview(bytes(payload))
        return memoryview(bytearray(payload))
    if kind == "np_u1":
        return np.frombuffer(bytes(payload), dtype=np.uint8)
    if kind == "np_u2":
        return np.frombuffer(bytes(payload[: len(payload) // 2 * 2]), dtype="<u2")
    if kind == "np_strided":
        return np.frombuffer(bytes(payload) + b"xyz", dtype=np.uint8)[::2]
    if kind == "list":
        return list(payload)
    if kind == "int":
        return len(payload)
    return None


def payload_nbytes(kind, payload):
    """Bytes a payload writes when it is accepted (None when it is not bytes-like)."""
    if kind in ("bytes", "bytearray", "mv_bytes", "mv_bytearray", "np_u1"):
        return len(payload)
    if kind == "np_u2":
        return len(payload) // 2 * 2
    if kind == "str":
        return len(payload.decode("latin-1").encode("utf-8"))
    return None


def make_offset(kind, value):
    if kind == "int":
        return value
    if kind == "intsub":
        return IntSub(value)
    if kind == "bool":
        return bool(value > 0)
    if kind == "npint":
        return np.int64(value)
    if kind == "float":
        return float(value)
    if kind == "str":
        return str(value)
    if kind == "huge":
        return 2**63
    return -(2**63) - 1  # "neg_huge"


def effective_offset(kind, value):
    if kind == "default":
        return 0
    if kind in ("int", "intsub", "npint"):
        return value
    if kind == "bool":
        return int(value > 0)
    return None


def do_write(side, op):
    _, payload_kind, payload, offset_kind, offset_value, keywords = op
    buffer = make_payload(payload_kind, payload, side.is_pg)
    if offset_kind == "default":
        if keywords:
            return side.proxy.write(buffer=buffer)
        return side.proxy.write(buffer)
    offset = make_offset(offset_kind, offset_value)
    if keywords:
        return side.proxy.write(buffer=buffer, offset=offset)
    return side.proxy.write(buffer, offset)


def view_record(side, keep):
    view = memoryview(side.proxy)
    try:
        return (
            view.format,
            view.itemsize,
            view.ndim,
            view.shape,
            view.strides,
            view.suboffsets,
            view.readonly,
            view.nbytes,
            view.c_contiguous,
            view.f_contiguous,
            view.contiguous,
            view.tobytes(),
            buffer_info(view, PYBUF_FULL_RO, side.ref)["buf"],
        )
    finally:
        if keep:
            side.views.append(view)
        else:
            view.release()


def numpy_record(proxy, ref):
    arr = np.asarray(proxy)
    if arr.dtype.hasobject:
        # numpy fell back to wrapping the proxy object itself.
        return ("object", arr.shape)
    address = arr.__array_interface__["data"][0] - ref if arr.size else None
    raw = arr
    if arr.dtype.fields is not None:
        # numpy copies only the fields of a structured dtype (none for pad-byte formats such as
        # '3x'), leaving the rest of tobytes() uninitialised: read the items as plain bytes.
        raw = arr.view(np.dtype((np.void, arr.dtype.itemsize)))
    return (
        arr.dtype.str,
        arr.dtype.descr,
        arr.shape,
        arr.strides,
        arr.flags.writeable,
        address,
        raw.tobytes(),
    )


def close_view(side):
    if not side.views:
        return "none"
    side.views.pop().release()
    return "closed"


def do_op(side, op):
    proxy = side.proxy
    name = op[0]
    if name == "length":
        return attempt(lambda: typed(proxy.length))
    if name == "raw":
        return attempt(lambda: typed(proxy.raw))
    if name == "repr":
        return attempt(lambda: typed(repr(proxy)))
    if name == "parent":
        return attempt(lambda: side.token(proxy.parent))
    if name == "ai":
        return attempt(lambda: norm_interface(proxy.__array_interface__, side.ref))
    if name == "gai":
        return attempt(lambda: norm_interface(side.get_array_interface(proxy), side.ref))
    if name == "gai_parent":
        return attempt(lambda: norm_interface(side.get_array_interface(side.parent), side.ref))
    if name == "as":
        return attempt(lambda: read_array_struct(proxy.__array_struct__, side.ref))
    if name == "mv":
        return attempt(lambda: view_record(side, keep=False))
    if name == "mv_open":
        return attempt(lambda: view_record(side, keep=True))
    if name == "mv_close":
        return attempt(lambda: close_view(side))
    if name == "np":
        return attempt(lambda: numpy_record(proxy, side.ref))
    if name == "flags":
        return tuple(
            attempt(lambda flags=flags: buffer_info(proxy, flags, side.ref))
            for flags in side.flag_sets
        )
    if name == "write":
        return attempt(lambda: typed(do_write(side, op)))
    if name == "skip":
        return ("skipped",)
    raise AssertionError(f"unknown op {op!r}")


@dataclass
class Record:
    label: str
    outcome: object
    log: tuple
    memory: bytes


class Side:
    """One implementation's view of a case: its proxy class, owned memory and callback log."""

    flag_sets = ND_FLAG_SETS

    def __init__(self, impl, subclass):
        self.impl = impl
        self.is_pg = impl == "pygame"
        cls = PgProxy if self.is_pg else BufferProxy
        self.cls = type("SubProxy", (cls,), {}) if subclass else cls
        self.get_array_interface = (
            pygame.get_array_interface if self.is_pg else bufferproxy.get_array_interface
        )
        self.log = []
        self.views = []
        self.proxy = None
        self.container = None
        self.parent = None
        self.ref = 0

    def token(self, obj):
        if obj is None:
            return "None"
        if obj is self.parent:
            return "parent"
        if obj is self.container:
            return "container"
        return ("other", type(obj).__name__)

    def memory(self):
        raise NotImplementedError


def collect():
    gc.collect()


def run_script(side, ops, n_close_first):
    """Construct, run ``ops``, then drop the proxy; records with per-step callback deltas."""
    records = []

    def step(label, fn):
        mark = len(side.log)
        outcome = fn()
        records.append(Record(label, outcome, tuple(side.log[mark:]), side.memory()))

    with capture_unraisable() as caught:
        built = attempt(lambda: side.cls(side.container))
        side.proxy = built[1] if built[0] == "ok" else None
        step("construct", lambda: built if built[0] == "err" else ("ok",))
        built = None
        if side.proxy is not None:
            for op in ops:
                step(op[0], lambda op=op: do_op(side, op))
        for _ in range(n_close_first):
            step("close", lambda: close_view(side))
        side.proxy = None
        step("del", lambda: None)
        while side.views:
            step("close", lambda: close_view(side))
        step("gc", collect)
    return records, caught


def assert_same(label, ours, theirs, what):
    assert ours == theirs, f"{label}: {what} differ\n  ours:   {ours!r}\n  pygame: {theirs!r}"


# --------------------------------------------------------------------------------------------
# Dict descriptions over raw addresses


@dataclass
class DictCase:
    entries: dict
    data: object  # MISSING or (container, address kind, address value, readonly)
    container: str
    subclass: bool
    memory: bytes
    relative: bool
    parent_mode: str
    before_mode: str
    before_failures: int
    after_mode: str
    layout: tuple | None  # (shape, strides, itemsize, start, readonly) when the model says valid
    ops: list = field(default_factory=list)
    n_close_first: int = 0
    pg_typestr: object = None  # the typestr pygame gets instead (see pygame_stand_in)
    rewrite: Rewrite | None = None
    at_null: bool = False  # a valid, non-empty layout at address 0

    @property
    def pg_ops(self):
        """The script pygame runs.  DECISIONS.md ("Validation pygame does not do": NULL
        address): at NULL we refuse whatever reads, writes or exports the bytes, before any
        callback (also before the first use); pygame would read NULL, so it does nothing
        instead."""
        if not self.at_null:
            return self.ops
        stand_ins = {"raw": ("skip",), "write": ("skip",), "flags": ("skip",)}
        stand_ins |= {"mv": ("skip",), "mv_open": ("skip",)}
        return [stand_ins.get(op[0], op) for op in self.ops]


def realise_data(spec, base):
    container, address_kind, address_value, readonly = spec
    if address_kind == "rel":
        address = base + address_value
    elif address_kind == "rel_intsub":
        address = IntSub(base + address_value)
    else:
        address = address_value
    pair = (address, readonly)
    if container == "tuple":
        return pair
    if container == "tuplesub":
        return TupleSub(pair)
    if container == "list":
        return list(pair)
    if container == "short":
        return (address,)
    if container == "long":
        return (address, readonly, 0)
    if container == "int":
        return 7
    if container == "str":
        return "data"
    return None  # "none"


class DictSide(Side):
    def __init__(self, case, impl):
        super().__init__(impl, case.subclass)
        self.arena = Arena(case.memory)
        self.ref = self.arena.base if case.relative else 0
        self.parent = Marker(impl)
        self.before_calls = 0
        description = dict(case.entries)
        if self.is_pg and case.pg_typestr is not None:
            description["typestr"] = case.pg_typestr
        if case.data is not MISSING:
            description["data"] = realise_data(case.data, self.arena.base)
        if case.parent_mode == "marker":
            description["parent"] = self.parent
        elif case.parent_mode == "none":
            description["parent"] = None
        callbacks = {"noncallable": 5, "none": None}
        if case.before_mode in callbacks:
            description["before"] = callbacks[case.before_mode]
        elif case.before_mode != "absent":
            description["before"] = self._before(case)
        if case.after_mode in callbacks:
            description["after"] = callbacks[case.after_mode]
        elif case.after_mode != "absent":
            description["after"] = self._after(case)
        self.description = DictSub(description) if case.container == "dictsub" else description
        if case.container == "iface":
            self.container = InterfaceExporter(self.description)
        else:
            self.container = self.description

    def _before(self, case):
        def before(arg):
            self.before_calls += 1
            self.log.append(("before", self.token(arg)))
            if case.before_mode == "raise" and self.before_calls <= case.before_failures:
                raise CallbackError("before")

        return before

    def _after(self, case):
        def after(arg):
            self.log.append(("after", self.token(arg)))
            if case.after_mode == "raise":
                raise CallbackError("after")

        return after

    def memory(self):
        return self.arena.snapshot()


@st.composite
def dict_cases(draw):
    # Half of the cases only vary the values of a well-formed description; the other half also
    # break its structure (missing keys, wrong types, ...).
    clean = draw(st.booleans())

    def choose(well_formed, anything):
        return draw(st.sampled_from(well_formed if clean else anything))

    typestr = draw(typestrs(clean))
    item = our_typestr_item(typestr)
    itemsize = item.size if item is not None else None
    pg_typestr = rewrite = None
    if item is not None and typestr_itemsize(typestr) is None:
        # DECISIONS.md, "Types and formats" ("Beyond pygame"): we accept, pygame refuses.
        stand_in = pygame_stand_in(item)
        pg_typestr = stand_in.encode() if isinstance(typestr, bytes) else stand_in
        rewrite = Rewrite(item, item.fmt, numpy_dtype_of_format(item.fmt, item.size))
    else:
        assert typestr_itemsize(typestr) == itemsize
    if item is None and isinstance(typestr, str | bytes) and len(typestr) > 3:
        # DECISIONS.md, "Types and formats" (sizes may have several digits): a typestr is
        # checked early only for being at least 3 characters, so a longer one we refuse is
        # refused at the typestr's place in the validation order (after a writable request on
        # read-only data), where pygame refuses any length but 3 first.  pygame gets a 3-char
        # typestr it refuses at that place.
        pg_typestr = {bytes: b"<u0", str: "<u0" if typestr.isascii() else "<u\u00e9"}[
            bytes if isinstance(typestr, bytes) else str
        ]
    sizing_itemsize = itemsize or 9  # never less than any item size pygame accepts

    ndim = draw(st.integers(1, 4))
    dims = draw(st.lists(st.sampled_from((1, 1, 2, 2, 3, 3, 4, 0)), min_size=ndim, max_size=ndim))
    if 0 in dims and any(dims) and draw(st.integers(0, 4)) == 0:
        # A huge dimension beside a zero one: length 0, nothing touched.
        index = next(i for i, n in enumerate(dims) if n)
        dims[index] = draw(st.sampled_from((2**16, 2**31 - 1, 2**32 + 1)))
    dims = tuple(dims)
    zero_size = 0 in dims

    entries = {}
    shape_container = choose(("tuple",) * 4 + ("tuplesub",), SHAPE_CONTAINERS)
    shape_mode = choose(("plain",) * 3 + ("subtypes",), ITEM_MODES)
    shape = contain(shape_container, wrap_items(draw, dims, shape_mode))
    if shape is not MISSING:
        entries["shape"] = shape
    shape_ok = shape_container in ("tuple", "tuplesub") and shape_mode != "invalid"

    if clean or draw(st.integers(0, 15)):
        entries["typestr"] = typestr
    else:
        itemsize = None

    strides_mode = choose(("absent", "explicit"), STRIDE_MODES)
    strides = None
    if strides_mode == "explicit":
        strides = explicit_strides(draw, dims, itemsize or 1)
        entries["strides"] = contain(
            draw(st.sampled_from(("tuple",) * 4 + ("tuplesub",))),
            wrap_items(draw, strides, draw(st.sampled_from(("plain", "plain", "subtypes")))),
        )
    elif strides_mode == "list":
        entries["strides"] = list(c_strides(dims, itemsize or 1))
    elif strides_mode == "none":
        entries["strides"] = None
    elif strides_mode == "mismatch":
        other = (*dims, 1) if draw(st.booleans()) or ndim == 1 else dims[1:]
        entries["strides"] = c_strides(other, itemsize or 1)
    elif strides_mode == "invalid":
        entries["strides"] = tuple(wrap_items(draw, c_strides(dims, itemsize or 1), "invalid"))
    elif strides_mode == "str":
        entries["strides"] = "(1,)"

    # Owned arena covering the layout (with the largest possible item size when unsure).
    sizing_strides = strides if strides is not None else c_strides(dims, sizing_itemsize)
    span = extent(dims, sizing_strides, sizing_itemsize)
    lo, hi = span or (0, 0)
    start = -lo + draw(st.integers(0, 8))
    memory_size = start + hi + draw(st.integers(0, 8))
    memory = rand_bytes(draw(st.integers(0, 2**32)), memory_size)

    data_container = choose(("tuple",) * 4 + ("tuplesub",), DATA_CONTAINERS)
    address_kinds = ("rel",) * 6 + ("rel_intsub",) + (() if clean else ("bad",))
    if zero_size:
        address_kinds += ("foreign", "foreign", "foreign")  # nothing is read at these
    elif lo == 0:
        # DECISIONS.md, "Validation pygame does not do": a NULL address is accepted, as pygame
        # accepts it (an extent reaching below it would wrap: not generated).
        address_kinds += ("null",)
    address_kind = draw(st.sampled_from(address_kinds))
    if address_kind == "null":
        address_value = draw(st.sampled_from((0, False, IntSub(0))))
    elif address_kind == "foreign":
        address_value = draw(st.sampled_from(FOREIGN_ADDRESSES))
    elif address_kind == "bad":
        address_value = draw(st.sampled_from(BAD_ADDRESSES))
    else:
        address_value = start
    readonly = choose(READONLY_VALUES[:-4] + READONLY_VALUES[-2:], READONLY_VALUES)
    data = MISSING
    if data_container != "missing":
        data = (data_container, address_kind, address_value, readonly)

    try:
        readonly_flag = bool(readonly)
    except Exception:
        readonly_flag = None
    address_ok = address_kind in ("rel", "rel_intsub", "null") or (
        address_kind == "foreign" and -(2**63) <= address_value <= 2**64 - 1
    )
    valid = (
        shape_ok
        and itemsize is not None
        and data_container in ("tuple", "tuplesub")
        and address_ok
        and strides_mode in ("absent", "explicit")
        and readonly_flag is not None
    )
    layout = None
    if valid:
        layout = (
            dims,
            strides if strides is not None else c_strides(dims, itemsize),
            itemsize,
            start,
            readonly_flag,
        )

    entries.update(
        draw(st.sampled_from(({}, {}, {}, {"version": 3}, {"descr": [("", "<u1")]}, {"mask": 0})))
    )
    if "typestr" not in entries:
        pg_typestr = rewrite = None
    at_null = valid and address_kind == "null"
    length = itemsize * math.prod(dims) if valid else 6
    ops = draw(script(min(length, 64)))
    if at_null:
        # numpy would read pygame's export of NULL; ours is refused and numpy falls back to
        # __array_struct__, whose NULL data it replaces by memory of its own.
        ops = [op for op in ops if op[0] != "np"]
    if valid and not (
        is_c_contiguous(dims, layout[1], itemsize) or is_f_contiguous(dims, layout[1], itemsize)
    ):
        # Checked separately (see check_raw_gathers): pygame's failing `raw` also releases its
        # held view, which would shift every later before/after call.
        ops = [op for op in ops if op[0] != "raw"]
    return DictCase(
        entries=entries,
        data=data,
        container=draw(st.sampled_from(("dict",) * 4 + ("dictsub", "iface"))),
        subclass=draw(st.integers(0, 4)) == 0,
        memory=memory,
        relative=address_kind.startswith("rel"),
        parent_mode=draw(st.sampled_from(("absent", "marker", "marker", "none"))),
        before_mode=draw(
            st.sampled_from(("absent", "log", "log", "log", "raise", "noncallable", "none"))
        ),
        before_failures=draw(st.integers(1, 2)),
        after_mode=draw(
            st.sampled_from(("absent", "log", "log", "log", "raise", "noncallable", "none"))
        ),
        layout=layout,
        ops=ops,
        n_close_first=draw(st.integers(0, 3)),
        pg_typestr=pg_typestr,
        rewrite=rewrite,
        at_null=at_null,
    )


def write_index_rule(layout, op, ours, theirs):
    """DECISIONS (Writing: "offset < 0, offset >= length, or offset + len(buffer) > length:
    IndexError"): an empty write at offset == length succeeds in pygame, raises IndexError here.
    """
    if layout is None or ours != ("err", IndexError) or theirs[0] != "ok":
        return False
    _, payload_kind, payload, offset_kind, offset_value, _ = op
    shape, _, itemsize, _, _ = layout
    offset = effective_offset(offset_kind, offset_value)
    return (
        payload_nbytes(payload_kind, payload) == 0
        and offset is not None
        and offset >= itemsize * math.prod(shape)
    )


def write_type_rule(op, ours, theirs):
    """DECISIONS (Writing: "any other C-contiguous bytes-like object ... Anything else:
    TypeError"): a non-contiguous numpy array is refused with TypeError; pygame lets numpy's
    ValueError escape from its argument parser.
    """
    if op[1] != "np_strided" or ours != ("err", TypeError):
        return False
    payload = make_payload(op[1], op[2], for_pygame=False)
    return not payload.flags.c_contiguous and theirs == ("err", ValueError)


ARGUMENT_ERRORS = (TypeError, OverflowError, UnicodeEncodeError)


def null_write_expectation(op, readonly):
    """DECISIONS.md: write() argument errors come first ("Writing"); then read-only data is a
    BufferError; then a non-empty layout at NULL is a ValueError ("Validation pygame does not
    do"), before any callback.  The set of acceptable outcomes."""
    _, payload_kind, _, offset_kind, _, _ = op
    errors = set()
    if payload_kind in ("list", "int", "none", "np_strided"):
        errors.add(TypeError)
    elif payload_kind == "str_bad":
        errors.add(UnicodeEncodeError)
    if offset_kind in ("float", "str"):
        errors.add(TypeError)
    elif offset_kind in ("huge", "neg_huge"):
        errors.add(OverflowError)
    if errors:
        return {("err", error) for error in errors}
    return {("err", BufferError if readonly else ValueError)}


def null_expectation(case, op, ours, theirs):
    """Our outcome of an op pygame did not run at NULL."""
    name = op[0]
    assert theirs == ("skipped",)
    if name == "raw":
        return ("err", ValueError)
    if name in ("mv", "mv_open"):
        return ("err", BufferError)
    if name == "flags":
        return tuple(("err", BufferError) for _ in ND_FLAG_SETS)
    if name == "write":
        allowed = null_write_expectation(op, case.layout[4])
        return ours if ours in allowed else sorted(allowed, key=repr)[0]
    return None


def compare_dict_records(case, ours, theirs):
    labels = ["construct", *[op[0] for op in case.ops]]
    assert len(ours) == len(theirs)
    for index, (mine, ref) in enumerate(zip(ours, theirs, strict=True)):
        label = f"step {index} ({mine.label})"
        op = case.ops[index - 1] if 0 < index < len(labels) else None
        if op is not None and case.at_null and case.pg_ops[index - 1] != op:
            expected = null_expectation(case, op, mine.outcome, ref.outcome)
            assert_same(label, mine.outcome, expected, "outcomes (NULL address, our rule)")
            assert_same(label, mine.log, ref.log, "before/after calls")
            assert_same(label, mine.memory, ref.memory, "memory")
            continue
        if op is not None:
            # DECISIONS.md, "Types and formats": native single-character formats, and our
            # item types where pygame got a stand-in.
            ref = Record(
                ref.label,
                expect_ours(op[0], ref.outcome, case.rewrite, derived=True),
                ref.log,
                ref.memory,
            )
        if op is not None and op[0] == "write":
            if write_index_rule(case.layout, op, mine.outcome, ref.outcome):
                assert_same(label, mine.memory, ref.memory, "memory")
                continue  # whether the refused write exported first is not specified
            if write_type_rule(op, mine.outcome, ref.outcome):
                assert_same(label, mine.log, ref.log, "callbacks")
                assert_same(label, mine.memory, ref.memory, "memory")
                continue
        assert_same(label, mine.outcome, ref.outcome, "outcomes")
        assert_same(label, mine.log, ref.log, "before/after calls")
        assert_same(label, mine.memory, ref.memory, "memory")


def check_unraisable(case, side, caught):
    """DECISIONS (Construction: "An exception raised by after (including a non-callable after)
    is reported through sys.unraisablehook, never swallowed silently"); pygame clears it.
    """
    if case.container == "iface":
        assert caught == [], "callbacks of an __array_interface__ dict must not run"
        return
    if case.after_mode == "raise":
        calls = sum(1 for entry in side.log if entry[0] == "after")
        assert caught == [CallbackError] * calls
        return
    if case.after_mode in ("noncallable", "none"):
        assert set(caught) <= {TypeError}
        befores = sum(1 for entry in side.log if entry[0] == "before")
        if case.before_mode == "log":
            assert len(caught) == befores
        elif case.before_mode == "raise":
            assert len(caught) == max(0, befores - case.before_failures)
        elif case.before_mode in ("noncallable", "none"):
            assert caught == []
        return
    assert caught == []


def check_raw_gathers(case, ours, pg):
    """DECISIONS (Reading: "Non-contiguous data is gathered in C (row-major) order with the gaps
    removed -- ... pygame 2.6.1 raises ValueError here instead, and we deliberately differ").
    """
    shape, strides, itemsize, start, _ = case.layout
    if is_c_contiguous(shape, strides, itemsize) or is_f_contiguous(shape, strides, itemsize):
        return
    plain = {k: v for k, v in ours.description.items() if k not in ("before", "after")}
    pg_plain = {k: v for k, v in pg.description.items() if k not in ("before", "after")}
    expected = gather(ours.memory(), start, shape, strides, itemsize)
    assert attempt(lambda: BufferProxy(plain).raw) == ("ok", expected)
    assert attempt(lambda: PgProxy(pg_plain).raw) == ("err", ValueError)


@given(case=dict_cases())
def test_dict_description_matches_pygame(case):
    """Valid and invalid dict descriptions behave as pygame's, op by op, callback by callback."""
    note(repr(case))
    event("NULL address" if case.at_null else "other address")
    event(f"our item type: {case.rewrite.item.typestr}" if case.rewrite else "pygame's item type")
    ours = DictSide(case, "ours")
    pg = DictSide(case, "pygame")
    ours_records, ours_caught = run_script(ours, case.ops, case.n_close_first)
    pg_records, _ = run_script(pg, case.pg_ops, case.n_close_first)
    compare_dict_records(case, ours_records, pg_records)
    check_unraisable(case, ours, ours_caught)
    if case.layout is not None and not case.at_null:
        check_raw_gathers(case, ours, pg)


# --------------------------------------------------------------------------------------------
# Exporter parents


@dataclass
class Holder:
    """A parent object built for one side, with what the comparisons need to know about it."""

    parent: object
    ref: int
    memory: object  # () -> bytes: all the memory the parent may touch
    c_bytes: object = None  # () -> bytes: its items in C order (None if not an exporter)
    buffer_obj: object = None  # object whose FULL_RO export describes the layout
    keep: tuple = ()


def _buffer_address(obj):
    return buffer_info(obj, PYBUF_FULL_RO)["buf"]


def struct_itemsize(fmt):
    try:
        return struct.calcsize(fmt)
    except struct.error:
        return 1


KIND_OF_CODE = {code: "i" for code in "bhilq"} | {code: "u" for code in "BHILQ"}
KIND_OF_CODE |= {"f": "f", "d": "f", "x": "V"}


def count_one_kind(fmt):
    """The real kind of a format with an explicit item count of 1 ('=1h'), else None."""
    body = fmt[1:] if fmt[:1] in ("@", "=", "<", ">", "!") else fmt
    if len(body) != 2 or body[0] != "1":
        return None
    return KIND_OF_CODE.get(body[1])


@dataclass(frozen=True)
class ExporterSpec:
    shape: tuple
    fmt: str
    strides: tuple | None
    readonly: bool
    itemsize: int | None
    seed: int

    def make(self, cls):
        exporter = Exporter(
            self.shape,
            self.fmt,
            strides=self.strides,
            readonly=self.readonly,
            itemsize=self.itemsize,
        )
        exporter.set_memory(rand_bytes(self.seed, len(exporter.memory())))
        return Holder(
            exporter,
            exporter.address,
            exporter.memory,
            exporter.tobytes,
            exporter,
        )


def apply_view(arr, op):
    if arr.ndim == 0 or op == "none":
        return arr
    if op == "step0":
        return arr[::2]
    if op == "rev0":
        return arr[::-1]
    if op == "T":
        return arr.T
    if op == "step_last":
        return arr[..., ::2]
    return arr[..., ::-1]  # "rev_last"


@dataclass(frozen=True)
class NumpySpec:
    dtype: str
    shape: tuple
    view: str
    readonly: bool
    seed: int

    def make(self, cls):
        dtype = np.dtype(self.dtype)
        count = math.prod(self.shape)
        root = bytearray(rand_bytes(self.seed, count * dtype.itemsize))
        base = np.frombuffer(root, dtype=dtype, count=count).reshape(self.shape)
        arr = apply_view(base, self.view)
        if self.readonly:
            arr.flags.writeable = False
        return Holder(
            arr,
            arr.__array_interface__["data"][0],
            lambda: bytes(root),
            arr.tobytes,
            arr,
            keep=(root, base),
        )


@dataclass(frozen=True)
class BytesSpec:
    kind: str
    n: int
    step: int
    seed: int

    def make(self, cls):
        raw = rand_bytes(self.seed, self.n)
        if self.kind == "bytearray":
            root = obj = bytearray(raw)
        elif self.kind == "bytes":
            root = obj = raw
        elif self.kind == "mv_bytearray":
            root = bytearray(raw)
            obj = memoryview(root)[:: self.step]
        else:
            root = raw
            obj = memoryview(root)[:: self.step]
        return Holder(obj, _buffer_address(obj), lambda: bytes(root), lambda: bytes(obj), obj)


@dataclass(frozen=True)
class ArraySpec:
    code: str
    n: int
    seed: int

    def make(self, cls):
        obj = array.array(self.code)
        obj.frombytes(rand_bytes(self.seed, self.n * obj.itemsize))
        return Holder(obj, _buffer_address(obj), obj.tobytes, obj.tobytes, obj)


@dataclass(frozen=True)
class CtypesSpec:
    ctype: str
    seed: int

    def make(self, cls):
        ctype = getattr(ctypes, self.ctype)
        obj = ctype.from_buffer_copy(rand_bytes(self.seed, ctypes.sizeof(ctype)))
        return Holder(obj, ctypes.addressof(obj), lambda: bytes(obj), lambda: bytes(obj), obj)


@dataclass(frozen=True)
class WrapperSpec:
    """An object exposing only __array_struct__ and/or __array_interface__ getters."""

    struct_mode: str
    iface_mode: str
    inner: NumpySpec

    def make(self, cls):
        inner = self.inner.make(cls)
        arr = inner.parent
        keep = [inner]
        namespace = {}
        struct_value = None
        if self.struct_mode == "bad_two":
            bad = PyArrayInterface(two=3)
            keep.append(bad)
            struct_value = _capsule_new(ctypes.addressof(bad), None, None)
        elif self.struct_mode == "named":
            source = arr.__array_struct__
            keep.append(source)
            struct_value = _capsule_new(_capsule_pointer(source, None), CAPSULE_NAME, None)
        elif self.struct_mode == "int":
            struct_value = 5

        def struct_getter(_self):
            if self.struct_mode == "numpy":
                return arr.__array_struct__
            if self.struct_mode == "raise":
                raise RuntimeError("struct getter")
            return struct_value

        def iface_getter(_self):
            if self.iface_mode == "numpy":
                return arr.__array_interface__
            if self.iface_mode == "raise":
                raise KeyError("iface getter")
            return [1]

        if self.struct_mode != "absent":
            namespace["__array_struct__"] = property(struct_getter)
        if self.iface_mode != "absent":
            namespace["__array_interface__"] = property(iface_getter)
        wrapper = type("Wrapped", (), namespace)()
        return Holder(wrapper, inner.ref, inner.memory, inner.c_bytes, arr, keep=tuple(keep))


@dataclass(frozen=True)
class NestedSpec:
    """A proxy of the same implementation as the parent."""

    inner: object

    def make(self, cls):
        inner = self.inner.make(cls)
        proxy = cls(inner.parent)
        return Holder(
            proxy, inner.ref, inner.memory, inner.c_bytes, inner.buffer_obj, keep=(inner,)
        )


@dataclass(frozen=True)
class PlainSpec:
    """Objects that export nothing."""

    value: object

    def make(self, cls):
        return Holder(self.value, 0, lambda: b"")


FORMAT_PREFIXES = ("", "", "@", "=", "<", ">", "!")
FORMAT_CODES = "bBhHiIlLqQfdx"
INVALID_FORMATS = ("c", "p", "P", "n", "N", "hh", "2h", "3B", "T{h}", "", "g", "Zg", "2e", "3w")
INVALID_FORMATS += ("<", "1", "xx", "<<h", "h<", "@1", "0x", " h", "w", "O", "Z", "?e", "0s")
# DECISIONS.md, "Types and formats" ("Beyond pygame"): formats we accept and pygame refuses,
# of item sizes pygame can stand in for (1-9 bytes; 'Zd' and '10x' are checked against numpy in
# test_several_digit_item_sizes_follow_our_rule).
NEW_FORMATS = ("?", "<?", "e", "<e", ">e", "!e", "Zf", ">Zf", "s", "1s", "3s", ">9s", "1e")


def pygame_format_ok(fmt):
    """Whether pygame 2.6.1 takes an exporter format (one numeric code or pad bytes)."""
    body = fmt[1:] if fmt[:1] in ("@", "=", "<", ">", "!") else fmt
    return re.fullmatch(r"1?[bBhHiIlLqQfd]|1?x|[2-9]x", body) is not None


def stand_in_format(item):
    """An exporter format pygame takes, of the same size and byte-swapping as ``item``."""
    if item.swapped:
        return SWAPPED + {2: "H", 4: "I", 8: "Q"}[item.size]
    return "B" if item.size == 1 else f"{item.size}x"


def stand_in_dtype(item):
    """A numpy dtype pygame takes, of the same size and byte-swapping as ``item``."""
    return f"{SWAPPED if item.swapped else NATIVE}u{item.size}" if item.size > 1 else "|u1"


def exporter_formats():
    plain = st.builds(
        lambda p, c: p + c, st.sampled_from(FORMAT_PREFIXES), st.sampled_from(FORMAT_CODES)
    )
    count_one = st.builds(
        lambda p, c: p + "1" + c, st.sampled_from(FORMAT_PREFIXES), st.sampled_from(FORMAT_CODES)
    )
    pads = st.builds(lambda p, n: f"{p}{n}x", st.sampled_from(FORMAT_PREFIXES), st.integers(2, 9))
    new = st.sampled_from(NEW_FORMATS)
    invalid = st.sampled_from(INVALID_FORMATS)
    return st.one_of(plain, plain, plain, count_one, pads, new, invalid)


@st.composite
def exporter_specs(draw):
    fmt = draw(exporter_formats())
    itemsize = struct_itemsize(fmt)
    itemsize_arg = None
    item = our_format_item(fmt)
    if item is not None and not pygame_format_ok(fmt):
        itemsize = item.size  # struct does not know 'Zf'
    if itemsize == 0:
        itemsize_arg = itemsize = 1
    elif draw(st.integers(0, 4)) == 0:
        itemsize_arg = itemsize
    shape = tuple(draw(st.lists(st.integers(0, 4), max_size=3)))
    strides = None
    if shape and draw(st.booleans()):
        strides = explicit_strides(draw, shape, itemsize)
    return ExporterSpec(
        shape, fmt, strides, draw(st.booleans()), itemsize_arg, draw(st.integers(0, 2**32))
    )


NUMPY_DTYPES = ("|u1", "|i1", "<u2", ">u2", "<i2", "<i4", ">i4", "<u4", "<i8", ">u8", "<f4", ">f4")
NUMPY_DTYPES += ("<f8", ">f8", "|V3", "|b1", "<f2", "<c8", "<i4,<i2", "<M8[s]")


@st.composite
def numpy_specs(draw):
    return NumpySpec(
        draw(st.sampled_from(NUMPY_DTYPES)),
        tuple(draw(st.lists(st.integers(0, 4), max_size=3))),
        draw(st.sampled_from(("none", "none", "step0", "rev0", "T", "step_last", "rev_last"))),
        draw(st.booleans()),
        draw(st.integers(0, 2**32)),
    )


def parent_specs():
    seeds = st.integers(0, 2**32)
    bytes_specs = st.builds(
        BytesSpec,
        st.sampled_from(("bytearray", "bytes", "mv_bytearray", "mv_bytes")),
        st.integers(0, 24),
        st.sampled_from((1, 1, 2, 3, -1)),
        seeds,
    )
    array_specs = st.builds(ArraySpec, st.sampled_from("bBhHiIlLqQfd"), st.integers(0, 6), seeds)
    # Only 0-dim ctypes objects: pygame's __array_interface__ dereferences the NULL strides that
    # ctypes arrays export.
    ctypes_specs = st.builds(
        CtypesSpec,
        st.sampled_from(("c_int", "c_double", "c_uint8", "c_int16", "c_bool", "c_float")),
        seeds,
    )
    wrapper_specs = st.builds(
        WrapperSpec,
        st.sampled_from(("absent", "numpy", "numpy", "raise", "int", "bad_two", "named")),
        st.sampled_from(("absent", "numpy", "raise", "list")),
        numpy_specs(),
    )
    nested_specs = st.builds(NestedSpec, st.one_of(exporter_specs(), numpy_specs()))
    plain_specs = st.builds(
        PlainSpec, st.sampled_from((1, None, "text", 2.5, (1, 2), frozenset(), object()))
    )
    return st.one_of(
        exporter_specs(),
        exporter_specs(),
        exporter_specs(),
        numpy_specs(),
        numpy_specs(),
        bytes_specs,
        array_specs,
        ctypes_specs,
        wrapper_specs,
        wrapper_specs,
        nested_specs,
        plain_specs,
    )


def numpy_format(dtype):
    return memoryview(np.zeros(0, dtype)).format


def pygame_twin(spec):
    """The spec pygame gets: ``spec`` itself, or a stand-in of the same layout and memory for a
    parent whose item type pygame refuses (DECISIONS.md, "Types and formats", "Beyond pygame")."""
    if isinstance(spec, ExporterSpec):
        item = our_format_item(spec.fmt)
        if item is None or pygame_format_ok(spec.fmt):
            return spec
        return ExporterSpec(
            spec.shape, stand_in_format(item), spec.strides, spec.readonly, item.size, spec.seed
        )
    if isinstance(spec, NumpySpec):
        item = numpy_item(spec.dtype)
        if (
            item is None
            or item.kind not in "bfcS"
            or (item.kind, item.size) in (("f", 4), ("f", 8))
        ):
            return spec
        return NumpySpec(stand_in_dtype(item), spec.shape, spec.view, spec.readonly, spec.seed)
    if isinstance(spec, WrapperSpec):
        return WrapperSpec(spec.struct_mode, spec.iface_mode, pygame_twin(spec.inner))
    if isinstance(spec, NestedSpec):
        return NestedSpec(pygame_twin(spec.inner))
    if isinstance(spec, CtypesSpec) and spec.ctype == "c_bool":
        return CtypesSpec("c_uint8", spec.seed)
    return spec


def numpy_item(dtype):
    """Our item for a numpy dtype (None for records, datetimes, ...)."""
    dtype = np.dtype(dtype)
    if dtype.fields is not None or dtype.kind not in "biufcSV":
        return None
    return our_typestr_item(dtype.str)


def holder_rewrite(spec):
    """Our item type where pygame's answers name another, for an exporter parent: a stand-in
    (pygame_twin), or a format pygame reads differently (see exporter_format_rule)."""
    if isinstance(spec, NestedSpec):
        return holder_rewrite(spec.inner)
    twin = pygame_twin(spec)
    if isinstance(spec, ExporterSpec):
        item = our_format_item(spec.fmt)
        if item is None:
            return None
        if twin != spec:
            return Rewrite(item, spec.fmt, numpy_dtype_of_format(spec.fmt, item.size))
        if exporter_format_rule(spec.fmt, item):
            return Rewrite(item, None, None)
        return None
    if isinstance(spec, NumpySpec) and twin != spec:
        dtype = np.dtype(spec.dtype)
        return Rewrite(numpy_item(dtype), numpy_format(dtype), (dtype.str, dtype.descr))
    if isinstance(spec, WrapperSpec) and twin != spec:
        item = numpy_item(spec.inner.dtype)
        return Rewrite(item, item.fmt, numpy_dtype_of_format(item.fmt, item.size))
    if isinstance(spec, CtypesSpec) and twin != spec:
        fmt = memoryview(ctypes.c_bool()).format  # ctypes' own: '<?' (passed on unchanged)
        return Rewrite(our_format_item(fmt), fmt, numpy_dtype_of_format(fmt, 1))
    return None


def exporter_format_rule(fmt, item):
    """Whether our typestr, typekind or NOTSWAPPED flag for a format pygame takes differs from
    pygame's by a DECISIONS rule:

    - DECISIONS.md, "Types and formats" ("=1h"): a count of 1 does not change the type; pygame
      reads the count digit as the type and reports kind 'V';
    - DECISIONS.md, "Types and formats" ("The typestr reported back is normalised the same
      way: ... '>i3' -> '<V3', '>u1' -> '|u1'"): single bytes and pad bytes have no byte
      order, so a '>'/'!' (or '<' on big-endian) prefix on them leaves NOTSWAPPED set and void
      items read '<V3'; pygame clears NOTSWAPPED and reports '>V3'.
    """
    prefix = fmt[:1] if fmt[:1] in ("@", "=", "<", ">", "!") else ""
    prefix_swaps = (prefix == "<" and NATIVE != "<") or (prefix in (">", "!") and NATIVE != ">")
    return count_one_kind(fmt) is not None or (prefix_swaps and not item.swapped)


def derived_format(spec):
    """Whether the parent's format is made from a typestr or typekind (not a buffer export)."""
    return isinstance(spec, WrapperSpec)


class HolderSide(Side):
    flag_sets = FORMAT_FLAG_SETS

    def __init__(self, spec, impl, subclass):
        super().__init__(impl, subclass)
        self.holder = spec.make(self.cls)
        self.parent = self.container = self.holder.parent
        self.ref = self.holder.ref

    def memory(self):
        return self.holder.memory()


def pygame_validates(spec):
    """Whether pygame accepts the parent at all (its held RECORDS_RO view)."""
    holder = spec.make(PgProxy)
    return attempt(lambda: PgProxy(holder.parent).length)[0] == "ok"


def holder_layout(spec):
    holder = spec.make(BufferProxy)
    info = buffer_info(holder.buffer_obj, PYBUF_FULL_RO)
    shape = info["shape"] or ()
    strides = info["strides"] or c_strides(shape, info["itemsize"])
    return (shape, strides, info["itemsize"], bool(info["readonly"]))


def compare_holder_records(spec, ops, ours, theirs, ours_side):
    valid = layout = None
    pg_spec = pygame_twin(spec)
    rewrite = holder_rewrite(spec)
    derived = derived_format(spec)
    for index, (mine, ref) in enumerate(zip(ours, theirs, strict=True)):
        label = f"step {index} ({mine.label})"
        op = ops[index - 1] if 0 < index <= len(ops) else None
        if op is not None:
            # DECISIONS.md, "Types and formats": native single-character formats for parents
            # described by a typekind; our item types where pygame got a stand-in or reads the
            # format differently (exporter_format_rule).
            ref = Record(ref.label, expect_ours(op[0], ref.outcome, rewrite, derived), (), b"")
        expected = ref.outcome
        if op is not None and valid is None and op[0] in ("raw", "write", "flags"):
            valid = pygame_validates(pg_spec)
            layout = holder_layout(pg_spec) if valid else None
        if op is not None and op[0] == "raw" and valid and not contiguous_layout(layout):
            # DECISIONS (Reading: non-contiguous data is gathered in C order; pygame raises
            # ValueError).  Writes to such data fail, so the items are still as they were.
            assert ref.outcome == ("err", ValueError)
            expected = ("ok", typed(ours_side.holder.c_bytes()))
        if (
            op is not None
            and op[0] == "write"
            and mine.outcome == ("err", BufferError)
            and ref.outcome == ("err", ValueError)
            and read_only_parent(pg_spec)
        ):
            # DECISIONS (Writing: "Read-only data: BufferError", before anything but argument
            # errors); pygame passes on the parent's own refusal (numpy: ValueError).
            expected = mine.outcome
        if op is not None and op[0] == "write" and write_type_rule(op, mine.outcome, ref.outcome):
            expected = mine.outcome
        if op is not None and op[0] == "write" and valid:
            layout_shape, _, layout_itemsize, _ = layout
            fake = (layout_shape, None, layout_itemsize, 0, False)
            if write_index_rule(fake, op, mine.outcome, ref.outcome):
                expected = mine.outcome
        if op is not None and op[0] == "flags":
            expected = tuple(
                flag_expectation(flags, layout, got, theirs_got)
                if valid
                else invalid_flag_expectation(flags, parent_layout(pg_spec), got, theirs_got)
                for flags, got, theirs_got in zip(
                    FORMAT_FLAG_SETS, mine.outcome, ref.outcome, strict=True
                )
            )
        assert_same(label, mine.outcome, expected, "outcomes")
        assert_same(label, mine.memory, theirs[index].memory, "memory")


def flag_expectation(flags, layout, ours, theirs):
    """DECISIONS (Types and formats: "Buffer-protocol requests honour every PEP 3118 flag ...
    the way CPython's own exporters do; an unsatisfiable request raises BufferError"): pygame
    passes the parent's own error type on (numpy: ValueError) and, for __array_struct__
    parents, serves F-contiguous data to a request without PyBUF_STRIDES.
    """
    if not cpython_accepts(flags, layout):
        return ("err", BufferError)
    if theirs[0] != "ok":
        # pygame's parent refused what a CPython exporter may serve, e.g. memoryview's stricter
        # contiguity for empty 1-D views with a stride other than the item size: both answers
        # are fine, any other error is not.
        return ours if ours[0] == "ok" or theirs == ours == ("err", BufferError) else theirs
    if ours[0] == "ok" and same_strides(layout[0], ours[1]["strides"], theirs[1]["strides"]):
        # The stride of a dimension of length 1 (all strides of an empty array) is arbitrary:
        # pygame asks the parent again (numpy answers an F-contiguous request with F strides),
        # we may serve the held view's.
        return ("ok", {**theirs[1], "strides": ours[1]["strides"]})
    return theirs


def invalid_flag_expectation(flags, layout, ours, theirs):
    """A parent we refuse anyway (``layout``: its own buffer export's, None without one).
    pygame hands the request to the parent first, which refuses flags it cannot serve with its
    own error type (numpy: ValueError) before pygame looks at the format.  DECISIONS (Types and
    formats: an unsatisfiable request raises BufferError; Validation order: a writable request
    on read-only data is refused before the format is examined).
    """
    if layout is None:
        return theirs
    if flags & PYBUF_WRITABLE and layout[3]:
        return ("err", BufferError)
    if not cpython_accepts(flags, layout) and ours in (("err", BufferError), ("err", ValueError)):
        return ours  # refusing the flags or the format first are both fine
    return theirs


def parent_layout(spec):
    """The layout of the parent's own buffer export (None if it exports no buffer); for a proxy
    of a proxy, that of the innermost parent, whose export the inner proxy passes on.
    """
    if isinstance(spec, NestedSpec):
        return parent_layout(spec.inner)
    parent = spec.make(PgProxy).parent
    outcome = attempt(lambda: buffer_info(parent, PYBUF_FULL_RO))
    if outcome[0] != "ok":
        return None
    info = outcome[1]
    shape = info["shape"] or ()
    strides = info["strides"] or c_strides(shape, info["itemsize"])
    return (shape, strides, info["itemsize"], bool(info["readonly"]))


def read_only_parent(spec):
    """Whether the parent's own buffer export is read-only (None if it exports no buffer)."""
    layout = parent_layout(spec)
    return None if layout is None else layout[3]


def same_strides(shape, ours, theirs):
    if ours is None or theirs is None:
        return ours is theirs
    if 0 in shape:
        return len(ours) == len(theirs)
    return all(n == 1 or a == b for n, a, b in zip(shape, ours, theirs, strict=True))


@given(
    spec=parent_specs(),
    ops=script(12, extra_ops=("gai_parent",)),
    n_close_first=st.integers(0, 2),
    subclass=st.booleans(),
)
def test_exporter_parent_matches_pygame(spec, ops, n_close_first, subclass):
    """Exporter parents (buffer protocol, __array_struct__, __array_interface__) as pygame's."""
    note(repr(spec))
    rewrite = holder_rewrite(spec)
    event(f"rewrite: {'none' if rewrite is None else rewrite.item.typestr}")
    ours = HolderSide(spec, "ours", subclass)
    pg = HolderSide(pygame_twin(spec), "pygame", subclass)
    ours_records, ours_caught = run_script(ours, ops, n_close_first)
    pg_records, _ = run_script(pg, ops, n_close_first)
    assert ours_caught == []
    assert len(ours_records) == len(pg_records)
    compare_holder_records(spec, ops, ours_records, pg_records, ours)


# --------------------------------------------------------------------------------------------
# `data` as a buffer object (ours) against the equivalent raw address (pygame)


@dataclass(frozen=True)
class DataObjectCase:
    kind: str
    typestr: str
    shape: tuple
    strides: tuple | None
    offset: int | None
    size: int
    seed: int

    @property
    def itemsize(self):
        return our_typestr_item(self.typestr).size

    @property
    def pg_typestr(self):
        """pygame's stand-in for the new item types (see pygame_stand_in)."""
        if typestr_itemsize(self.typestr) is not None:
            return self.typestr
        return pygame_stand_in(our_typestr_item(self.typestr))

    @property
    def rewrite(self):
        if typestr_itemsize(self.typestr) is not None:
            return None
        item = our_typestr_item(self.typestr)
        return Rewrite(item, item.fmt, numpy_dtype_of_format(item.fmt, item.size))

    @property
    def layout_strides(self):
        return self.strides if self.strides is not None else c_strides(self.shape, self.itemsize)

    @property
    def fits(self):
        span = extent(self.shape, self.layout_strides, self.itemsize)
        start = self.offset or 0
        if span is None:
            return 0 <= start <= self.size
        return start + span[0] >= 0 and start + span[1] <= self.size

    def make_holder(self):
        raw = rand_bytes(self.seed, self.size)
        if self.kind == "bytearray":
            obj = bytearray(raw)
            return obj, lambda: bytes(obj), False
        if self.kind == "bytes":
            return raw, lambda: raw, True
        if self.kind == "numpy":
            arr = np.frombuffer(bytearray(raw), dtype=np.uint8)
            return arr, arr.tobytes, False
        if self.kind == "memoryview":
            root = bytearray(raw)
            return memoryview(root), lambda: bytes(root), False
        exporter = Exporter((self.size,), "B")
        exporter.set_memory(raw)
        return exporter, exporter.memory, False


@st.composite
def data_object_cases(draw):
    typestr = draw(st.one_of(st.sampled_from(VALID_TYPESTRS), st.sampled_from(NEW_TYPESTRS)))
    itemsize = our_typestr_item(typestr).size
    ndim = draw(st.integers(1, 3))
    shape = tuple(draw(st.lists(st.integers(0, 4), min_size=ndim, max_size=ndim)))
    strides = explicit_strides(draw, shape, itemsize) if draw(st.booleans()) else None
    layout_strides = strides if strides is not None else c_strides(shape, itemsize)
    span = extent(shape, layout_strides, itemsize)
    use_offset = draw(st.booleans())
    if span is None:
        size = draw(st.integers(0, 16))
        offset = draw(st.integers(0, size)) if use_offset else None
    else:
        lo, hi = span
        start = draw(st.integers(-lo - 2, -lo + 3)) if use_offset else 0
        size = max(0, draw(st.integers(start + hi - 3, start + hi + 4)))
        offset = start if use_offset else None
    return DataObjectCase(
        draw(st.sampled_from(("bytearray", "bytes", "numpy", "memoryview", "exporter"))),
        typestr,
        shape,
        strides,
        offset,
        size,
        draw(st.integers(0, 2**32)),
    )


class DataObjectSide(Side):
    def __init__(self, case, impl):
        super().__init__(impl, subclass=False)
        self.holder, self._memory, readonly = case.make_holder()
        self.ref = _buffer_address(self.holder)
        typestr = case.pg_typestr if self.is_pg else case.typestr
        description = {"shape": case.shape, "typestr": typestr}
        if case.strides is not None:
            description["strides"] = case.strides
        if self.is_pg:
            description["data"] = (self.ref + (case.offset or 0), readonly)
        else:
            description["data"] = self.holder
            if case.offset is not None:
                description["offset"] = case.offset
        self.description = self.container = description

    def memory(self):
        return self._memory()


@given(case=data_object_cases(), ops=script(16))
def test_data_buffer_object_matches_raw_address(case, ops):
    """DECISIONS (Validation pygame does not do: "data may also be an object that exports the
    buffer protocol ... refuses, with ValueError, any layout whose extent does not fit inside
    it"): a fitting layout behaves exactly like pygame over the equivalent raw address; one that
    does not fit is refused before any memory is touched, and pygame never sees it.
    """
    note(repr(case))
    ours = DataObjectSide(case, "ours")
    if not case.fits:
        proxy = BufferProxy(ours.description)
        before = ours.memory()
        for op in ("length", "raw", "ai", "as", "repr", "parent", "mv"):
            ours.proxy = proxy
            assert do_op(ours, (op,)) == ("err", ValueError), op
        # A write asks for a writable export: on read-only data its BufferError may come first
        # (DECISIONS, Validation order: "writable request on read-only -> BufferError").
        refusals = {("err", ValueError)}
        if case.kind == "bytes":
            refusals.add(("err", BufferError))
        assert attempt(lambda: proxy.write(b"")) in refusals
        assert ours.memory() == before
        return
    pg = DataObjectSide(case, "pygame")
    ours_records, _ = run_script(ours, ops, 0)
    pg_records, _ = run_script(pg, ops, 0)
    shape, strides, itemsize = case.shape, case.layout_strides, case.itemsize
    contiguous = is_c_contiguous(shape, strides, itemsize) or is_f_contiguous(
        shape, strides, itemsize
    )
    layout = (shape, strides, itemsize, case.offset or 0, case.kind == "bytes")
    for index, (mine, ref) in enumerate(zip(ours_records, pg_records, strict=True)):
        label = f"step {index} ({mine.label})"
        op = ops[index - 1] if 0 < index <= len(ops) else None
        expected = ref.outcome
        if op is not None:
            # DECISIONS.md, "Types and formats": native single-character formats, and our item
            # types where pygame got a stand-in.
            expected = expect_ours(op[0], expected, case.rewrite, derived=True)
        if op is not None and op[0] == "raw" and not contiguous:
            # DECISIONS (Reading: non-contiguous data is gathered in C order).
            assert ref.outcome == ("err", ValueError)
            expected = ("ok", typed(gather(mine.memory, case.offset or 0, *layout[:3])))
        if (
            op is not None
            and op[0] == "write"
            and (
                write_index_rule(layout, op, mine.outcome, ref.outcome)
                or write_type_rule(op, mine.outcome, ref.outcome)
            )
        ):
            expected = mine.outcome
        assert_same(label, mine.outcome, expected, "outcomes")
        assert_same(label, mine.memory, ref.memory, "memory")


# --------------------------------------------------------------------------------------------
# Our rule only: layouts pygame wraps around on or crashes with (never handed to pygame)


@st.composite
def hostile_descriptions(draw):
    typestr = draw(
        st.one_of(
            st.sampled_from(VALID_TYPESTRS),
            st.sampled_from(NEW_TYPESTRS),
            st.sampled_from(SEVERAL_DIGIT_TYPESTRS),
        )
    )
    itemsize = our_typestr_item(typestr).size
    fault = draw(st.sampled_from(("negative", "length", "extent")))
    strides = None
    if fault == "negative":
        ndim = draw(st.integers(1, 4))
        shape = draw(st.lists(st.integers(0, 3), min_size=ndim, max_size=ndim))
        shape[draw(st.integers(0, ndim - 1))] = draw(
            st.sampled_from((-1, -2, -(2**31), -(2**62), -(2**63)))
        )
        key = "shape"
    elif fault == "length":
        candidates = [(2**32, 2**32), (2**62, 4), (ISIZE_MAX, 2), (3, 2**61, 2), (2**31, 2**32)]
        if itemsize > 1:
            candidates.append((ISIZE_MAX // itemsize + 1,))
        shape = list(draw(st.sampled_from(candidates)))
        key = "shape"
    else:
        shape, strides = draw(
            st.sampled_from(
                (
                    ((2,), (ISIZE_MAX,)),
                    ((3,), (2**62,)),
                    ((2, 2), (2**62, 2**62)),
                    ((3,), (-(2**62) - 1,)),
                    ((2, 3), (1, ISIZE_MAX // 2 + 1)),
                )
            )
        )
        shape = list(shape)
        key = "strides"
    padding = draw(st.sampled_from(("none", "front", "back")))
    if padding == "front":
        shape = [1, *shape]
        strides = None if strides is None else (itemsize, *strides)
    elif padding == "back":
        shape = [*shape, 1]
        strides = None if strides is None else (*strides, itemsize)
    return typestr, tuple(shape), strides, key


@given(case=hostile_descriptions())
def test_overflowing_or_negative_layout_refused_before_memory(case):
    """DECISIONS (Validation pygame does not do: "A negative dimension, or a length ... or byte
    extent that overflows isize: ValueError naming the key, at first use, before any memory is
    touched"): never handed to pygame, which wraps around or crashes.
    """
    typestr, shape, strides, key = case
    arena = Arena(rand_bytes(1, 64))
    calls = []
    description = {
        "shape": shape,
        "typestr": typestr,
        "data": (arena.base, False),
        "before": calls.append,
        "after": calls.append,
    }
    if strides is not None:
        description["strides"] = strides
    proxy = BufferProxy(description)
    probes = {
        "length": lambda: proxy.length,
        "raw": lambda: proxy.raw,
        "ai": lambda: proxy.__array_interface__,
        "as": lambda: proxy.__array_struct__,
        "repr": lambda: repr(proxy),
        "parent": lambda: proxy.parent,
        "memoryview": lambda: memoryview(proxy),
        "write": lambda: proxy.write(b"\xff"),
    }
    for name, probe in probes.items():
        with pytest.raises(ValueError, match=key) as info:
            probe()
        assert info.type is ValueError, name
    assert calls == [], "before/after must not run for a refused description"
    assert arena.snapshot() == rand_bytes(1, 64)


# --------------------------------------------------------------------------------------------
# Construction and reporting differences, stated once


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [((), {}), ((b"ab", b"cd"), {}), ((), {"parent": b"ab"}), ((b"a", b"b", b"c"), {})],
)
def test_constructor_argument_errors_match(args, kwargs):
    """BufferProxy() with no or too many arguments: TypeError, as pygame."""
    for cls in (BufferProxy, PgProxy):
        with pytest.raises(TypeError):
            cls(*args, **kwargs)


@pytest.mark.parametrize("parent", [b"abc", {"shape": (1,), "typestr": "|u1", "data": (0, True)}])
def test_unknown_keyword_refused(parent):
    """DECISIONS (Construction: "an unexpected keyword argument: TypeError (pygame silently
    ignores it; we do not)").
    """
    assert repr(PgProxy(parent, foo=1)).startswith("<BufferProxy(")  # pygame: ignored
    with pytest.raises(TypeError):
        BufferProxy(parent, foo=1)


def test_non_exporter_constructs_then_fails_at_first_use():
    """BufferProxy(1) constructs; first use raises ValueError in both."""
    for cls in (BufferProxy, PgProxy):
        proxy = cls(1)
        with pytest.raises(ValueError, match="does not export an array buffer"):
            _ = proxy.length


@pytest.mark.parametrize("after", ["raise", "noncallable"])
def test_after_failure_reported_not_swallowed(after):
    """DECISIONS (Construction: an exception raised by `after` goes to sys.unraisablehook);
    pygame clears it silently.  Both still call `after` at the same points.
    """
    results = {}
    for impl, cls in (("ours", BufferProxy), ("pygame", PgProxy)):
        arena = Arena(b"0123456789abcdef")
        calls = []

        def after_cb(arg, calls=calls):
            calls.append(arg)
            raise CallbackError("after")

        description = {
            "shape": (4, 4),
            "typestr": "|u1",
            "data": (arena.base, False),
            "parent": "P",
            "after": after_cb if after == "raise" else 5,
        }
        with capture_unraisable() as caught:
            proxy = cls(description)
            view = memoryview(proxy)
            view.release()
            assert proxy.length == 16
            proxy.write(b"xy", 3)
            del proxy
            gc.collect()
        results[impl] = (list(calls), list(caught), arena.snapshot())
    ours_calls, ours_caught, ours_memory = results["ours"]
    pg_calls, pg_caught, pg_memory = results["pygame"]
    assert ours_calls == pg_calls
    assert ours_memory == pg_memory
    assert pg_caught == []
    expected_type = CallbackError if after == "raise" else TypeError
    assert ours_caught == [expected_type] * 3  # memoryview, write, held view


def _write_probe(proxy):
    return proxy.write(b"")


def _length_probe(proxy):
    return proxy.length


def probe_all(cls, parent, flag_sets):
    """Outcomes of a write, a memoryview, length and explicit requests, each on a new proxy."""
    outcomes = [
        attempt(lambda probe=probe: probe(cls(parent)))
        for probe in (_write_probe, memoryview, _length_probe)
    ]
    return outcomes + [attempt(lambda f=f: buffer_info(cls(parent), f)) for f in flag_sets]


ORDER_CASES = [
    ({"shape": (1,), "typestr": "<i0"}, True),
    ({"shape": (1,), "typestr": "<u\u00e9"}, True),
    ({"shape": (1,), "typestr": b"<i0"}, True),
    ({"shape": (2**63,), "typestr": "|u1"}, True),
    ({"shape": (1,), "typestr": "|u1", "strides": (2**63,)}, True),
    ({"shape": (1,), "typestr": "<i0", "strides": (1, 1)}, True),
    ({"shape": (1,), "typestr": "<i0"}, RaisingBool()),
    ({"shape": (1,), "typestr": "<i0", "strides": [1]}, True),
    ({"shape": [1], "typestr": "<i0"}, True),
    ({"typestr": "<i0", "strides": [1]}, True),
]


@pytest.mark.parametrize("container", ["dict", "iface"])
@pytest.mark.parametrize(("entries", "readonly"), ORDER_CASES)
def test_validation_order_matches_pygame(container, entries, readonly):
    """Descriptions with several faults at once raise what pygame raises (DECISIONS, Validation
    order: "as pygame, so code written against pygame keeps working"), also when the dict comes
    from an __array_interface__ getter (DECISIONS, Construction: "raises that validation error,
    exactly as a dict description would").  pygame never reads memory for these.
    """
    results = []
    for cls in (BufferProxy, PgProxy):
        arena = Arena(bytes(16))
        description = {**entries, "data": (arena.base, readonly)}
        parent = description if container == "dict" else InterfaceExporter(description)
        results.append(probe_all(cls, parent, ND_FLAG_SETS))
    assert results[0] == results[1]


@pytest.mark.parametrize("nested", [False, True])
@pytest.mark.parametrize("fmt", ["?", "g", "Zg", "O", "hh", "", "T{h}", "2h"])
@pytest.mark.parametrize("shape", [(), (0,), (2, 3)])
def test_read_only_exporter_with_unsupported_format_matches_pygame(fmt, shape, nested):
    """A writable request on a read-only parent is refused before its format is examined, as in
    pygame (the parent itself refuses the writable export), also through a proxy of a proxy.
    """
    results = []
    for cls in (BufferProxy, PgProxy):
        parent = Exporter(shape, fmt, readonly=True, itemsize=2)
        if nested:
            parent = cls(parent)
        results.append(probe_all(cls, parent, WRITABLE_FORMAT_FLAG_SETS))
    assert results[0] == results[1]


COUNT_ONE_FORMATS = ["1b", "1B", "=1h", "<1h", ">1H", "@1i", "!1I", "1l", "=1L", "<1q", ">1Q"]
COUNT_ONE_FORMATS += ["1f", "=1d", ">1d"]


@pytest.mark.parametrize("fmt", COUNT_ONE_FORMATS)
def test_count_one_format_reports_real_kind(fmt):
    """DECISIONS (Types and formats): a '1' item count does not change the type.  pygame reports
    kind 'V' for these (it reads the count digit as the type); everything else must agree.
    """
    kind = count_one_kind(fmt)
    size = struct.calcsize(fmt)
    ours = BufferProxy(Exporter((3,), fmt)).__array_interface__
    theirs = PgProxy(Exporter((3,), fmt)).__array_interface__
    assert theirs["typestr"][1] == "V"
    assert ours["typestr"] == theirs["typestr"][0] + kind + str(size)
    assert {k: v for k, v in ours.items() if k not in ("typestr", "data")} == {
        k: v for k, v in theirs.items() if k not in ("typestr", "data")
    }
    assert memoryview(BufferProxy(Exporter((3,), fmt))).format == (
        memoryview(PgProxy(Exporter((3,), fmt))).format
    )


@pytest.mark.parametrize("nested", [False, True])
@pytest.mark.parametrize(("fmt", "itemsize"), [("?", 1), ("e", 2), (">e", 2), ("Zf", 8), ("3s", 3)])
@pytest.mark.parametrize("shape", [(), (0,), (2, 3)])
def test_read_only_exporter_with_new_format_follows_our_rule(fmt, itemsize, shape, nested):
    """A writable request on a read-only parent is refused as in pygame (BufferError from the
    parent itself); a read-only one serves the new item types, which pygame refuses
    (DECISIONS.md, "Types and formats": "Beyond pygame: every numeric type numpy can share").
    """
    results = []
    for cls in (BufferProxy, PgProxy):
        parent = Exporter(shape, fmt, readonly=True, itemsize=itemsize)
        if nested:
            parent = cls(parent)
        results.append(probe_all(cls, parent, WRITABLE_FORMAT_FLAG_SETS))
    ours, theirs = results
    assert ours[0] == theirs[0] == ("err", BufferError)  # write
    assert ours[3:] == theirs[3:]  # writable requests
    assert all(outcome == ("err", BufferError) for outcome in ours[3:])
    assert theirs[1] == theirs[2] == ("err", ValueError)  # pygame: unsupported element type
    view = ours[1][1]
    assert (view.format, view.itemsize, view.shape, view.readonly) == (fmt, itemsize, shape, True)
    assert ours[2] == ("ok", itemsize * math.prod(shape))


FORMAT_ONLY_FLAG_SETS = (PYBUF_FORMAT, PYBUF_FORMAT | PYBUF_WRITABLE)


def format_only_cases():
    """(label, parent factory for an implementation class, our format) for requests with
    PyBUF_FORMAT but without PyBUF_ND."""
    cases = []
    for typestr, fmt in (("<i2", "h"), (">i2", ">h"), ("|u1", "B"), ("<f8", "d"), ("|V3", "3x")):
        for strides in (None, "gaps"):

            def make(cls, typestr=typestr, strides=strides):
                arena = Arena(bytes(range(48)))
                itemsize = int(typestr[2])
                description = {"shape": (2, 3), "typestr": typestr, "data": (arena.base, False)}
                if strides == "gaps":
                    description["strides"] = (6 * itemsize, 2 * itemsize)
                return cls(description), arena

            cases.append((f"dict-{typestr}-{strides}", make, fmt))
    for fmt in ("<h", "=1i", "B", "3x"):

        def make(cls, fmt=fmt):
            exporter = Exporter((2, 3), fmt)
            return cls(exporter), exporter

        cases.append((f"exporter-{fmt}", make, fmt))
    return cases


@pytest.mark.parametrize(
    ("make", "fmt"),
    [case[1:] for case in format_only_cases()],
    ids=[case[0] for case in format_only_cases()],
)
def test_format_without_nd_served_as_pygame(make, fmt):
    """DECISIONS.md, "Types and formats": a request with PyBUF_FORMAT but without PyBUF_ND is
    served (format and item size filled) for C-contiguous data, as pygame serves it; it gets
    ndim 1 with NULL shape and strides (pygame: ndim 0; documented difference), and our native
    single-character format for a description.
    """
    for flags in FORMAT_ONLY_FLAG_SETS:
        ours_proxy, ours_keep = make(BufferProxy)
        pg_proxy, pg_keep = make(PgProxy)
        ours_ref = ours_keep.address if isinstance(ours_keep, Exporter) else ours_keep.base
        pg_ref = pg_keep.address if isinstance(pg_keep, Exporter) else pg_keep.base
        ours = attempt(lambda: buffer_info(ours_proxy, flags, ours_ref))  # noqa: B023
        theirs = attempt(lambda: buffer_info(pg_proxy, flags, pg_ref))  # noqa: B023
        if theirs[0] == "err":
            assert ours == theirs == ("err", BufferError)  # not C-contiguous
            continue
        assert ours[0] == "ok"
        assert ours[1]["format"] == fmt.encode()
        assert native_format(theirs[1]["format"]) == ours[1]["format"]
        if theirs[1]["ndim"] == 0:
            # DECISIONS.md, "Types and formats": "A request without PyBUF_ND gets ndim 1 with
            # NULL shape and strides ... (pygame and numpy say ndim 0; documented difference)".
            theirs = ("ok", {**theirs[1], "ndim": 1, "shape": None, "strides": None})
            theirs[1]["suboffsets"] = None
        assert ours == ("ok", {**theirs[1], "format": ours[1]["format"]})


# --------------------------------------------------------------------------------------------
# Our rule only: item sizes of several digits (pygame refuses any typestr but 3 characters)


@st.composite
def several_digit_cases(draw):
    typestr = draw(st.sampled_from(SEVERAL_DIGIT_TYPESTRS))
    item = our_typestr_item(typestr)
    ndim = draw(st.integers(1, 3))
    shape = tuple(draw(st.lists(st.integers(0, 3), min_size=ndim, max_size=ndim)))
    strides = explicit_strides(draw, shape, item.size) if draw(st.booleans()) else None
    return typestr, shape, strides, draw(st.booleans()), draw(st.integers(0, 2**32))


@given(case=several_digit_cases())
def test_several_digit_item_sizes_follow_our_rule(case):
    """DECISIONS.md, "Types and formats" ("Sizes may have several digits (<c16, |S10, |V16)"):
    such descriptions work everywhere, checked against numpy reading the same memory; pygame
    refuses them (ValueError)."""
    typestr, shape, strides, readonly, seed = case
    item = our_typestr_item(typestr)
    layout_strides = strides if strides is not None else c_strides(shape, item.size)
    lo, hi = extent(shape, layout_strides, item.size) or (0, 0)
    memory = rand_bytes(seed, hi - lo + 8)
    arena = Arena(memory)
    start = -lo
    description = {"shape": shape, "typestr": typestr, "data": (arena.base + start, readonly)}
    if strides is not None:
        description["strides"] = strides
    with pytest.raises(ValueError, match="typestr"):
        _ = PgProxy(dict(description)).length
    proxy = BufferProxy(description)
    length = item.size * math.prod(shape)
    expected = gather(memory, start, shape, layout_strides, item.size)
    contiguous = contiguous_layout((shape, layout_strides, item.size))
    assert proxy.length == length
    # DECISIONS.md, "Reading": contiguous data in memory order, anything else in C order.
    assert proxy.raw == (memory[start : start + length] if contiguous else expected)
    assert proxy.__array_interface__ == {
        "version": 3,
        "typestr": item.typestr,
        "shape": shape,
        "strides": layout_strides,
        "data": (arena.base + start, readonly),
    }
    inter = read_array_struct(proxy.__array_struct__, arena.base + start)
    assert (inter["typekind"], inter["itemsize"], inter["data"]) == (
        item.kind.encode(),
        item.size,
        0,
    )
    assert bool(inter["flags"] & PAI_NOTSWAPPED) == (not item.swapped)
    with memoryview(proxy) as view:
        assert (view.format, view.itemsize, view.shape) == (item.fmt, item.size, shape)
        assert view.strides == layout_strides
        assert view.tobytes() == expected
    arr = np.asarray(proxy)
    assert (arr.dtype.str, arr.dtype.descr) == numpy_dtype_of_format(item.fmt, item.size)
    if arr.size:
        assert arr.__array_interface__["data"][0] == arena.base + start
    if readonly:
        with pytest.raises(BufferError):
            proxy.write(b"")
    elif contiguous and length:
        payload = rand_bytes(seed + 1, length)
        proxy.write(payload)
        assert arena.snapshot()[start : start + length] == payload
    assert arena.snapshot()[:start] == memory[:start]


@pytest.mark.parametrize(("fmt", "itemsize"), [("Zd", 16), (">Zd", 16), ("10s", 10), ("16x", 16)])
def test_several_digit_exporter_formats_follow_our_rule(fmt, itemsize):
    """DECISIONS.md, "Types and formats": exporter formats 'Zd', '<n>s' and '<n>x' of any size
    are accepted and passed on unchanged; pygame refuses them (ValueError)."""
    item = our_format_item(fmt)
    with pytest.raises(ValueError, match=r"(?i)unsupported"):
        _ = PgProxy(Exporter((2, 3), fmt)).length
    exporter = Exporter((2, 3), fmt)
    data = rand_bytes(fmt, 6 * itemsize)
    exporter.set_memory(data)
    proxy = BufferProxy(exporter)
    assert proxy.length == 6 * itemsize
    assert proxy.raw == data
    assert proxy.__array_interface__["typestr"] == item.typestr
    with memoryview(proxy) as view:
        assert (view.format, view.itemsize, view.shape) == (fmt, itemsize, (2, 3))
        assert view.tobytes() == data
    arr = np.asarray(proxy)
    assert (arr.dtype.str, arr.dtype.descr) == numpy_dtype_of_format(fmt, itemsize)
    assert arr.__array_interface__["data"][0] == exporter.address
