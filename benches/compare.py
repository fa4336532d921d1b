"""Performance comparison: bufferproxy vs pygame 2.6.1's BufferProxy vs numpy/memoryview/C.

Run it from the repository root, with bufferproxy and numpy installed (pygame 2.6.1 is
optional: without it the pygame columns show "-")::

    python benches/compare.py [--quick]

Options:

  --quick        CI smoke run: no 64 MiB sizes, 3 samples, ~1 ms loops; a few seconds
  --samples N    samples per op (default 9; the median is reported)
  --ops a,b,c    run only these ops (letters below)
  --json PATH    also write the results, with every sample, as JSON
  --markdown     print the header and table as Markdown (for the README)
  --memory       instead of timing, the memory per proxy: the RSS growth over 200,000
                 proxies (a dict description before and after first use, a proxy over an
                 ndarray after first use), each implementation and case in its own process
  --rounds N     instead of the table, a closer look at rows near 1.0: N rounds, each
                 running bufferproxy's loop and pygame's (the reference's where pygame has
                 none) back to back in alternating order; prints the per-round ratio's
                 median, mean and quartiles (use with --ops)

Method. Everything runs in this one process. For each op, every implementation's variant
(bufferproxy, pygame, reference) is first warmed up and auto-calibrated: its statement is
compiled inline into a ``for`` loop whose iteration count is sized to take ~2 ms (~1 ms
with --quick; a single call when one call takes longer). A sample then runs each variant
once, in an order rotated by one every sample, with a ``gc.collect()`` between samples.
A variant's sample is the mean time per call over its loop (``time.perf_counter_ns``, the
garbage collector disabled during the loop), best of 3 back-to-back runs of the loop (2
with --quick) so that a run cut by the scheduler does not count. The table shows the
median over the samples (the JSON output keeps every sample). Times include the loop's
own overhead (a few ns per iteration, printed in the header), which compresses the ratios
of the nanosecond-scale ops slightly towards 1. The load average is printed too: on a
busy machine the times of every implementation suffer, and so do the ratios.

The ops (``d`` is a small dict description, shape (64,) typestr '|u1', over a ctypes buffer
this script owns; ``p`` is a proxy that has already been used once):

  a  BufferProxy(d), no export          ref: tuple(lst), a 1-arg C constructor call that
                                             allocates a new object (lst = [d])
  b  BufferProxy(d).length              ref: memoryview(buf).nbytes on the same ctypes buffer
  c  p.length                           ref: mv.nbytes on an existing memoryview
  d  p.__array_interface__              ref: numpy's arr.__array_interface__
  e  p.__array_struct__                 ref: numpy's arr.__array_struct__
  f  memoryview(p).release()            ref: memoryview(arr).release()
  g  numpy.asarray(p)                   ref: numpy.asarray(mv)
  h  BufferProxy(arr).length            ref: memoryview(arr).nbytes
  i  BufferProxy(obj).length            ref: numpy.asarray(obj).nbytes; obj is a small class
                                             exposing a numpy array's __array_interface__
  j  p.raw, 4 KiB / 1 MiB / 64 MiB      ref: bytes(mv) of the same size (memcpy-bound); GB/s
     j 64 MiB limit: p.raw again, against the fastest fresh copy this machine can make: a
                                        memmove into a new private anonymous mapping advised
                                        MADV_HUGEPAGE (Linux; plain mapping elsewhere)
  k  p.write(src), same sizes           ref: mv[:] = src; GB/s
  l  p.raw of a 1024x1024 '|u1' layout with row stride 2048 over a 2 MiB buffer
                                        ref: arr[:, :1024].tobytes(), arr (1024, 2048) uint8;
                                             also the tracemalloc peak of one call, minus
                                             the size of the result
  m  p.raw and p.write(src) one byte below, and at, the size from which bufferproxy
     releases the GIL during the copy (_GIL_RELEASE_THRESHOLD): the cost of releasing it

Notes:

- OPENBLAS_CORETYPE (like any BLAS setting) does not matter for these ops: none of them
  calls into BLAS; they are object allocation, attribute access, buffer-protocol exports
  and memcpy-style copies. The script changes no environment variable except setting
  PYGAME_HIDE_SUPPORT_PROMPT=1 to silence pygame's banner.
- Op i: numpy's ``__array_interface__`` of a C-contiguous array has ``"strides": None``,
  which both pygame 2.6.1 and bufferproxy reject ("expected a tuple of ints for
  'strides'"), so the helper class fills in the array's explicit strides.
- Op l: pygame 2.6.1 raises ValueError for ``raw`` of non-contiguous data (shown as
  "raises"). tracemalloc only sees allocations made through Python's allocators (the
  ``bytes`` result); heap memory a Rust or C extension takes from the system allocator is
  invisible to it.
- The copy sources and destinations are filled before timing, so no op reads the kernel's
  shared zero page. GB/s means 10**9 bytes per second.
"""

