"""The `bufferproxy.address` audit event (PEP 578) for memory reached through a raw address.

An audit hook cannot be removed, so every scenario runs in a child interpreter
(`sys.executable`) that installs a recording hook, runs a group of checks and prints one
JSON object; the test asserts on it. The hook records every `bufferproxy.address` event and,
while `STATE["refuse"]` is set, raises a fresh `Refused`. Expected event arguments are
computed here from shape, strides and item size, not by asking bufferproxy.
"""

import json
import math
import re
import subprocess
import sys
import textwrap
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"

_PRELUDE = textwrap.dedent(
    """
    import ctypes, gc, json, sys
    import numpy as np
    from bufferproxy import BufferProxy
    from bufferproxy._testing import Exporter

    ARGS = json.loads(sys.argv[1])
    EVENTS = []  # the arguments of every bufferproxy.address event, in order
    RAISED = []  # every exception the hook raised
    STATE = {"refuse": False}

    class Refused(Exception):
        pass

    def hook(event, args):
        if event == "bufferproxy.address":
            EVENTS.append(args)
            if STATE["refuse"]:
                RAISED.append(Refused(f"refused {args[0]:#x}"))
                raise RAISED[-1]

    sys.addaudithook(hook)

    class Interface:
        "A parent with only __array_interface__ (no buffer protocol)."
        def __init__(self, interface):
            self.interface = interface
        @property
        def __array_interface__(self):
            return self.interface

    class Struct:
        "A parent with only __array_struct__: a numpy array's capsule."
        def __init__(self, array):
            self.array = array
        @property
        def __array_struct__(self):
            return self.array.__array_struct__

    def interface_of(array, readonly=False, data=None):
        "The array's __array_interface__ with explicit strides (None is refused, as in pygame)."
        return {
            "version": 3,
            "shape": array.shape,
            "typestr": array.dtype.str,
            "strides": array.strides,
            "data": (array.ctypes.data, readonly) if data is None else data,
        }

    def outcome(action, *args):
        "Runs action(*args): (None or the exception's type name, events it raised)."
        start = len(EVENTS)
        try:
            action(*args)
            error = None
        except Exception as exc:
            error = type(exc).__name__
        return error, [list(event) for event in EVENTS[start:]]
    """
)


