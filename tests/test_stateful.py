"""Random sequences of proxy operations, checked step by step against a model.

A hypothesis state machine builds proxies of random layouts over dict descriptions (with a
`parent` and counting `before`/`after` callbacks; `data` a bytearray, an `Exporter`, bytes or a
ctypes address), over bytearrays, over `Exporter`s and over numpy arrays; exports them through
real consumers (memoryview, numpy.asarray, numpy.frombuffer, PyObject_GetBuffer with random
flags through ctypes, `__array_struct__` capsules kept or consumed by numpy,
`__array_interface__`); releases exports; writes valid and invalid data; pokes items through
numpy exports; reads; resizes bytearrays; makes `before` raise once; deletes proxies and
collects garbage. Proxies may share memory. After every step:

- every backing memory, live export and capsule shows exactly the model's bytes;
- a dict proxy's `before` minus `after` count equals its live buffer exports, plus 1 for the
  acquisition its first use holds until the proxy dies (DECISIONS.md);
- an `Exporter`'s `exports` is the sum of the live acquisitions of the proxies over it;
- a bytearray can be resized exactly when no acquisition of it is live;
- a proxy nobody references any more is gone at once (no cycle keeps it) and balanced.

At teardown everything is released, collected, and every count is back at its baseline.

Run sizes come from BUFFERPROXY_HYPOTHESIS_PROFILE: ci (default) is short, thorough runs at
least 100 000 steps.
"""

import ctypes
import functools
import gc
import itertools
import math
import os
import sys
import weakref
from dataclasses import dataclass

import numpy as np
from cstructs import (
    PAI_WRITEABLE,
    Py_buffer,
    PyArrayInterface,
    PyBUF_ANY_CONTIGUOUS,
    PyBUF_C_CONTIGUOUS,
    PyBUF_F_CONTIGUOUS,
    PyBUF_FORMAT,
    PyBUF_INDIRECT,
    PyBUF_ND,
    PyBUF_STRIDES,
    PyBUF_WRITABLE,
)
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from bufferproxy import BufferProxy
from bufferproxy._testing import Exporter

PROFILE = os.environ.get("BUFFERPROXY_HYPOTHESIS_PROFILE", "ci")
# (max_examples, stateful_step_count): thorough is >= 100 000 steps in all.
RUN_SIZES = {"dev": (10, 25), "ci": (300, 50), "thorough": (1500, 100)}
MAX_EXAMPLES, STEP_COUNT = RUN_SIZES.get(PROFILE, RUN_SIZES["ci"])
THOROUGH_MIN_STEPS = 100_000

MAX_SUBJECTS = 6

NATIVE = "<" if sys.byteorder == "little" else ">"


@dataclass(frozen=True)
class Item:
    """One item type: the typestr a description gives, the format the proxy hands out for it
    (DECISIONS.md, "Types and formats": native single-character formats, and beyond pygame
    bool, float16 and bytes), the format an `Exporter` parent has, numpy's dtype, typekind."""

    typestr: str
    fmt: str
    exporter_fmt: str
    dtype: str
    typekind: bytes

    @property
    def itemsize(self):
        return np.dtype(self.dtype).itemsize

    def poke_value(self, value):
        """A scalar whose numpy conversion to this dtype is exact (no warnings)."""
        kind = self.typekind
        if kind == b"b":
            return bool(value & 1)
        if kind == b"f":
            return float(value % 2048)
        if kind == b"S":
            return bytes([65 + value % 26]) * self.itemsize
        return value % (1 << (8 * self.itemsize))


ITEMS = {
    "u1": Item("|u1", "B", "B", "u1", b"u"),
    "b1": Item("|b1", "?", "?", "?", b"b"),
    "S1": Item("|S1", "1s", "s", "S1", b"S"),
    "u2": Item(NATIVE + "u2", "H", "H", NATIVE + "u2", b"u"),
    "f2": Item(NATIVE + "f2", "e", "e", NATIVE + "f2", b"f"),
    "u4": Item(NATIVE + "u4", "I", "I", NATIVE + "u4", b"u"),
    "f4": Item(NATIVE + "f4", "f", "<f" if NATIVE == "<" else ">f", NATIVE + "f4", b"f"),
    "S4": Item("|S4", "4s", "4s", "S4", b"S"),
}