from __future__ import annotations

import argparse
import ctypes
import dataclasses
import datetime
import gc
import importlib
import importlib.metadata
import json
import mmap
import os
import platform
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

os.environ["PYGAME_HIDE_SUPPORT_PROMPT"] = "1"

KIB = 1024
MIB = 1024 * KIB
IMPLS = ("bufferproxy", "pygame", "reference")

# ----------------------------------------------------------------------------- imports


def import_bufferproxy(attempts: int = 30, delay: float = 1.0) -> Any:
    """Import bufferproxy, retrying for a while: the package may be mid-rebuild."""
    for attempt in range(attempts):
        try:
            importlib.invalidate_caches()
            module = importlib.import_module("bufferproxy")
            importlib.import_module("bufferproxy._bufferproxy")
            return module
        except (ImportError, OSError) as exc:
            if attempt == attempts - 1:
                raise
            print(f"import bufferproxy failed ({exc}); retrying", file=sys.stderr)
            time.sleep(delay)
    raise AssertionError("unreachable")


def import_pygame() -> tuple[type | None, str | None]:
    """pygame's BufferProxy class and pygame's version, or (None, None) if not importable."""
    try:
        import pygame
        from pygame.bufferproxy import BufferProxy
    except ImportError:
        return None, None
    return BufferProxy, pygame.version.ver


# ------------------------------------------------------------------------------ header


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def cpu_count() -> str:
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return f"{usable} usable of {os.cpu_count()}" if usable else str(os.cpu_count())


def load_average() -> str:
    """The 1/5/15-minute load averages: other work on the machine makes times noisy."""
    try:
        return " ".join(f"{load:.2f}" for load in os.getloadavg())
    except (AttributeError, OSError):
        return "unknown"


def bufferproxy_build(bp_module: Any) -> str:
    """The native module's file name, whether it is an abi3 build, its size and mtime."""
    path = Path(bp_module._bufferproxy.__file__)
    kind = "abi3" if "abi3" in path.name else "version-specific (not abi3)"
    try:
        version = importlib.metadata.version("bufferproxy")
    except importlib.metadata.PackageNotFoundError:
        version = "?"
    built = datetime.datetime.fromtimestamp(path.stat().st_mtime).astimezone()
    return (
        f"{version}, {path.name} ({kind}, {path.stat().st_size // KIB} KiB, "
        f"built {built.isoformat(timespec='seconds')})"
    )


def header(bp_module: Any, pygame_version: str | None, overhead_ns: float) -> dict[str, str]:
    return {
        "machine": f"{platform.platform()}, {cpu_model()}, nproc {cpu_count()}",
        "python": f"{platform.python_implementation()} {sys.version.split()[0]}",
        "numpy": np.__version__,
        "pygame": pygame_version or "not installed (pygame columns are '-')",
        "bufferproxy": bufferproxy_build(bp_module),
        "load average": load_average(),
        "loop overhead": f"{overhead_ns:.1f} ns per iteration (included in every time)",
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
    }


# ----------------------------------------------------------------------- timing harness

LOOP_SOURCE = """\
def loop(n, clock):
    t0 = clock()
    for _ in range(n):
        {stmt}
    return clock() - t0
"""


def compile_loop(stmt: str, names: dict[str, Any]) -> Callable[[int, Callable[[], int]], int]:
    """A function running `stmt` inline n times, returning the elapsed ns.

    The statement is compiled into the loop body (as timeit does) so that no Python-level
    call is added per iteration; `names` become the loop's globals.
    """
    scope = dict(names)
    exec(LOOP_SOURCE.format(stmt=stmt), scope)
    return scope["loop"]


