"""The Rust example exporter (`examples/rust_exporter`): an `Image` pyclass that owns RGBA
pixels in Rust and exports them with `bufferproxy::py::export`.

Requires the example to be installed in the test environment:

    pip install ./examples/rust_exporter

It is imported normally (no `importorskip`): a missing example fails the suite instead of
skipping it silently.

Checks that numpy, `memoryview`, `BufferProxy` and the image's own Rust accessors share
one block of memory; the exported shape, strides and format; read-only and writable
requests (through ctypes `PyObject_GetBuffer`, as in test_buffer_flags.py); the export
count; and that `resize` is refused while any view is alive and allowed after release.
"""

import ctypes
import sys

import numpy as np
import pytest
import rust_exporter
from cstructs import (
    Py_buffer,
    PyBUF_C_CONTIGUOUS,
    PyBUF_F_CONTIGUOUS,
    PyBUF_FORMAT,
    PyBUF_FULL,
    PyBUF_FULL_RO,
    PyBUF_ND,
    PyBUF_RECORDS,
    PyBUF_SIMPLE,
    PyBUF_WRITABLE,
)

from bufferproxy import BufferProxy

Image = rust_exporter.Image

# Private function objects (PYFUNCTYPE: the GIL is held and a set Python error is raised).
_get_buffer = ctypes.PYFUNCTYPE(
    ctypes.c_int, ctypes.py_object, ctypes.POINTER(Py_buffer), ctypes.c_int
)(("PyObject_GetBuffer", ctypes.pythonapi))
_release_buffer = ctypes.PYFUNCTYPE(None, ctypes.POINTER(Py_buffer))(
    ("PyBuffer_Release", ctypes.pythonapi)
)


def _array(pointer, ndim):
    return None if not pointer else tuple(pointer[i] for i in range(ndim))


def request(obj, flags):
    """PyObject_GetBuffer(obj, flags): a snapshot dict of the view, released before returning.

    `exports` is the exporter's count while the view was held.
    """
    view = Py_buffer()
    _get_buffer(obj, ctypes.byref(view), flags)
    try:
        return {
            "buf": view.buf,
            "len": view.len,
            "itemsize": view.itemsize,
            "readonly": view.readonly,
            "ndim": view.ndim,
            "format": view.format,
            "shape": _array(view.shape, view.ndim),
            "strides": _array(view.strides, view.ndim),
            "suboffsets": _array(view.suboffsets, view.ndim),
            "exports": obj.exports,
        }
    finally:
        _release_buffer(ctypes.byref(view))


def address(obj):
    """The address of the first byte obj exports."""
    return request(obj, PyBUF_SIMPLE)["buf"]


def test_numpy_memoryview_and_proxy_share_memory():
    image = Image(3, 2)
    array = np.asarray(image)
    view = memoryview(image)
    proxy = BufferProxy(image)

    array[1, 2] = (10, 20, 30, 40)  # numpy writes...
    assert view[1, 2, 0] == 10  # ...memoryview reads
    assert view.tobytes()[-4:] == b"\x0a\x14\x1e\x28"
    assert image.pixel(2, 1) == (10, 20, 30, 40)  # ...and so does the Rust side
    assert proxy.raw[-4:] == bytes([10, 20, 30, 40])

    view[0, 0, 3] = 255  # memoryview writes, numpy and Rust read
    assert array[0, 0].tolist() == [0, 0, 0, 255]
    assert image.pixel(0, 0) == (0, 0, 0, 255)

    image.set_pixel(1, 0, (1, 2, 3, 4))  # Rust writes, the views read
    assert array[0, 1].tolist() == [1, 2, 3, 4]
    assert view[0, 1, 3] == 4

    proxy.write(b"\xff\xee\xdd\xcc", 4 * 4)  # the proxy writes pixel (x=1, y=1)
    assert image.pixel(1, 1) == (0xFF, 0xEE, 0xDD, 0xCC)
    assert array[1, 1].tolist() == [0xFF, 0xEE, 0xDD, 0xCC]

    # One block of memory, at one address, for everyone.
    base = address(image)
    assert array.ctypes.data == base
    assert proxy.__array_interface__["data"] == (base, False)
    assert np.shares_memory(np.asarray(proxy), array)


