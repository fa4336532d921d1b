"""`__array_interface__`, `__array_struct__` and `bufferproxy.get_array_interface`."""

import array
import ctypes
import gc
import sys
import weakref

import numpy as np
import pytest
from cstructs import (
    PAI_ALIGNED,
    PAI_ARR_HAS_DESCR,
    PAI_CONTIGUOUS,
    PAI_FORTRAN,
    PAI_NOTSWAPPED,
    PAI_WRITEABLE,
    PyArrayInterface,
)

import bufferproxy
from bufferproxy import BufferProxy, get_array_interface
from bufferproxy._testing import Exporter

NATIVE = "<" if sys.byteorder == "little" else ">"
SWAPPED = ">" if NATIVE == "<" else "<"

PAI_KNOWN = PAI_CONTIGUOUS | PAI_FORTRAN | PAI_ALIGNED | PAI_NOTSWAPPED | PAI_WRITEABLE


# Private function objects (not the shared ctypes.pythonapi attributes, whose argtypes other
# modules might set differently).
_capsule_get_pointer = ctypes.PYFUNCTYPE(ctypes.c_void_p, ctypes.py_object, ctypes.c_char_p)(
    ("PyCapsule_GetPointer", ctypes.pythonapi)
)
_capsule_get_name = ctypes.PYFUNCTYPE(ctypes.c_char_p, ctypes.py_object)(
    ("PyCapsule_GetName", ctypes.pythonapi)
)
_capsule_is_valid = ctypes.PYFUNCTYPE(ctypes.c_int, ctypes.py_object, ctypes.c_char_p)(
    ("PyCapsule_IsValid", ctypes.pythonapi)
)
_capsule_new = ctypes.PYFUNCTYPE(
    ctypes.py_object, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p
)(("PyCapsule_New", ctypes.pythonapi))


def read_struct(capsule):
    """Read the PyArrayInterface of an unnamed capsule into plain Python values."""
    assert type(capsule).__name__ == "PyCapsule"
    assert _capsule_is_valid(capsule, None) == 1
    assert _capsule_get_name(capsule) is None
    pointer = _capsule_get_pointer(capsule, None)
    assert pointer
    inter = PyArrayInterface.from_address(pointer)
    nd = inter.nd
    return {
        "two": inter.two,
        "nd": nd,
        "typekind": inter.typekind.decode("ascii"),
        "itemsize": inter.itemsize,
        "flags": inter.flags,
        "shape": tuple(inter.shape[i] for i in range(nd)),
        "strides": tuple(inter.strides[i] for i in range(nd)),
        "data": inter.data or 0,
        "descr": inter.descr,
    }


class StructOnly:
    """Exposes only a given `__array_struct__` capsule (as an instance attribute)."""

    def __init__(self, capsule):
        self.__array_struct__ = capsule


class InterfaceOnly:
    """Exposes only a given `__array_interface__` dict (as an instance attribute)."""

    def __init__(self, interface):
        self.__array_interface__ = interface


def expected_typestr(dtype):
    """The typestr pygame reports for a numpy dtype exported through the buffer protocol."""
    kind = dtype.kind if dtype.kind in "iuf" else "V"
    if dtype.itemsize == 1:
        order = "|"
    elif kind == "V":
        order = NATIVE
    else:
        order = SWAPPED if dtype.byteorder == SWAPPED else NATIVE
    return f"{order}{kind}{dtype.itemsize}"


def buffer_strides(arr):
    """The strides numpy's buffer export reports (canonical ones for zero-size arrays)."""
    with memoryview(arr) as view:
        return view.strides


def readonly(arr):
    arr.flags.writeable = False
    return arr