def run_loop(loop: Callable[[int, Callable[[], int]], int], n: int) -> int:
    gc.disable()
    try:
        return loop(n, time.perf_counter_ns)
    finally:
        gc.enable()


def calibrate(loop: Callable[[int, Callable[[], int]], int], target_ns: int) -> int:
    """Iterations for one run of `loop` to take about `target_ns` (at least 1).

    Each trial is the best of 3 runs, so a run slowed by the scheduler does not shrink n.
    """
    n = 1
    while True:
        elapsed = min(run_loop(loop, n) for _ in range(3))
        if elapsed >= target_ns // 4 or n >= 1 << 26:
            break
        n *= 2
    return max(1, round(n * target_ns / max(elapsed, 1)))


@dataclass
class Settings:
    samples: int  # samples per op; the median is reported
    target_ns: int  # calibrated duration of one run of a loop
    best_of: int  # back-to-back loop runs per sample, the fastest kept


@dataclass
class Variant:
    """One implementation's statement for an op, and its measurements."""

    stmt: str
    names: dict[str, Any]
    n: int = 0
    error: str | None = None
    samples: list[float] = field(default_factory=list)
    loop: Callable[[int, Callable[[], int]], int] | None = None

    def prepare(self, target_ns: int) -> None:
        self.loop = compile_loop(self.stmt, self.names)
        try:
            run_loop(self.loop, 1)  # warm-up, and does it work at all?
        except Exception as exc:
            self.error = f"raises {type(exc).__name__}"
            self.loop = None
            return
        self.n = calibrate(self.loop, target_ns)

    def sample(self, best_of: int) -> None:
        """Mean ns per call over the loop; the best of `best_of` back-to-back runs."""
        assert self.loop is not None
        best = min(run_loop(self.loop, self.n) for _ in range(best_of))
        self.samples.append(best / self.n)

    @property
    def median(self) -> float | None:
        return statistics.median(self.samples) if self.samples else None


@dataclass
class Row:
    """One line of the table: an op (at one size) and its variants."""

    key: str
    label: str
    reference: str  # the reference statement
    reference_note: str
    variants: dict[str, Variant]
    nbytes: int | None = None  # bytes copied per call, for GB/s
    extra: dict[str, Any] = field(default_factory=dict)

    def measure(self, settings: Settings) -> None:
        for variant in self.variants.values():
            variant.prepare(settings.target_ns)
        live = [v for v in self.variants.values() if v.loop is not None]
        for s in range(settings.samples):
            gc.collect()
            shift = s % len(live) if live else 0
            for variant in live[shift:] + live[:shift]:
                variant.sample(settings.best_of)

    def release(self) -> None:
        """Drop the buffers and proxies the statements used."""
        for variant in self.variants.values():
            variant.names.clear()
            variant.loop = None

    def median(self, impl: str) -> float | None:
        variant = self.variants.get(impl)
        return variant.median if variant else None


# ------------------------------------------------------------------------ op builders


@dataclass
class Context:
    bp: type  # bufferproxy.BufferProxy
    pg: type | None  # pygame.bufferproxy.BufferProxy, if importable
    copy_sizes: list[int]


def owned_buffer(nbytes: int, fill: int = 0x5A) -> ctypes.Array:
    """A ctypes buffer this script owns, with every page written (no zero-page reads)."""
    buf = (ctypes.c_ubyte * nbytes)()
    ctypes.memset(buf, fill, nbytes)
    return buf


def describe(buf: ctypes.Array, shape: tuple[int, ...], **extra: Any) -> dict[str, Any]:
    """A dict description of `buf` as '|u1' items (data given as an address)."""
    return {"shape": shape, "typestr": "|u1", "data": (ctypes.addressof(buf), False), **extra}


def used(proxy: Any) -> Any:
    """The proxy after its first use, so it has acquired its memory."""
    _ = proxy.length
    return proxy


def make_row(
    ctx: Context,
    key: str,
    label: str,
    stmt: str,
    proxy_names: Callable[[type], dict[str, Any]],
    ref_stmt: str,
    ref_names: dict[str, Any],
    ref_note: str = "",
    nbytes: int | None = None,
) -> Row:
    """A row timing `stmt` for bufferproxy and pygame (names from `proxy_names(cls)`)."""
    variants = {"bufferproxy": Variant(stmt, proxy_names(ctx.bp))}
    if ctx.pg is not None:
        variants["pygame"] = Variant(stmt, proxy_names(ctx.pg))
    variants["reference"] = Variant(ref_stmt, ref_names)
    return Row(key, label, ref_stmt, ref_note, variants, nbytes)