BASE_FLAGS = [
    PyBUF_WRITABLE,
    PyBUF_FORMAT,
    PyBUF_ND,
    PyBUF_STRIDES,
    PyBUF_C_CONTIGUOUS,
    PyBUF_F_CONTIGUOUS,
    PyBUF_ANY_CONTIGUOUS,
    PyBUF_INDIRECT,
]

_get_buffer = ctypes.PYFUNCTYPE(
    ctypes.c_int, ctypes.py_object, ctypes.POINTER(Py_buffer), ctypes.c_int
)(("PyObject_GetBuffer", ctypes.pythonapi))
_release_buffer = ctypes.PYFUNCTYPE(None, ctypes.POINTER(Py_buffer))(
    ("PyBuffer_Release", ctypes.pythonapi)
)
_capsule_pointer = ctypes.PYFUNCTYPE(ctypes.c_void_p, ctypes.py_object, ctypes.c_char_p)(
    ("PyCapsule_GetPointer", ctypes.pythonapi)
)

STEPS = 0  # steps run by every machine of this session (read by the test)
MACHINES = 0


class Boom(Exception):
    """Raised by an armed `before` callback."""


# ------------------------------------------------------------------------------------ model


@dataclass(frozen=True)
class Layout:
    shape: tuple[int, ...]
    strides: tuple[int, ...]
    itemsize: int
    item: str = "u1"

    @functools.cached_property
    def nitems(self):
        return math.prod(self.shape)

    @property
    def length(self):
        return self.nitems * self.itemsize

    @functools.cached_property
    def span(self):
        """(lo, hi): bytes touched, relative to the first item."""
        if self.nitems == 0:
            return 0, 0
        dims = list(zip(self.shape, self.strides, strict=True))
        lo = sum(min(0, (n - 1) * s) for n, s in dims)
        hi = sum(max(0, (n - 1) * s) for n, s in dims) + self.itemsize
        return lo, hi

    @property
    def origin(self):
        return -self.span[0]

    @property
    def size(self):
        lo, hi = self.span
        return hi - lo

    @functools.cached_property
    def offsets(self):
        """Byte offset of every item in a memory of `size` bytes, in C order."""
        return [
            self.origin + sum(i * s for i, s in zip(index, self.strides, strict=True))
            for index in itertools.product(*(range(n) for n in self.shape))
        ]

    def c_bytes(self, mem):
        return b"".join(bytes(mem[o : o + self.itemsize]) for o in self.offsets)

    def contiguous(self, order):
        """CPython's PyBuffer_IsContiguous."""
        if self.nitems == 0:
            return True
        dims = list(zip(self.shape, self.strides, strict=True))
        if order == "C":
            dims.reverse()
        expected = self.itemsize
        for n, s in dims:
            if n > 1 and s != expected:
                return False
            expected *= n
        return True

    @functools.cached_property
    def c_contiguous(self):
        return self.contiguous("C")

    @functools.cached_property
    def memoryview_c_contiguous(self):
        """memoryview's own C flag: for one dimension it ignores that the buffer is empty."""
        if len(self.shape) == 1:
            return self.shape[0] == 1 or self.strides[0] == self.itemsize
        return self.c_contiguous

    @functools.cached_property
    def any_contiguous(self):
        return self.c_contiguous or self.contiguous("F")

    def raw(self, mem):
        """`raw`: contiguous data in memory order, anything else gathered in C order."""
        if self.any_contiguous:
            return bytes(mem[self.origin : self.origin + self.length])
        return self.c_bytes(mem)


def refused(layout, readonly, flags):
    """Whether memoryview's rules refuse a request with `flags` for this layout."""

    def has(flag):
        return flags & flag == flag

    c = layout.c_contiguous
    return (
        (flags & PyBUF_WRITABLE and readonly)
        or (has(PyBUF_C_CONTIGUOUS) and not c)
        or (has(PyBUF_F_CONTIGUOUS) and not layout.contiguous("F"))
        or (has(PyBUF_ANY_CONTIGUOUS) and not layout.any_contiguous)
        or (not has(PyBUF_STRIDES) and not c)
        # DECISIONS.md, "Types and formats": a request with PyBUF_FORMAT but without PyBUF_ND
        # is served (memoryview's refusal of that combination is not copied).
    )


