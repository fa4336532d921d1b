"""Lifetimes: consumers that outlive the proxy, parents held while exported, proxy chains.

Every consumer is real (memoryview, numpy, ctypes) and reads the memory after the last Python
reference to the proxy is gone and the garbage collector has run.
"""

import ctypes
import gc
import math
import struct
import sys
import weakref

import numpy as np
import pytest
from cstructs import PAI_WRITEABLE, PyArrayInterface

from bufferproxy import BufferProxy
from bufferproxy._testing import Exporter

CONTENT = bytes(range(100, 116))

_capsule_pointer = ctypes.PYFUNCTYPE(ctypes.c_void_p, ctypes.py_object, ctypes.c_char_p)(
    ("PyCapsule_GetPointer", ctypes.pythonapi)
)


def collect():
    gc.collect()


class StructHolder:
    """Hands numpy a capsule through `__array_struct__` (and keeps nothing else)."""

    def __init__(self, capsule):
        self.__array_struct__ = capsule


class Log:
    """before/after callbacks appending ("before"|"after", name) to a shared list."""

    def __init__(self, events, name):
        self.events = events
        self.name = name

    def before(self, parent):
        self.events.append(("before", self.name))

    def after(self, parent):
        self.events.append(("after", self.name))


class Parent:
    """A weak-referenceable `parent` for descriptions."""


class Source:
    """A proxy over 16 bytes of CONTENT, and how to check the memory and its release."""

    def __init__(self, kind):
        self.kind = kind
        self.events = []
        self.exporter = None
        self.owner = None
        log = Log(self.events, kind)
        if kind == "dict over a bytearray":
            self.memory = bytearray(CONTENT)
            parent = Parent()
            self.watch = weakref.ref(parent)
            self.proxy = BufferProxy(
                {
                    "shape": (4, 4),
                    "typestr": "|u1",
                    "data": self.memory,
                    "parent": parent,
                    "before": log.before,
                    "after": log.after,
                }
            )
        elif kind == "dict over an address":
            self.owner = ctypes.create_string_buffer(CONTENT, 16)
            parent = Parent()
            self.watch = weakref.ref(parent)
            self.proxy = BufferProxy(
                {
                    "shape": (4, 4),
                    "typestr": "|u1",
                    "data": (ctypes.addressof(self.owner), False),
                    "parent": parent,
                    "before": log.before,
                    "after": log.after,
                }
            )
        elif kind == "dict over an Exporter":
            self.exporter = Exporter([16], "B")
            self.exporter.set_memory(CONTENT)
            parent = Parent()
            self.watch = weakref.ref(parent)
            self.proxy = BufferProxy(
                {
                    "shape": (4, 4),
                    "typestr": "|u1",
                    "data": self.exporter,
                    "parent": parent,
                    "before": log.before,
                    "after": log.after,
                }
            )
        elif kind == "bytearray":
            self.memory = bytearray(CONTENT)
            self.watch = None
            self.proxy = BufferProxy(self.memory)
        elif kind == "Exporter":
            self.exporter = Exporter([4, 4], "B")
            self.exporter.set_memory(CONTENT)
            self.watch = None
            self.proxy = BufferProxy(self.exporter)
        else:
            self.memory = bytearray(CONTENT)
            array = np.frombuffer(self.memory, np.uint8).reshape(4, 4)
            self.watch = weakref.ref(array)
            self.proxy = BufferProxy(array)
        self.proxy_ref = weakref.ref(self.proxy)

    def current(self):
        """The 16 bytes as they are now, read without the proxy."""
        if self.exporter is not None:
            return self.exporter.memory()
        if self.owner is not None:
            return self.owner.raw[:16]
        return bytes(self.memory)

    def check_released(self):
        """The proxy is gone and released everything it acquired."""
        assert self.proxy_ref() is None
        if self.watch is not None:
            assert self.watch() is None  # the parent (or numpy parent) died with the proxy
        befores = [e for e in self.events if e[0] == "before"]
        afters = [e for e in self.events if e[0] == "after"]
        assert len(befores) == len(afters)
        if self.exporter is not None:
            assert self.exporter.exports == 0
        if self.kind in ("bytearray", "dict over a bytearray", "numpy"):
            self.memory.extend(b"!")  # resizable again
            del self.memory[-1]


