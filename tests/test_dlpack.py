"""DLPack export: `__dlpack__`, `__dlpack_device__` and `numpy.from_dlpack(proxy)`.

The capsules are also read directly through the ctypes mirrors in `cstructs`, so the
fields a consumer sees (and the deleter a consumer calls) are checked, not just numpy's
reading of them.
"""

import ctypes
import gc
import subprocess
import sys
import textwrap
import threading
import weakref

import numpy as np
import pytest
from cstructs import (
    DLPACK_FLAG_BITMASK_IS_COPIED,
    DLPACK_FLAG_BITMASK_READ_ONLY,
    DLManagedTensor,
    DLManagedTensorVersioned,
    DLPackDeleter,
    kDLCPU,
    kDLFloat,
    kDLInt,
    kDLUInt,
)
from hypothesis import given
from hypothesis import strategies as st

from bufferproxy import BufferProxy
from bufferproxy._testing import Exporter

NATIVE = "<" if sys.byteorder == "little" else ">"
SWAPPED = ">" if NATIVE == "<" else "<"

# numpy asks for versioned capsules (max_version) from 2.1 on; before, read-only data
# cannot be imported at all.
NUMPY_VERSIONED = tuple(int(p) for p in np.__version__.split(".")[:2]) >= (2, 1)
needs_versioned_numpy = pytest.mark.skipif(
    not NUMPY_VERSIONED, reason="numpy.from_dlpack asks for versioned capsules from numpy 2.1"
)

DLTENSOR = b"dltensor"
DLTENSOR_VERSIONED = b"dltensor_versioned"
# Module constants: a renamed capsule keeps pointing at its name.
USED_DLTENSOR = b"used_dltensor"
USED_DLTENSOR_VERSIONED = b"used_dltensor_versioned"

# Private function objects (not the shared ctypes.pythonapi attributes, whose argtypes other
# modules might set differently).
_capsule_get_name = ctypes.PYFUNCTYPE(ctypes.c_char_p, ctypes.py_object)(
    ("PyCapsule_GetName", ctypes.pythonapi)
)
_capsule_get_pointer = ctypes.PYFUNCTYPE(ctypes.c_void_p, ctypes.py_object, ctypes.c_char_p)(
    ("PyCapsule_GetPointer", ctypes.pythonapi)
)
_capsule_set_name = ctypes.PYFUNCTYPE(ctypes.c_int, ctypes.py_object, ctypes.c_char_p)(
    ("PyCapsule_SetName", ctypes.pythonapi)
)


def read_capsule(capsule):
    """The name, managed tensor struct and DLTensor fields (as plain values) of a capsule."""
    name = _capsule_get_name(capsule)
    assert name in (DLTENSOR, DLTENSOR_VERSIONED)
    pointer = _capsule_get_pointer(capsule, name)
    assert pointer
    struct = DLManagedTensorVersioned if name == DLTENSOR_VERSIONED else DLManagedTensor
    managed = struct.from_address(pointer)
    t = managed.dl_tensor
    fields = {
        "data": t.data or 0,
        "device": (t.device.device_type, t.device.device_id),
        "ndim": t.ndim,
        "dtype": (t.dtype.code, t.dtype.bits, t.dtype.lanes),
        "shape": tuple(t.shape[i] for i in range(t.ndim)),
        "strides": tuple(t.strides[i] for i in range(t.ndim)),
        "byte_offset": t.byte_offset,
    }
    return name, managed, fields


def address(arr):
    return arr.__array_interface__["data"][0]


# -- device and capsules -------------------------------------------------------------------


def test_dlpack_device_is_cpu():
    proxy = BufferProxy(np.zeros(3, np.uint8))
    assert proxy.__dlpack_device__() == (kDLCPU, 0)
    assert type(proxy.__dlpack_device__()[0]) is int


def test_legacy_capsule_without_max_version():
    arr = np.arange(12, dtype=np.int32).reshape(3, 4)
    capsule = BufferProxy(arr).__dlpack__()
    assert type(capsule).__name__ == "PyCapsule"
    name, managed, fields = read_capsule(capsule)
    assert name == DLTENSOR
    assert managed.deleter
    assert fields == {
        "data": address(arr),
        "device": (kDLCPU, 0),
        "ndim": 2,
        "dtype": (kDLInt, 32, 1),
        "shape": (3, 4),
        "strides": (4, 1),
        "byte_offset": 0,
    }