def small() -> tuple[ctypes.Array, dict[str, Any], np.ndarray]:
    """The small ctypes buffer, its dict description and a numpy array over it."""
    buf = owned_buffer(64)
    return buf, describe(buf, (64,)), np.frombuffer(buf, dtype=np.uint8)


def op_a(ctx: Context) -> list[Row]:
    _, d, _ = small()
    return [
        make_row(
            ctx,
            "a",
            "a BufferProxy(d)",
            "BufferProxy(d)",
            lambda cls: {"BufferProxy": cls, "d": d},
            "tuple(lst)",
            {"lst": [d]},
            "1-arg C constructor allocating a new object",
        )
    ]


def op_b(ctx: Context) -> list[Row]:
    buf, d, _ = small()
    return [
        make_row(
            ctx,
            "b",
            "b BufferProxy(d).length",
            "BufferProxy(d).length",
            lambda cls: {"BufferProxy": cls, "d": d},
            "memoryview(buf).nbytes",
            {"buf": buf},
            "same ctypes buffer",
        )
    ]


def op_c(ctx: Context) -> list[Row]:
    buf, d, _ = small()
    return [
        make_row(
            ctx,
            "c",
            "c p.length",
            "p.length",
            lambda cls: {"p": used(cls(d))},
            "mv.nbytes",
            {"mv": memoryview(buf)},
        )
    ]


def op_d(ctx: Context) -> list[Row]:
    _, d, arr = small()
    return [
        make_row(
            ctx,
            "d",
            "d p.__array_interface__",
            "p.__array_interface__",
            lambda cls: {"p": used(cls(d))},
            "arr.__array_interface__",
            {"arr": arr},
        )
    ]


def op_e(ctx: Context) -> list[Row]:
    _, d, arr = small()
    return [
        make_row(
            ctx,
            "e",
            "e p.__array_struct__",
            "p.__array_struct__",
            lambda cls: {"p": used(cls(d))},
            "arr.__array_struct__",
            {"arr": arr},
        )
    ]


def op_f(ctx: Context) -> list[Row]:
    _, d, arr = small()
    return [
        make_row(
            ctx,
            "f",
            "f memoryview(p).release()",
            "memoryview(p).release()",
            lambda cls: {"p": used(cls(d))},
            "memoryview(arr).release()",
            {"arr": arr},
        )
    ]


def op_g(ctx: Context) -> list[Row]:
    buf, d, _ = small()
    return [
        make_row(
            ctx,
            "g",
            "g numpy.asarray(p)",
            "asarray(p)",
            lambda cls: {"asarray": np.asarray, "p": used(cls(d))},
            "asarray(mv)",
            {"asarray": np.asarray, "mv": memoryview(buf).cast("B")},
        )
    ]


def op_h(ctx: Context) -> list[Row]:
    _, _, arr = small()
    return [
        make_row(
            ctx,
            "h",
            "h BufferProxy(arr).length",
            "BufferProxy(arr).length",
            lambda cls: {"BufferProxy": cls, "arr": arr},
            "memoryview(arr).nbytes",
            {"arr": arr},
        )
    ]


class ArrayInterfaceOwner:
    """Exposes a numpy array's __array_interface__ dict (and nothing else).

    numpy reports "strides": None for C-contiguous arrays, which pygame 2.6.1 (and
    bufferproxy, following it) reject, so the explicit strides are filled in.
    """

    def __init__(self, arr: np.ndarray) -> None:
        self.array = arr  # keeps the memory alive
        self.__array_interface__ = {**arr.__array_interface__, "strides": arr.strides}


def op_i(ctx: Context) -> list[Row]:
    _, _, arr = small()
    obj = ArrayInterfaceOwner(arr)
    return [
        make_row(
            ctx,
            "i",
            "i BufferProxy(obj).length",
            "BufferProxy(obj).length",
            lambda cls: {"BufferProxy": cls, "obj": obj},
            "asarray(obj).nbytes",
            {"asarray": np.asarray, "obj": obj},
            "numpy reading the same __array_interface__",
        )
    ]


