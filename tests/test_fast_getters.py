"""`length`, `raw` and `__array_struct__` have getters written as plain C functions that read the
held acquisition directly, falling back to the ordinary getters otherwise (before first
use, errors). Every path must behave exactly as the ordinary getter: before first use, on
a subclass, after ``__init__`` replaced the parent, with errors, and as descriptors.
"""

import gc
import sys
import weakref

import numpy as np
import pytest
from cstructs import PyArrayInterface

import bufferproxy
from bufferproxy import BufferProxy, get_array_interface

GIL_THRESHOLD = bufferproxy._bufferproxy._GIL_RELEASE_THRESHOLD

NAMES = ["length", "raw", "__array_struct__"]


def interface_of(capsule):
    import ctypes

    get_pointer = ctypes.pythonapi.PyCapsule_GetPointer
    get_pointer.restype = ctypes.c_void_p
    get_pointer.argtypes = [ctypes.py_object, ctypes.c_char_p]
    return PyArrayInterface.from_address(get_pointer(capsule, None))


@pytest.mark.parametrize("name", NAMES)
def test_descriptors_keep_their_name_doc_and_type_check(name):
    descr = BufferProxy.__dict__[name]
    assert type(descr).__name__ == "getset_descriptor"
    assert descr.__name__ == name
    assert descr.__objclass__ is BufferProxy
    assert descr.__doc__
    assert getattr(BufferProxy, name) is descr
    with pytest.raises(TypeError, match="doesn't apply"):
        descr.__get__(object(), object)
    proxy = BufferProxy(bytearray(4))
    with pytest.raises(AttributeError):
        setattr(proxy, name, 1)


def test_length_before_and_after_first_use():
    calls = []
    data = bytearray(12)
    proxy = BufferProxy(
        {"shape": (3,), "typestr": "<u4", "data": data, "before": calls.append, "parent": "p"}
    )
    assert calls == []
    assert proxy.length == 12  # first use: the ordinary getter acquires
    assert calls == ["p"]
    assert proxy.length == 12  # held: the fast path, no callback
    assert calls == ["p"]


def test_errors_come_through_the_fallback():
    proxy = BufferProxy(1)
    for _ in range(2):  # nothing is held after a failure, so the fallback runs again
        with pytest.raises(ValueError, match="does not export an array buffer"):
            _ = proxy.length
        with pytest.raises(ValueError, match="does not export an array buffer"):
            _ = proxy.__array_struct__

    def refuse(parent):
        raise KeyError("no")

    described = BufferProxy(
        {"shape": (2,), "typestr": "|u1", "data": bytearray(2), "before": refuse}
    )
    with pytest.raises(KeyError):
        _ = described.__array_struct__


def test_subclass_uses_the_same_getters():
    class Sub(BufferProxy):
        pass

    arr = np.arange(6, dtype=np.int16)
    sub = Sub(arr)
    assert sub.length == 12
    assert sub.length == 12
    capsule = sub.__array_struct__
    inter = interface_of(capsule)
    assert (inter.two, inter.nd, inter.itemsize) == (2, 1, 2)
    assert get_array_interface(sub)["shape"] == (6,)

    class Overriding(BufferProxy):
        @property
        def length(self):
            return -1

    assert Overriding(arr).length == -1
    assert Overriding(arr).__array_struct__ is not None


def test_after_init_replaced_the_parent():
    proxy = BufferProxy(np.zeros(2, np.uint8))
    proxy.__init__(np.zeros(5, np.uint8))  # before first use: the new parent counts
    assert proxy.length == 5
    capsule = proxy.__array_struct__  # kept: the interface lives inside the capsule
    assert interface_of(capsule).shape[0] == 5
    with pytest.raises(TypeError, match="re-initialised"):
        proxy.__init__(np.zeros(7, np.uint8))
    assert proxy.length == 5