def run_child(code, args=None):
    """Runs the prelude and `code` in a fresh interpreter; returns the JSON it printed."""
    proc = subprocess.run(
        [sys.executable, "-W", "error", "-c", _PRELUDE + textwrap.dedent(code), json.dumps(args)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stderr == ""
    return json.loads(proc.stdout)


def expected_event(address, shape, strides, itemsize, readonly):
    """(address, lo, hi, readonly): the bytes the items cover, `address` for no item."""
    if 0 in shape:
        return [address, address, address, readonly]
    offsets = [stride * (n - 1) for n, stride in zip(shape, strides, strict=True)]
    lo = address + sum(o for o in offsets if o < 0)
    hi = address + sum(o for o in offsets if o > 0) + itemsize
    return [address, lo, hi, readonly]


def c_strides(shape, itemsize):
    return tuple(itemsize * math.prod(shape[d + 1 :]) for d in range(len(shape)))


# --------------------------------------------------------------------------------------------
# the event's arguments

# name: (shape, strides (None: C order), typestr, readonly)
LAYOUTS = {
    "c-order": ((3, 4), None, "<u4", False),
    "c-order-padded-rows": ((3, 4), (20, 4), "<u4", True),
    "f-order": ((3, 4), (4, 12), "<u4", True),
    "negative-strides": ((3, 4), (-16, -4), "<u4", False),
    "mixed-strides": ((2, 3, 2), (-12, 4, -2), "<i2", True),
    "one-item": ((1,), None, "|V10", False),
    "zero-size": ((0,), None, "|u1", False),
    "zero-size-2d": ((3, 0), (-8, 4), "<u4", True),
}


def _start(shape, strides):
    """Offset of the first item in the allocation, so that negative strides stay inside."""
    if 0 in shape:
        return 0
    return -sum(min(0, stride * (n - 1)) for n, stride in zip(shape, strides, strict=True))


def test_event_arguments_for_each_layout_and_raw_address_source():
    cases = {}
    for name, (shape, strides, typestr, readonly) in LAYOUTS.items():
        itemsize = int(typestr[2:])
        effective = strides or c_strides(shape, itemsize)
        cases[name] = (shape, strides, typestr, readonly, _start(shape, effective))
    result = run_child(
        """
        results = {}
        for name, (shape, strides, typestr, readonly, start) in ARGS.items():
            for source in ("ctypes", "numpy"):
                if source == "ctypes":
                    memory = ctypes.create_string_buffer(128)
                    base = ctypes.addressof(memory)
                else:
                    memory = np.zeros(128, np.uint8)
                    base = memory.__array_interface__["data"][0]
                description = {"shape": tuple(shape), "typestr": typestr,
                               "data": (base + start, readonly)}
                if strides is not None:
                    description["strides"] = tuple(strides)
                error, events = outcome(lambda: BufferProxy(description).length)
                types = [type(a).__name__ for a in EVENTS[-1]] if events else None
                results[f"{name}/{source}"] = {
                    "address": base + start, "error": error, "events": events, "types": types,
                }
        print(json.dumps(results))
        """,
        cases,
    )
    assert sorted(result) == sorted(f"{n}/{s}" for n in LAYOUTS for s in ("ctypes", "numpy"))
    for key, record in result.items():
        shape, strides, typestr, readonly = LAYOUTS[key.split("/")[0]]
        itemsize = int(typestr[2:])
        effective = strides or c_strides(shape, itemsize)
        expected = expected_event(record["address"], shape, effective, itemsize, readonly)
        assert record["error"] is None, (key, record)
        assert record["events"] == [expected], key
        assert record["types"] == ["int", "int", "int", "bool"], key


def test_event_addresses_are_unsigned():
    # A negative address wraps like a C cast; with no bytes to span it is accepted, and the
    # event reports it as the unsigned pointer it became.
    result = run_child(
        """
        error, events = outcome(
            lambda: BufferProxy({"shape": (0,), "typestr": "|u1", "data": (-1, False)}).length
        )
        print(json.dumps({"error": error, "events": events,
                          "bits": 8 * ctypes.sizeof(ctypes.c_void_p)}))
        """
    )
    top = 2 ** result["bits"] - 1
    assert result == {"error": None, "events": [[top, top, top, False]], "bits": result["bits"]}


def test_exporter_parents_handing_over_raw_addresses_raise_the_event():
    result = run_child(
        """
        arrays = {
            "negative": np.arange(48, dtype="<i4").reshape(6, 8)[::-1, ::3],
            "f-order": np.asfortranarray(np.arange(15, dtype="<u2").reshape(3, 5)),
            "zero-size": np.zeros((4, 0), "<f8"),
        }
        readonly = np.arange(10, dtype="<f4")
        readonly.flags.writeable = False
        arrays["readonly"] = readonly
        results = {}
        for name, array in arrays.items():
            facts = {
                "address": array.__array_interface__["data"][0], "shape": array.shape,
                "strides": array.strides, "itemsize": array.itemsize,
                "readonly": not array.flags.writeable,
            }
            parents = {
                "interface": Interface(interface_of(array, readonly=not array.flags.writeable)),
                "struct": Struct(array),
            }
            for kind, parent in parents.items():
                error, events = outcome(lambda: BufferProxy(parent).length)
                results[f"{name}/{kind}"] = dict(facts, error=error, events=events)
        print(json.dumps(results))
        """
    )
    assert len(result) == 8
    for key, r in result.items():
        expected = expected_event(
            r["address"], r["shape"], r["strides"], r["itemsize"], r["readonly"]
        )
        assert r["error"] is None, (key, r)
        assert r["events"] == [expected], key


STRIDED = {"data-bytearray-negative-stride", "parent-numpy"}


def test_memory_an_export_vouches_for_raises_no_event():
    result = run_child(
        """
        import mmap
        array = np.arange(32, dtype=np.uint8)
        parents = {
            "data-bytearray": {"shape": (4, 4), "typestr": "|u1", "data": bytearray(16)},
            "data-bytearray-negative-stride": {
                "shape": (4,), "typestr": "<u2", "strides": (-2,), "data": bytearray(16),
                "offset": 8,
            },
            "data-numpy-offset": {"shape": (2, 4), "typestr": "|u1", "data": array, "offset": 3},
            "parent-numpy": np.arange(12, dtype="<i4").reshape(3, 4)[:, ::-2],
            "parent-bytearray": bytearray(16),
            "parent-mmap": mmap.mmap(-1, 16),
            "parent-exporter": Exporter((2, 3), "<h"),
            "interface-buffer-data": Interface(
                {"version": 3, "shape": (4,), "typestr": "<u2", "strides": (2,),
                 "data": bytearray(16), "offset": 2}
            ),
            # The buffer protocol is tried first: the raw __array_interface__ is never read.
            "buffer-and-interface": type("Both", (bytearray,), {
                "__array_interface__": property(lambda self: interface_of(array))
            })(16),
        }
        uses = {
            "length": lambda p: p.length,
            "raw": lambda p: p.raw,
            "memoryview": lambda p: memoryview(p).release(),
            "numpy.asarray": lambda p: np.asarray(p).sum(),
            "write": lambda p: p.write(b"xy"),
            "array_interface": lambda p: p.__array_interface__,
            "array_struct": lambda p: p.__array_struct__,
            "dlpack": lambda p: np.from_dlpack(p).sum(),
            "repr": repr,
        }
        results = {}
        for name, parent in parents.items():
            proxy = BufferProxy(parent)
            results[name] = {use: outcome(action, proxy) for use, action in uses.items()}
        exporter = parents["parent-exporter"]
        del proxy, parents
        gc.collect()
        print(json.dumps({"results": results, "exports": exporter.exports}))
        """
    )
    assert result["exports"] == 0
    assert len(result["results"]) == 9
    for name, outcomes in result["results"].items():
        # Every use works (strided memory cannot be written: ValueError) and none audits.
        errors = {"write": "ValueError"} if name in STRIDED else {}
        assert outcomes == {use: [errors.get(use), []] for use in outcomes}, name
        assert len(outcomes) == 9


# --------------------------------------------------------------------------------------------
# when the event fires: once per acquisition, after validation

_COUNTS_SCRIPT = """
    calls = {"before": 0}
    buffer = ctypes.create_string_buffer(16)

    def proxy_of(address=ctypes.addressof(buffer), readonly=False, **changes):
        description = {"shape": (16,), "typestr": "|u1", "data": (address, readonly),
                       "before": lambda parent: calls.__setitem__("before", calls["before"] + 1)}
        description.update(changes)
        return BufferProxy(description)

    def count(proxy, action):
        "(error, events, before calls) of action(proxy)."
        before = calls["before"]
        error, events = outcome(action, proxy)
        return [error, len(events), calls["before"] - before]

    def open_two(proxy):
        with memoryview(proxy) as first, memoryview(proxy) as second:
            return first.tobytes() + second.tobytes()

    PyBUF_WRITABLE, PyBUF_C_CONTIGUOUS = 0x1, 0x38

    def request(proxy, flags):
        "PyObject_GetBuffer(proxy, flags), then PyBuffer_Release (a Py_buffer fits 256 bytes)."
        view = ctypes.create_string_buffer(256)
        ctypes.pythonapi.PyObject_GetBuffer(ctypes.py_object(proxy), view, flags)
        ctypes.pythonapi.PyBuffer_Release(view)

    uses = {
        "length": lambda p: p.length,
        "raw": lambda p: p.raw,
        "repr": repr,
        "parent": lambda p: p.parent,
        "array_interface": lambda p: p.__array_interface__,
        "array_struct": lambda p: p.__array_struct__,
        "dlpack": lambda p: p.__dlpack__(),
        "numpy.from_dlpack": lambda p: np.from_dlpack(p).sum(),
        "memoryview": lambda p: memoryview(p).release(),
        "two-memoryviews": open_two,
        "numpy.asarray": lambda p: np.asarray(p).sum(),
        "write": lambda p: p.write(b"x"),
        "writable-request": lambda p: request(p, PyBUF_WRITABLE),
        "c-contiguous-request": lambda p: request(p, PyBUF_C_CONTIGUOUS),
    }
    results = {}
    # Held first, then every use.
    proxy = proxy_of()
    results["held-first"] = [[use, *count(proxy, uses[use])] for use in ["length", *uses]]
    # Each use first, then length (the held first use when the first was not one).
    for use in uses:
        proxy = proxy_of()
        results[f"{use}-first"] = [[u, *count(proxy, uses[u])] for u in [use, "length", use]]
    # Requests the layout cannot meet are refused by negotiation, before the event.
    proxy = proxy_of(readonly=True)
    results["readonly"] = [[u, *count(proxy, uses[u])] for u in ["write", "writable-request"]]
    proxy = proxy_of(shape=(8,), strides=(2,))
    results["strided"] = [[u, *count(proxy, uses[u])] for u in ["c-contiguous-request", "write"]]
    # write checks contiguity, length and offset on the acquired view (after `before`, as
    # pygame does): audited, though no byte is touched.
    proxy = proxy_of()
    results["write-bounds"] = [count(proxy, lambda p: p.write(b"x", 16))]
    # An invalid description fails validation at every use: no event.
    proxy = proxy_of(shape=[16])
    results["invalid"] = [[u, *count(proxy, uses[u])] for u in ["length", "memoryview", "write"]]
    # A NULL address: the bytes are refused before the event; the metadata use is audited.
    order = ["raw", "write", "memoryview", "dlpack", "length", "raw", "numpy.asarray"]
    proxy = proxy_of(address=0)
    results["null"] = [[u, *count(proxy, uses[u])] for u in order]
    results["null-event"] = list(EVENTS[-1])
    print(json.dumps(results))
"""

# use: (error, events, before calls), once the memory is held
HELD_COUNTS = {
    "length": (None, 0, 0),
    "raw": (None, 0, 0),
    "repr": (None, 0, 0),
    "parent": (None, 0, 0),
    "array_interface": (None, 0, 0),
    "array_struct": (None, 0, 0),
    "dlpack": (None, 0, 0),
    "numpy.from_dlpack": (None, 0, 0),
    "memoryview": (None, 1, 1),
    "two-memoryviews": (None, 2, 2),
    "numpy.asarray": (None, 1, 1),
    "write": (None, 1, 1),
    "writable-request": (None, 1, 1),
    "c-contiguous-request": (None, 1, 1),
}
EXPORTS = {"memoryview", "two-memoryviews", "numpy.asarray", "write"}
EXPORTS |= {"writable-request", "c-contiguous-request"}


def test_one_event_per_acquisition_and_none_before_validation_passes():
    result = run_child(_COUNTS_SCRIPT)
    # The held first use audits once; then only exports and writes acquire (and audit) again.
    assert result["held-first"] == [
        ["length", None, 1, 1],
        *([use, *counts] for use, counts in HELD_COUNTS.items()),
    ]
    for use, counts in HELD_COUNTS.items():
        # An export or write first acquires only for itself; the held first use comes later.
        n = 2 if use == "two-memoryviews" else 1
        first = [use, None, n, n]
        held = ["length", None, 1, 1] if use in EXPORTS else ["length", None, 0, 0]
        assert result[f"{use}-first"] == [first, held, [use, *counts]], use
    assert result["readonly"] == [
        ["write", "BufferError", 0, 0],
        ["writable-request", "BufferError", 0, 0],
    ]
    assert result["strided"] == [
        ["c-contiguous-request", "BufferError", 0, 0],
        ["write", "ValueError", 1, 1],
    ]
    assert result["write-bounds"] == [["IndexError", 1, 1]]
    assert result["invalid"] == [
        ["length", "ValueError", 0, 0],
        ["memoryview", "ValueError", 0, 0],
        ["write", "ValueError", 0, 0],
    ]
    assert result["null"] == [
        ["raw", "ValueError", 0, 0],
        ["write", "ValueError", 0, 0],
        ["memoryview", "BufferError", 0, 0],
        ["dlpack", "BufferError", 0, 0],
        ["length", None, 1, 1],  # metadata: audited, with address 0
        ["raw", "ValueError", 0, 0],
        # numpy, refused the buffer, falls back to __array_struct__: the held view, no event.
        ["numpy.asarray", None, 0, 0],
    ]
    assert result["null-event"] == [0, 0, 16, False]


# --------------------------------------------------------------------------------------------
# a hook that raises refuses the use

_REFUSAL_SCRIPT = """
    class Parent:
        pass

    calls = {"before": 0, "after": 0}
    buffer = ctypes.create_string_buffer(16)

    def described(parent):
        def note(name):
            return lambda p: calls.__setitem__(name, calls[name] + 1)
        return BufferProxy({"shape": (16,), "typestr": "|u1",
                            "data": (ctypes.addressof(buffer), False),
                            "parent": parent, "before": note("before"), "after": note("after")})

    def attempt(proxy, action):
        "Runs action(proxy): what it raised, how, and what it called and audited."
        start = len(EVENTS)
        try:
            action(proxy)
            error = None
        except Exception as exc:
            error = {"type": type(exc).__name__, "the hook's": bool(RAISED) and exc is RAISED[-1],
                     "cause": repr(exc.__cause__), "context": repr(exc.__context__)}
        RAISED.clear()  # their tracebacks would keep the proxy alive
        return {"error": error, "events": len(EVENTS) - start, **calls}

    uses = {
        "length": lambda p: p.length,
        "raw": lambda p: p.raw,
        "memoryview": lambda p: memoryview(p).release(),
        "array_interface": lambda p: p.__array_interface__,
        "array_struct": lambda p: p.__array_struct__,
        "repr": repr,
        "parent": lambda p: p.parent,
        "write": lambda p: p.write(b"x"),
        "dlpack": lambda p: p.__dlpack__(),
        "numpy.asarray": lambda p: np.asarray(p).sum(),
    }
    results = {}
    for use, action in uses.items():
        calls.update(before=0, after=0)
        parent = Parent()
        references = sys.getrefcount(parent)
        proxy = described(parent)
        STATE["refuse"] = True
        refused = [attempt(proxy, action), attempt(proxy, action)]
        STATE["refuse"] = False
        allowed = attempt(proxy, action)
        del proxy
        gc.collect()
        dropped = dict(calls)
        # A proxy that was only ever refused: dropping it releases nothing.
        calls.update(before=0, after=0)
        proxy = described(parent)
        STATE["refuse"] = True
        only_refused = attempt(proxy, action)
        STATE["refuse"] = False
        del proxy
        gc.collect()
        results[use] = {
            "refused": refused, "allowed": allowed, "dropped": dropped,
            "only refused, dropped": dict(calls),
            "references back": sys.getrefcount(parent) == references,
        }

    # Exporter parents handing over raw addresses: refused alike; the parent and the array
    # behind the capsule get back every reference.
    def read_eight(proxy):
        assert proxy.raw == bytes(range(8))

    for kind in ("interface", "struct"):
        array = np.arange(8, dtype=np.uint8)
        parent = Interface(interface_of(array)) if kind == "interface" else Struct(array)
        references = (sys.getrefcount(parent), sys.getrefcount(array))
        proxy = BufferProxy(parent)
        STATE["refuse"] = True
        refused = attempt(proxy, uses["length"])
        STATE["refuse"] = False
        del proxy
        gc.collect()
        back = (sys.getrefcount(parent), sys.getrefcount(array)) == references
        proxy = BufferProxy(parent)
        allowed = attempt(proxy, read_eight)
        results[kind] = {
            "refused": [refused["error"], refused["events"]], "references back": back,
            "allowed": [allowed["error"], allowed["events"]],
        }

    # A NULL address: bytes are refused before the event, so raw raises its ValueError; the
    # metadata use is audited, so length raises the hook's exception.
    proxy = BufferProxy({"shape": (16,), "typestr": "|u1", "data": (0, False)})
    STATE["refuse"] = True
    results["null"] = {use: attempt(proxy, uses[use]) for use in ("raw", "length")}
    print(json.dumps(results))
"""

HOOKS = {"type": "Refused", "the hook's": True, "cause": "None", "context": "None"}
EXPORT_USES = {"memoryview", "write", "numpy.asarray"}


def test_a_raising_hook_refuses_the_use_with_nothing_held():
    result = run_child(_REFUSAL_SCRIPT)
    uses = ["length", "raw", "memoryview", "array_interface", "array_struct", "repr", "parent"]
    uses += ["write", "dlpack", "numpy.asarray"]
    assert sorted(result) == sorted([*uses, "interface", "struct", "null"])
    for use in uses:
        record = result[use]
        # numpy.asarray, refused the buffer, falls back to __array_struct__: a second
        # acquisition, refused alike; what reaches the caller is that second refusal.
        events = 2 if use == "numpy.asarray" else 1
        refused = {"error": HOOKS, "events": events, "before": 0, "after": 0}
        assert record["refused"] == [refused, refused], use
        # The next use after the hook stops refusing works, audits once, calls `before` once
        # (and `after` at once for an export or write, else when the proxy dies).
        after = 1 if use in EXPORT_USES else 0
        assert record["allowed"] == {"error": None, "events": 1, "before": 1, "after": after}
        assert record["dropped"] == {"before": 1, "after": 1}, use
        # Nothing was held: dropping a proxy that was only refused calls nothing, and the
        # parent gets back every reference (so both proxies are gone).
        assert record["only refused, dropped"] == {"before": 0, "after": 0}, use
        assert record["references back"], use
    for kind in ("interface", "struct"):
        assert result[kind] == {
            "refused": [HOOKS, 1],
            "references back": True,
            "allowed": [None, 1],
        }
    error = {"type": "ValueError", "the hook's": False, "cause": "None", "context": "None"}
    assert result["null"] == {
        "raw": {"error": error, "events": 0, "before": 0, "after": 0},
        "length": {"error": HOOKS, "events": 1, "before": 0, "after": 0},
    }


# --------------------------------------------------------------------------------------------
# the README's example hook


def readme_hook():
    """The Python code block of README.md's "Security" section."""
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Security\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)
    assert len(blocks) == 1, "the Security section has one example hook"
    return blocks[0]


def test_readme_hook_allows_vouched_regions_and_refuses_the_rest():
    result = run_child(
        """
        namespace = {}
        exec(ARGS, namespace)  # the README's hook, installed as the README installs it
        memory = ctypes.create_string_buffer(64)
        base = ctypes.addressof(memory)
        namespace["ALLOWED"].append((base + 16, base + 48))

        def describe(address, shape, strides=None, data=None):
            d = {"shape": shape, "typestr": "<u4", "data": data or (address, False)}
            if strides:
                d["strides"] = strides
            return d

        cases = {
            "inside": describe(base + 16, (8,)),
            "inside-negative-strides": describe(base + 44, (8,), (-4,)),
            "inside-no-bytes": describe(base + 32, (0,)),
            "outside": describe(base, (4,)),
            "straddling": describe(base + 40, (4,)),
            "straddling-negative-strides": describe(base + 28, (8,), (-4,)),
            "outside-no-bytes": describe(base + 60, (0,)),
            "buffer-data": describe(None, (16,), data=bytearray(64)),
        }
        results = {}
        for name, description in cases.items():
            try:
                BufferProxy(description).raw
                results[name] = None
            except PermissionError as exc:
                results[name] = str(exc) == (
                    f"raw address {description['data'][0]:#x} is outside the allowed regions"
                )
        print(json.dumps(results))
        """,
        readme_hook(),
    )
    assert result == {
        "inside": None,
        "inside-negative-strides": None,
        "inside-no-bytes": None,
        "outside": True,
        "straddling": True,
        "straddling-negative-strides": True,
        "outside-no-bytes": True,
        "buffer-data": None,
    }
