"""Fuzzing the Python surface: `BufferProxy(description)` and `write(buffer, offset)`.

Arbitrary description dicts (keys present or missing, values of random types, huge and negative
ints, typestrs of random characters, raw addresses, buffer objects with random offsets, random
callbacks and extra keys) and arbitrary `write()` calls are checked against a model of
DECISIONS.md written here: only the documented exception types are raised (never SystemError,
never a crash), the one the model predicts where it can tell, and whatever succeeds agrees with
numpy reading the same memory.

Memory safety: a raw address whose layout has a non-zero extent always points into a guarded
bytearray this test owns, and the extent fits inside it; random addresses (including negative
ones, which wrap like C casts, and ones beyond the pointer range) are only used for zero-size
layouts or where the model expects a refusal before any memory is touched. Nothing that reads or
writes memory is tried before the proxy's reported layout has been checked against the model, so
a proxy that accepted more than it should fails the test before it touches memory. The guard
bytes around the owned memory are compared after every operation.

`BUFFERPROXY_FUZZ=1` runs many examples (`BUFFERPROXY_FUZZ_EXAMPLES` per test, default 100000):
see docs/fuzzing.md. Otherwise the suite's hypothesis profile applies (conftest.py).
"""

import ctypes
import os
import sys
from dataclasses import dataclass, field

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import bufferproxy
from bufferproxy import BufferProxy