KINDS = [
    "dict over a bytearray",
    "dict over an address",
    "dict over an Exporter",
    "bytearray",
    "Exporter",
    "numpy",
]


def capsule_interface(capsule):
    return PyArrayInterface.from_address(_capsule_pointer(capsule, None))


# ---------------------------------------------------------------- consumers outliving the proxy


def _position(shape, offset):
    return tuple(int(i) for i in np.unravel_index(offset, shape))


def _memoryview(proxy):
    holder = [memoryview(proxy)]

    def write(offset, value):
        view = holder[0]
        view[_position(view.shape, offset)] = value

    return (lambda: holder[0].tobytes()), write, lambda: holder.pop().release()


def _array_consumer(make):
    def consumer(proxy):
        holder = [make(proxy)]

        def write(offset, value):
            array = holder[0]
            array[_position(array.shape, offset)] = value

        return (lambda: holder[0].tobytes()), write, holder.clear

    return consumer


def _struct_ctypes(proxy):
    holder = [proxy.__array_struct__]

    def read():
        inter = capsule_interface(holder[0])
        assert inter.two == 2
        assert inter.flags & PAI_WRITEABLE
        assert math.prod(inter.shape[: inter.nd]) == 16
        return ctypes.string_at(inter.data, 16)

    def write(offset, value):
        ctypes.memset(capsule_interface(holder[0]).data + offset, value, 1)

    return read, write, holder.clear


# name -> make(proxy) -> (read(), write(offset, value), release()); nothing else is kept.
CONSUMERS = {
    "memoryview": _memoryview,
    "numpy.asarray": _array_consumer(np.asarray),
    "numpy.frombuffer": _array_consumer(lambda p: np.frombuffer(p, np.uint8)),
    "capsule via numpy": _array_consumer(lambda p: np.asarray(StructHolder(p.__array_struct__))),
    "capsule via ctypes": _struct_ctypes,
}


@pytest.mark.parametrize("consumer", list(CONSUMERS))
@pytest.mark.parametrize("kind", KINDS)
def test_consumer_outlives_the_proxy(kind, consumer):
    source = Source(kind)
    read, write, release = CONSUMERS[consumer](source.proxy)
    source.proxy = None  # the last reference the test holds
    collect()
    assert source.proxy_ref() is not None  # kept alive by the consumer
    if source.watch is not None:
        assert source.watch() is not None  # and so is the parent
    assert read() == CONTENT
    write(5, 0xEE)
    expected = CONTENT[:5] + b"\xee" + CONTENT[6:]
    assert read() == expected
    assert source.current() == expected  # the write reached the parent's memory
    if source.exporter is not None:
        assert source.exporter.exports >= 1
    if kind in ("bytearray", "dict over a bytearray", "numpy"):
        with pytest.raises(BufferError):
            source.memory.extend(b"!")
    release()
    del read, write, release
    collect()
    source.check_released()
    assert source.current() == expected


@pytest.mark.parametrize("kind", KINDS)
def test_all_consumers_at_once_outlive_the_proxy(kind):
    source = Source(kind)
    consumers = [make(source.proxy) for make in CONSUMERS.values()]
    source.proxy = None
    collect()
    for i, (read, write, _release) in enumerate(consumers):
        write(i, i)
        assert read()[i] == i
    expected = bytes(range(len(consumers))) + CONTENT[len(consumers) :]
    assert [read() for read, _write, _release in consumers] == [expected] * len(consumers)
    # Release in an order unrelated to creation; the proxy dies with the last one.
    for index in (3, 0, 4, 1, 2):
        assert source.proxy_ref() is not None
        consumers[index][2]()
        collect()
    source.check_released()
    assert source.current() == expected


