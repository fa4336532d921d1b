"""Real consumers from the numeric and data-frame world: jax and pyarrow.

Kept apart from test_consumers.py because their native runtimes (XLA, Arrow) are not ours
to check under valgrind (scripts/valgrind.sh runs test_consumers.py). Notes 11 and 12 of
test_consumers.py's table say what each does with foreign memory.
"""

import gc
import math
import os
import signal
import struct
import subprocess
import sys
import weakref

import numpy as np
import pytest
from consumer_helpers import Locks, address_of, described

from bufferproxy import BufferProxy
from bufferproxy._testing import Exporter

# CPU memory only: jax must not probe for (and warn about) GPU or TPU backends.
os.environ["JAX_PLATFORMS"] = "cpu"
import jax
import jax.numpy as jnp
import pyarrow as pa

NATIVE = "<" if sys.byteorder == "little" else ">"


# --------------------------------------------------------------------------- jax

XLA_ALIGNMENT = 64  # bytes: XLA's CPU client takes foreign memory in place only at this alignment


def proxy_at_alignment(shape, typestr, misalign, readonly=False, cls=BufferProxy):
    """A proxy over fresh zeroed memory whose first item lies `misalign` bytes past a 64-byte
    boundary, and that address."""
    size = math.prod(shape) * int(typestr[2:])
    data = bytearray(size + 2 * XLA_ALIGNMENT)
    if readonly:
        data = bytes(data)
    offset = -address_of(data) % XLA_ALIGNMENT + misalign
    proxy = cls({"shape": shape, "typestr": typestr, "data": data, "offset": offset})
    address = proxy.__array_interface__["data"][0]
    assert address == address_of(data) + offset
    assert address % XLA_ALIGNMENT == misalign
    return proxy, address


def test_jax_from_dlpack_shares_64_byte_aligned_memory():
    proxy, address = proxy_at_alignment((3, 4), "<f4", 0)
    alive = weakref.ref(proxy)
    x = jnp.from_dlpack(proxy)
    assert (x.shape, x.dtype) == ((3, 4), jnp.float32)
    assert x.unsafe_buffer_pointer() == address
    np.asarray(proxy)[1, 2] = 2.5  # a change of the parent's memory...
    assert float(x[1, 2]) == 2.5  # ...is seen by the jax array
    assert float(x.sum()) == 2.5
    del proxy
    gc.collect()
    assert alive() is not None  # jax holds the capsule, which holds the proxy
    del x
    gc.collect()
    assert alive() is None


@pytest.mark.parametrize("misalign", [4, 16, 32])
def test_jax_from_dlpack_copies_memory_not_64_byte_aligned(misalign):
    proxy, address = proxy_at_alignment((3, 4), "<f4", misalign)
    np.asarray(proxy)[1, 2] = 2.5
    x = jnp.from_dlpack(proxy)
    assert x.unsafe_buffer_pointer() != address
    assert float(x[1, 2]) == 2.5  # the content is copied...
    np.asarray(proxy)[1, 2] = 7.0
    assert float(x[1, 2]) == 2.5  # ...and later changes do not follow


@pytest.mark.parametrize(
    ("typestr", "dtype"),
    [
        ("|b1", jnp.bool_),
        ("|u1", jnp.uint8),
        ("<i2", jnp.int16),
        ("<f2", jnp.float16),
        ("<i4", jnp.int32),
        ("<c8", jnp.complex64),
    ],
)
def test_jax_from_dlpack_shares_each_item_kind(typestr, dtype):
    proxy, address = proxy_at_alignment((2, 3), typestr, 0)
    x = jnp.from_dlpack(proxy)
    assert x.dtype == dtype
    assert x.unsafe_buffer_pointer() == address
    np.asarray(proxy)[1, 1] = 1
    assert x[1, 1] == 1


class DLPackSpy(BufferProxy):
    """A proxy recording the keyword arguments of each `__dlpack__` call."""

    def __init__(self, parent):
        super().__init__(parent)
        self.requests = []

    def __dlpack__(self, **kwargs):
        self.requests.append(kwargs)
        return super().__dlpack__(**kwargs)


def test_jax_from_dlpack_of_read_only_memory_depends_on_the_dlpack_version_asked():
    # A legacy capsule cannot mark data read-only, so the proxy refuses to put read-only data in
    # one; a DLPack 1.0 capsule flags it. jax 0.10 asks for the legacy one, jax 0.12 for 1.x.
    probe, _ = proxy_at_alignment((4,), "<f4", 0, cls=DLPackSpy)
    jnp.from_dlpack(probe)
    (request,) = probe.requests
    proxy, address = proxy_at_alignment((4,), "<f4", 0, readonly=True, cls=DLPackSpy)
    if request.get("max_version") is None:
        with pytest.raises(BufferError, match="read-only data in a legacy DLPack capsule"):
            jnp.from_dlpack(proxy)
    else:
        assert request["max_version"] >= (1, 0), jax.__version__
        x = jnp.from_dlpack(proxy)
        assert x.unsafe_buffer_pointer() == address
        assert x.tolist() == [0.0] * 4
    assert proxy.requests == [request]


