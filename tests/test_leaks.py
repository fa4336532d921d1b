"""Leaks: every operation, succeeding or failing, repeated ITERATIONS times, leaves no trace.

Each operation runs WARMUP times, then ITERATIONS times between two measurements of the
resident set size (from /proc/self/statm: Rust allocations are invisible to tracemalloc) and
of tracemalloc's traced memory (Python objects). The bounds are far below what the smallest
leak produces (measured over 100 000 iterations: one 16-byte malloc per iteration, invisible
to tracemalloc, grows the RSS by about 3 MiB; one leaked Python object per iteration grows
traced memory by over 2 MiB) and far above the noise (every operation measures 0 bytes of RSS
growth and under 1 KiB of traced growth). Callback counts and `Exporter.exports` must balance.

The reference-count tests check that the parent, the callbacks, the description dict and
the data object get back exactly the references they had once the proxy and all its
exports are gone, on success and failure paths alike.
"""

import ctypes
import gc
import os
import sys
import time
import tracemalloc

import numpy as np
import pytest
from cstructs import Py_buffer, PyBUF_RECORDS

from bufferproxy import BufferProxy
from bufferproxy._testing import Exporter

ITERATIONS = 100_000
WARMUP = 5_000
RSS_BOUND = 1 << 20  # bytes of resident set growth allowed over ITERATIONS
TRACED_BOUND = 64 << 10  # bytes of tracemalloc growth allowed over ITERATIONS

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")

_get_buffer = ctypes.PYFUNCTYPE(
    ctypes.c_int, ctypes.py_object, ctypes.POINTER(Py_buffer), ctypes.c_int
)(("PyObject_GetBuffer", ctypes.pythonapi))