def size_label(nbytes: int) -> str:
    return f"{nbytes // MIB} MiB" if nbytes >= MIB else f"{nbytes // KIB} KiB"


def op_j(ctx: Context) -> list[Row]:
    rows = []
    for size in ctx.copy_sizes:
        src = owned_buffer(size)
        d = describe(src, (size,))
        rows.append(
            make_row(
                ctx,
                f"j-{size_label(size).replace(' ', '')}",
                f"j p.raw {size_label(size)}",
                "p.raw",
                lambda cls, d=d: {"p": used(cls(d))},
                "bytes(mv)",
                {"mv": memoryview(src).cast("B")},
                "memcpy into a new bytes",
                nbytes=size,
            )
        )
        if size >= 64 * MIB:
            rows.append(
                make_row(
                    ctx,
                    f"j-{size_label(size).replace(' ', '')}-limit",
                    f"j p.raw {size_label(size)} vs huge-page limit",
                    "p.raw",
                    lambda cls, d=d: {"p": used(cls(d))},
                    "copy()",
                    {"copy": fresh_huge_page_copy(src)},
                    "memmove into a fresh MADV_HUGEPAGE mapping",
                    nbytes=size,
                )
            )
    return rows


def fresh_huge_page_copy(src: ctypes.Array) -> Callable[[], None]:
    """A memmove of `src` into a new private anonymous mapping advised MADV_HUGEPAGE, so
    the destination takes one page fault per 2 MiB: the limit for a copy into fresh memory."""
    nbytes = ctypes.sizeof(src)
    flags = mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS

    def copy() -> None:
        mapping = mmap.mmap(-1, nbytes, flags=flags)
        if hasattr(mmap, "MADV_HUGEPAGE"):
            mapping.madvise(mmap.MADV_HUGEPAGE)
        dst = ctypes.c_char.from_buffer(mapping)
        ctypes.memmove(ctypes.addressof(dst), src, nbytes)
        del dst
        mapping.close()

    return copy


def op_k(ctx: Context) -> list[Row]:
    rows = []
    for size in ctx.copy_sizes:
        dst = owned_buffer(size, fill=0)
        src = b"\x5a" * size
        d = describe(dst, (size,))
        rows.append(
            make_row(
                ctx,
                f"k-{size_label(size).replace(' ', '')}",
                f"k p.write(src) {size_label(size)}",
                "p.write(src)",
                lambda cls, d=d, src=src: {"p": used(cls(d)), "src": src},
                "mv[:] = src",
                {"mv": memoryview(dst).cast("B"), "src": src},
                "src is bytes",
                nbytes=size,
            )
        )
    return rows


def raw_peak(proxy_or_array: Any, call: Callable[[Any], bytes]) -> dict[str, int]:
    """tracemalloc's peak during one call, and that peak minus the result's size."""
    gc.collect()
    tracemalloc.start()
    try:
        result = call(proxy_or_array)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return {"peak": peak, "result": len(result), "peak_minus_result": peak - len(result)}


def op_l(ctx: Context) -> list[Row]:
    n_rows, cols, stride = 1024, 1024, 2048
    big = owned_buffer(n_rows * stride)
    for r in range(0, n_rows, 7):  # some structure, so a wrong gather would show
        ctypes.memset(ctypes.addressof(big) + r * stride, r & 0xFF, cols)
    d = describe(big, (n_rows, cols), strides=(stride, 1))
    arr = np.frombuffer(big, dtype=np.uint8).reshape(n_rows, stride)
    result = make_row(
        ctx,
        "l",
        "l p.raw strided 1024x1024",
        "p.raw",
        lambda cls: {"p": used(cls(d))},
        "arr[:, :1024].tobytes()",
        {"arr": arr},
        "arr: (1024, 2048) uint8 over the same buffer",
        nbytes=n_rows * cols,
    )
    proxy = result.variants["bufferproxy"].names["p"]
    if proxy.raw != arr[:, :cols].tobytes():
        print("WARNING: bufferproxy's strided raw differs from numpy's tobytes()", file=sys.stderr)
    result.extra["tracemalloc"] = {
        "bufferproxy": raw_peak(proxy, lambda p: p.raw),
        "reference": raw_peak(arr, lambda a: a[:, :cols].tobytes()),
    }
    return [result]