def numpy_parents():
    """(id, array) pairs covering the layouts the interfaces must describe."""
    base = np.arange(60, dtype=np.int32).reshape(3, 4, 5)
    return [
        ("u1-1d", np.arange(7, dtype=np.uint8)),
        ("i1-2d", np.arange(6, dtype=np.int8).reshape(2, 3)),
        ("i2-C", np.arange(12, dtype=np.int16).reshape(3, 4)),
        ("u2-F", np.asfortranarray(np.arange(12, dtype=np.uint16).reshape(3, 4))),
        ("i4-3d", base),
        ("i4-strided", base[:, ::2, 1:4]),
        ("i4-negative", base[::-1, :, ::-2]),
        ("i4-transposed", base.transpose(2, 0, 1)),
        ("u4", np.arange(5, dtype=np.uint32)),
        ("i8", np.arange(5, dtype=np.int64)),
        ("u8", np.arange(5, dtype=np.uint64)),
        ("f4", np.linspace(0, 1, 6, dtype=np.float32).reshape(2, 3)),
        ("f8", np.linspace(0, 1, 6, dtype=np.float64)),
        ("swapped-i2", np.arange(6, dtype=SWAPPED + "i2")),
        ("swapped-f8", np.arange(6, dtype=SWAPPED + "f8").reshape(3, 2)[::-1]),
        ("V3", np.zeros(4, dtype="V3")),
        ("0-dim", np.array(3.5, dtype=np.float64)),
        ("0-dim-u1", np.array(9, dtype=np.uint8)),
        ("zero-size", np.zeros((0, 3), dtype=np.int16)),
        ("zero-size-3d", np.zeros((2, 0, 3), dtype=np.float32)),
        ("size-1-dims", np.arange(3, dtype=np.int16).reshape(3, 1)[:, :]),
        ("readonly", readonly(np.arange(6, dtype=np.int16).reshape(2, 3))),
        ("readonly-strided", readonly(np.arange(24, dtype=np.float32).reshape(4, 6)[::2, ::3])),
    ]


NUMPY_PARENTS = numpy_parents()
NUMPY_IDS = [name for name, _ in NUMPY_PARENTS]
NUMPY_ARRAYS = [arr for _, arr in NUMPY_PARENTS]


# --------------------------------------------------------------------------- __array_interface__


def test_array_interface_has_exactly_the_version_3_keys():
    arr = np.arange(12, dtype=np.int16).reshape(3, 4)
    inter = BufferProxy(arr).__array_interface__
    assert type(inter) is dict
    assert set(inter) == {"version", "typestr", "shape", "strides", "data"}
    assert inter["version"] == 3
    assert inter["typestr"] == NATIVE + "i2"
    assert inter["shape"] == (3, 4)
    assert inter["strides"] == (8, 2)
    assert inter["data"] == (arr.ctypes.data, False)


def test_array_interface_is_a_new_dict_each_time():
    proxy = BufferProxy(bytearray(b"abcd"))
    first = proxy.__array_interface__
    second = proxy.__array_interface__
    assert first == second
    assert first is not second
    first["shape"] = (99,)
    first["extra"] = 1
    third = proxy.__array_interface__
    assert third["shape"] == (4,)
    assert "extra" not in third


def test_array_interface_strides_present_for_c_contiguous_data():
    inter = BufferProxy(np.zeros((2, 3, 4), dtype=np.float64)).__array_interface__
    assert inter["strides"] == (96, 32, 8)
    buf = bytearray(12)
    desc = {"shape": (2, 3), "typestr": "<u2", "data": (bytearray_address(buf), False)}
    # A description without strides gets C-order strides reported back.
    assert BufferProxy(desc).__array_interface__["strides"] == (6, 2)


def bytearray_address(buf):
    """Address of a bytearray's storage (the caller keeps `buf` alive)."""
    return ctypes.addressof((ctypes.c_char * len(buf)).from_buffer(buf))


@pytest.mark.parametrize("arr", NUMPY_ARRAYS, ids=NUMPY_IDS)
def test_array_interface_of_numpy_parent(arr):
    inter = BufferProxy(arr).__array_interface__
    assert inter["version"] == 3
    assert inter["typestr"] == expected_typestr(arr.dtype)
    assert type(inter["typestr"]) is str
    assert inter["shape"] == arr.shape
    assert inter["strides"] == buffer_strides(arr)
    assert all(type(n) is int for n in inter["shape"] + inter["strides"])
    assert inter["data"] == (arr.ctypes.data, not arr.flags.writeable)
    assert type(inter["data"][0]) is int
    assert type(inter["data"][1]) is bool