def test_derived_memoryviews_and_numpy_views_outlive_the_proxy():
    source = Source("dict over an Exporter")
    view = memoryview(source.proxy)
    rows = view[1:3]
    array = np.asarray(source.proxy)
    transposed = array.T[::2]
    source.proxy = None
    del view, array
    collect()
    assert rows.tobytes() == CONTENT[4:12]
    assert transposed.tobytes() == np.frombuffer(CONTENT, np.uint8).reshape(4, 4).T[::2].tobytes()
    assert source.exporter.exports == 2
    rows.release()
    collect()
    assert source.exporter.exports == 1
    del transposed
    collect()
    source.check_released()


def test_capsule_outlives_a_dropped_description():
    """The capsule keeps the proxy, and so the description's parent and data, alive."""
    data = bytearray(CONTENT)
    parent = Parent()
    watch = weakref.ref(parent)
    description = {"shape": (16,), "typestr": "|u1", "data": data, "parent": parent}
    proxy = BufferProxy(description)
    capsule = proxy.__array_struct__
    del proxy, description, parent
    collect()
    assert watch() is not None
    inter = capsule_interface(capsule)
    assert ctypes.string_at(inter.data, 16) == CONTENT
    with pytest.raises(BufferError):
        data.append(0)
    del capsule, inter
    collect()
    assert watch() is None
    data.append(0)


# ---------------------------------------------------------------- a bytearray parent is held


HOLDERS = {
    "first use": lambda p: p.length,
    "memoryview": memoryview,
    "numpy.asarray": np.asarray,
    "numpy.frombuffer": lambda p: np.frombuffer(p, np.uint8),
    "capsule": lambda p: p.__array_struct__,
    "array interface": lambda p: p.__array_interface__,
}


@pytest.mark.parametrize("described", [False, True], ids=["parent", "data"])
@pytest.mark.parametrize("holder", list(HOLDERS))
def test_bytearray_cannot_resize_while_held(holder, described):
    data = bytearray(CONTENT)
    if described:
        proxy = BufferProxy({"shape": (16,), "typestr": "|u1", "data": data})
    else:
        proxy = BufferProxy(data)
    data.extend(b"!")  # nothing acquired at construction
    del data[-1]
    held = HOLDERS[holder](proxy)
    for resize in (lambda: data.extend(b"!"), lambda: data.pop(), lambda: data.clear()):
        with pytest.raises(BufferError):
            resize()
    assert data == CONTENT
    if holder != "first use":
        del proxy  # the consumer alone still holds the bytearray (the interface dict does not)
        collect()
        if holder == "array interface":
            data.extend(b"!")  # a plain dict keeps nothing alive
            del data[-1]
            return
        with pytest.raises(BufferError):
            data.extend(b"!")
        if isinstance(held, memoryview):
            held.release()
        del held
    else:
        del held, proxy
    collect()
    data.extend(b"!")
    data.clear()
    assert data == b""


def test_bytearray_held_by_every_proxy_over_it():
    data = bytearray(CONTENT)
    proxies = [BufferProxy(data) for _ in range(3)]
    views = [memoryview(p) for p in proxies]
    del proxies
    collect()
    for view in views:
        with pytest.raises(BufferError):
            data.append(0)
        view.release()
    data.append(0)


# ---------------------------------------------------------------- chains of proxies


