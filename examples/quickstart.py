"""A short tour of bufferproxy: wrap memory Python did not allocate, without copying.

Run it with:  python examples/quickstart.py
"""

import ctypes

import numpy as np

from bufferproxy import BufferProxy

# 1. Memory described by a dict. Here it is a ctypes buffer standing in for a C
#    library's frame buffer: 4 rows of 6 bytes.
frame = (ctypes.c_uint8 * 24)(*range(24))
proxy = BufferProxy(
    {
        "shape": (4, 6),
        "typestr": "|u1",
        "data": (ctypes.addressof(frame), False),  # (address, read-only flag)
        "parent": frame,  # kept alive while the proxy is
    }
)
print("dict description:", proxy, "length", proxy.length)

# numpy and memoryview see the same bytes: no copy.
arr = np.asarray(proxy)
arr[0, 0] = 99
print("numpy view:\n", arr)
print("ctypes sees the write:", frame[0])
with memoryview(proxy) as view:
    print("memoryview:", view.format, view.shape, view.tobytes()[:6])

# 2. Write raw bytes into the parent's memory.
proxy.write(b"\xff\xfe", offset=6)
print("after write, row 1:", list(frame[6:12]))

# 3. A strided layout: every other column. `raw` gathers the items in C order,
#    leaving out the gaps (pygame raises here; the spec asks for the gather).
columns = BufferProxy(
    {
        "shape": (4, 3),
        "typestr": "|u1",
        "strides": (6, 2),
        "data": (ctypes.addressof(frame), True),
        "parent": frame,
    }
)
print("strided raw:", list(columns.raw))

# 4. Safer: hand the memory itself as `data`; the proxy keeps it alive and checks
#    that the layout fits inside it.
pixels = bytearray(16)
rgba = BufferProxy({"shape": (2, 2), "typestr": "<u4", "data": pixels})
np.asarray(rgba)[...] = 0x11223344
print("bytearray pixels:", pixels.hex())

# 5. Any exporter works as a parent: numpy arrays, bytes, array.array, mmap, ...
matrix = np.arange(12, dtype=np.int16).reshape(3, 4)
exported = BufferProxy(matrix)
print("exporter parent:", exported.__array_interface__["typestr"], exported.length)

# 6. before/after callbacks bracket every export: a place to lock the parent.
events = []
locked = BufferProxy(
    {
        "shape": (24,),
        "typestr": "|u1",
        "data": (ctypes.addressof(frame), False),
        "parent": "frame",
        "before": lambda parent: events.append(f"lock {parent}"),
        "after": lambda parent: events.append(f"unlock {parent}"),
    }
)
with memoryview(locked) as view:
    events.append(f"reading {view[0]}")
print("callbacks:", events)