@pytest.mark.parametrize("arr", NUMPY_ARRAYS, ids=NUMPY_IDS)
def test_numpy_reads_proxy_through_array_interface_only(arr):
    proxy = BufferProxy(arr)
    seen = np.asarray(InterfaceOnly(proxy.__array_interface__))
    assert seen.shape == arr.shape
    assert seen.strides == buffer_strides(arr)
    assert seen.itemsize == arr.itemsize
    assert seen.tobytes() == arr.tobytes()
    assert np.shares_memory(seen, arr) or arr.size == 0
    if arr.dtype.kind != "V":
        np.testing.assert_array_equal(seen, arr)


def test_array_interface_of_buffer_protocol_builtins():
    data = b"immutable"
    inter = BufferProxy(data).__array_interface__
    assert inter["typestr"] == "|u1"
    assert inter["shape"] == (9,)
    assert inter["strides"] == (1,)
    assert inter["data"][1] is True

    buf = bytearray(b"mutable")
    inter = BufferProxy(buf).__array_interface__
    assert inter["data"] == (bytearray_address(buf), False)

    arr = array.array("d", [1.0, 2.0, 3.0])
    inter = BufferProxy(arr).__array_interface__
    assert inter["typestr"] == NATIVE + "f8"
    assert inter["shape"] == (3,)
    assert inter["strides"] == (8,)
    assert inter["data"] == (arr.buffer_info()[0], False)


def test_array_interface_of_ctypes_parents_has_computed_strides():
    # ctypes exports shape but no strides; the interface must still carry C-order strides
    # (pygame 2.6.1 dereferences the NULL strides here and crashes).
    grid = ((ctypes.c_int32 * 3) * 2)()
    inter = BufferProxy(grid).__array_interface__
    assert inter["shape"] == (2, 3)
    assert inter["strides"] == (12, 4)
    assert inter["typestr"] == NATIVE + "i4"
    assert inter["data"] == (ctypes.addressof(grid), False)

    scalar = ctypes.c_double(2.5)
    inter = BufferProxy(scalar).__array_interface__
    assert inter["shape"] == ()
    assert inter["strides"] == ()
    assert inter["typestr"] == NATIVE + "f8"


@pytest.mark.parametrize(
    ("typestr", "reported"),
    [
        ("|u1", "|u1"),
        ("<u1", "|u1"),
        (">u1", "|u1"),
        ("|i1", "|i1"),
        ("|u2", NATIVE + "u2"),
        ("<i2", "<i2"),
        (">i2", ">i2"),
        ("<u4", "<u4"),
        (">i8", ">i8"),
        ("<f4", "<f4"),
        (">f8", ">f8"),
        ("|i3", "<V3"),
        (">i3", "<V3"),
        ("<u5", "<V5"),
        ("|V3", "<V3"),
        ("|V1", "|V1"),
    ],
)
def test_array_interface_typestr_of_description_is_normalised(typestr, reported):
    itemsize = int(typestr[2])
    buf = bytearray(2 * itemsize)
    desc = {"shape": (2,), "typestr": typestr, "data": (bytearray_address(buf), False)}
    proxy = BufferProxy(desc)
    assert proxy.__array_interface__["typestr"] == reported
    assert get_array_interface(proxy)["typestr"] == reported


def test_array_interface_typestr_from_bytes_typestr_is_str():
    buf = bytearray(4)
    desc = {"shape": (2,), "typestr": b"<i2", "data": (bytearray_address(buf), True)}
    inter = BufferProxy(desc).__array_interface__
    assert inter["typestr"] == "<i2"
    assert type(inter["typestr"]) is str
    assert inter["data"] == (bytearray_address(buf), True)


