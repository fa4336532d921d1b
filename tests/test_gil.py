"""Large copies (`raw`, `write`) release the GIL, so other Python threads make progress.

A background thread counts as fast as it can. The main thread makes one large copy and
reads the counter right before and right after it. The switch interval is raised above
the copy's duration (tens of ms), so a thread holding the GIL through the copy is not asked
to give it up meanwhile: without the release the counter cannot move during the copy; with
it, the counter runs on while the memory is copied (and the main thread then waits up to
one switch interval to get the GIL back).
"""

import ctypes
import sys
import threading
import time

import pytest

import bufferproxy
from bufferproxy import BufferProxy

THRESHOLD = bufferproxy._bufferproxy._GIL_RELEASE_THRESHOLD
BIG = 64 * 1024 * 1024  # long enough (tens of ms) for the counter to run many times


@pytest.fixture
def long_switch_interval():
    before = sys.getswitchinterval()
    sys.setswitchinterval(0.25)
    yield
    sys.setswitchinterval(before)


class Counter(threading.Thread):
    def __init__(self):
        super().__init__(daemon=True)
        self.count = 0
        self.stop = False
        self.started = threading.Event()

    def run(self):
        self.started.set()
        while not self.stop:
            self.count += 1


def progress_during(copy):
    """How far the counter thread got while `copy()` ran, and the copy's duration."""
    counter = Counter()
    counter.start()
    counter.started.wait()
    time.sleep(0.01)  # let the counter get going and hand the GIL back
    before = counter.count
    t0 = time.perf_counter()
    copy()
    elapsed = time.perf_counter() - t0
    after = counter.count
    counter.stop = True
    counter.join()
    return after - before, elapsed


def best_progress(copy, attempts=3):
    """The most the counter got during one of a few copies (and that copy's duration).

    On a loaded machine the counter thread may not be scheduled within a few-ms copy even
    though the GIL was free; a copy holding the GIL gives 0 every time, so the best of a
    few tries still tells the two apart.
    """
    return max(progress_during(copy) for _ in range(attempts))


def big_proxy(size):
    buf = (ctypes.c_ubyte * size)()
    ctypes.memset(buf, 0x5A, size)
    proxy = BufferProxy({"shape": (size,), "typestr": "|u1", "data": buf})
    return buf, proxy


def test_threshold_is_a_sensible_size():
    assert 4 * 1024 < THRESHOLD <= 1024 * 1024


@pytest.mark.usefixtures("long_switch_interval")
def test_raw_of_a_large_buffer_lets_other_threads_run():
    _buf, proxy = big_proxy(BIG)
    assert proxy.length == BIG
    steps, elapsed = best_progress(lambda: proxy.raw)
    assert steps > 1000, f"counter moved {steps} times during a {elapsed * 1e3:.1f} ms copy"


@pytest.mark.usefixtures("long_switch_interval")
def test_strided_raw_of_a_large_layout_lets_other_threads_run():
    rows, cols, stride = 4096, 4096, 8192
    buf = (ctypes.c_ubyte * (rows * stride))()
    desc = {"shape": (rows, cols), "typestr": "|u1", "data": buf, "strides": (stride, 1)}
    proxy = BufferProxy(desc)
    steps, elapsed = best_progress(lambda: proxy.raw)
    assert steps > 1000, f"counter moved {steps} times during a {elapsed * 1e3:.1f} ms copy"


@pytest.mark.usefixtures("long_switch_interval")
def test_large_write_lets_other_threads_run():
    buf, proxy = big_proxy(BIG)
    data = bytes(range(256)) * (BIG // 256)
    steps, elapsed = best_progress(lambda: proxy.write(data))
    assert steps > 1000, f"counter moved {steps} times during a {elapsed * 1e3:.1f} ms copy"
    assert bytes(buf[:512]) == data[:512]
    assert bytes(buf[-512:]) == data[-512:]


@pytest.mark.usefixtures("long_switch_interval")
def test_small_copies_keep_the_gil():
    """Below the threshold the copy is too short to be worth a release: nothing else runs."""
    _buf, proxy = big_proxy(THRESHOLD - 1)
    assert proxy.length == THRESHOLD - 1
    steps = sum(progress_during(lambda: proxy.raw)[0] for _ in range(3))
    assert steps == 0


def test_results_are_right_on_both_sides_of_the_threshold():
    for size in (THRESHOLD - 1, THRESHOLD, THRESHOLD + 1):
        buf, proxy = big_proxy(size)
        pattern = bytes((i * 7) & 0xFF for i in range(size))
        proxy.write(pattern)
        assert bytes(buf) == pattern
        assert proxy.raw == pattern