def test_jax_from_dlpack_refuses_a_strided_layout():
    data = bytearray(64)
    proxy = described(data, (4,), "<f4", strides=(8,))
    with pytest.raises(Exception, match="compact"):  # XlaRuntimeError: UNIMPLEMENTED
        jnp.from_dlpack(proxy)


# --------------------------------------------------------------------------- pyarrow


def test_pyarrow_py_buffer_wraps_the_memory():
    data = bytearray(range(32))
    locks = Locks()
    proxy = described(data, (4, 8), locks=locks)
    alive = weakref.ref(proxy)
    buffer = pa.py_buffer(proxy)
    assert locks.open == 1  # pyarrow holds the export while the buffer lives
    assert buffer.address == address_of(data)
    assert buffer.size == proxy.length == 32
    assert buffer.is_mutable
    data[5] = 0xEE
    assert buffer.to_pybytes()[5] == 0xEE
    writer = pa.FixedSizeBufferWriter(buffer)
    writer.write(b"xyz")  # pyarrow writes into the parent's memory
    writer.close()
    assert data[:3] == b"xyz"
    del proxy, writer
    gc.collect()
    assert alive() is not None
    del buffer
    gc.collect()
    assert (alive(), locks.open) == (None, 0)


def test_pyarrow_py_buffer_of_read_only_memory_is_immutable():
    data = bytes(range(8))
    buffer = pa.py_buffer(described(data, (8,)))
    assert (buffer.address, buffer.size) == (address_of(data), 8)
    assert not buffer.is_mutable
    assert buffer.to_pybytes() == data


def test_pyarrow_py_buffer_refuses_a_strided_layout():
    with pytest.raises(BufferError):
        pa.py_buffer(described(bytearray(8), (4,), strides=(2,)))


@pytest.mark.parametrize(
    "make_parent",
    [
        pytest.param(lambda: bytearray(range(16)), id="bytearray"),
        pytest.param(lambda: bytes(range(16)), id="bytes"),
        pytest.param(lambda: np.arange(16, dtype=np.uint8), id="ndarray"),
        pytest.param(lambda: Exporter((4, 2), "<h"), id="Exporter"),
    ],
)
def test_pyarrow_py_buffer_over_a_buffer_protocol_parent(make_parent):
    # py_buffer asks without PyBUF_FORMAT, so the parent leaves the format NULL (note 12).
    parent = make_parent()
    proxy = BufferProxy(parent)
    buffer = pa.py_buffer(proxy)
    assert (buffer.address, buffer.size) == (address_of(parent), 16)
    assert buffer.to_pybytes() == bytes(memoryview(parent).cast("B"))


PY_BUFFER_OVER_A_BYTEARRAY = """
import sys
import pyarrow
if sys.argv[1] == "pygame":
    from pygame.bufferproxy import BufferProxy
else:
    from bufferproxy import BufferProxy
print(pyarrow.py_buffer(BufferProxy(bytearray(b"abcd"))).to_pybytes())
"""


def test_pyarrow_py_buffer_over_a_bytearray_crashes_pygame_not_bufferproxy(tmp_path):
    def run(implementation):
        return subprocess.run(
            [sys.executable, "-c", PY_BUFFER_OVER_A_BYTEARRAY, implementation],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    ours = run("bufferproxy")
    assert (ours.returncode, ours.stdout, ours.stderr) == (0, "b'abcd'\n", "")
    pygame_run = run("pygame")
    assert pygame_run.returncode == -signal.SIGSEGV, pygame_run.stderr


def test_pyarrow_tensor_from_numpy_of_the_proxy_shares():
    data = bytearray(48)
    proxy = described(data, (3, 4), "<i4")
    tensor = pa.Tensor.from_numpy(np.asarray(proxy))
    assert (tensor.shape, tensor.strides, tensor.type) == ((3, 4), (16, 4), pa.int32())
    assert tensor.is_mutable
    assert tensor.to_numpy().ctypes.data == address_of(data)
    struct.pack_into("<i", data, 4 * 6, -9)  # item [1, 2]
    assert tensor.to_numpy()[1, 2] == -9


def test_pyarrow_tensor_keeps_a_strided_layout_and_read_only_flag():
    data = bytes(range(48))
    proxy = described(data, (3, 2), "<i4", strides=(16, 8))
    tensor = pa.Tensor.from_numpy(np.asarray(proxy))
    assert (tensor.shape, tensor.strides) == ((3, 2), (16, 8))
    assert not tensor.is_contiguous
    assert not tensor.is_mutable
    assert tensor.to_numpy().ctypes.data == address_of(data)
    assert tensor.to_numpy().tolist() == np.frombuffer(data, "<i4")[::2].reshape(3, 2).tolist()
