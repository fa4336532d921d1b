"""Threads: one proxy exported, released, read and written from several threads at once.

Each thread owns a disjoint region of the memory: it writes its region through the proxy
and reads it back through every consumer, so the expected bytes are exact even while the
other threads write theirs. Threads start together (threading.Barrier) and the interpreter
switches threads as often as it can. At the end the callback counts balance and every
`Exporter.exports` is back to 0.
"""

import ctypes
import functools
import gc
import sys
import threading
import time

import numpy as np
import pytest
from cstructs import Py_buffer, PyBUF_FULL_RO, PyBUF_RECORDS

from bufferproxy import BufferProxy
from bufferproxy._testing import Exporter

THREADS = 8
ITERATIONS = 5_000  # per thread, each iteration exercising every operation
ROW = 32  # bytes each thread owns

_get_buffer = ctypes.PYFUNCTYPE(
    ctypes.c_int, ctypes.py_object, ctypes.POINTER(Py_buffer), ctypes.c_int
)(("PyObject_GetBuffer", ctypes.pythonapi))
_release_buffer = ctypes.PYFUNCTYPE(None, ctypes.POINTER(Py_buffer))(
    ("PyBuffer_Release", ctypes.pythonapi)
)


def collect():
    for _ in range(3):
        gc.collect()


@pytest.fixture(autouse=True)
def frequent_switches():
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(interval)


class Counts:
    """Thread-safe before/after counters."""

    def __init__(self):
        self.lock = threading.Lock()
        self.before = 0
        self.after = 0

    def on_before(self, parent):
        with self.lock:
            self.before += 1

    def on_after(self, parent):
        with self.lock:
            self.after += 1

    @property
    def live(self):
        with self.lock:
            return self.before - self.after


def run_threads(count, target):
    """Runs target(index) in `count` threads started together; re-raises the first failure."""
    barrier = threading.Barrier(count)
    errors = []

    def main(index):
        try:
            barrier.wait()
            target(index)
        except BaseException as exc:  # reported below, with the thread's traceback
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=main, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def row_value(thread, iteration):
    return bytes([(thread * 37 + iteration) % 256]) * ROW


def hammer(proxy, thread, shape):
    """One thread's work: write its row, read it back through every consumer."""
    start, stop = thread * ROW, (thread + 1) * ROW
    length = shape[0] * shape[1]
    for i in range(ITERATIONS):
        value = row_value(thread, i)
        proxy.write(value, start)
        view = memoryview(proxy)
        assert view.tobytes()[start:stop] == value
        view.release()
        array = np.asarray(proxy)
        assert array[thread].tobytes() == value
        del array
        buffer = Py_buffer()
        _get_buffer(proxy, ctypes.byref(buffer), PyBUF_RECORDS if i % 2 else PyBUF_FULL_RO)
        assert ctypes.string_at(buffer.buf + start, ROW) == value
        _release_buffer(ctypes.byref(buffer))
        assert proxy.raw[start:stop] == value
        assert proxy.length == length
        inter = proxy.__array_interface__
        assert inter["shape"] == shape
        assert ctypes.string_at(inter["data"][0] + start, ROW) == value
        capsule = proxy.__array_struct__
        del capsule
        try:
            proxy.write(value, length - 1)
        except IndexError:
            pass
        else:
            raise AssertionError("write past the end did not raise IndexError")


def expected_memory(threads, iterations):
    return b"".join(row_value(t, iterations - 1) for t in range(threads))


def test_threads_share_one_dict_proxy():
    counts = Counts()
    data = bytearray(THREADS * ROW)
    proxy = BufferProxy(
        {
            "shape": (THREADS, ROW),
            "typestr": "|u1",
            "data": data,
            "parent": counts,
            "before": counts.on_before,
            "after": counts.on_after,
        }
    )
    run_threads(THREADS, functools.partial(hammer, proxy, shape=(THREADS, ROW)))
    assert data == expected_memory(THREADS, ITERATIONS)
    # Only the held view is left; the threads' exports and writes were each bracketed.
    assert counts.live == 1
    assert counts.before >= THREADS * ITERATIONS * 4
    with pytest.raises(BufferError):
        data.append(0)
    del proxy
    collect()
    assert counts.live == 0
    data.append(0)