def test_array_interface_reports_address_unsigned():
    # Zero-size: nothing is ever read at this address.
    address = 2**64 - 4096
    proxy = BufferProxy({"shape": (0,), "typestr": "|u1", "data": (address, False)})
    assert proxy.length == 0
    assert proxy.__array_interface__["data"] == (address, False)
    assert read_struct(proxy.__array_struct__)["data"] == address
    assert get_array_interface(proxy)["data"] == (address, False)


def test_array_interface_readonly_flag_of_descriptions():
    buf = bytearray(6)
    address = bytearray_address(buf)
    for flag, expected in [(True, True), (False, False), (1, True), (0, False), ("yes", True)]:
        desc = {"shape": (3,), "typestr": "<u2", "data": (address, flag)}
        assert BufferProxy(desc).__array_interface__["data"] == (address, expected)


@pytest.mark.parametrize(
    ("fmt", "typestr"),
    [
        ("b", "|i1"),
        ("B", "|u1"),
        ("h", NATIVE + "i2"),
        ("<h", "<i2"),
        (">h", ">i2"),
        ("!h", ">i2"),
        ("=H", NATIVE + "u2"),
        ("@i", NATIVE + "i4"),
        ("<I", "<u4"),
        ("q", NATIVE + "i8"),
        (">Q", ">u8"),
        ("=l", NATIVE + "i4"),
        ("<L", "<u4"),
        ("f", NATIVE + "f4"),
        (">d", ">f8"),
        ("x", "|V1"),
        ("3x", NATIVE + "V3"),
        ("<5x", "<V5"),
    ],
)
def test_array_interface_typestr_of_exporter_formats(fmt, typestr):
    exporter = Exporter((2, 3), fmt)
    inter = BufferProxy(exporter).__array_interface__
    assert inter["typestr"] == typestr
    assert inter["shape"] == (2, 3)
    assert inter["data"] == (exporter.address, False)


# --------------------------------------------------------------------------- __array_struct__


@pytest.mark.parametrize("arr", NUMPY_ARRAYS, ids=NUMPY_IDS)
def test_array_struct_of_numpy_parent(arr):
    proxy = BufferProxy(arr)
    capsule = proxy.__array_struct__
    inter = read_struct(capsule)
    typestr = expected_typestr(arr.dtype)
    assert inter["two"] == 2
    assert inter["nd"] == arr.ndim
    assert inter["typekind"] == typestr[1]
    assert inter["itemsize"] == arr.itemsize
    assert inter["shape"] == arr.shape
    assert inter["strides"] == buffer_strides(arr)
    assert inter["data"] == arr.ctypes.data
    assert not inter["descr"]
    flags = inter["flags"]
    assert flags & ~PAI_KNOWN == 0
    assert not flags & PAI_ARR_HAS_DESCR
    assert flags & PAI_ALIGNED
    assert bool(flags & PAI_WRITEABLE) == arr.flags.writeable
    assert bool(flags & PAI_NOTSWAPPED) == (typestr[0] != SWAPPED)
    assert bool(flags & PAI_CONTIGUOUS) == arr.flags.c_contiguous
    assert bool(flags & PAI_FORTRAN) == arr.flags.f_contiguous