@pytest.mark.parametrize("max_version", [(1, 0), (1, 3), (1, 99), (2, 0)])
def test_versioned_capsule_is_dlpack_1_0(max_version):
    # The spec lets a producer answer a newer max_version with its own version; the
    # consumer checks the version it gets.
    arr = np.arange(6, dtype=np.float64)
    capsule = BufferProxy(arr).__dlpack__(max_version=max_version)
    name, managed, fields = read_capsule(capsule)
    assert name == DLTENSOR_VERSIONED
    assert (managed.version.major, managed.version.minor) == (1, 0)
    assert managed.flags == 0
    assert managed.deleter
    assert fields["data"] == address(arr)
    assert fields["dtype"] == (kDLFloat, 64, 1)
    assert (fields["shape"], fields["strides"]) == ((6,), (1,))


@pytest.mark.parametrize("max_version", [(0, 8), (0, 0), (-1, 5)])
def test_pre_1_0_max_version_gets_a_legacy_capsule(max_version):
    capsule = BufferProxy(np.zeros(2, np.uint16)).__dlpack__(max_version=max_version)
    assert _capsule_get_name(capsule) == DLTENSOR


@pytest.mark.parametrize(
    ("dtype", "code"),
    [
        ("i1", kDLInt),
        ("u1", kDLUInt),
        ("i2", kDLInt),
        ("u2", kDLUInt),
        ("i4", kDLInt),
        ("u4", kDLUInt),
        ("i8", kDLInt),
        ("u8", kDLUInt),
        ("f4", kDLFloat),
        ("f8", kDLFloat),
    ],
)
def test_item_types(dtype, code):
    arr = np.zeros(3, np.dtype(dtype))
    for versioned in (None, (1, 0)):
        _, _, fields = read_capsule(BufferProxy(arr).__dlpack__(max_version=versioned))
        assert fields["dtype"] == (code, arr.itemsize * 8, 1)


@pytest.mark.parametrize(
    "typestr", ["|u1", "|i1", f"{NATIVE}u2", f"{NATIVE}i4", f"{NATIVE}u8", f"{NATIVE}f4", "|f8"]
)
def test_dict_descriptions_export_their_items(typestr):
    data = bytearray(range(48))
    proxy = BufferProxy({"shape": (2, 3), "typestr": typestr, "data": data})
    got = np.from_dlpack(proxy)
    assert got.dtype == np.dtype(typestr).newbyteorder("=")
    assert got.shape == (2, 3)
    assert got.tobytes() == proxy.raw
    assert address(got) == proxy.__array_interface__["data"][0]


def test_zero_dim_array():
    arr = np.array(7, dtype=np.int16)
    proxy = BufferProxy(arr)
    for versioned in (None, (1, 0)):
        _, _, fields = read_capsule(proxy.__dlpack__(max_version=versioned))
        assert (fields["ndim"], fields["shape"], fields["strides"]) == (0, (), ())
        assert fields["data"] == address(arr)
    got = np.from_dlpack(proxy)
    assert got.shape == ()
    assert got == 7
    got[()] = -3
    assert arr == -3


def test_empty_array():
    arr = np.zeros((0, 3), np.uint32)
    got = np.from_dlpack(BufferProxy(arr))
    assert got.shape == (0, 3)
    assert got.dtype == np.uint32


# -- shared memory -------------------------------------------------------------------------


def _parents():
    data = bytearray(16)
    yield "numpy", np.zeros(8, np.uint16)
    yield "dict", {"shape": (8,), "typestr": f"{NATIVE}u2", "data": data}
    yield "exporter", Exporter((8,), "=H")


@pytest.mark.parametrize("kind", ["numpy", "dict", "exporter"])
def test_from_dlpack_shares_memory(kind):
    parent = dict(_parents())[kind]
    proxy = BufferProxy(parent)
    arr = np.from_dlpack(proxy)
    assert arr.dtype == np.uint16
    assert arr.shape == (8,)
    assert arr.flags.writeable
    # numpy writes, the proxy reads.
    arr[:] = np.arange(8, dtype=np.uint16) * 257
    assert proxy.raw == (np.arange(8, dtype=np.uint16) * 257).tobytes()
    # The proxy writes, numpy reads.
    proxy.write(np.array([1000, 2000], dtype=np.uint16).tobytes(), 4)
    assert arr.tolist() == [0, 257, 1000, 2000, 1028, 1285, 1542, 1799]


