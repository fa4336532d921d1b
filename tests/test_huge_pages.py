"""Large `raw` results are advised transparent huge pages before the copy (Linux).

A fresh 64 MiB result otherwise takes 16,384 page faults of 4 KiB during the copy, which
halves its speed (benches/compare.py, op j). The advice is `madvise(MADV_HUGEPAGE)` on the
2 MiB-aligned interior of the new `bytes` object; the kernel shows it as the `hg` flag of the
memory area in /proc/self/smaps. Below the threshold, and where the advice cannot apply,
the copy is the plain one: every size must give the same bytes.
"""

import ctypes
import os
import sys

import numpy as np
import pytest

import bufferproxy
from bufferproxy import BufferProxy

THRESHOLD = bufferproxy._bufferproxy._HUGE_PAGE_THRESHOLD
HUGE_PAGE = 2 * 1024 * 1024
SMAPS = "/proc/self/smaps"


def pattern(nbytes):
    return np.arange(nbytes, dtype=np.uint32).astype(np.uint8) ^ 0x5A


def data_address(result):
    """Address of a bytes object's first byte (CPython: ob_sval, the last header field)."""
    return id(result) + sys.getsizeof(b"") - 1


def advised_ranges():
    """(start, end) of every memory area of this process with the huge-page advice flag."""
    ranges = []
    start = end = None
    with open(SMAPS) as smaps:
        for line in smaps:
            head = line.split()[0]
            if "-" in head and not head.endswith(":"):
                start, end = (int(x, 16) for x in head.split("-"))
            elif head == "VmFlags:" and "hg" in line.split()[1:]:
                ranges.append((start, end))
    return ranges


def test_threshold_is_where_pages_are_large():
    assert THRESHOLD == 4 * 1024 * 1024
    assert THRESHOLD % HUGE_PAGE == 0


@pytest.mark.parametrize(
    "nbytes",
    [THRESHOLD - 1, THRESHOLD, THRESHOLD + 1, 3 * HUGE_PAGE + 12345, 64 * 1024 * 1024 + 7],
)
def test_large_contiguous_raw_is_exact(nbytes):
    src = pattern(nbytes)
    proxy = BufferProxy(src)
    assert proxy.raw == src.tobytes()
    described = BufferProxy({"shape": (nbytes,), "typestr": "|u1", "data": src})
    assert described.raw == src.tobytes()


def test_large_strided_raw_is_exact():
    # A gather (every other column of a 2048 x 4096 array): 4 MiB of result from 8 MiB.
    src = pattern(2048 * 4096).reshape(2048, 4096)
    view = src[:, ::2]
    proxy = BufferProxy(view)
    assert proxy.length == THRESHOLD
    assert proxy.raw == view.tobytes()


@pytest.mark.skipif(
    not os.path.exists("/sys/kernel/mm/transparent_hugepage/enabled"),
    reason="no transparent huge pages on this system (not Linux, or built without them)",
)
def test_large_result_is_advised_huge_pages():
    nbytes = 16 * HUGE_PAGE
    src = pattern(nbytes)
    result = BufferProxy(src).raw
    start = data_address(result)
    assert result == src.tobytes()
    # The aligned interior carries the advice, whether or not the kernel found huge pages.
    lo = -(-start // HUGE_PAGE) * HUGE_PAGE
    hi = (start + nbytes) // HUGE_PAGE * HUGE_PAGE
    assert hi - lo >= 14 * HUGE_PAGE
    advised = advised_ranges()
    assert any(a <= lo and hi <= b for a, b in advised), (hex(lo), hex(hi), advised)
    # ctypes sees the same bytes at the computed address (the address helper is right).
    assert ctypes.string_at(start, 16) == result[:16]