def test_array_struct_capsule_from_the_fast_path_keeps_the_proxy_alive():
    arr = np.arange(4, dtype=np.float64)
    proxy = BufferProxy(arr)
    first = proxy.__array_struct__  # first use (ordinary getter)
    second = proxy.__array_struct__  # fast path
    ref = weakref.ref(proxy)
    refs_before = sys.getrefcount(proxy)
    third = proxy.__array_struct__
    assert sys.getrefcount(proxy) == refs_before + 1  # the capsule holds one reference
    del proxy
    gc.collect()
    assert ref() is not None
    for capsule in (first, second, third):
        inter = interface_of(capsule)
        assert inter.data == arr.ctypes.data
        assert (inter.typekind, inter.itemsize) == (b"f", 8)
    del first, second, third, capsule
    gc.collect()
    assert ref() is None


def test_many_reads_do_not_leak():
    proxy = BufferProxy(np.zeros(3, np.uint8))
    _ = proxy.length
    refs = sys.getrefcount(proxy)
    for _ in range(1000):
        assert proxy.length == 3
        capsule = proxy.__array_struct__
        del capsule
    assert sys.getrefcount(proxy) == refs


def test_raw_every_path_gives_the_same_bytes():
    base = np.arange(4096, dtype=np.uint8) ^ 0xA5
    cases = {
        "C": base[:64].reshape(8, 8),
        "F": np.asfortranarray(base[:64].reshape(8, 8)),  # contiguous: memory order
        "strided": base[:128].reshape(8, 16)[:, ::2],  # the gather (fallback)
        "negative": base[:64][::-1],
        "empty": base[:0],
    }
    for name, arr in cases.items():
        proxy = BufferProxy(arr)
        first = proxy.raw  # first use: the ordinary getter
        again = proxy.raw  # held: the fast path where it applies
        expected = arr.tobytes(order="A") if name == "F" else arr.tobytes()
        assert first == again == expected, name


def test_raw_fast_path_limits():
    calls = []
    data = bytearray(range(256)) * (GIL_THRESHOLD // 256 + 1)
    for n in (GIL_THRESHOLD - 1, GIL_THRESHOLD):  # below: fast path; at: the detached copy
        proxy = BufferProxy({"shape": (n,), "typestr": "|u1", "data": data, "before": calls.append})
        assert proxy.raw == bytes(data[:n])
        assert proxy.raw == bytes(data[:n])
    assert calls == [None, None]
    null = BufferProxy({"shape": (4,), "typestr": "|u1", "data": (0, True)})
    assert null.length == 4  # held, at NULL
    for _ in range(2):
        with pytest.raises(ValueError, match="NULL"):
            _ = null.raw
    empty_null = BufferProxy({"shape": (0,), "typestr": "|u1", "data": (0, True)})
    assert empty_null.raw == b""
    assert empty_null.raw == b""


def test_raw_of_a_subclass_and_a_replaced_parent():
    class Sub(BufferProxy):
        pass

    sub = Sub(np.arange(3, dtype=np.uint8))
    assert sub.raw == sub.raw == b"\x00\x01\x02"
    proxy = BufferProxy(b"abc")
    proxy.__init__(b"defg")
    assert proxy.raw == proxy.raw == b"defg"


def test_length_as_first_use_of_an_exporter_leaves_no_reference_behind():
    """Over a buffer exporter, `length` makes the first use itself (without pyo3's
    trampoline): what it acquires is held by the proxy alone and given back as soon as the
    proxy goes; a failure holds nothing, and the next use tries again."""
    arr = np.arange(5, dtype=np.uint8)
    ref = weakref.ref(arr)
    refs = sys.getrefcount(arr)
    proxy = BufferProxy(arr)
    assert proxy.length == 5
    assert sys.getrefcount(arr) == refs + 2  # the parent, and the held export's object
    del proxy
    assert sys.getrefcount(arr) == refs
    del arr
    assert ref() is None

    view = memoryview(bytearray(3))
    proxy = BufferProxy(view)
    view.release()
    for _ in range(2):  # nothing is held after the failure, so the next use tries again
        with pytest.raises(ValueError, match="released"):
            _ = proxy.length
    proxy.__init__(b"abcd")  # nothing held: the parent may still be replaced
    assert proxy.length == 4