def test_shape_strides_and_format():
    image = Image(5, 3)
    assert (image.width, image.height, image.readonly) == (5, 3, False)
    view = memoryview(image)
    assert view.shape == (3, 5, 4)
    assert view.strides == (20, 4, 1)
    assert view.format == "B"
    assert view.itemsize == 1
    assert view.nbytes == 60
    assert view.readonly is False
    assert view.c_contiguous
    assert not view.f_contiguous
    assert view.obj is image

    array = np.asarray(image)
    assert (array.shape, array.strides, array.dtype) == ((3, 5, 4), (20, 4, 1), np.uint8)
    assert array.flags.writeable
    assert array.flags.c_contiguous
    assert not array.any()  # transparent black

    proxy = BufferProxy(image)
    assert proxy.length == 60
    interface = proxy.__array_interface__
    assert (interface["shape"], interface["strides"], interface["typestr"]) == (
        (3, 5, 4),
        (20, 4, 1),
        "|u1",
    )


def test_writable_image_answers_every_request():
    image = Image(3, 2)
    full = request(image, PyBUF_FULL)
    assert full["readonly"] == 0
    assert (full["format"], full["shape"], full["strides"]) == (b"B", (2, 3, 4), (12, 4, 1))
    assert full["suboffsets"] is None
    # A read-only request over writable memory is served, and the view says writable
    # (as from memoryview and bytearray).
    assert request(image, PyBUF_FULL_RO)["readonly"] == 0
    assert request(image, PyBUF_WRITABLE)["readonly"] == 0
    # Plain bytes: no format, shape or strides.
    simple = request(image, PyBUF_SIMPLE)
    assert (simple["len"], simple["ndim"], simple["format"], simple["shape"]) == (24, 1, None, None)
    assert request(image, PyBUF_ND)["shape"] == (2, 3, 4)
    assert request(image, PyBUF_C_CONTIGUOUS)["strides"] == (12, 4, 1)


def test_readonly_image_refuses_writable_requests():
    image = Image(3, 2, readonly=True)
    assert image.readonly is True
    for flags in (PyBUF_WRITABLE, PyBUF_RECORDS, PyBUF_FULL):
        with pytest.raises(BufferError, match="read-only"):
            request(image, flags)
    assert request(image, PyBUF_FULL_RO)["readonly"] == 1

    view = memoryview(image)
    assert view.readonly is True
    with pytest.raises(TypeError):
        view[0, 0, 0] = 1
    array = np.asarray(image)
    assert not array.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        array[0, 0, 0] = 1
    # The owner may still change its pixels; the read-only views see it.
    image.set_pixel(0, 0, (9, 8, 7, 6))
    assert view[0, 0, 0] == 9
    assert array[0, 0, 3] == 6


def test_unsatisfiable_requests_raise_and_are_not_counted():
    image = Image(3, 2)
    with pytest.raises(BufferError, match="Fortran"):
        request(image, PyBUF_F_CONTIGUOUS)
    with pytest.raises(BufferError, match="Fortran"):
        request(image, PyBUF_F_CONTIGUOUS | PyBUF_FORMAT)
    assert image.exports == 0
    image.resize(1, 1)  # nothing is exported
    readonly = Image(3, 2, readonly=True)
    with pytest.raises(BufferError, match="read-only"):
        request(readonly, PyBUF_WRITABLE | PyBUF_FORMAT)
    assert readonly.exports == 0
    readonly.resize(1, 1)


def test_format_without_shape_is_served_and_counted():
    # DECISIONS.md, "A request without PyBUF_ND ... With PyBUF_FORMAT it is served": the
    # crate's `export::export` serves it (memoryview alone refuses it): one dimension, no shape
    # or strides, the item format, C-contiguous bytes.
    image = Image(3, 2)
    image.set_pixel(2, 1, (1, 2, 3, 4))
    for flags in (PyBUF_FORMAT, PyBUF_WRITABLE | PyBUF_FORMAT):
        served = request(image, flags)
        assert served["buf"] == address(image)
        assert (served["len"], served["itemsize"], served["readonly"]) == (24, 1, 0)
        assert (served["ndim"], served["format"]) == (1, b"B")
        assert served["shape"] is served["strides"] is served["suboffsets"] is None
        assert served["exports"] == 1  # counted while held...
        assert image.exports == 0  # ...and released
    readonly = Image(3, 2, readonly=True)
    served = request(readonly, PyBUF_FORMAT)
    assert (served["readonly"], served["ndim"], served["format"]) == (1, 1, b"B")
    assert served["shape"] is served["strides"] is None
    assert served["exports"] == 1
    assert readonly.exports == 0

    # Held like any other export: the pixels are shared and cannot be reallocated meanwhile.
    view = Py_buffer()
    _get_buffer(image, ctypes.byref(view), PyBUF_FORMAT)
    try:
        assert image.exports == 1
        assert ctypes.string_at(view.buf, view.len)[-4:] == bytes([1, 2, 3, 4])
        with pytest.raises(BufferError, match="cannot resize"):
            image.resize(8, 8)
    finally:
        _release_buffer(ctypes.byref(view))
    assert image.exports == 0
    image.resize(8, 8)  # nothing is exported any more
    assert image.exports == 0