FUZZ = os.environ.get("BUFFERPROXY_FUZZ") == "1"
if FUZZ:
    fuzz_settings = settings(
        max_examples=int(os.environ.get("BUFFERPROXY_FUZZ_EXAMPLES", "100000")),
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
else:
    # The loaded profile's example count (ci: 100, dev: 30); only the health checks differ,
    # as the strategies below filter nothing but draw a lot.
    fuzz_settings = settings(
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
    )

ISIZE_MAX = sys.maxsize
PTR_BITS = ctypes.sizeof(ctypes.c_void_p) * 8
USIZE_END = 1 << PTR_BITS
NATIVE = "<" if sys.byteorder == "little" else ">"
SWAPPED = ">" if NATIVE == "<" else "<"

#: The exception types DECISIONS.md documents for descriptions and write().
DOCUMENTED = (
    ValueError,
    TypeError,
    OverflowError,
    BufferError,
    IndexError,
    UnicodeEncodeError,
)

#: Bytes of owned memory a raw address may describe, and the guard bytes on either side.
OWNED = 512
GUARD = 64


class BoolError(Exception):
    """Raised by `Unbool.__bool__`: DECISIONS says bool(readonly)'s exception propagates."""


class Unbool:
    def __bool__(self):
        raise BoolError("no truth value")


class IntSub(int):
    pass


class Index:
    """Not an int, but has __index__: fine as a write() offset, not as a shape item."""

    def __init__(self, value):
        self.value = value

    def __index__(self):
        return self.value

    def __repr__(self):
        return f"Index({self.value})"


class DictSub(dict):
    """A description dict whose __getitem__ must not be called (DECISIONS: read as a dict)."""

    def __getitem__(self, key):
        raise AssertionError("__getitem__ override called")


# --------------------------------------------------------------------------------------------
# The model


MAX_ITEMSIZE = 2**31 - 1
NATIVE_CODES = {("i", 1): "b", ("u", 1): "B", ("i", 2): "h", ("u", 2): "H", ("i", 4): "i"}
NATIVE_CODES |= {("u", 4): "I", ("i", 8): "q", ("u", 8): "Q", ("f", 2): "e", ("f", 4): "f"}
NATIVE_CODES |= {("f", 8): "d", ("c", 8): "Zf", ("c", 16): "Zd", ("b", 1): "?"}


def typestr_info(ts: bytes):
    """The DECISIONS typestr table: (format, itemsize, normalised typestr), or None.

    DECISIONS.md, "Types and formats": byte order '<', '>' or '|'; kinds i u f V and, beyond
    pygame, b (bool), f2, c (complex), S (bytes); sizes of one or more digits; integers of other
    sizes are void.  Native-order items get the bare single-character code ('h', not pygame's
    '=h'); swapped ones keep the prefix; bytes are '<n>s' and void '<n>x'.  Reported typestrs
    use numpy's spelling ('|b1', '|S4'), void of several bytes as '<V3'.
    """
    if len(ts) < 3:
        return None
    order, kind, digits = chr(ts[0]), chr(ts[1]), ts[2:]
    if order not in ("|", "<", ">") or not digits.isdigit() or digits[:1] == b"0":
        return None
    n = int(digits)
    if n > MAX_ITEMSIZE:
        return None
    if kind in "iu" and n not in (1, 2, 4, 8):
        kind = "V"
    swapped = order == SWAPPED and n > 1 and kind in "iufc"
    if kind == "S":
        return f"{n}s", n, f"|S{n}"
    if kind == "V":
        return f"{n}x", n, f"{'|' if n == 1 else NATIVE}V{n}"
    code = NATIVE_CODES.get((kind, n))
    if code is None:
        return None
    fmt = (SWAPPED if swapped else "") + code
    norm_order = "|" if n == 1 else SWAPPED if swapped else NATIVE
    return fmt, n, f"{norm_order}{kind}{n}"


def c_contiguous(shape, strides, itemsize):
    if 0 in shape:
        return True
    expected = itemsize
    for dim, stride in zip(reversed(shape), reversed(strides), strict=True):
        if dim > 1 and stride != expected:
            return False
        expected *= dim
    return True


def f_contiguous(shape, strides, itemsize):
    return c_contiguous(shape[::-1], strides[::-1], itemsize)


def default_strides(shape, itemsize):
    """pygame's C-order strides; for empty arrays the products wrap like isize."""
    strides = []
    step = itemsize
    for dim in reversed(shape):
        strides.append(step)
        step = ((step * dim + (1 << 63)) % (1 << 64)) - (1 << 63)
    return tuple(reversed(strides))


def extent(shape, strides, itemsize):
    if 0 in shape:
        return 0, 0
    reaches = [(d - 1) * s for d, s in zip(shape, strides, strict=True)]
    return sum(r for r in reaches if r < 0), itemsize + sum(r for r in reaches if r > 0)


def is_int_tuple(v):
    return isinstance(v, tuple) and all(isinstance(i, int) for i in v)


@dataclass
class Backing:
    """Memory the test owns: a writable-or-not uint8 view over it, for reading and comparing."""

    view: np.ndarray
    keep: object = None


@dataclass
class Valid:
    shape: tuple
    strides: tuple
    itemsize: int
    fmt: str
    typestr: str
    addr: int
    readonly: bool
    backing: Backing | None  # None: zero-size layout at a random address, or NULL
    first: int  # index of the first item in backing.view
    length: int = field(init=False)
    contiguous: bool = field(init=False)

    @property
    def at_null(self):
        """A non-empty layout at address 0: metadata only (DECISIONS, NULL address)."""
        return self.addr == 0 and self.length > 0

    def __post_init__(self):
        self.length = self.itemsize * int(np.prod(self.shape, dtype=object))
        self.contiguous = c_contiguous(self.shape, self.strides, self.itemsize) or f_contiguous(
            self.shape, self.strides, self.itemsize
        )

    def expected_raw(self):
        """`raw`: contiguous data as it lies in memory, anything else gathered in C order
        (DECISIONS "Reading")."""
        if self.length == 0:
            return b""
        if self.contiguous:
            return self.backing.view[self.first : self.first + self.length].tobytes()
        return self.c_order()

    def c_order(self):
        """The items in C (row-major) order, as numpy reads them."""
        if self.length == 0:
            return b""
        array = np.ndarray(
            self.shape,
            dtype=np.dtype(f"V{self.itemsize}"),
            buffer=self.backing.view,
            offset=self.first,
            strides=self.strides,
        )
        return array.tobytes()


@dataclass
class Invalid:
    error: type
    at_null: bool = False  # a valid, non-empty layout at address 0 (refused only at acquisition)


def data_object_info(data):
    """(nbytes, readonly, base address, Backing) of a buffer object, or the error it gives."""
    try:
        view = memoryview(data)
    except TypeError:
        return ValueError
    with view:
        if not view.c_contiguous:
            return BufferError
        nbytes, readonly = view.nbytes, view.readonly
    array = np.frombuffer(data, dtype=np.uint8) if nbytes else np.zeros(0, np.uint8)
    if isinstance(data, np.ndarray):
        array = data.reshape(-1).view(np.uint8)
    addr = array.__array_interface__["data"][0] if nbytes else None
    return nbytes, readonly, addr, Backing(array, data)


def model(desc, owned: Backing, owned_addr: int, probe=False):
    """What reading `desc` gives: Valid(...) or Invalid(exception type), in DECISIONS order.

    Unless `probe` (a layout-only question asked while generating), a raw address must not
    describe memory outside the owned region: the generator never hands such a dict over."""
    missing = object()
    shape = desc.get("shape", missing)
    if not is_int_tuple(shape) or shape == ():
        return Invalid(ValueError)
    typestr = desc.get("typestr", missing)
    # DECISIONS.md, "Types and formats": checked early only for being at least 3 characters.
    if not isinstance(typestr, str | bytes) or len(typestr) < 3:
        return Invalid(ValueError)
    data = desc.get("data", missing)
    if data is missing:
        return Invalid(ValueError)
    if isinstance(data, tuple):
        if len(data) != 2 or not isinstance(data[0], int):
            return Invalid(ValueError)
        info = None
    else:
        info = data_object_info(data)
        if isinstance(info, type):
            return Invalid(info)
    strides = desc.get("strides", missing)
    if strides is not missing and not is_int_tuple(strides):
        return Invalid(ValueError)
    offset = desc.get("offset", missing)
    if offset is not missing:
        if info is None or not isinstance(offset, int) or not 0 <= offset < USIZE_END:
            return Invalid(ValueError)
    else:
        offset = 0
    if strides is not missing and len(strides) != len(shape):
        return Invalid(ValueError)
    if info is None:
        addr = data[0]
        if not -(1 << (PTR_BITS - 1)) <= addr < USIZE_END:
            return Invalid(OverflowError)
        addr %= USIZE_END
        try:
            readonly = bool(data[1])
        except BoolError:
            return Invalid(BoolError)
    else:
        nbytes, readonly, base, backing = info
    if isinstance(typestr, str):
        if not typestr.isascii():
            return Invalid(UnicodeEncodeError)
        typestr = typestr.encode()
    table = typestr_info(typestr)
    if table is None:
        return Invalid(ValueError)
    fmt, itemsize, normalised = table
    values = list(shape) + (list(strides) if strides is not missing else [])
    if any(not -ISIZE_MAX - 1 <= v <= ISIZE_MAX for v in values):
        return Invalid(OverflowError)
    shape = tuple(int(d) for d in shape)
    if any(d < 0 for d in shape):
        return Invalid(ValueError)
    if itemsize * int(np.prod(shape, dtype=object)) > ISIZE_MAX:
        return Invalid(ValueError)
    strides = default_strides(shape, itemsize) if strides is missing else tuple(map(int, strides))
    lo, hi = extent(shape, strides, itemsize)
    if hi - lo > ISIZE_MAX:
        return Invalid(ValueError)
    if info is None:
        # DECISIONS.md, "Validation pygame does not do": a NULL address is accepted (metadata
        # only); an extent that wraps around the address space stays a ValueError.
        if hi > lo and (addr + lo < 0 or addr + lo + (hi - lo) >= USIZE_END):
            return Invalid(ValueError)
        inside = owned_addr + GUARD <= addr + lo and addr + hi <= owned_addr + GUARD + OWNED
        if hi > lo and addr != 0 and not inside and not probe:
            # Never described by the generator (it would be memory the test does not own).
            raise AssertionError(f"unsafe description generated: {desc}")
        backing = owned if hi > lo and addr != 0 else None
        first = addr - owned_addr if backing is not None else 0
    else:
        if offset > nbytes or (hi > lo and (offset + lo < 0 or offset + hi > nbytes)):
            return Invalid(ValueError)
        in_owned = base is not None and owned_addr <= base < owned_addr + len(owned.view)
        if in_owned:
            # A memoryview slice of the owned bytearray: the same memory, tracked once.
            backing, first = owned, base - owned_addr + offset
        else:
            first = offset
        # An empty buffer's address is whatever the object says; not compared.
        addr = base + offset if base is not None else None
    before = desc.get("before", missing)
    if before is not missing and not callable(before):  # after validation, at acquisition
        return Invalid(TypeError, at_null=info is None and addr == 0 and hi > lo)
    return Valid(shape, strides, itemsize, fmt, normalised, addr, readonly, backing, first)


# --------------------------------------------------------------------------------------------
# Strategies

HUGE = [
    ISIZE_MAX,
    ISIZE_MAX + 1,
    -ISIZE_MAX - 1,
    -ISIZE_MAX - 2,
    1 << 31,
    1 << 32,
    1 << 62,
    USIZE_END - 1,
    USIZE_END,
    1 << 100,
    -(1 << 100),
]
small_ints = st.integers(0, 6)
edge_ints = st.one_of(st.sampled_from(HUGE), st.integers(-(1 << 70), 1 << 70))
any_int = st.one_of(small_ints, small_ints, st.integers(-40, 40), edge_ints, st.booleans())


def pick(draw, **weights):
    """One of the keyword names, drawn with the given weights (shrinks towards the first)."""
    names = [name for name, weight in weights.items() for _ in range(weight)]
    return names[draw(st.integers(0, len(names) - 1))]


def junk():
    return st.one_of(
        st.none(),
        any_int,
        st.floats(allow_nan=False),
        st.text(max_size=4),
        st.binary(max_size=4),
        st.lists(small_ints, max_size=3),
        st.tuples(),
        st.tuples(any_int, any_int),
        st.builds(object),
        st.builds(Index, small_ints),
        st.just({}),
    )


@st.composite
def shapes(draw):
    kind = pick(draw, small=16, wild=2, junk=2)
    if kind == "small":
        ndim = draw(st.integers(1, 4))
        return tuple(
            0 if draw(st.integers(0, 9)) == 7 else draw(st.integers(1, 5)) for _ in range(ndim)
        )
    if kind == "wild":
        items = st.one_of(any_int, st.builds(IntSub, small_ints), st.builds(Index, small_ints))
        return tuple(draw(st.lists(items, min_size=0, max_size=5)))
    return draw(junk())


VALID_TYPESTRS = [o + k + str(n) for o in "<>|" for k in "iuV" for n in range(1, 10)] + [
    o + "f" + n for o in "<>|" for n in "48"
]
# DECISIONS.md, "Types and formats" ("Beyond pygame"): bool, float16, complex, bytes, and
# sizes of several digits.
NEW_TYPESTRS = [o + k for o in "<>|" for k in ("b1", "f2", "c8", "c16", "S1", "S3", "S12")]
NEW_TYPESTRS += ["|V10", "<V16", ">i16", "|u12", "<i3"]
VALID_TYPESTRS += NEW_TYPESTRS


@st.composite
def typestrs(draw):
    kind = pick(draw, valid=16, chars=2, bytes=1, junk=1)
    if kind == "valid":
        ts = draw(st.sampled_from(VALID_TYPESTRS))
        return ts.encode() if draw(st.booleans()) else ts
    if kind == "chars":
        alphabet = st.one_of(st.sampled_from("<>|=!@iufVbcSOMmUx?0123456789"), st.characters())
        return draw(st.text(alphabet, min_size=2, max_size=5))
    if kind == "bytes":
        return draw(st.binary(min_size=2, max_size=5))
    return draw(junk())


def stride_candidates(draw, shape, itemsize):
    n = len(shape) if isinstance(shape, tuple) else draw(st.integers(0, 4))
    kind = pick(draw, absent=6, c=3, f=3, items=3, bytes=2, wild=1, length=1, junk=1)
    if kind == "absent":
        return None
    if kind in ("c", "f") and isinstance(shape, tuple) and all(isinstance(d, int) for d in shape):
        dims = [max(int(d), 1) if abs(d) < 64 else 1 for d in shape]
        order = range(n) if kind == "f" else range(n - 1, -1, -1)
        out, step = [0] * n, itemsize
        for d in order:
            out[d] = step
            step *= dims[d]
        return tuple(out)
    if kind in ("items", "c", "f"):
        return tuple(draw(st.integers(-4, 4)) * itemsize for _ in range(n))
    if kind == "bytes":
        return tuple(draw(st.integers(-12, 12)) for _ in range(n))
    if kind == "wild":
        return tuple(draw(any_int) for _ in range(n))
    if kind == "length":
        return tuple(draw(small_ints) for _ in range(draw(st.integers(0, 5))))
    return draw(junk())


def new_owned(draw):
    content = bytearray(draw(st.binary(min_size=16, max_size=16)) * ((OWNED + 2 * GUARD) // 16))
    holder = (ctypes.c_char * len(content)).from_buffer(content)
    return Backing(np.frombuffer(content, dtype=np.uint8), (content, holder)), ctypes.addressof(
        holder
    )


def data_objects(draw, owned, size):
    kind = pick(draw, bytearray=4, bytes=2, slice=3, ro_memoryview=1, numpy=2, u32=1, junk=1)
    payload = draw(st.binary(min_size=size, max_size=size))
    if kind == "bytearray":
        return bytearray(payload)
    if kind == "bytes":
        return payload
    if kind == "slice":
        start = draw(st.integers(GUARD, GUARD + OWNED - size))
        return memoryview(owned.keep[0])[start : start + size]
    if kind == "ro_memoryview":
        return memoryview(payload)
    if kind == "numpy":
        return np.frombuffer(bytearray(payload), dtype=np.uint8)
    if kind == "u32":
        return np.arange((size + 3) // 4, dtype=np.uint32)
    return draw(st.one_of(st.none(), any_int, st.text(max_size=3), st.lists(small_ints)))


@dataclass
class Case:
    desc: dict
    owned: Backing
    owned_addr: int
    calls: list


@st.composite
def descriptions(draw):
    """A description dict, and the owned memory any raw address in it points into."""
    owned, owned_addr = new_owned(draw)
    calls = []
    desc = {}
    # Rare branches sit mid-range: hypothesis draws the ends of a range (0 above all) often.
    if draw(st.integers(0, 19)) != 13:
        desc["shape"] = draw(shapes())
    if draw(st.integers(0, 19)) != 13:
        desc["typestr"] = draw(typestrs())
    ts = desc.get("typestr")
    ts = ts.encode() if isinstance(ts, str) and ts.isascii() else ts
    itemsize = (typestr_info(ts) or (None, 1))[1] if isinstance(ts, bytes) else 1
    strides = stride_candidates(draw, desc.get("shape"), itemsize)
    if strides is not None:
        desc["strides"] = strides
    data_kind = pick(draw, address=9, object=8, junk=2, none=1)
    if data_kind == "junk":
        desc["data"] = draw(st.one_of(junk(), st.tuples(any_int, any_int, any_int)))
    elif data_kind == "address":
        readonly = pick(draw, bool=12, other=3, unbool=1)
        if readonly == "bool":
            readonly = draw(st.booleans())
        elif readonly == "other":
            readonly = draw(st.sampled_from([0, 1, None, "", "x", 2]))
        else:
            readonly = Unbool()
        desc["data"] = (owned_addr + GUARD, readonly)
        if draw(st.integers(0, 19)) == 13:
            desc["offset"] = draw(small_ints)
    if draw(st.integers(0, 3)) == 2:
        desc["parent"] = draw(st.one_of(st.none(), st.builds(object), any_int))
    if draw(st.integers(0, 7)) == 5:
        desc["before"] = draw(
            st.sampled_from([lambda parent: calls.append(("before", parent))] * 2 + [1, None])
        )
    if draw(st.integers(0, 3)) == 2:
        desc["after"] = lambda parent: calls.append(("after", parent))
    if draw(st.integers(0, 9)) == 7:
        desc[draw(st.sampled_from(["extra", 7, b"shape", ("shape",)]))] = draw(junk())

    if data_kind == "object":
        place_object(draw, desc, owned, owned_addr)
    if isinstance(desc.get("data"), tuple) and len(desc["data"]) == 2:
        place_address(draw, desc, owned, owned_addr)
    if draw(st.integers(0, 9)) == 7:
        desc = DictSub(desc)
    return Case(desc, owned, owned_addr, calls)


def probe_layout(desc, owned, owned_addr):
    """The layout alone (shape, typestr, strides), as if `data` were fine: Valid or Invalid."""
    probe = {k: v for k, v in desc.items() if k not in ("before", "offset")}
    probe["data"] = (owned_addr + GUARD, False)
    return model(probe, owned, owned_addr, probe=True)


def place_object(draw, desc, owned, owned_addr):
    """A buffer object for `data` (and maybe an `offset`): mostly one the layout fits in."""
    m = probe_layout(desc, owned, owned_addr)
    lo, hi = extent(m.shape, m.strides, m.itemsize) if isinstance(m, Valid) else (0, 0)
    if isinstance(m, Valid) and hi - lo <= OWNED - 16 and draw(st.integers(0, 3)):
        offset = -lo + draw(st.integers(0, 8))
        size = offset + hi + draw(st.integers(0, 8))
    else:
        kind = pick(draw, small=6, edge=1, junk=1)
        if kind == "small":
            offset = draw(st.integers(-4, 100))
        else:
            offset = draw(edge_ints if kind == "edge" else junk())
        size = draw(st.integers(0, 96))
    desc["data"] = data_objects(draw, owned, min(size, OWNED))
    if offset != 0 or draw(st.booleans()):
        desc["offset"] = offset


def place_address(draw, desc, owned, owned_addr):
    """Points a raw `(address, readonly)` at owned memory the layout fits in; uses a random
    address only where the layout is empty or the description is refused anyway."""
    readonly = desc["data"][1]
    # The layout alone: a description refused only at acquisition (a non-callable `before`)
    # still describes memory, so it gets owned memory too.
    m = probe_layout(desc, owned, owned_addr)
    random_addr = st.one_of(
        st.integers(-(1 << 63), USIZE_END - 1), st.sampled_from([0, 1, -1]), st.sampled_from(HUGE)
    )
    if isinstance(m, Invalid) or m.length == 0:
        # No layout, or an empty one: no memory is described, any address will do.
        if draw(st.booleans()):
            desc["data"] = (draw(random_addr), readonly)
        return
    lo, hi = extent(m.shape, m.strides, m.itemsize)
    if hi - lo <= OWNED:
        first = GUARD - lo + draw(st.integers(0, OWNED - (hi - lo)))
        desc["data"] = (owned_addr + first, readonly)
    else:
        # Too big to own: NULL, which describes nothing to read (DECISIONS: a NULL address is
        # accepted; whatever would read or write its bytes refuses).
        desc["data"] = (0, readonly)
    if draw(st.integers(0, 9)) == 3 and lo == 0:
        desc["data"] = (0, readonly)


# write() arguments: (args, kwargs, description of the buffer) -----------------------------


@st.composite
def write_args(draw, length):
    size = draw(st.integers(0, length) if draw(st.integers(0, 3)) else st.integers(0, length + 9))
    payload = draw(st.binary(min_size=size, max_size=size))
    kind = pick(
        draw,
        bytes=4,
        bytearray=2,
        numpy=2,
        memoryview=1,
        u16=1,
        str=1,
        surrogate=1,
        strided=1,
        fortran=1,
        junk=1,
    )
    if kind == "bytes":
        buffer = payload
    elif kind == "str":
        buffer = draw(st.text(max_size=max(size, 1)))
    elif kind == "surrogate":
        buffer = "a\ud800"
    elif kind == "bytearray":
        buffer = bytearray(payload)
    elif kind == "memoryview":
        buffer = memoryview(payload)
    elif kind == "numpy":
        buffer = np.frombuffer(payload, dtype=np.uint8).copy()
    elif kind == "u16":
        buffer = np.frombuffer(payload[: size // 2 * 2], dtype=np.uint16).copy()
    elif kind == "strided":
        buffer = np.zeros(max(size, 2) * 2, np.uint8)[::2]
    elif kind == "fortran":
        buffer = np.zeros((max(size, 2), 2), np.uint8, order="F")
    else:
        buffer = draw(junk())
    offset_kind = pick(draw, absent=2, fits=6, int=3, keyword=2, index=1, wild=1)
    if offset_kind in ("fits", "keyword"):
        offset = draw(st.integers(0, max(length - size, 0)))
    elif offset_kind == "int":
        offset = draw(st.one_of(st.integers(-3, length + 3), st.booleans()))
    elif offset_kind == "index":
        offset = Index(draw(st.integers(-2, length + 2)))
    else:
        offset = draw(st.one_of(edge_ints, st.floats(allow_nan=False), st.text(max_size=2)))
    if offset_kind == "absent":
        return (buffer,), {}, 0
    if offset_kind == "keyword":
        return (buffer,), {"offset": offset}, offset
    return (buffer, offset), {}, offset


def describe_outcome(m, desc):
    """A hypothesis event naming what the model expects (--hypothesis-show-statistics)."""
    if isinstance(m, Invalid):
        return f"refused: {m.error.__name__}"
    where = "raw address" if isinstance(desc.get("data"), tuple) else "object"
    if m.at_null:
        where = "NULL address"
    return f"accepted: {'empty' if m.length == 0 else 'items'}, {where}"


def write_model(buffer, offset, m: Valid):
    """The expected exception of write(buffer, offset), or the bytes it writes."""
    if isinstance(buffer, bytes):
        data = buffer
    elif isinstance(buffer, str):
        try:
            data = buffer.encode()
        except UnicodeEncodeError:
            return UnicodeEncodeError
    else:
        try:
            with memoryview(buffer) as view:
                if not view.c_contiguous:
                    return TypeError
                data = view.tobytes()
        except TypeError:
            return TypeError
    if isinstance(offset, float | str) or offset is None:
        return TypeError
    offset = offset.__index__()
    if not -ISIZE_MAX - 1 <= offset <= ISIZE_MAX:
        return OverflowError
    if m.readonly:
        return BufferError
    if m.at_null:
        return ValueError  # DECISIONS.md, NULL address: write -> ValueError
    if not m.contiguous:
        return ValueError
    if len(data) > m.length:
        return ValueError
    if offset < 0 or offset >= m.length or offset + len(data) > m.length:
        return IndexError
    return offset, data


# --------------------------------------------------------------------------------------------
# Checking one proxy


def expect_error(error, call):
    """`call()` must raise `error`: documented types only (SystemError is none of them)."""
    with pytest.raises(error):
        call()


def use(proxy, op):
    """One use of the proxy that acquires its memory but reads none of it."""
    if op == "interface":
        return proxy.__array_interface__
    if op == "repr":
        return repr(proxy)
    if op == "memoryview":
        memoryview(proxy).release()
        return None
    return getattr(proxy, op)


class Memory:
    """Snapshots of every buffer the test owns, updated with the writes that should happen."""

    def __init__(self, *backings):
        self.backings = [b for b in backings if b is not None]
        self.expected = [bytearray(b.view.tobytes()) for b in self.backings]

    def write(self, backing, at, data):
        for b, want in zip(self.backings, self.expected, strict=True):
            if b is backing:
                want[at : at + len(data)] = data

    def check(self):
        for b, want in zip(self.backings, self.expected, strict=True):
            assert b.view.tobytes() == bytes(want), "owned memory changed unexpectedly"


def check_interface(proxy, m: Valid):
    """The reported layout, checked before anything reads memory."""
    assert proxy.length == m.length
    face = proxy.__array_interface__
    addr = face["data"][0] if m.addr is None else m.addr
    assert face == {
        "version": 3,
        "typestr": m.typestr,
        "shape": m.shape,
        "strides": m.strides,
        "data": (addr, m.readonly),
    }


def check_op(op, proxy, m: Valid, memory: Memory, desc):
    if op == "length":
        assert proxy.length == m.length
    elif op == "interface":
        check_interface(proxy, m)
    elif op == "struct":
        face = bufferproxy.get_array_interface(proxy)
        assert (face["shape"], face["typestr"], face["data"][1]) == (m.shape, m.typestr, m.readonly)
        assert m.addr is None or face["data"][0] == m.addr
    elif op == "repr":
        assert repr(proxy) == f"<BufferProxy({m.length})>"
    elif op == "parent":
        assert proxy.parent is desc.get("parent")
    elif m.at_null and op == "raw":
        # DECISIONS.md, "Validation pygame does not do": raw at NULL -> ValueError, exports
        # and __dlpack__ -> BufferError.
        expect_error(ValueError, lambda: proxy.raw)
    elif m.at_null and op in ("memoryview", "dlpack"):
        expect_error(
            BufferError, lambda: use(proxy, op) if op == "memoryview" else proxy.__dlpack__()
        )
    elif m.at_null and op == "numpy":
        # numpy's buffer request is refused; it falls back to __array_struct__, whose NULL
        # data it replaces by new memory of its own: the metadata is ours, the memory is not
        # (not tried for large layouts: numpy would allocate that much).
        if m.length <= 1 << 16:
            array = np.asarray(proxy)
            assert array.shape == m.shape
            assert array.__array_interface__["data"][0] != 0
            del array
    elif op == "raw":
        assert proxy.raw == m.expected_raw()
    elif op == "memoryview":
        with memoryview(proxy) as view:
            assert (view.format, view.itemsize, view.nbytes) == (m.fmt, m.itemsize, m.length)
            assert (view.shape, view.strides, view.readonly) == (m.shape, m.strides, m.readonly)
            assert view.tobytes() == m.c_order()
    elif op in ("numpy", "dlpack") and m.length == 0 and max(m.shape) > 1 << 16:
        pass  # numpy refuses such (empty) shapes itself: "array is too big"
    elif op == "numpy" and m.fmt[-1] not in "x":
        array = np.asarray(proxy)
        assert array.shape == m.shape
        assert array.tobytes() == m.c_order()
        del array
    elif op == "dlpack":
        try:
            array = np.from_dlpack(proxy)
        except DOCUMENTED:
            pass  # layouts DLPack cannot express: BufferError
        else:
            assert array.tobytes() == m.c_order()
            del array
    memory.check()


OPS = ["length", "interface", "struct", "repr", "parent", "raw", "memoryview", "numpy", "dlpack"]


@fuzz_settings
@given(
    case=descriptions(), ops=st.lists(st.sampled_from([*OPS, "write"]), max_size=6), data=st.data()
)
def test_arbitrary_descriptions(case, ops, data):
    desc, owned = case.desc, case.owned
    m = model(desc, owned, case.owned_addr)
    event(describe_outcome(m, desc))
    data_backing = None
    if isinstance(m, Valid) and m.backing is not None and m.backing is not owned:
        data_backing = m.backing
    memory = Memory(owned, data_backing)
    proxy = BufferProxy(desc)  # never reads anything
    if isinstance(m, Invalid):
        # Every use tries again, and fails the same way, before touching memory.
        expect_error(m.error, lambda: proxy.length)
        for op in ops:
            if op == "write":
                args, kwargs, _ = data.draw(write_args(8))
                expect_error(
                    (*DOCUMENTED, BoolError), lambda a=args, k=kwargs: proxy.write(*a, **k)
                )
            elif op == "raw" and m.at_null:
                # DECISIONS.md, NULL address: refused before any callback, so before the first
                # use (and its TypeError) too.
                expect_error(ValueError, lambda: proxy.raw)
            elif op in ("length", "interface", "raw", "repr", "parent"):
                expect_error(m.error, lambda op=op: use(proxy, op))
            elif op == "memoryview":
                expect_error((*DOCUMENTED, BoolError), lambda: use(proxy, "memoryview"))
            memory.check()
    else:
        check_interface(proxy, m)
        memory.check()
        for op in ops:
            if op == "write":
                args, kwargs, offset = data.draw(write_args(m.length))
                outcome = write_model(args[0], offset, m)
                event(f"write: {getattr(outcome, '__name__', 'written')}")
                if isinstance(outcome, type):
                    expect_error(outcome, lambda a=args, k=kwargs: proxy.write(*a, **k))
                else:
                    proxy.write(*args, **kwargs)
                    at, written = outcome
                    memory.write(m.backing, m.first + at, written)
                memory.check()
            else:
                check_op(op, proxy, m, memory, desc)
    proxy = None  # released at once (no cycle): `after` runs for the held acquisition
    memory.check()
    befores = [c for c in case.calls if c[0] == "before"]
    afters = [c for c in case.calls if c[0] == "after"]
    if callable(desc.get("before")) and "after" in desc:
        assert len(befores) == len(afters), case.calls
    for _, parent in case.calls:
        assert parent is desc.get("parent")


# --------------------------------------------------------------------------------------------
# write() over valid, mostly contiguous layouts


@st.composite
def writable_cases(draw):
    owned, owned_addr = new_owned(draw)
    typestr = draw(st.sampled_from(VALID_TYPESTRS))
    itemsize = typestr_info(typestr.encode())[1]
    shape = tuple(draw(st.lists(st.integers(0, 5), min_size=1, max_size=3)))
    order = draw(st.sampled_from(["c", "f", "default", "ones", "strided"]))
    desc = {"shape": shape, "typestr": typestr}
    if order in ("c", "f", "strided"):
        dims = range(len(shape)) if order == "f" else range(len(shape) - 1, -1, -1)
        strides, step = [0] * len(shape), itemsize * (2 if order == "strided" else 1)
        for d in dims:
            strides[d] = step
            step *= max(shape[d], 1)
        desc["strides"] = tuple(strides)
    elif order == "ones":
        # Strides of length-1 dimensions do not matter for contiguity.
        shape = desc["shape"] = tuple(1 if i % 2 else d for i, d in enumerate(shape))
        desc["strides"] = tuple(
            draw(st.integers(-50, 50)) if d == 1 else s
            for d, s in zip(shape, default_strides(shape, itemsize), strict=True)
        )
    use_object = draw(st.booleans())
    if use_object:
        size = draw(st.integers(0, 40))
        desc["data"] = bytearray(draw(st.binary(min_size=size, max_size=size)))
        desc["offset"] = draw(st.integers(0, 8))
    else:
        desc["data"] = (owned_addr + GUARD, draw(st.sampled_from([False, False, False, True])))
        place_address(draw, desc, owned, owned_addr)
    return Case(desc, owned, owned_addr, [])


@fuzz_settings
@given(case=writable_cases(), data=st.data())
def test_arbitrary_writes(case, data):
    m = model(case.desc, case.owned, case.owned_addr)
    proxy = BufferProxy(case.desc)
    if isinstance(m, Invalid):
        expect_error(m.error, lambda: proxy.length)
        return
    check_interface(proxy, m)
    memory = Memory(case.owned, m.backing if m.backing is not case.owned else None)
    for _ in range(data.draw(st.integers(1, 4))):
        args, kwargs, offset = data.draw(write_args(m.length))
        outcome = write_model(args[0], offset, m)
        event(f"write: {getattr(outcome, '__name__', 'written')}")
        if isinstance(outcome, type):
            expect_error(outcome, lambda a=args, k=kwargs: proxy.write(*a, **k))
        else:
            proxy.write(*args, **kwargs)
            at, written = outcome
            memory.write(m.backing, m.first + at, written)
        memory.check()
        if m.at_null:
            expect_error(ValueError, lambda: proxy.raw)
        else:
            assert proxy.raw == m.expected_raw()