def test_array_struct_flags_for_specific_layouts():
    c_order = np.zeros((3, 4), dtype=np.int16)
    f_order = np.asfortranarray(c_order)
    flags = read_struct(BufferProxy(c_order).__array_struct__)["flags"]
    assert flags == PAI_ALIGNED | PAI_NOTSWAPPED | PAI_WRITEABLE | PAI_CONTIGUOUS
    flags = read_struct(BufferProxy(f_order).__array_struct__)["flags"]
    assert flags == PAI_ALIGNED | PAI_NOTSWAPPED | PAI_WRITEABLE | PAI_FORTRAN
    flags = read_struct(BufferProxy(c_order[:, ::2]).__array_struct__)["flags"]
    assert flags == PAI_ALIGNED | PAI_NOTSWAPPED | PAI_WRITEABLE
    one_d = np.zeros(5, dtype=np.uint8)
    flags = read_struct(BufferProxy(one_d).__array_struct__)["flags"]
    assert flags == PAI_ALIGNED | PAI_NOTSWAPPED | PAI_WRITEABLE | PAI_CONTIGUOUS | PAI_FORTRAN
    flags = read_struct(BufferProxy(b"read only").__array_struct__)["flags"]
    assert flags == PAI_ALIGNED | PAI_NOTSWAPPED | PAI_CONTIGUOUS | PAI_FORTRAN
    swapped = np.zeros(4, dtype=SWAPPED + "u4")
    flags = read_struct(BufferProxy(swapped).__array_struct__)["flags"]
    assert flags == PAI_ALIGNED | PAI_WRITEABLE | PAI_CONTIGUOUS | PAI_FORTRAN


def test_array_struct_of_zero_dim_and_zero_size():
    scalar = np.array(1234, dtype=np.int32)
    inter = read_struct(BufferProxy(scalar).__array_struct__)
    assert inter["nd"] == 0
    assert inter["itemsize"] == 4
    assert inter["data"] == scalar.ctypes.data
    assert inter["flags"] & PAI_CONTIGUOUS
    assert inter["flags"] & PAI_FORTRAN
    empty = np.zeros((4, 0), dtype=np.float64)
    inter = read_struct(BufferProxy(empty).__array_struct__)
    assert inter["nd"] == 2
    assert inter["shape"] == (4, 0)
    assert inter["flags"] & PAI_CONTIGUOUS
    assert inter["flags"] & PAI_FORTRAN


def test_array_struct_of_description():
    arr = np.arange(24, dtype=np.uint16).reshape(4, 6)
    view = arr[::2, 1::2]
    desc = {
        "shape": view.shape,
        "typestr": "|u2",
        "strides": view.strides,
        "data": (view.ctypes.data, True),
        "parent": arr,
    }
    inter = read_struct(BufferProxy(desc).__array_struct__)
    assert inter["two"] == 2
    assert inter["typekind"] == "u"
    assert inter["itemsize"] == 2
    assert inter["shape"] == (2, 3)
    assert inter["strides"] == view.strides
    assert inter["data"] == view.ctypes.data
    assert inter["flags"] == PAI_ALIGNED | PAI_NOTSWAPPED


@pytest.mark.parametrize("arr", NUMPY_ARRAYS, ids=NUMPY_IDS)
def test_numpy_reads_proxy_through_array_struct_only(arr):
    proxy = BufferProxy(arr)
    seen = np.asarray(StructOnly(proxy.__array_struct__))
    assert seen.shape == arr.shape
    assert seen.strides == buffer_strides(arr)
    assert seen.itemsize == arr.itemsize
    assert seen.flags.writeable == arr.flags.writeable
    assert seen.tobytes() == arr.tobytes()
    assert np.shares_memory(seen, arr) or arr.size == 0


def test_array_struct_write_through_numpy():
    arr = np.zeros((3, 4), dtype=np.int32)
    proxy = BufferProxy(arr)
    seen = np.asarray(StructOnly(proxy.__array_struct__))
    seen[1, 2] = 77
    assert arr[1, 2] == 77


def test_capsule_keeps_proxy_and_data_alive():
    def make():
        arr = np.arange(12, dtype=np.int32).reshape(3, 4)
        proxy = BufferProxy(arr)
        return proxy.__array_struct__, weakref.ref(proxy), weakref.ref(arr)

    capsule, proxy_ref, arr_ref = make()
    gc.collect()
    assert proxy_ref() is not None
    assert arr_ref() is not None
    inter = read_struct(capsule)
    assert inter["shape"] == (3, 4)
    seen = np.asarray(StructOnly(capsule))
    np.testing.assert_array_equal(seen, np.arange(12, dtype=np.int32).reshape(3, 4))
    del capsule
    gc.collect()
    assert proxy_ref() is not None  # `seen` still holds the capsule through its base
    del seen
    gc.collect()
    assert proxy_ref() is None
    assert arr_ref() is None