def test_exports_are_counted():
    image = Image(2, 2)
    assert image.exports == 0
    assert request(image, PyBUF_FULL_RO)["exports"] == 1
    assert image.exports == 0

    first = memoryview(image)
    assert image.exports == 1
    second = memoryview(image)
    assert image.exports == 2
    sliced = first[1:]  # a view of the memoryview, not a new export
    assert image.exports == 2

    array = np.asarray(image)
    with_array = image.exports
    assert with_array == 3
    del array
    assert image.exports == 2

    first.release()  # `sliced` still holds first's export
    assert image.exports == 2
    sliced.release()
    assert image.exports == 1
    second.release()
    assert image.exports == 0

    # BufferProxy acquires its parent on first use and holds it until it is destroyed.
    proxy = BufferProxy(image)
    assert image.exports == 0
    assert proxy.length == 16
    assert image.exports == 1
    # A view of the proxy is backed by an export of its own from the image.
    with memoryview(proxy) as through_proxy:
        assert through_proxy.shape == (2, 2, 4)
        assert image.exports == 2
    assert image.exports == 1
    del proxy
    assert image.exports == 0


def test_resize_is_refused_while_a_view_is_alive():
    image = Image(3, 2)
    image.set_pixel(2, 1, (1, 2, 3, 4))
    view = memoryview(image)
    with pytest.raises(BufferError, match="cannot resize"):
        image.resize(8, 8)
    # Nothing changed: the view's memory is intact and still shared.
    assert (image.width, image.height) == (3, 2)
    assert view.tolist()[1][2] == [1, 2, 3, 4]
    view[1, 2, 0] = 99
    assert image.pixel(2, 1) == (99, 2, 3, 4)

    view.release()
    image.resize(8, 5)
    assert (image.width, image.height, image.exports) == (8, 5, 0)
    assert memoryview(image).shape == (5, 8, 4)
    assert image.pixel(2, 1) == (0, 0, 0, 0)  # resizing clears the pixels


@pytest.mark.parametrize(
    "make_consumer", [np.asarray, BufferProxy, lambda image: np.asarray(BufferProxy(image))]
)
def test_resize_waits_for_every_kind_of_consumer(make_consumer):
    image = Image(4, 4)
    consumer = make_consumer(image)
    if isinstance(consumer, BufferProxy):
        assert consumer.length == 64  # first use: the proxy acquires the image
    with pytest.raises(BufferError, match="cannot resize"):
        image.resize(2, 2)
    del consumer
    image.resize(2, 2)
    assert np.asarray(image).shape == (2, 2, 4)


def test_a_view_keeps_the_image_alive():
    view = memoryview(Image(2, 1))  # the only reference to the image is the view's
    view[0, 1, 2] = 7
    assert view.tolist() == [[[0, 0, 0, 0], [0, 0, 7, 0]]]
    assert view.obj.pixel(1, 0) == (0, 0, 7, 0)


def test_released_views_drop_their_references():
    image = Image(2, 2)
    refcount = sys.getrefcount(image)
    for _ in range(100):
        memoryview(image).release()
        request(image, PyBUF_FULL)
        assert np.asarray(image).sum() == 0
    assert sys.getrefcount(image) == refcount
    assert image.exports == 0


def test_empty_images():
    for width, height in ((0, 3), (3, 0), (0, 0)):
        image = Image(width, height)
        view = memoryview(image)
        assert view.shape == (height, width, 4)
        assert view.nbytes == 0
        assert np.asarray(image).size == 0
        view.release()
        image.resize(1, 1)
        assert image.pixel(0, 0) == (0, 0, 0, 0)


def test_bad_arguments():
    image = Image(2, 2)
    with pytest.raises(IndexError):
        image.pixel(2, 0)
    with pytest.raises(IndexError):
        image.set_pixel(0, 2, (0, 0, 0, 0))
    with pytest.raises(OverflowError):
        Image(-1, 2)
    with pytest.raises(ValueError, match="beyond the address space"):
        Image(2**40, 2**40)
    with pytest.raises(MemoryError):
        Image(2**30, 2**30)  # 4 EiB: a Python exception, not an abort
    with pytest.raises(ValueError, match="beyond the address space"):
        image.resize(2**40, 2**40)
    assert (image.width, image.height) == (2, 2)  # a failed resize changes nothing


def test_repr():
    image = Image(3, 2)
    with memoryview(image):
        assert repr(image) == "Image(width=3, height=2, readonly=False, exports=1)"
    assert Image.__module__ == "rust_exporter"