@st.composite
def layouts(draw):
    """Small 1-3 dimensional layouts: any axis order, gaps, negative and zero strides."""
    item = draw(st.sampled_from(sorted(ITEMS)))
    itemsize = ITEMS[item].itemsize
    ndim = draw(st.integers(1, 3))
    shape = tuple(draw(st.lists(st.integers(0, 3), min_size=ndim, max_size=ndim)))
    order = draw(st.permutations(range(ndim)))  # innermost axis first
    strides = [0] * ndim
    step = itemsize
    for axis in order:
        sign = draw(st.sampled_from([1, 1, 1, -1, 0]))
        strides[axis] = step * sign
        step *= max(shape[axis], 1) * draw(st.sampled_from([1, 1, 2]))
    return Layout(shape, tuple(strides), itemsize, item)


def c_strides(shape, itemsize):
    strides = []
    step = itemsize
    for n in reversed(shape):
        strides.append(step)
        step *= n
    return tuple(reversed(strides))


def pattern(seed, size):
    return bytes((seed + 37 * i) % 256 for i in range(size))


class Parent:
    """The `parent` of a dict description."""


class Counter:
    """`before`/`after` callbacks counting calls; `before` raises once when armed."""

    def __init__(self, parent):
        self.parent = parent
        self.before = 0
        self.after = 0
        self.armed = False
        self.wrong_parents = 0

    def on_before(self, parent):
        if parent is not self.parent:
            self.wrong_parents += 1
        if self.armed:
            self.armed = False
            raise Boom("before")
        self.before += 1

    def on_after(self, parent):
        if parent is not self.parent:
            self.wrong_parents += 1
        self.after += 1


class Backing:
    """Memory one or more proxies use, and the model of its bytes."""

    def __init__(self, kind, obj, content, layout, *, array=None):
        self.kind = kind  # "bytearray", "bytes", "ctypes", "exporter", "exporter-parent", "ndarray"
        self.obj = obj
        self.mem = bytearray(content)
        self.layout = layout  # the layout every proxy over it uses
        self.array = array  # the numpy parent of kind "ndarray"

    def actual(self):
        if self.kind == "bytearray":
            return bytes(self.obj)
        if self.kind == "bytes":
            return self.obj
        if self.kind == "ctypes":
            return self.obj.raw[: len(self.mem)]
        if self.kind == "null":
            return b""
        if self.kind in ("exporter", "exporter-parent"):
            return self.obj.memory()
        return self.obj.tobytes()  # the ndarray's uint8 base

    def address(self):
        """Address of the first item (only meaningful for non-empty layouts)."""
        origin = self.layout.origin
        if self.kind == "null":
            return None  # ctypes reads a NULL c_void_p as None
        if self.kind == "ctypes":
            return ctypes.addressof(self.obj) + origin
        if self.kind == "ndarray":
            return self.array.__array_interface__["data"][0]
        if self.kind == "exporter":
            return self.obj.address + origin  # a 1-D bytes exporter used as `data`
        if self.kind == "exporter-parent":
            return self.obj.address  # the exporter's first item
        return np.frombuffer(self.obj, np.uint8).__array_interface__["data"][0] + origin


class Subject:
    """One proxy and what the model expects of it."""

    def __init__(self, proxy, kind, backing, readonly, counter, parent):
        self.proxy = proxy
        self.ref = weakref.ref(proxy)
        self.kind = kind  # "dict", "bytearray", "exporter", "numpy"
        self.backing = backing
        self.layout = backing.layout
        self.readonly = readonly
        self.counter = counter
        self.parent = parent  # what `.parent` returns
        self.held = False
        self.armed = False
        self.exports = []  # [how, object, extra]
        self.keepers = []  # [how, object]: capsules and arrays made from capsules

    @property
    def alive(self):
        return self.proxy is not None or bool(self.exports) or bool(self.keepers)

    @property
    def acquisitions(self):
        return int(self.held) + len(self.exports)

    @property
    def item(self):
        return ITEMS[self.layout.item]

    @property
    def at_null(self):
        """A non-empty layout at address 0 (DECISIONS.md, "Validation pygame does not do"):
        metadata works, reading, writing and exporting the bytes refuse."""
        return self.backing.kind == "null" and self.layout.nitems > 0

    def expected_typestr(self):
        return self.item.typestr

    def expected_format(self):
        """The format a FORMAT request gets: the table's for a description, the parent's own
        (passed through unchanged) for an exporter."""
        if self.kind == "dict":
            return self.item.fmt
        if self.kind == "exporter":
            return self.item.exporter_fmt
        if self.kind == "numpy":
            with memoryview(self.backing.array) as view:
                return view.format
        return "B"