def test_capsule_keeps_description_parent_alive():
    def make():
        arr = np.arange(6, dtype=np.float64)
        proxy = BufferProxy(
            {"shape": (6,), "typestr": "<f8", "data": (arr.ctypes.data, False), "parent": arr}
        )
        return proxy.__array_struct__, weakref.ref(proxy), weakref.ref(arr)

    capsule, proxy_ref, arr_ref = make()
    gc.collect()
    assert proxy_ref() is not None
    assert arr_ref() is not None
    seen = np.asarray(StructOnly(capsule))
    np.testing.assert_array_equal(seen, np.arange(6, dtype=np.float64))
    del seen, capsule
    gc.collect()
    assert proxy_ref() is None
    assert arr_ref() is None


def test_capsule_keeps_exporter_export_alive():
    exporter = Exporter((2, 3), "<i")
    exporter.frombytes(np.arange(6, dtype="<i4").tobytes())
    proxy = BufferProxy(exporter)
    capsule = proxy.__array_struct__
    assert exporter.exports == 1
    del proxy
    gc.collect()
    assert exporter.exports == 1
    seen = np.asarray(StructOnly(capsule))
    np.testing.assert_array_equal(seen, np.arange(6).reshape(2, 3))
    del seen, capsule
    gc.collect()
    assert exporter.exports == 0


def test_each_capsule_keeps_proxy_alive_independently():
    arr = np.arange(4, dtype=np.uint8)
    proxy = BufferProxy(arr)
    ref = weakref.ref(proxy)
    first = proxy.__array_struct__
    second = proxy.__array_struct__
    del proxy
    del first
    gc.collect()
    assert ref() is not None
    assert read_struct(second)["data"] == arr.ctypes.data
    del second
    gc.collect()
    assert ref() is None


# --------------------------------------------------------------------------- get_array_interface


def test_get_array_interface_is_exported():
    assert bufferproxy.get_array_interface is get_array_interface
    assert callable(get_array_interface)


@pytest.mark.parametrize("arr", NUMPY_ARRAYS, ids=NUMPY_IDS)
def test_get_array_interface_of_numpy_arrays(arr):
    inter = get_array_interface(arr)
    assert set(inter) == {"version", "typestr", "shape", "strides", "data"}
    assert inter["version"] == 3
    assert inter["shape"] == arr.shape
    assert inter["strides"] == arr.strides
    assert inter["data"] == (arr.ctypes.data, not arr.flags.writeable)
    assert inter["typestr"][1:] == arr.__array_interface__["typestr"][1:]


@pytest.mark.parametrize("arr", NUMPY_ARRAYS, ids=NUMPY_IDS)
def test_get_array_interface_of_proxies(arr):
    proxy = BufferProxy(arr)
    assert get_array_interface(proxy) == proxy.__array_interface__


@pytest.mark.parametrize(
    "arr",
    [
        *NUMPY_ARRAYS,
        np.zeros(3, dtype="?"),
        np.zeros(3, dtype="S3"),
        np.zeros(3, dtype=[("a", "<i2"), ("b", "<f4")]),
        np.zeros(2, dtype=np.complex128),
    ],
    ids=[*NUMPY_IDS, "bool", "S3", "structured", "complex"],
)
def test_get_array_interface_matches_pygame_on_numpy(arr):
    pygame = pytest.importorskip("pygame")
    ours = get_array_interface(arr)
    theirs = pygame.get_array_interface(arr)
    if arr.dtype.kind == "S":
        # DECISIONS.md, "Types and formats" ("Beyond pygame: every numeric type numpy can
        # share ... both interfaces (numpy's typestr spelling)"): bytes items are reported as
        # numpy spells them, '|S3', where pygame says '<S3'.
        assert theirs["typestr"] == "<S3"
        assert ours["typestr"] == arr.dtype.str == "|S3"
        theirs = {**theirs, "typestr": ours["typestr"]}
    assert ours == theirs


