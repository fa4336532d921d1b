"""Every row of docs/bad-input.md, evaluated: the document cannot drift from the code.

The tables with an "expression" column are parsed; each expression is evaluated with the
names the document lists, and must raise exactly the exception type of its row with the
message fragment in its message (or, for rows marked "—", raise nothing).
"""

import builtins
import ctypes
import gc
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from cstructs import (
    PAI_ALIGNED,
    PAI_CONTIGUOUS,
    PAI_FORTRAN,
    PAI_NOTSWAPPED,
    PAI_WRITEABLE,
    Py_buffer,
    PyArrayInterface,
    PyBUF_ANY_CONTIGUOUS,
    PyBUF_C_CONTIGUOUS,
    PyBUF_F_CONTIGUOUS,
    PyBUF_FORMAT,
    PyBUF_SIMPLE,
    PyBUF_WRITABLE,
)

from bufferproxy import BufferProxy, get_array_interface
from bufferproxy._testing import Exporter

DOCUMENT = Path(__file__).resolve().parent.parent / "docs" / "bad-input.md"
ACCEPTED = "—"

_memory = ctypes.create_string_buffer(bytes(range(16)), 16)
ADDRESS = ctypes.addressof(_memory)
MISSING = object()

_get_buffer = ctypes.PYFUNCTYPE(
    ctypes.c_int, ctypes.py_object, ctypes.POINTER(Py_buffer), ctypes.c_int
)(("PyObject_GetBuffer", ctypes.pythonapi))
_release_buffer = ctypes.PYFUNCTYPE(None, ctypes.POINTER(Py_buffer))(
    ("PyBuffer_Release", ctypes.pythonapi)
)
_capsule_new = ctypes.PYFUNCTYPE(
    ctypes.py_object, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p
)(("PyCapsule_New", ctypes.pythonapi))


class Boom(Exception):
    """Raised on purpose by the helpers."""


class BadBool:
    def __bool__(self):
        raise Boom("bool")


class Index:
    def __init__(self, value):
        self.value = value

    def __index__(self):
        return self.value


def d(**changes):
    description = {"shape": (16,), "typestr": "|u1", "data": (ADDRESS, False)}
    for key, value in changes.items():
        if value is MISSING:
            description.pop(key, None)
        else:
            description[key] = value
    return description


def use(parent):
    return BufferProxy(parent).length


def request(obj, flags):
    view = Py_buffer()
    _get_buffer(obj, ctypes.byref(view), flags)
    _release_buffer(ctypes.byref(view))


def released(description):
    caught = []
    previous = sys.unraisablehook
    sys.unraisablehook = lambda args: caught.append(args.exc_value)
    try:
        proxy = BufferProxy(description)
        memoryview(proxy).release()
        del proxy
        gc.collect()
    finally:
        sys.unraisablehook = previous
    if caught:
        raise caught[0]


def self_using(**changes):
    """A proxy of `d(**changes)` whose `before` reads the proxy's own `length`."""
    box = []
    proxy = BufferProxy(d(before=lambda parent: box[0].length, **changes))
    box.append(proxy)
    return proxy


def raising(exc):
    def function(*args):
        raise exc

    return function


def exposing(array_struct=MISSING, array_interface=MISSING):
    namespace = {}
    for name, value in (
        ("__array_struct__", array_struct),
        ("__array_interface__", array_interface),
    ):
        if value is not MISSING:
            namespace[name] = property(
                lambda self, value=value: value() if callable(value) else value
            )
    return type("Exposing", (), namespace)()


_KEPT = []  # the PyArrayInterface structs (and their arrays) the capsules point to


def capsule(name=None, shape=(16,), strides=(1,), **fields):
    def array(values):
        if values is None:
            return None
        return (ctypes.c_ssize_t * max(len(values), 1))(*values)

    shape_array, strides_array = array(shape), array(strides)
    values = {
        "two": 2,
        "nd": 1 if shape is None else len(shape),
        "typekind": b"u",
        "itemsize": 1,
        "flags": PAI_WRITEABLE | PAI_ALIGNED | PAI_NOTSWAPPED | PAI_CONTIGUOUS | PAI_FORTRAN,
        "shape": shape_array,
        "strides": strides_array,
        "data": ADDRESS,
    }
    values.update(fields)
    inter = PyArrayInterface(**values)
    _KEPT.append((inter, shape_array, strides_array))
    return _capsule_new(ctypes.addressof(inter), name, None)


def interface(**changes):
    inter = {"version": 3, "shape": (16,), "typestr": "|u1", "data": (ADDRESS, False)}
    for key, value in changes.items():
        if value is MISSING:
            inter.pop(key, None)
        else:
            inter[key] = value
    return inter


def released_memoryview():
    view = memoryview(b"abcd")
    view.release()
    return view