def outcome(fn):
    """(result, None) or (None, exception type); keeps no traceback (it would hold objects)."""
    try:
        return fn(), None
    except Exception as exc:
        return None, type(exc)


def capsule_interface(capsule):
    return PyArrayInterface.from_address(_capsule_pointer(capsule, None))


class StructHolder:
    """Hands numpy a capsule through `__array_struct__`."""

    def __init__(self, capsule):
        self.capsule = capsule

    @property
    def __array_struct__(self):
        return self.capsule


# ---------------------------------------------------------------------------------- machine

index = st.integers(0, 2**16)


class ProxyMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        global MACHINES
        MACHINES += 1
        # Everything older than this machine (modules, pytest's and hypothesis's state, the
        # previous machines' leftovers) moves to the permanent generation, so the machine's
        # full collections walk only what it made. The test unfreezes at the end.
        gc.freeze()
        self.subjects = []
        self.retired = []  # subjects whose proxy died: their counters must stay balanced
        self.backings = []

    # ------------------------------------------------------------------ helpers

    def live(self):
        return [s for s in self.subjects if s.proxy is not None]

    def pick(self, items, i):
        return items[i % len(items)]

    def first_use(self, subject):
        """Predicts a first use (held acquisition); returns the expected exception type."""
        if subject.held:
            return None
        if subject.armed:
            subject.armed = False
            return Boom
        subject.held = True
        return None

    def export_request(self, subject, flags):
        """Predicts a buffer export with `flags`: the expected exception type or None."""
        if subject.at_null:
            return BufferError  # before `before` runs (DECISIONS, NULL address)
        if refused(subject.layout, subject.readonly, flags):
            return BufferError
        if subject.armed:
            subject.armed = False
            return Boom
        return None

    def writable_arrays(self):
        """(subject, how, array) for every writable, non-empty numpy array over a proxy."""
        return [
            (s, how, obj)
            for s in self.subjects
            for how, obj, *_ in s.exports + s.keepers
            if how in ("asarray", "frombuffer", "struct_array") and obj.flags.writeable and obj.size
        ]

    def check_raw(self, subject, raw):
        assert raw == subject.layout.raw(subject.backing.mem)

    # ------------------------------------------------------------------ construction

    def _new_subject(self, kind, backing, readonly, data, description_data=None):
        counter = parent = None
        if kind == "dict":
            parent = Parent()
            counter = Counter(parent)
            layout = backing.layout
            description = {
                "shape": layout.shape,
                "typestr": ITEMS[layout.item].typestr,
                "data": description_data,
                "parent": parent,
                "before": counter.on_before,
                "after": counter.on_after,
            }
            if layout.strides != c_strides(layout.shape, layout.itemsize) or data.draw(
                st.booleans(), label="explicit strides"
            ):
                description["strides"] = layout.strides
            if not isinstance(description_data, tuple) and (
                layout.origin or data.draw(st.booleans(), label="explicit offset")
            ):
                description["offset"] = layout.origin
            proxy = BufferProxy(description)
        else:
            parent = backing.array if kind == "numpy" else backing.obj
            proxy = BufferProxy(parent)
        subject = Subject(proxy, kind, backing, readonly, counter, parent)
        if kind == "dict":
            subject.data = description_data
        self.subjects.append(subject)
        return subject

    def _dict_data(self, backing, readonly):
        if backing.kind == "ctypes":
            return (ctypes.addressof(backing.obj) + backing.layout.origin, readonly)
        if backing.kind == "null":
            return (0, readonly)
        return backing.obj

    @precondition(lambda self: len(self.subjects) < MAX_SUBJECTS)
    @rule(data=st.data())
    def construct(self, data):
        kind = data.draw(st.sampled_from(["dict", "bytearray", "exporter", "numpy"]), label="kind")
        if kind == "bytearray":
            layout = Layout((data.draw(st.integers(0, 24), label="size"),), (1,), 1)
        else:
            layout = data.draw(layouts(), label="layout")
        content = pattern(data.draw(st.integers(0, 255), label="seed"), layout.size)
        readonly = False
        if kind == "dict":
            where = data.draw(st.sampled_from(["bytearray", "exporter", "ctypes", "bytes", "null"]))
            readonly = where == "bytes" or (
                where in ("exporter", "ctypes", "null")
                and data.draw(st.booleans(), label="readonly")
            )
            if where == "null":
                # A raw address of 0: the extent must not wrap around, so no negative strides.
                layout = Layout(
                    layout.shape,
                    tuple(abs(s) for s in layout.strides),
                    layout.itemsize,
                    layout.item,
                )
                backing = Backing(where, None, b"", layout)
            elif where == "bytearray":
                backing = Backing(where, bytearray(content), content, layout)
            elif where == "bytes":
                backing = Backing(where, bytes(content), content, layout)
            elif where == "ctypes":
                buffer = ctypes.create_string_buffer(content, max(layout.size, 1))
                backing = Backing(where, buffer, content, layout)
            else:
                exporter = Exporter([layout.size], "B", readonly=readonly)
                exporter.set_memory(content)
                backing = Backing(where, exporter, content, layout)
        elif kind == "bytearray":
            backing = Backing("bytearray", bytearray(content), content, layout)
        elif kind == "exporter":
            readonly = data.draw(st.booleans(), label="readonly")
            exporter = Exporter(
                list(layout.shape),
                ITEMS[layout.item].exporter_fmt,
                list(layout.strides),
                readonly,
            )
            assert len(exporter.memory()) == layout.size  # the exporter allocates the extent
            exporter.set_memory(content)
            backing = Backing("exporter-parent", exporter, content, layout)
        else:
            readonly = data.draw(st.booleans(), label="readonly")
            base = np.frombuffer(content, np.uint8).copy()
            array = np.ndarray(
                layout.shape,
                ITEMS[layout.item].dtype,
                buffer=base,
                offset=layout.origin,
                strides=layout.strides,
            )
            array.flags.writeable = not readonly
            # numpy exports its own strides for dimensions of length 1 (and empty arrays);
            # they touch the same bytes.
            with memoryview(array) as view:
                layout = Layout(layout.shape, view.strides, layout.itemsize, layout.item)
            backing = Backing("ndarray", base, content, layout, array=array)
        self.backings.append(backing)
        self._new_subject(kind, backing, readonly, data, self._dict_data(backing, readonly))

    @precondition(lambda self: self.live() and len(self.subjects) < MAX_SUBJECTS)
    @rule(i=index, data=st.data())
    def twin(self, i, data):
        """Another proxy over the same memory, with the same layout."""
        other = self.pick(self.live(), i)
        description_data = other.data if other.kind == "dict" else None
        self._new_subject(other.kind, other.backing, other.readonly, data, description_data)

    # ------------------------------------------------------------------ exports

    def _store_export(self, subject, how, obj, extra=None):
        subject.exports.append([how, obj, extra])

    @precondition(lambda self: self.live())
    @rule(i=index)
    def export_memoryview(self, i):
        subject = self.pick(self.live(), i)
        expected = self.export_request(subject, PyBUF_FORMAT | PyBUF_INDIRECT)
        view, error = outcome(lambda: memoryview(subject.proxy))
        assert error is expected, (error, expected, subject.layout)
        if view is not None:
            assert view.readonly == subject.readonly
            assert view.shape == subject.layout.shape
            assert view.strides == subject.layout.strides
            self._store_export(subject, "memoryview", view)

    @precondition(lambda self: self.live())
    @rule(i=index)
    def export_asarray(self, i):
        subject = self.pick(self.live(), i)
        if subject.at_null:
            # The export is refused; numpy swallows that, takes __array_struct__ and replaces
            # its NULL data by new memory of its own: not an export of the proxy's memory.
            expected = self.first_use(subject)
            array, error = outcome(lambda: np.asarray(subject.proxy))
            assert error is expected, (error, expected, subject.layout)
            if array is not None:
                assert array.shape == subject.layout.shape
                assert array.__array_interface__["data"][0] != 0
            return
        fallback = subject.armed  # numpy swallows the buffer error, tries __array_struct__
        expected = self.export_request(subject, PyBUF_FORMAT | PyBUF_INDIRECT)
        if fallback:
            assert expected is Boom
            expected = self.first_use(subject)
        array, error = outcome(lambda: np.asarray(subject.proxy))
        assert error is expected, (error, expected, subject.layout)
        if array is None:
            return
        assert array.shape == subject.layout.shape
        if subject.backing.kind == "null":
            # An empty layout at NULL (a non-empty one was handled above): numpy replaces the
            # NULL data of the export (or capsule) by new, writable memory of its own.
            assert array.size == 0
            if fallback:
                return
        else:
            assert array.flags.writeable == (not subject.readonly)
        if fallback:
            subject.keepers.append(["struct_array", array])
        else:
            self._store_export(subject, "asarray", array)

    def frombuffer_subjects(self):
        return self.live()

    @precondition(lambda self: self.frombuffer_subjects())
    @rule(i=index)
    def export_frombuffer(self, i):
        subject = self.pick(self.frombuffer_subjects(), i)
        # numpy takes a memoryview (FULL_RO) and then a simple buffer of it.
        expected = self.export_request(subject, PyBUF_FORMAT | PyBUF_INDIRECT)
        if expected is None and not subject.layout.memoryview_c_contiguous:
            expected = BufferError
        array, error = outcome(lambda: np.frombuffer(subject.proxy, np.uint8))
        assert error is expected, (error, expected, subject.layout)
        if array is not None:
            assert array.size == subject.layout.length
            assert array.flags.writeable == (not subject.readonly)
            self._store_export(subject, "frombuffer", array)

    @precondition(lambda self: self.live())
    @rule(i=index, flags=st.lists(st.sampled_from(BASE_FLAGS), max_size=4))
    def export_getbuffer(self, i, flags):
        subject = self.pick(self.live(), i)
        flags = functools.reduce(lambda a, b: a | b, flags, 0)
        expected = self.export_request(subject, flags)
        view = Py_buffer()
        _, error = outcome(lambda: _get_buffer(subject.proxy, ctypes.byref(view), flags))
        assert error is expected, (hex(flags), subject.layout)
        if error is not None:
            return
        layout = subject.layout
        assert view.len == layout.length
        assert view.itemsize == layout.itemsize
        assert view.readonly == subject.readonly
        assert bool(view.format) == bool(flags & PyBUF_FORMAT)
        if flags & PyBUF_FORMAT:
            assert view.format.decode() == subject.expected_format()
        if flags & PyBUF_ND == PyBUF_ND:
            assert view.ndim == len(layout.shape)
            assert tuple(view.shape[: view.ndim]) == layout.shape
        else:
            assert view.ndim == 1
            assert not view.shape
        if flags & PyBUF_STRIDES == PyBUF_STRIDES:
            assert tuple(view.strides[: view.ndim]) == layout.strides
        else:
            assert not view.strides
        if layout.nitems:
            assert view.buf == subject.backing.address()
        self._store_export(subject, "getbuffer", view, flags)

    @precondition(lambda self: self.live())
    @rule(i=index)
    def take_capsule(self, i):
        subject = self.pick(self.live(), i)
        expected = self.first_use(subject)
        capsule, error = outcome(lambda: subject.proxy.__array_struct__)
        assert error is expected, (error, expected, subject.layout)
        if capsule is None:
            return
        inter = capsule_interface(capsule)
        layout = subject.layout
        assert inter.two == 2
        assert inter.nd == len(layout.shape)
        assert inter.itemsize == layout.itemsize
        assert inter.typekind == subject.item.typekind
        assert bool(inter.flags & PAI_WRITEABLE) == (not subject.readonly)
        assert tuple(inter.shape[: inter.nd]) == layout.shape
        assert tuple(inter.strides[: inter.nd]) == layout.strides
        if layout.nitems:
            assert inter.data == subject.backing.address()
        subject.keepers.append(["capsule", capsule])

    @precondition(lambda self: self.live())
    @rule(i=index)
    def consume_capsule(self, i):
        """numpy.asarray of an object whose __array_struct__ is the proxy's capsule."""
        subject = self.pick(self.live(), i)
        expected = self.first_use(subject)
        capsule, error = outcome(lambda: subject.proxy.__array_struct__)
        assert error is expected, (error, expected, subject.layout)
        if capsule is None:
            return
        array = np.asarray(StructHolder(capsule))
        del capsule
        assert array.shape == subject.layout.shape
        if subject.backing.kind == "null":
            # numpy replaces NULL data by new (writable) memory of its own, also for empty
            # layouts: nothing of the proxy's.
            assert array.__array_interface__["data"][0] != 0
            return
        assert array.dtype == np.dtype(subject.item.dtype)
        assert array.flags.writeable == (not subject.readonly)
        subject.keepers.append(["struct_array", array])

    @precondition(lambda self: self.live())
    @rule(i=index)
    def read_interface(self, i):
        subject = self.pick(self.live(), i)
        expected = self.first_use(subject)
        inter, error = outcome(lambda: subject.proxy.__array_interface__)
        assert error is expected, (error, expected, subject.layout)
        if inter is None:
            return
        layout = subject.layout
        assert set(inter) == {"version", "typestr", "shape", "strides", "data"}
        assert inter["version"] == 3
        assert inter["typestr"] == subject.expected_typestr()
        assert inter["shape"] == layout.shape
        assert inter["strides"] == layout.strides
        assert inter["data"][1] == subject.readonly
        if subject.at_null:
            assert inter["data"][0] == 0
        elif layout.nitems:
            assert inter["data"][0] == subject.backing.address()
            lo, hi = layout.span
            memory = ctypes.string_at(inter["data"][0] + lo, hi - lo)
            assert memory == subject.backing.mem

    # ------------------------------------------------------------------ releases

    @precondition(lambda self: any(s.exports for s in self.subjects))
    @rule(i=index, j=index)
    def release_export(self, i, j):
        subject = self.pick([s for s in self.subjects if s.exports], i)
        how, obj, _extra = subject.exports.pop(j % len(subject.exports))
        if how == "memoryview":
            obj.release()
        elif how == "getbuffer":
            _release_buffer(ctypes.byref(obj))
        del obj  # numpy arrays: the last reference

    @precondition(lambda self: any(s.keepers for s in self.subjects))
    @rule(i=index, j=index)
    def drop_keeper(self, i, j):
        subject = self.pick([s for s in self.subjects if s.keepers], i)
        subject.keepers.pop(j % len(subject.keepers))

    @precondition(lambda self: self.live())
    @rule(i=index)
    def delete_proxy(self, i):
        subject = self.pick(self.live(), i)
        subject.proxy = None

    @rule()
    def collect(self):
        gc.collect()

    # ------------------------------------------------------------------ reads and writes

    @precondition(lambda self: self.live())
    @rule(i=index, what=st.sampled_from(["raw", "length", "repr", "parent"]))
    def read(self, i, what):
        subject = self.pick(self.live(), i)
        # DECISIONS.md, NULL address: raw is refused before any callback, also before the
        # first use (which stays to be made).
        raw_at_null = what == "raw" and subject.at_null
        expected = ValueError if raw_at_null else self.first_use(subject)
        proxy = subject.proxy
        value, error = outcome(
            {
                "raw": lambda: proxy.raw,
                "length": lambda: proxy.length,
                "repr": lambda: repr(proxy),
                "parent": lambda: proxy.parent,
            }[what]
        )
        assert error is expected, (error, expected, subject.layout)
        if error is not None:
            return
        length = subject.layout.length
        if what == "raw":
            assert type(value) is bytes
            self.check_raw(subject, value)
        elif what == "length":
            assert value == length
        elif what == "repr":
            assert value == f"<BufferProxy({length})>"
        else:
            assert value is subject.parent

    @precondition(lambda self: self.live())
    @rule(
        i=index,
        payload=st.binary(max_size=12),
        offset=st.one_of(st.integers(-2, 2), st.integers(-3, 110)),
    )
    def write(self, i, payload, offset):
        subject = self.pick(self.live(), i)
        layout = subject.layout
        length = layout.length
        if subject.readonly:
            expected = BufferError
        elif subject.at_null:
            expected = ValueError  # before `before` runs (DECISIONS, NULL address)
        elif subject.armed:
            subject.armed = False
            expected = Boom
        elif not layout.any_contiguous or len(payload) > length:
            expected = ValueError
        elif offset < 0 or offset >= length or offset + len(payload) > length:
            expected = IndexError
        else:
            expected = None
        _, error = outcome(lambda: subject.proxy.write(payload, offset))
        assert error is expected, (payload, offset, layout)
        if error is None:
            start = layout.origin + offset
            subject.backing.mem[start : start + len(payload)] = payload

    @precondition(lambda self: self.writable_arrays())
    @rule(i=index, k=index, value=st.integers(0, 2**32 - 1))
    def poke(self, i, k, value):
        """Writes one item through a writable numpy export (or capsule array)."""
        subject, how, array = self.pick(self.writable_arrays(), i)
        layout = subject.layout
        mem = subject.backing.mem
        if how == "frombuffer":  # bytes of a C-contiguous layout, in memory order
            position = k % array.size
            array[position] = value % 256
            mem[layout.origin + position] = value % 256
            return
        item = subject.item.poke_value(value)
        position = k % layout.nitems
        array[np.unravel_index(position, layout.shape)] = item
        start = layout.offsets[position]
        mem[start : start + layout.itemsize] = np.array(item, array.dtype).tobytes()

    @precondition(lambda self: any(s.backing.kind == "bytearray" for s in self.subjects))
    @rule(i=index)
    def resize(self, i):
        """Tries to grow (and shrink back) a bytearray backing."""
        backing = self.pick([s for s in self.subjects if s.backing.kind == "bytearray"], i).backing
        held = sum(s.acquisitions for s in self.subjects if s.backing is backing)
        _, error = outcome(lambda: backing.obj.append(0))
        assert error is (BufferError if held else None)
        if error is None:
            backing.obj.pop()

    @precondition(lambda self: any(s.kind == "dict" for s in self.live()))
    @rule(i=index)
    def arm_before(self, i):
        """The next `before` call of this proxy raises."""
        subject = self.pick([s for s in self.live() if s.kind == "dict"], i)
        subject.counter.armed = subject.armed = True

    # ------------------------------------------------------------------ invariants

    @invariant()
    def model_agrees(self):
        global STEPS
        STEPS += 1
        for backing in self.backings:
            assert backing.actual() == backing.mem, backing.kind
        for subject in list(self.subjects):
            self.check_subject(subject)
        for backing in self.backings:
            if backing.kind in ("exporter", "exporter-parent"):
                users = [s for s in self.subjects if s.backing is backing]
                assert backing.obj.exports == sum(s.acquisitions for s in users)

    def check_subject(self, subject):
        if not subject.alive:
            # Nothing references the proxy: it is gone, and its held acquisition released.
            assert subject.ref() is None
            subject.held = False
            self.subjects.remove(subject)
            self.retired.append(subject)
        counter = subject.counter
        if counter is not None:
            assert counter.before - counter.after == subject.acquisitions
            assert counter.armed == subject.armed
            assert counter.wrong_parents == 0
        if not subject.alive:
            return
        assert subject.ref() is not None
        layout = subject.layout
        mem = subject.backing.mem
        c_bytes = layout.c_bytes(mem)
        for how, obj, _extra in subject.exports:
            if how == "memoryview":
                assert obj.tobytes() == c_bytes
            elif how == "getbuffer":
                if layout.nitems:
                    lo, hi = layout.span
                    assert ctypes.string_at(obj.buf + lo, hi - lo) == mem
            else:
                assert obj.tobytes() == c_bytes
        for how, obj in subject.keepers:
            if how == "capsule":
                if subject.at_null:
                    assert capsule_interface(obj).data is None
                elif layout.nitems:
                    lo, hi = layout.span
                    assert ctypes.string_at(capsule_interface(obj).data + lo, hi - lo) == mem
            else:
                assert obj.tobytes() == c_bytes

    def teardown(self):
        # After a failed step, the failure's traceback may still hold proxies: release what
        # the model holds, but check the baseline only after a clean run.
        clean = sys.exc_info()[0] is None
        for subject in self.subjects:
            while subject.exports:
                self.release_export(self.subjects.index(subject), 0)
            subject.keepers.clear()
            subject.proxy = None
            subject.held = False
        gc.collect()
        if not clean:
            return
        for subject in self.subjects + self.retired:
            assert subject.ref() is None
            if subject.counter is not None:
                assert subject.counter.before == subject.counter.after
        for backing in self.backings:
            if backing.kind in ("exporter", "exporter-parent"):
                assert backing.obj.exports == 0
            if backing.kind == "bytearray":
                backing.obj.append(0)  # resizable again
                backing.obj.pop()
            assert backing.actual() == backing.mem


def test_random_operation_sequences():
    global STEPS, MACHINES
    STEPS = MACHINES = 0
    try:
        run_state_machine_as_test(
            ProxyMachine,
            settings=settings(max_examples=MAX_EXAMPLES, stateful_step_count=STEP_COUNT),
        )
    finally:
        gc.unfreeze()
        gc.collect()
    steps = STEPS - MACHINES  # the invariant also runs once before the first step
    assert steps > 0
    if PROFILE == "thorough":
        assert steps >= THOROUGH_MIN_STEPS, steps
    print(f"stateful: {MACHINES} machines, {steps} steps ({PROFILE} profile)")