def test_threads_share_one_exporter_proxy():
    exporter = Exporter([THREADS, ROW], "B")
    proxy = BufferProxy(exporter)
    run_threads(THREADS, functools.partial(hammer, proxy, shape=(THREADS, ROW)))
    assert exporter.memory() == expected_memory(THREADS, ITERATIONS)
    assert exporter.exports == 1  # the held view
    del proxy
    collect()
    assert exporter.exports == 0


def test_threads_with_their_own_proxies_over_one_exporter():
    """Each thread makes and drops proxies (dict and plain) over one shared Exporter."""
    exporter = Exporter([THREADS * ROW], "B")
    counts = Counts()

    def work(thread):
        start, stop = thread * ROW, (thread + 1) * ROW
        for i in range(ITERATIONS // 4):
            value = row_value(thread, i)
            if i % 2:
                proxy = BufferProxy(exporter)
            else:
                proxy = BufferProxy(
                    {
                        "shape": (THREADS * ROW,),
                        "typestr": "|u1",
                        "data": exporter,
                        "before": counts.on_before,
                        "after": counts.on_after,
                    }
                )
            proxy.write(value, start)
            view = memoryview(proxy)
            assert proxy.raw[start:stop] == value
            assert view[start:stop].tobytes() == value
            del proxy  # the view keeps it
            view.release()

    run_threads(THREADS, work)
    collect()
    assert exporter.exports == 0
    assert counts.live == 0
    assert exporter.memory() == b"".join(row_value(t, ITERATIONS // 4 - 1) for t in range(THREADS))


FIRST_USES = [
    lambda p: p.length,
    lambda p: p.raw,
    lambda p: p.__array_interface__,
    lambda p: p.__array_struct__,
    lambda p: p.parent,
    repr,
]


def test_concurrent_first_use_keeps_one_acquisition():
    """Threads race to be first to use a fresh proxy: one acquisition stays, none leaks."""
    rounds = 300
    counts = Counts()
    exporter = Exporter([64], "B")
    barrier = threading.Barrier(THREADS)
    proxies = []
    errors = []
    lock = threading.Lock()

    def slow_before(parent):
        counts.on_before(parent)
        time.sleep(0)  # let the other threads race

    def main(thread):
        try:
            for r in range(rounds):
                if thread == 0:
                    proxy = BufferProxy(
                        {
                            "shape": (64,),
                            "typestr": "|u1",
                            "data": exporter,
                            "before": slow_before,
                            "after": counts.on_after,
                        }
                    )
                    with lock:
                        proxies.append(proxy)
                    del proxy
                barrier.wait()
                with lock:
                    proxy = proxies[r]
                FIRST_USES[(thread + r) % len(FIRST_USES)](proxy)
                assert proxy.length == 64
                del proxy
                barrier.wait()
                if thread == 0:
                    # Exactly one acquisition per proxy is held.
                    assert counts.live == r + 1
                    assert exporter.exports == r + 1
                barrier.wait()
        except BaseException as exc:
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=main, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    assert counts.live == rounds
    proxies.clear()
    collect()
    assert counts.live == 0
    assert exporter.exports == 0


def test_first_use_calls_before_once_across_threads():
    """DECISIONS.md, "'Once' holds across threads too": 8 threads race the first use of each
    of 300 proxies; exactly one of them runs `before`, the others wait and share its
    acquisition. `before` sleeps, so the others arrive while it runs."""
    rounds = 300
    befores = [0] * rounds
    arrivals = [0] * rounds
    lock = threading.Lock()
    exporter = Exporter([16], "B")

    def proxy_for(r):
        def before(parent):
            with lock:
                befores[r] += 1
            time.sleep(0.0005)  # the other threads reach the proxy meanwhile

        return BufferProxy({"shape": (16,), "typestr": "|u1", "data": exporter, "before": before})

    proxies = [proxy_for(r) for r in range(rounds)]
    barrier = threading.Barrier(THREADS)

    def main(thread):
        for r, proxy in enumerate(proxies):
            barrier.wait()
            with lock:
                arrivals[r] += 1
            FIRST_USES[(thread + r) % len(FIRST_USES)](proxy)
            assert proxy.length == 16

    run_threads(THREADS, main)
    assert arrivals == [THREADS] * rounds
    assert befores == [1] * rounds
    # One held acquisition per proxy, each holding one export of the data object.
    assert exporter.exports == rounds
    proxies.clear()
    collect()
    assert exporter.exports == 0


def test_waiting_threads_retry_after_a_failed_first_use():
    """A `before` that raises fails only its own caller's use; a thread that waited for it
    then makes the next attempt itself (DECISIONS.md: "the next use tries again")."""
    calls = []
    lock = threading.Lock()
    entered = threading.Event()

    def before(parent):
        with lock:
            calls.append(threading.get_ident())
            first = len(calls) == 1
        if first:
            entered.set()
            time.sleep(0.05)  # the other thread starts waiting meanwhile
            raise KeyError("first attempt fails")

    proxy = BufferProxy({"shape": (4,), "typestr": "|u1", "data": bytearray(4), "before": before})
    results = {}

    def first():
        try:
            results["first"] = proxy.length
        except KeyError:
            results["first"] = "KeyError"

    def second():
        entered.wait()
        results["second"] = proxy.length

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {"first": "KeyError", "second": 4}
    assert len(calls) == 2
    assert calls[0] != calls[1]


@pytest.mark.parametrize(
    "use", FIRST_USES, ids=["length", "raw", "interface", "struct", "parent", "repr"]
)
def test_reentrant_first_use_raises_runtime_error(use):
    """DECISIONS.md: a first use from inside that proxy's own `before` raises RuntimeError at
    once instead of recursing; `before` runs once, nothing stays acquired, and the next use
    (from outside) succeeds."""
    calls = []
    seen = []

    def before(parent):
        calls.append(parent)
        if len(calls) == 1:
            try:
                use(proxy)
            except RuntimeError as exc:
                seen.append(str(exc))
                raise

    exporter = Exporter([4], "B")
    proxy = BufferProxy(
        {"shape": (4,), "typestr": "|u1", "data": exporter, "parent": "p", "before": before}
    )
    with pytest.raises(RuntimeError, match="first use"):
        _ = proxy.length
    assert calls == ["p"]
    assert len(seen) == 1
    assert exporter.exports == 0
    assert proxy.length == 4
    assert calls == ["p", "p"]
    assert exporter.exports == 1


def test_large_copies_in_parallel():
    """raw and write of large blocks (which release the GIL) from several threads at once."""
    threads = 4
    region = 1 << 20
    data = bytearray(threads * region)
    counts = Counts()
    proxy = BufferProxy(
        {
            "shape": (threads * region,),
            "typestr": "|u1",
            "data": data,
            "before": counts.on_before,
            "after": counts.on_after,
        }
    )

    def work(proxy, thread):
        start = thread * region
        for i in range(40):
            value = bytes([(thread * 37 + i) % 256]) * region
            proxy.write(value, start)
            raw = proxy.raw
            assert len(raw) == threads * region
            assert raw[start : start + region] == value
            del raw

    run_threads(threads, functools.partial(work, proxy))
    assert data == b"".join(bytes([(t * 37 + 39) % 256]) * region for t in range(threads))
    assert counts.live == 1
    del proxy
    collect()
    assert counts.live == 0