def op_m(ctx: Context) -> list[Row]:
    """raw and write just below and at the size from which the GIL is released."""
    native = sys.modules.get("bufferproxy._bufferproxy")
    threshold = getattr(native, "_GIL_RELEASE_THRESHOLD", 64 * KIB)
    rows = []
    for size, held in ((threshold - 1, "held"), (threshold, "released")):
        src = owned_buffer(size)
        d = describe(src, (size,))
        rows.append(
            make_row(
                ctx,
                f"m-raw-{size}",
                f"m p.raw {size} B (GIL {held})",
                "p.raw",
                lambda cls, d=d: {"p": used(cls(d))},
                "bytes(mv)",
                {"mv": memoryview(src).cast("B")},
                "memcpy into a new bytes",
                nbytes=size,
            )
        )
        data = b"\x5a" * size
        rows.append(
            make_row(
                ctx,
                f"m-write-{size}",
                f"m p.write {size} B (GIL {held})",
                "p.write(src)",
                lambda cls, d=d, data=data: {"p": used(cls(d)), "src": data},
                "mv[:] = src",
                {"mv": memoryview(src).cast("B"), "src": data},
                "src is bytes",
                nbytes=size,
            )
        )
    return rows


OPS: dict[str, Callable[[Context], list[Row]]] = {
    "a": op_a,
    "b": op_b,
    "c": op_c,
    "d": op_d,
    "e": op_e,
    "f": op_f,
    "g": op_g,
    "h": op_h,
    "i": op_i,
    "j": op_j,
    "k": op_k,
    "l": op_l,
    "m": op_m,
}


def loop_overhead(settings: Settings) -> float:
    """Median ns per iteration of an empty timed loop."""
    variant = Variant("pass", {})
    variant.prepare(settings.target_ns)
    for _ in range(settings.samples):
        variant.sample(settings.best_of)
    return variant.median or 0.0


# ----------------------------------------------------------------------------- output


def fmt_time(ns: float | None) -> str:
    if ns is None:
        return "-"
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("us", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.3g} ns"


def fmt_cell(row: Row, impl: str) -> str:
    variant = row.variants.get(impl)
    if variant is None:
        return "-"
    return variant.error or fmt_time(variant.median)


def fmt_ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}x" if a and b else "-"


def fmt_gbps(row: Row, impl: str) -> str:
    ns = row.median(impl)
    return f"{row.nbytes / ns:.2f}" if row.nbytes and ns else "-"


def table(rows: list[Row]) -> tuple[list[str], list[list[str]]]:
    any_copy = any(r.nbytes for r in rows)
    # Ratios first: they are what a run on a busy machine still measures well.
    head = ["op", "bp/pygame", "bp/ref", "bufferproxy", "pygame", "reference"]
    if any_copy:
        head += ["GB/s bp", "GB/s pygame", "GB/s ref"]
    body = []
    for r in rows:
        bp, pg, ref = (r.median(impl) for impl in IMPLS)
        line = [r.label, fmt_ratio(bp, pg), fmt_ratio(bp, ref)]
        line += [fmt_cell(r, "bufferproxy"), fmt_cell(r, "pygame"), fmt_cell(r, "reference")]
        if any_copy:
            line += [fmt_gbps(r, impl) for impl in IMPLS]
        body.append(line)
    return head, body