def readonly_array():
    array = np.arange(16, dtype=np.uint8)
    array.flags.writeable = False
    return array


REFUSAL = "the audit hook refused bufferproxy.address"

_REFUSED_SCRIPT = f"""
import json, sys
sys.path.insert(0, sys.argv[1])
import test_bad_input_table as table

def hook(event, args):
    if event == "bufferproxy.address":
        raise PermissionError({REFUSAL!r})

sys.addaudithook(hook)
try:
    eval(sys.argv[2], dict(table.NAMES))
    print(json.dumps(None))
except Exception as exc:
    print(json.dumps([type(exc).__name__, str(exc)]))
"""


def refused(expression):
    """Evaluates `expression` (these names) in a child interpreter whose audit hook refuses
    every `bufferproxy.address` event (a hook cannot be removed); re-raises what it raised."""
    proc = subprocess.run(
        [sys.executable, "-c", _REFUSED_SCRIPT, str(Path(__file__).parent), expression],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"the child failed: {proc.stderr[-2000:]}")
    raised = json.loads(proc.stdout)
    if raised is not None:
        name, message = raised
        exc_type = NAMES[name] if name in NAMES else getattr(builtins, name)
        raise exc_type(message)


NAMES = {
    "ADDRESS": ADDRESS,
    "MISSING": MISSING,
    "d": d,
    "use": use,
    "request": request,
    "SIMPLE": PyBUF_SIMPLE,
    "WRITABLE": PyBUF_WRITABLE,
    "FORMAT": PyBUF_FORMAT,
    "C_CONTIGUOUS": PyBUF_C_CONTIGUOUS,
    "F_CONTIGUOUS": PyBUF_F_CONTIGUOUS,
    "ANY_CONTIGUOUS": PyBUF_ANY_CONTIGUOUS,
    "released": released,
    "Boom": Boom,
    "raising": raising,
    "self_using": self_using,
    "BadBool": BadBool,
    "Index": Index,
    "exposing": exposing,
    "capsule": capsule,
    "interface": interface,
    "Exporter": Exporter,
    "np": np,
    "BufferProxy": BufferProxy,
    "get_array_interface": get_array_interface,
    "released_memoryview": released_memoryview,
    "readonly_array": readonly_array,
    "refused": refused,
}

_CELL_SPLIT = re.compile(r"(?<!\\)\|")
_CODE = re.compile(r"^`(.*)`$")


def _cells(line):
    cells = [c.strip().replace("\\|", "|") for c in _CELL_SPLIT.split(line.strip())]
    return cells[1:-1]  # the line starts and ends with a pipe


def _code(cell, where):
    match = _CODE.match(cell)
    assert match, f"{where}: expected a single code span, got {cell!r}"
    return match.group(1)


def parse(text):
    """Rows (id, expression, exception name or None, fragment) of every expression table."""
    rows = []
    header = None
    for number, line in enumerate(text.splitlines(), 1):
        if not line.startswith("|"):
            header = None
            continue
        cells = _cells(line)
        if header is None:
            header = cells
            continue
        if set("".join(cells)) <= set("-: "):
            continue  # the delimiter row
        if "expression" not in header:
            continue
        assert len(cells) == len(header), f"line {number}: {len(cells)} cells"
        row = dict(zip(header, cells, strict=True))
        where = f"line {number} ({row['id']})"
        raises = row["raises"]
        expected = None if raises == ACCEPTED else _code(raises, where)
        fragment = _code(row["message contains"], where) if expected else ""
        assert fragment or not expected, f"{where}: a raising row needs a message fragment"
        rows.append((row["id"], _code(row["expression"], where), expected, fragment))
    return rows


ROWS = parse(DOCUMENT.read_text(encoding="utf-8"))


def test_document_is_complete():
    ids = [row[0] for row in ROWS]
    assert len(ids) == len(set(ids)), "row ids must be unique"
    assert len(ROWS) >= 100
    # Every exception type the contract names appears in the table.
    raised = {row[2] for row in ROWS}
    for name in [
        "ValueError",
        "TypeError",
        "OverflowError",
        "BufferError",
        "IndexError",
        "UnicodeEncodeError",
        "RuntimeError",
        "Boom",
    ]:
        assert name in raised
    assert None in raised  # and accepted inputs bound the failing ones


@pytest.mark.parametrize(
    ("expression", "expected", "fragment"), [r[1:] for r in ROWS], ids=[r[0] for r in ROWS]
)
def test_row(expression, expected, fragment):
    namespace = dict(NAMES)
    if expected is None:
        eval(expression, namespace)
        return
    exc_type = NAMES[expected] if expected in NAMES else getattr(builtins, expected)
    with pytest.raises(exc_type, match=re.escape(fragment)) as info:
        eval(expression, namespace)
    assert type(info.value) is exc_type  # exactly, not a subclass