def build_chain(depth, mode):
    """An Exporter at the bottom and `depth` proxies over it, each over the one below.

    mode "dict": every level is a dict description with `data` the level below;
    mode "mixed": dict levels alternate with plain `BufferProxy(level below)`.
    Returns (top proxy, exporter, events, weakrefs of every level, bottom first).
    """
    exporter = Exporter([16], "B")
    exporter.set_memory(CONTENT)
    events = []
    below = exporter
    refs = []
    shapes = [(16,), (4, 4), (2, 8), (8, 2), (16,)]
    for level in range(depth):
        if mode == "dict" or level % 2 == 0:
            log = Log(events, level)
            proxy = BufferProxy(
                {
                    "shape": shapes[level],
                    "typestr": "|u1",
                    "data": below,
                    "parent": Parent(),
                    "before": log.before,
                    "after": log.after,
                }
            )
        else:
            proxy = BufferProxy(below)
        refs.append(weakref.ref(proxy))
        below = proxy
    return below, exporter, events, refs


def dict_levels(depth, mode):
    return [level for level in range(depth) if mode == "dict" or level % 2 == 0]


@pytest.mark.parametrize("mode", ["dict", "mixed"])
@pytest.mark.parametrize("depth", [3, 4, 5])
def test_chain_export_acquires_bottom_up_and_releases_top_down(depth, mode):
    top, exporter, events, refs = build_chain(depth, mode)
    assert exporter.exports == 0
    assert events == []  # construction touches nothing, at any level
    view = memoryview(top)
    levels = dict_levels(depth, mode)
    assert exporter.exports == 1
    # Each acquisition first acquires the level below (the description's `data`).
    befores = [name for kind, name in events if kind == "before"]
    assert befores[-len(levels) :] == levels
    events.clear()
    del top
    collect()
    assert all(ref() is not None for ref in refs)  # the view keeps the whole chain
    assert view.tobytes() == CONTENT
    view.release()
    # Released from the top down: each level's `after` runs before the level below is released.
    assert events == [("after", level) for level in reversed(levels)]
    collect()
    assert exporter.exports == 0
    assert all(ref() is None for ref in refs)


@pytest.mark.parametrize("mode", ["dict", "mixed"])
@pytest.mark.parametrize("depth", [3, 4, 5])
def test_chain_held_views_release_in_order(depth, mode):
    top, exporter, events, refs = build_chain(depth, mode)
    assert top.raw == CONTENT  # first use of the top: parses and acquires every level
    assert top.length == 16
    levels = dict_levels(depth, mode)
    befores = [name for kind, name in events if kind == "before"]
    afters = [name for kind, name in events if kind == "after"]
    # Parsing a level bounds-checks its data with a short export of the level below, so the
    # lower levels may run more than once; only one acquisition per level stays.
    assert len(befores) - len(afters) == len(levels)
    assert befores[-len(levels) :] == levels
    assert exporter.exports == 1
    events.clear()

    capsule = top.__array_struct__
    top.write(b"\x01\x02", 14)
    assert events == [("before", lv) for lv in levels] + [("after", lv) for lv in levels[::-1]]
    events.clear()
    del top
    collect()
    assert events == []  # the capsule keeps the top, which keeps everything below
    inter = capsule_interface(capsule)
    assert ctypes.string_at(inter.data, 16) == CONTENT[:14] + b"\x01\x02"
    assert exporter.memory() == CONTENT[:14] + b"\x01\x02"
    del capsule, inter
    collect()
    assert events == [("after", level) for level in reversed(levels)]
    assert exporter.exports == 0
    assert all(ref() is None for ref in refs)