def render_text(head: list[str], body: list[list[str]]) -> str:
    widths = [max(len(line[i]) for line in [head, *body]) for i in range(len(head))]

    def fmt(line: list[str]) -> str:
        cells = [line[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(line[1:], widths[1:], strict=True)
        ]
        return "  ".join(cells).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([fmt(head), rule, *(fmt(line) for line in body)])


def render_markdown(head: list[str], body: list[list[str]]) -> str:
    align = ["---"] + ["---:"] * (len(head) - 1)
    lines = [head, align, *body]
    return "\n".join(
        "| " + " | ".join(cell.replace("|", "\\|") for cell in line) + " |" for line in lines
    )


def report(rows: list[Row], meta: dict[str, str], markdown: bool) -> str:
    out = []
    for key, value in meta.items():
        out.append(f"- {key}: {value}" if markdown else f"{key + ':':15} {value}")
    out.append("")
    head, body = table(rows)
    out.append(render_markdown(head, body) if markdown else render_text(head, body))
    out.append("")
    out.append("References (times are the median per call; ratios < 1 mean bufferproxy is faster):")
    bullet, quote = ("- ", "`") if markdown else ("  ", "")
    seen = set()
    for r in rows:
        if r.key[0] not in seen:
            seen.add(r.key[0])
            note = f" ({r.reference_note})" if r.reference_note else ""
            out.append(f"{bullet}{r.key[0]}: {quote}{r.reference}{quote}{note}")
    for r in rows:
        mem = r.extra.get("tracemalloc")
        if mem:
            out.append("")
            out.append(f"{r.label}: tracemalloc peak of one call, minus the result's size:")
            for impl, m in mem.items():
                name = "numpy" if impl == "reference" else impl
                out.append(
                    f"{bullet}{name}: {m['peak_minus_result']} bytes"
                    f" (peak {m['peak']}, result {m['result']})"
                )
    return "\n".join(out)


def to_json(rows: list[Row], meta: dict[str, str], config: dict[str, Any]) -> dict[str, Any]:
    results = []
    for r in rows:
        entry: dict[str, Any] = {"op": r.key, "label": r.label, "bytes": r.nbytes}
        entry["reference_note"] = r.reference_note
        entry.update(r.extra)
        for impl in IMPLS:
            v = r.variants.get(impl)
            entry[impl] = None
            if v is not None:
                entry[impl] = {
                    "stmt": v.stmt,
                    "error": v.error,
                    "median_ns": v.median,
                    "loop_iterations": v.n,
                    "samples_ns": v.samples,
                }
        results.append(entry)
    return {"meta": meta, "config": config, "results": results}


# ----------------------------------------------------------------------- memory per proxy

MEMORY_CASES = {
    "dict, not yet used": "dict-fresh",
    "dict, used": "dict-used",
    "over an ndarray, used": "array-used",
}
MEMORY_PROXIES = 200_000


def rss_bytes() -> int:
    """This process's resident set size (Linux /proc; ru_maxrss elsewhere)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def memory_child(impl: str, case: str, count: int) -> None:
    """Prints the RSS growth per proxy of `count` proxies of one kind (run in its own process)."""
    if impl == "bufferproxy":
        cls = import_bufferproxy().BufferProxy
    else:
        cls, _ = import_pygame()
        assert cls is not None, "pygame is not importable"
    buf = owned_buffer(64)
    arr = np.frombuffer(buf, dtype=np.uint8)
    d = describe(buf, (64,))
    make = {
        "dict-fresh": lambda: cls(d),
        "dict-used": lambda: used(cls(d)),
        "array-used": lambda: used(cls(arr)),
    }[case]
    keep = [make() for _ in range(1000)]  # warm up the allocators
    keep.clear()
    keep = [None] * count  # the list itself is not part of the growth
    gc.collect()
    before = rss_bytes()
    for i in range(count):
        keep[i] = make()
    gc.collect()
    print(f"{(rss_bytes() - before) / count:.1f}")


def memory_report(markdown: bool) -> str:
    """Bytes of RSS per proxy for each case, each implementation in its own process."""
    import subprocess

    lines = []
    head = ["proxy", "bufferproxy", "pygame 2.6.1", "bp/pygame"]
    body = []
    for label, case in MEMORY_CASES.items():
        per = {}
        for impl in ("bufferproxy", "pygame"):
            out = subprocess.run(
                [sys.executable, __file__, "--memory-child", impl, case, str(MEMORY_PROXIES)],
                capture_output=True,
                text=True,
                check=True,
            )
            per[impl] = float(out.stdout.strip())
        ratio = per["bufferproxy"] / per["pygame"] if per["pygame"] > 0 else float("nan")
        body.append(
            [label, f"{per['bufferproxy']:.0f} B", f"{per['pygame']:.0f} B", f"{ratio:.2f}x"]
        )
    lines.append(f"RSS growth per proxy over {MEMORY_PROXIES:,} proxies (each in its own process):")
    lines.append(render_markdown(head, body) if markdown else render_text(head, body))
    return "\n".join(lines)


# ------------------------------------------------------------------- alternating rounds


def alternating_ratios(row: Row, rounds: int, settings: Settings) -> str:
    """Bufferproxy's time per call over pygame's (the reference's where pygame has none or
    raises, and in a limit row), one ratio per round; the two loops run back to back, in
    alternating order, so that both see the same state of the machine. Finer than the table
    for rows near 1.0."""
    bp = row.variants["bufferproxy"]
    bp.prepare(settings.target_ns)
    other_name = "pygame"
    # A limit row is about the reference (the fastest a copy into new memory can be).
    other = None if row.key.endswith("-limit") else row.variants.get("pygame")
    if other is not None:
        other.prepare(settings.target_ns)
    if other is None or other.loop is None:
        other_name, other = "reference", row.variants["reference"]
        other.prepare(settings.target_ns)
    if bp.loop is None or other.loop is None:
        return f"{row.label}: {bp.error or other.error}"
    ratios = []
    for r in range(rounds):
        gc.collect()
        times = {}
        for name, variant in (("bp", bp), ("other", other))[:: 1 if r % 2 == 0 else -1]:
            best = min(run_loop(variant.loop, variant.n) for _ in range(settings.best_of))
            times[name] = best / variant.n
        ratios.append(times["bp"] / times["other"])
    ratios.sort()
    q1, q3 = ratios[len(ratios) // 4], ratios[(3 * len(ratios)) // 4]
    return (
        f"{row.label}: bufferproxy/{other_name} median {statistics.median(ratios):.3f}, "
        f"mean {statistics.fmean(ratios):.3f}, quartiles {q1:.3f}-{q3:.3f} ({rounds} rounds)"
    )


# ------------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="CI smoke run (no 64 MiB, 3 samples)")
    parser.add_argument("--samples", type=int, help="samples per op (default 9, --quick 3)")
    parser.add_argument("--ops", default=",".join(OPS), help="comma-separated op letters")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write results as JSON")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument(
        "--memory",
        action="store_true",
        help="measure memory per proxy instead (RSS growth, one process per implementation)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        help="alternating rounds of bufferproxy against pygame for each op (no table)",
    )
    parser.add_argument("--memory-child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.ops = [op.strip() for op in args.ops.split(",") if op.strip()]
    unknown = [op for op in args.ops if op not in OPS]
    if unknown:
        parser.error(f"unknown op(s) {','.join(unknown)}; choose from {','.join(OPS)}")
    if args.samples is None:
        args.samples = 3 if args.quick else 9
    if args.samples < 3:
        parser.error("--samples must be at least 3")
    if args.rounds is not None and args.rounds < 4:
        parser.error("--rounds must be at least 4")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.memory_child:
        impl, case, count = args.memory_child
        memory_child(impl, case, int(count))
        return 0
    if args.memory:
        print(memory_report(args.markdown))
        return 0
    settings = Settings(
        samples=args.samples,
        target_ns=1_000_000 if args.quick else 2_000_000,
        best_of=2 if args.quick else 3,
    )
    copy_sizes = [4 * KIB, 1 * MIB] + ([] if args.quick else [64 * MIB])

    bp_module = import_bufferproxy()
    pg_class, pg_version = import_pygame()
    ctx = Context(bp=bp_module.BufferProxy, pg=pg_class, copy_sizes=copy_sizes)

    if args.rounds:
        for op in args.ops:
            for r in OPS[op](ctx):
                print(alternating_ratios(r, args.rounds, settings), flush=True)
                r.release()
                gc.collect()
        return 0

    start = time.perf_counter()
    meta = header(bp_module, pg_version, loop_overhead(settings))
    rows: list[Row] = []
    for op in args.ops:
        for r in OPS[op](ctx):
            print(f"measuring {r.label} ...", file=sys.stderr, flush=True)
            r.measure(settings)
            r.release()
            rows.append(r)
            gc.collect()
    elapsed = time.perf_counter() - start

    config = {
        **dataclasses.asdict(settings),
        "quick": args.quick,
        "ops": args.ops,
        "copy_sizes": copy_sizes,
        "runtime_s": round(elapsed, 2),
    }
    meta["samples"] = (
        f"{settings.samples} per op, median shown; a sample is the best of {settings.best_of}"
        f" runs of a loop of ~{settings.target_ns / 1e6:g} ms"
    )
    print(report(rows, meta, args.markdown))
    print(f"\n(ran in {elapsed:.1f} s)")
    if args.json:
        args.json.write_text(json.dumps(to_json(rows, meta, config), indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