def test_multi_dim_strided_parent():
    base = np.arange(48, dtype=np.int32).reshape(6, 8)
    parent = base[1:, ::2]
    assert not parent.flags.c_contiguous
    proxy = BufferProxy(parent)
    _, _, fields = read_capsule(proxy.__dlpack__())
    assert fields["shape"] == (5, 4)
    assert fields["strides"] == (8, 2)
    assert fields["data"] == address(parent)
    got = np.from_dlpack(proxy)
    assert got.strides == parent.strides
    np.testing.assert_array_equal(got, parent)
    got[0, 1] = -1
    assert base[1, 2] == -1


@pytest.mark.parametrize(
    "view",
    [
        lambda a: a[::-1],
        lambda a: a[::-2, 1::3],
        lambda a: a.T,
        lambda a: np.asfortranarray(a),
        lambda a: a[:, ::-1].T,
    ],
)
def test_negative_and_fortran_strides(view):
    parent = view(np.arange(4 * 6, dtype=np.float32).reshape(4, 6))
    proxy = BufferProxy(parent)
    _, _, fields = read_capsule(proxy.__dlpack__())
    assert fields["strides"] == tuple(s // 4 for s in parent.strides)
    assert fields["data"] == address(parent)
    got = np.from_dlpack(proxy)
    assert got.strides == parent.strides
    np.testing.assert_array_equal(got, parent)


def test_unused_strides_need_not_be_item_multiples():
    # A dimension of length 1 is never stepped along, so its stride may split items (as
    # numpy allows for its own arrays).
    data = bytearray(12)
    proxy = BufferProxy(
        {"shape": (1, 3), "typestr": f"{NATIVE}u2", "data": data, "strides": (5, 2)}
    )
    got = np.from_dlpack(proxy)
    assert got.shape == (1, 3)
    got[0] = [1, 2, 3]
    assert proxy.raw == np.array([1, 2, 3], np.uint16).tobytes()


# -- read-only data ------------------------------------------------------------------------


def _readonly_parents():
    arr = np.arange(6, dtype=np.int16)
    arr.flags.writeable = False
    return {
        "numpy": arr,
        "bytes": {"shape": (3,), "typestr": f"{NATIVE}i2", "data": b"\x01\x00\x02\x00\x03\x00"},
        "exporter": Exporter((6,), "=h", readonly=True),
    }


@pytest.mark.parametrize("kind", ["numpy", "bytes", "exporter"])
def test_readonly_data_is_marked_in_versioned_capsules(kind):
    proxy = BufferProxy(_readonly_parents()[kind])
    capsule = proxy.__dlpack__(max_version=(1, 0))  # `managed` points into it: keep it
    name, managed, _ = read_capsule(capsule)
    assert name == DLTENSOR_VERSIONED
    assert managed.flags & DLPACK_FLAG_BITMASK_READ_ONLY
    assert not managed.flags & DLPACK_FLAG_BITMASK_IS_COPIED


@pytest.mark.parametrize("kind", ["numpy", "bytes", "exporter"])
def test_legacy_capsules_refuse_readonly_data(kind):
    # numpy's own __dlpack__ refuses read-only arrays without max_version the same way.
    proxy = BufferProxy(_readonly_parents()[kind])
    with pytest.raises(BufferError, match=r"read-only.*max_version=\(1, 0\)"):
        proxy.__dlpack__()


@needs_versioned_numpy
@pytest.mark.parametrize("kind", ["numpy", "bytes", "exporter"])
def test_from_dlpack_of_readonly_data_is_readonly(kind):
    proxy = BufferProxy(_readonly_parents()[kind])
    arr = np.from_dlpack(proxy)
    assert not arr.flags.writeable
    assert arr.tobytes() == proxy.raw
    with pytest.raises(ValueError, match="read-only"):
        arr[0] = 5


# -- lifetime ------------------------------------------------------------------------------


def test_capsule_keeps_the_memory_alive():
    parent = np.arange(10, dtype=np.uint8)
    proxy = BufferProxy(parent)
    ref = weakref.ref(proxy)
    capsule = proxy.__dlpack__(max_version=(1, 0))
    del proxy, parent
    gc.collect()
    assert ref() is not None
    _, _, fields = read_capsule(capsule)
    assert ctypes.string_at(fields["data"], 10) == bytes(range(10))
    del capsule
    gc.collect()
    assert ref() is None


def test_array_keeps_the_memory_alive():
    after = []
    data = bytearray(range(8))
    proxy = BufferProxy(
        {"shape": (8,), "typestr": "|u1", "data": data, "after": lambda parent: after.append(1)}
    )
    ref = weakref.ref(proxy)
    arr = np.from_dlpack(proxy)
    del proxy, data
    gc.collect()
    assert ref() is not None
    assert after == []  # the proxy still holds its acquisition of the memory
    assert arr.tolist() == list(range(8))
    arr[3] = 99
    assert arr[3] == 99
    del arr
    gc.collect()
    assert ref() is None
    assert after == [1]


@pytest.mark.parametrize("max_version", [None, (1, 0)])
def test_unconsumed_capsules_are_freed(max_version):
    proxy = BufferProxy(np.zeros(4, np.int64))
    proxy.__dlpack__()  # first use: acquire the memory once, before counting
    baseline = sys.getrefcount(proxy)
    capsule = proxy.__dlpack__(max_version=max_version)
    assert sys.getrefcount(proxy) == baseline + 1
    del capsule
    assert sys.getrefcount(proxy) == baseline
    for _ in range(1000):
        proxy.__dlpack__(max_version=max_version)
    assert sys.getrefcount(proxy) == baseline


@pytest.mark.parametrize("max_version", [None, (1, 0)])
def test_consumed_capsules_are_freed_by_the_consumer(max_version):
    proxy = BufferProxy(np.zeros(4, np.int64))
    proxy.__dlpack__()
    baseline = sys.getrefcount(proxy)
    arr = np.from_dlpack(proxy)
    assert sys.getrefcount(proxy) == baseline + 1
    del arr
    assert sys.getrefcount(proxy) == baseline


@pytest.mark.parametrize("versioned", [False, True])
@pytest.mark.parametrize("thread", [False, True])
def test_consumer_deletes_the_tensor_without_the_capsule(versioned, thread):
    # A consumer takes the tensor by renaming the capsule, lets the capsule go, and calls
    # the deleter later from C: here through ctypes, which detaches from the interpreter
    # for the call, optionally on another thread.
    proxy = BufferProxy(np.zeros(4, np.float32))
    proxy.__dlpack__()
    baseline = sys.getrefcount(proxy)
    capsule = proxy.__dlpack__(max_version=(1, 0) if versioned else None)
    name, managed, _ = read_capsule(capsule)
    pointer = _capsule_get_pointer(capsule, name)
    assert _capsule_set_name(capsule, USED_DLTENSOR_VERSIONED if versioned else USED_DLTENSOR) == 0
    del capsule
    assert sys.getrefcount(proxy) == baseline + 1  # the tensor is the consumer's now
    deleter = DLPackDeleter(managed.deleter)
    if thread:
        worker = threading.Thread(target=deleter, args=(pointer,))
        worker.start()
        worker.join()
    else:
        deleter(pointer)
    assert sys.getrefcount(proxy) == baseline


@pytest.mark.parametrize("max_version", [None, (1, 0)])
def test_capsule_dying_during_an_exception_keeps_the_exception(max_version):
    # `capsule + None` sets the TypeError, then drops its operands: the capsule dies with
    # the exception set and takes the proxy with it, whose `after` callback runs Python.
    # The deleter must set the exception aside meanwhile, or the callback fails with a
    # SystemError and the TypeError is lost.
    after = []
    description = {
        "shape": (4,),
        "typestr": "|u1",
        "data": bytearray(4),
        "after": lambda parent: after.append(sum(range(10))),
    }
    with pytest.raises(TypeError, match="unsupported operand"):
        BufferProxy(description).__dlpack__(max_version=max_version) + None
    assert after == [45]


_EXIT_SCRIPT = textwrap.dedent(
    """
    import gc, sys
    import numpy as np
    from bufferproxy import BufferProxy

    # Alive at exit: an unconsumed capsule of each kind, arrays imported from proxies whose
    # parents are gone, and a capsule in a reference cycle (collected during finalisation).
    parent = np.arange(64, dtype=np.float64)
    proxy = BufferProxy(parent)
    legacy = proxy.__dlpack__()
    versioned = proxy.__dlpack__(max_version=(1, 0))
    arr = np.from_dlpack(proxy)
    other = np.from_dlpack(BufferProxy({"shape": (4,), "typestr": "|u1", "data": bytearray(4),
                                        "after": lambda parent: print("after", flush=True)}))
    cycle = []
    cycle.append((cycle, BufferProxy(np.zeros(3)).__dlpack__(max_version=(1, 0))))
    del parent, proxy, cycle
    gc.collect()
    sys.modules["__main__"].keep = (legacy, versioned, arr, other)
    print("ok", arr.sum(), flush=True)
    """
)


def test_capsules_and_arrays_alive_at_exit_do_not_crash():
    proc = subprocess.run(
        [sys.executable, "-c", _EXIT_SCRIPT],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.startswith("ok 2016.0")
    assert "Traceback" not in proc.stderr, proc.stderr[-2000:]


# -- layouts DLPack cannot describe --------------------------------------------------------


@pytest.mark.parametrize(
    ("description", "reason"),
    [
        (
            {"shape": (3,), "typestr": f"{NATIVE}u2", "strides": (3,)},
            r"stride of dimension 0 \(3 bytes\) is not a multiple of the item size \(2 bytes\)",
        ),
        (
            {"shape": (2, 2), "typestr": f"{NATIVE}i4", "strides": (8, 6)},
            r"stride of dimension 1 \(6 bytes\) is not a multiple of the item size \(4 bytes\)",
        ),
        ({"shape": (3,), "typestr": f"{SWAPPED}u2"}, "native byte order"),
        ({"shape": (3,), "typestr": f"{SWAPPED}f8"}, "native byte order"),
        ({"shape": (3,), "typestr": "|V3"}, "no numeric type"),
        ({"shape": (3,), "typestr": "|V1"}, "no numeric type"),
        ({"shape": (3,), "typestr": f"{NATIVE}i3"}, "no numeric type"),
        ({"shape": (3,), "typestr": f"{NATIVE}u5"}, "no numeric type"),
    ],
)
def test_layouts_dlpack_cannot_describe(description, reason):
    proxy = BufferProxy({**description, "data": bytearray(64)})
    for max_version in (None, (1, 0)):
        with pytest.raises(BufferError, match=reason):
            proxy.__dlpack__(max_version=max_version)
    with pytest.raises(BufferError, match=reason):
        np.from_dlpack(proxy)


def test_exporter_formats_dlpack_cannot_describe():
    with pytest.raises(BufferError, match="no numeric type"):
        BufferProxy(Exporter((2,), "3x")).__dlpack__()
    with pytest.raises(BufferError, match="native byte order"):
        BufferProxy(Exporter((2,), f"{SWAPPED}I")).__dlpack__()
    # One-byte items have no byte order.
    assert _capsule_get_name(BufferProxy(Exporter((2,), f"{SWAPPED}B")).__dlpack__()) == DLTENSOR


def test_refused_exports_leak_nothing():
    proxy = BufferProxy({"shape": (3,), "typestr": "|V3", "data": bytearray(9)})
    with pytest.raises(BufferError):
        proxy.__dlpack__()
    baseline = sys.getrefcount(proxy)
    for _ in range(100):
        with pytest.raises(BufferError):
            proxy.__dlpack__(max_version=(1, 0))
    assert sys.getrefcount(proxy) == baseline


# -- arguments -----------------------------------------------------------------------------


@pytest.fixture
def proxy():
    return BufferProxy(np.arange(4, dtype=np.int32))


@pytest.mark.parametrize("kwargs", [{}, {"dl_device": (1, 0)}, {"dl_device": (kDLCPU, 0)}])
def test_cpu_device_is_accepted(proxy, kwargs):
    assert _capsule_get_name(proxy.__dlpack__(**kwargs)) == DLTENSOR


@pytest.mark.parametrize("device", [(2, 0), (1, 1), (3, 0), (0, 0)])
def test_other_devices_are_buffer_errors(proxy, device):
    with pytest.raises(BufferError, match="unsupported device requested"):
        proxy.__dlpack__(dl_device=device)


@pytest.mark.parametrize(
    ("device", "error"),
    [([1, 0], TypeError), ((1,), TypeError), ((1, 0, 0), TypeError), (("1", 0), TypeError)],
)
def test_malformed_devices(proxy, device, error):
    with pytest.raises(error):
        proxy.__dlpack__(dl_device=device)


@pytest.mark.parametrize("stream", [0, 1, 2, -1, object()])
def test_streams_are_refused_on_cpu(proxy, stream):
    # The array API standard accepts only stream=None for CPU memory; numpy raises
    # ValueError for anything else.
    with pytest.raises(ValueError, match="stream=None"):
        proxy.__dlpack__(stream=stream)
    assert _capsule_get_name(proxy.__dlpack__(stream=None)) == DLTENSOR


def test_copy_true_is_refused(proxy):
    with pytest.raises(BufferError, match="copy=True"):
        proxy.__dlpack__(copy=True)
    with pytest.raises(BufferError, match="copy=True"):
        np.from_dlpack(proxy, copy=True)


@pytest.mark.parametrize("copy", [None, False])
def test_copy_none_or_false_shares(proxy, copy):
    arr = np.from_dlpack(proxy, copy=copy)
    assert address(arr) == proxy.__array_interface__["data"][0]


@pytest.mark.parametrize("max_version", [1, (1,), (1, 0, 0), [1, 0], "1.0"])
def test_malformed_max_version(proxy, max_version):
    with pytest.raises(TypeError, match="max_version"):
        proxy.__dlpack__(max_version=max_version)


def test_arguments_are_keyword_only(proxy):
    with pytest.raises(TypeError):
        proxy.__dlpack__(None)
    with pytest.raises(TypeError):
        proxy.__dlpack__(unknown=1)
    with pytest.raises(TypeError):
        proxy.__dlpack_device__(1)


def test_argument_errors_come_before_layout_errors():
    proxy = BufferProxy({"shape": (3,), "typestr": "|V3", "data": bytearray(9)})
    with pytest.raises(ValueError, match="stream"):
        proxy.__dlpack__(stream=1)
    with pytest.raises(BufferError, match="device"):
        proxy.__dlpack__(dl_device=(2, 0))


# -- property: from_dlpack agrees with the buffer protocol ---------------------------------

TYPES = [(k, n) for k in "iu" for n in (1, 2, 4, 8)] + [("f", 4), ("f", 8)]


@st.composite
def layouts(draw):
    kind, itemsize = draw(st.sampled_from(TYPES))
    ndim = draw(st.integers(1, 3))
    shape = tuple(draw(st.lists(st.integers(0, 4), min_size=ndim, max_size=ndim)))
    steps = draw(st.lists(st.integers(-4, 4), min_size=ndim, max_size=ndim))
    strides = tuple(s * itemsize for s in steps)
    empty = 0 in shape
    lo = 0 if empty else sum(min(0, (n - 1) * s) for n, s in zip(shape, strides, strict=True))
    hi = 0 if empty else sum(max(0, (n - 1) * s) for n, s in zip(shape, strides, strict=True))
    size = hi - lo + itemsize
    data = bytearray(draw(st.binary(min_size=size, max_size=size)))
    order = "|" if itemsize == 1 else NATIVE
    return {
        "shape": shape,
        "typestr": f"{order}{kind}{itemsize}",
        "strides": strides,
        "data": data,
        "offset": -lo,
    }


@given(layouts(), st.sampled_from([None, (1, 0)]))
def test_from_dlpack_matches_asarray(description, max_version):
    proxy = BufferProxy(description)
    theirs = np.asarray(proxy)

    class Consumer:  # passes one max_version through, whatever numpy asks for
        def __dlpack__(self, **kwargs):
            return proxy.__dlpack__(max_version=max_version)

        def __dlpack_device__(self):
            return proxy.__dlpack_device__()

    ours = np.from_dlpack(Consumer())
    assert ours.dtype == theirs.dtype
    assert ours.shape == theirs.shape
    assert ours.strides == theirs.strides
    assert ours.tobytes() == theirs.tobytes()  # bytes: NaN payloads compare too
    if ours.size:
        assert address(ours) == address(theirs)