def rss():
    """Resident set size in bytes (Linux)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE_SIZE


def collect():
    for _ in range(3):
        gc.collect()


class Boom(Exception):
    pass


class Counts:
    """before/after callbacks that only count (no list grows in the loop)."""

    def __init__(self):
        self.before = 0
        self.after = 0

    def on_before(self, parent):
        self.before += 1

    def on_after(self, parent):
        self.after += 1


class Fixture:
    """The objects the operations use, made once per test."""

    def __init__(self):
        self.counts = Counts()
        self.data = bytearray(range(64))
        self.description = {
            "shape": (8, 8),
            "typestr": "|u1",
            "data": self.data,
            "parent": self,
            "before": self.counts.on_before,
            "after": self.counts.on_after,
        }
        self.proxy = BufferProxy(self.description)
        self.exporter = Exporter([4, 4], "H")
        self.exporter_proxy = BufferProxy(self.exporter)
        self.readonly_proxy = BufferProxy(
            {
                "shape": (16,),
                "typestr": "|u1",
                "data": bytes(16),
                "before": self.counts.on_before,
                "after": self.counts.on_after,
            }
        )
        self.invalid = {"shape": [8], "typestr": "|u1", "data": self.data}
        self.raising_before = {
            "shape": (8,),
            "typestr": "|u1",
            "data": self.data,
            "before": self.raise_boom,
            "after": self.counts.on_after,
        }

    @staticmethod
    def raise_boom(parent):
        raise Boom


class StructHolder:
    """Hands numpy a capsule through `__array_struct__`."""

    def __init__(self, capsule):
        self.__array_struct__ = capsule


def expect(exc_type, fn, *args):
    try:
        fn(*args)
    except exc_type:
        return
    raise AssertionError(f"{fn} did not raise {exc_type.__name__}")


def writable_request(obj):
    view = Py_buffer()
    _get_buffer(obj, ctypes.byref(view), PyBUF_RECORDS)


def operations(f):
    """name -> zero-argument callable; one call is one iteration."""
    proxy = f.proxy
    return {
        "construct+length": lambda: BufferProxy(f.description).length,
        "construct over an Exporter": lambda: BufferProxy(f.exporter).length,
        "memoryview export/release": lambda: memoryview(proxy).release(),
        "memoryview over an Exporter": lambda: memoryview(f.exporter_proxy).release(),
        "numpy.asarray": lambda: np.asarray(proxy),
        "__array_interface__": lambda: proxy.__array_interface__,
        "__array_struct__ capsule": lambda: proxy.__array_struct__,
        "numpy.asarray of the capsule": lambda: np.asarray(StructHolder(proxy.__array_struct__)),
        "raw": lambda: proxy.raw,
        "write": lambda: proxy.write(b"abcd", 60),
        "invalid description ValueError": lambda: expect(
            ValueError, lambda: BufferProxy(f.invalid).length
        ),
        "write IndexError": lambda: expect(IndexError, proxy.write, b"abcd", 62),
        "write ValueError (too long)": lambda: expect(ValueError, proxy.write, bytes(65)),
        "write TypeError (bad buffer)": lambda: expect(TypeError, proxy.write, 5),
        "writable request on read-only BufferError": lambda: expect(
            BufferError, writable_request, f.readonly_proxy
        ),
        "write on read-only BufferError": lambda: expect(BufferError, f.readonly_proxy.write, b"x"),
        "before raising": lambda: expect(Boom, lambda: BufferProxy(f.raising_before).length),
        "non-exporter ValueError": lambda: expect(ValueError, lambda: BufferProxy(1).length),
    }


OPERATIONS = list(operations(Fixture()))


@pytest.mark.parametrize("name", OPERATIONS)
def test_no_growth(name):
    fixture = Fixture()
    op = operations(fixture)[name]
    proxy = fixture.proxy
    proxy.length  # noqa: B018  (the held view, acquired before measuring)
    fixture.exporter_proxy.length  # noqa: B018
    fixture.readonly_proxy.length  # noqa: B018
    for _ in range(WARMUP):
        op()
    collect()
    tracemalloc.start()
    try:
        rss_start = rss()
        traced_start = tracemalloc.get_traced_memory()[0]
        start = time.perf_counter()
        for _ in range(ITERATIONS):
            op()
        elapsed = time.perf_counter() - start
        collect()
        traced = tracemalloc.get_traced_memory()[0] - traced_start
        grown = rss() - rss_start
    finally:
        tracemalloc.stop()
    # Shown with pytest -rP: the figures behind the bounds.
    print(f"{name}: {ITERATIONS} in {elapsed:.2f} s, RSS {grown:+d} B, traced {traced:+d} B")
    assert grown < RSS_BOUND, f"RSS grew by {grown} bytes over {ITERATIONS} iterations"
    assert traced < TRACED_BOUND, f"traced memory grew by {traced} bytes"
    # Everything acquired was released: only the three held views remain.
    assert fixture.counts.before - fixture.counts.after == 2
    assert fixture.exporter.exports == 1


def test_counts_balance_after_the_loops():
    fixture = Fixture()
    for op in operations(fixture).values():
        for _ in range(100):
            op()
    counts, exporter = fixture.counts, fixture.exporter
    del fixture, op
    collect()
    assert counts.before == counts.after
    assert exporter.exports == 0


# ---------------------------------------------------------------------- reference counts


class Parent:
    pass


def before(parent):
    pass


def after(parent):
    pass


def raising_before(parent):
    raise Boom


def refcounts(objects):
    return [sys.getrefcount(o) for o in objects]


def exercise(proxy):
    """Every use of a working proxy: held view, exports of every kind, write, failures."""
    assert proxy.length == 16
    assert proxy.raw == bytes(range(16))
    repr(proxy)
    proxy.parent  # noqa: B018
    proxy.__array_interface__  # noqa: B018
    capsule = proxy.__array_struct__
    view = memoryview(proxy)
    array = np.asarray(proxy)
    by_bytes = np.frombuffer(proxy, np.uint8)
    struct_array = np.asarray(StructHolder(proxy.__array_struct__))
    proxy.write(bytes(range(16)))
    expect(IndexError, proxy.write, b"x", 16)
    expect(ValueError, proxy.write, bytes(17))
    expect(TypeError, proxy.write, 1.5)
    assert view.tobytes() == array.tobytes() == by_bytes.tobytes() == struct_array.tobytes()
    view.release()
    del capsule, array, by_bytes, struct_array


def description(data, **extra):
    d = {
        "shape": (4, 4),
        "typestr": "|u1",
        "data": data,
        "parent": Parent(),
        "before": before,
        "after": after,
    }
    d.update(extra)
    return d


@pytest.mark.parametrize("data_kind", ["bytearray", "Exporter", "address"])
def test_refcounts_return_to_baseline_dict(data_kind):
    owner = None
    if data_kind == "bytearray":
        data = bytearray(range(16))
    elif data_kind == "Exporter":
        data = Exporter([16], "B")
        data.set_memory(bytes(range(16)))
    else:
        owner = ctypes.create_string_buffer(bytes(range(16)), 16)
        data = (ctypes.addressof(owner), False)
    d = description(data)
    watched = [d, d["parent"], before, after, data]
    baseline = refcounts(watched)
    proxy = BufferProxy(d)
    exercise(proxy)
    assert refcounts(watched) != baseline  # the proxy holds them
    del proxy
    collect()
    assert refcounts(watched) == baseline
    if data_kind == "Exporter":
        assert data.exports == 0


@pytest.mark.parametrize("parent_kind", ["bytearray", "Exporter", "numpy"])
def test_refcounts_return_to_baseline_exporter(parent_kind):
    if parent_kind == "bytearray":
        parent = bytearray(range(16))
    elif parent_kind == "Exporter":
        parent = Exporter([16], "B")
        parent.set_memory(bytes(range(16)))
    else:
        parent = np.arange(16, dtype=np.uint8)
    baseline = sys.getrefcount(parent)
    proxy = BufferProxy(parent)
    exercise(proxy)
    del proxy
    collect()
    assert sys.getrefcount(parent) == baseline
    if parent_kind == "Exporter":
        assert parent.exports == 0
    if parent_kind == "bytearray":
        parent.append(0)  # no export left


def test_refcounts_after_failures():
    """Failed first uses, failed exports and failed writes keep no reference."""
    data = bytearray(range(16))
    parent = Parent()
    readonly_data = bytes(16)
    cases = [
        (description(data, shape=[16]), ValueError),
        (description(data, typestr="|x1"), ValueError),
        (description(data, strides=(1,)), ValueError),
        (description(bytearray(3)), ValueError),
        (description(data, before=raising_before), Boom),
        (description(data, before=Parent()), TypeError),  # not callable
    ]
    for d, error in cases:
        d["parent"] = parent
        watched = [d, parent, data, d["before"], d["after"], d["data"]]
        baseline = refcounts(watched)
        proxy = BufferProxy(d)
        for use in (
            lambda p: p.length,
            lambda p: p.raw,
            memoryview,
            np.asarray,
            lambda p: p.write(b"x"),
            lambda p: p.__array_struct__,
        ):
            # numpy.asarray falls back from the buffer protocol to __array_struct__, which
            # fails the same way.
            expect(error, use, proxy)
        del proxy
        collect()
        assert refcounts(watched) == baseline, d

    d = description(readonly_data)
    watched = [d, readonly_data, before, after]
    baseline = refcounts(watched)
    proxy = BufferProxy(d)
    expect(BufferError, proxy.write, b"x")
    expect(BufferError, writable_request, proxy)
    proxy.length  # noqa: B018
    expect(BufferError, proxy.write, b"x")
    expect(BufferError, writable_request, proxy)
    del proxy
    collect()
    assert refcounts(watched) == baseline


def test_write_sources_keep_no_reference():
    proxy = BufferProxy(bytearray(16))
    sources = [b"abcd", "abcd", bytearray(b"abcd"), memoryview(b"abcd"), np.arange(4, dtype="u1")]
    baseline = refcounts(sources)
    for source in sources:
        for _ in range(100):
            proxy.write(source, 4)
        expect(IndexError, proxy.write, source, 13)
    del source
    assert refcounts(sources) == baseline
    assert proxy.raw[4:8] == bytes(range(4))