@pytest.mark.parametrize("depth", [3, 5])
def test_chain_levels_used_directly_and_dropped_out_of_order(depth):
    top, exporter, events, refs = build_chain(depth, "dict")
    proxies = [ref() for ref in refs]
    # Every level acquires its own held view, and some exports stay open.
    for proxy in proxies:
        assert proxy.length == 16
    views = [memoryview(proxies[0]), np.asarray(proxies[-1]), memoryview(proxies[depth // 2])]
    del proxy, top
    # Drop the names in an unrelated order: upper levels keep lower ones alive.
    for index in [1, depth - 1, 0, *range(2, depth - 1)]:
        proxies[index] = None
        collect()
        assert all(ref() is not None for ref in refs[: depth - 1])
    assert views[0].tobytes() == views[1].tobytes() == views[2].tobytes() == CONTENT
    assert exporter.exports > 0
    views[1] = None  # the top's numpy export was the top's last reference
    collect()
    assert refs[-1]() is None
    views[0].release()
    views[2].release()
    collect()
    assert exporter.exports == 0
    assert all(ref() is None for ref in refs)
    befores = sum(1 for kind, _name in events if kind == "before")
    assert befores == len(events) - befores


# ---------------------------------------------------------------- cycles


def test_cycle_through_the_description_parent_is_collected():
    events = []
    log = Log(events, "cycle")
    exporter = Exporter([16], "B")
    description = {
        "shape": (16,),
        "typestr": "|u1",
        "data": exporter,
        "before": log.before,
        "after": log.after,
    }
    proxy = BufferProxy(description)
    description["parent"] = proxy  # proxy -> description -> proxy, once parsed
    assert proxy.parent is proxy
    view = memoryview(proxy)
    ref = weakref.ref(proxy)
    del proxy, description
    collect()
    assert ref() is not None  # the view still holds it
    assert exporter.exports == 2
    view.release()
    del view
    collect()
    assert ref() is None
    assert exporter.exports == 0
    assert events == [("before", "cycle")] * 2 + [("after", "cycle")] * 2


def test_cycle_through_a_callback_is_collected():
    exporter = Exporter([16], "B")
    holder = {}
    calls = []

    def before(parent):
        calls.append("before")

    def after(parent):
        # Runs while the collector breaks the cycle: it touches nothing in the cycle.
        calls.append("after")

    proxy = BufferProxy(
        {"shape": (16,), "typestr": "|u1", "data": exporter, "before": before, "after": after}
    )
    holder["proxy"] = None
    assert proxy.length == 16  # callbacks -> holder -> proxy -> callbacks
    holder["proxy"] = proxy
    ref = weakref.ref(proxy)
    del proxy, holder
    collect()
    assert ref() is None
    assert exporter.exports == 0
    assert calls == ["before", "after"]


# ---------------------------------------------------------------- release with an error pending

# C consumers often release a buffer after setting the error they are about to return (struct's
# argument clinic cleanup, numpy.frombuffer dropping its memoryview). The release must keep that
# error: `after` has to run with the pending exception saved and restored around it.


def _failing_consumers():
    strided = {"shape": (4,), "typestr": "|u1", "strides": (2,)}
    return {
        # 4 bytes cannot hold "<8s": struct.error, set before the buffer is released
        "struct.unpack_from": (
            {"shape": (4,), "typestr": "|u1"},
            lambda p: struct.unpack_from("<8s", p),
            struct.error,
        ),
        # numpy takes a memoryview, fails to get a simple buffer of it, drops the memoryview
        "numpy.frombuffer": (strided, lambda p: np.frombuffer(p, np.uint8), BufferError),
    }


@pytest.mark.parametrize("consumer", list(_failing_consumers()))
def test_release_with_an_error_pending_without_after(consumer, monkeypatch):
    unraisable = []
    monkeypatch.setattr(sys, "unraisablehook", lambda args: unraisable.append(args.exc_value))
    layout, call, error = _failing_consumers()[consumer]
    proxy = BufferProxy({**layout, "data": bytearray(8)})
    with pytest.raises(error):
        call(proxy)
    assert unraisable == []


@pytest.mark.parametrize("consumer", list(_failing_consumers()))
def test_release_with_an_error_pending_keeps_the_error(consumer, monkeypatch):
    unraisable = []
    monkeypatch.setattr(sys, "unraisablehook", lambda args: unraisable.append(args.exc_value))
    layout, call, error = _failing_consumers()[consumer]
    events = []
    proxy = BufferProxy({**layout, "data": bytearray(8), "after": events.append})
    with pytest.raises(error):
        call(proxy)
    assert events == [None]  # the export was released, and `after` ran once
    assert unraisable == []