@pytest.mark.parametrize("arr", NUMPY_ARRAYS, ids=NUMPY_IDS)
def test_get_array_interface_matches_pygame_on_proxies(arr):
    pygame = pytest.importorskip("pygame")
    from pygame.bufferproxy import BufferProxy as PygameBufferProxy

    proxy = BufferProxy(arr)
    assert get_array_interface(proxy) == pygame.get_array_interface(proxy)
    reference = PygameBufferProxy(arr)
    assert get_array_interface(reference) == pygame.get_array_interface(reference)
    assert get_array_interface(proxy) == get_array_interface(reference)
    assert proxy.__array_interface__ == reference.__array_interface__


class RaisingStruct:
    @property
    def __array_struct__(self):
        raise RuntimeError("getter failed")


class NonCapsuleStruct:
    __array_struct__ = 5


class NamedCapsuleStruct:
    def __init__(self):
        arr = np.arange(3, dtype=np.uint8)
        self.keep = arr, arr.__array_struct__
        self.inter = PyArrayInterface.from_address(_capsule_get_pointer(self.keep[1], None))

    @property
    def __array_struct__(self):
        return _capsule_new(ctypes.addressof(self.inter), b"named", None)


class WrongTwoStruct:
    def __init__(self):
        self.shape = (ctypes.c_ssize_t * 1)(4)
        self.strides = (ctypes.c_ssize_t * 1)(1)
        self.buf = (ctypes.c_uint8 * 4)()
        self.inter = PyArrayInterface(
            two=3,
            nd=1,
            typekind=b"u",
            itemsize=1,
            flags=PAI_ALIGNED | PAI_NOTSWAPPED | PAI_WRITEABLE | PAI_CONTIGUOUS,
            shape=self.shape,
            strides=self.strides,
            data=ctypes.addressof(self.buf),
        )

    @property
    def __array_struct__(self):
        return _capsule_new(ctypes.addressof(self.inter), None, None)


@pytest.mark.parametrize(
    "obj",
    [1, object(), b"bytes export no struct", InterfaceOnly({"shape": (1,)})],
    ids=["int", "object", "bytes", "interface-only"],
)
def test_get_array_interface_without_array_struct(obj):
    # pygame: ValueError("no C-struct array interface")
    with pytest.raises(ValueError, match="array interface"):
        get_array_interface(obj)


@pytest.mark.parametrize(
    "obj_type",
    [NonCapsuleStruct, NamedCapsuleStruct, WrongTwoStruct],
    ids=["non-capsule", "named-capsule", "two-is-3"],
)
def test_get_array_interface_of_invalid_array_struct(obj_type):
    obj = obj_type()
    # pygame: ValueError("invalid array interface")
    with pytest.raises(ValueError, match="array interface"):
        get_array_interface(obj)
    pygame = pytest.importorskip("pygame")
    with pytest.raises(ValueError, match="invalid array interface"):
        pygame.get_array_interface(obj)


def test_get_array_interface_propagates_getter_error():
    with pytest.raises(RuntimeError, match="getter failed"):
        get_array_interface(RaisingStruct())


def test_get_array_interface_of_hand_made_capsule():
    obj = WrongTwoStruct()
    obj.inter.two = 2
    inter = get_array_interface(obj)
    assert inter == {
        "version": 3,
        "typestr": "|u1",
        "shape": (4,),
        "strides": (1,),
        "data": (ctypes.addressof(obj.buf), False),
    }


def test_get_array_interface_argument_errors():
    with pytest.raises(TypeError):
        get_array_interface()
    with pytest.raises(TypeError):
        get_array_interface(np.zeros(1), np.zeros(1))


def test_get_array_interface_takes_its_argument_positionally_only():
    arr = np.arange(3, dtype=np.uint8)
    assert get_array_interface(arr)["shape"] == (3,)
    with pytest.raises(TypeError):
        get_array_interface(obj=arr)  # as pygame: no keyword arguments
