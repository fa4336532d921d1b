"""Helpers shared by the consumer tests (test_consumers.py, test_consumers_jax_pyarrow.py)."""

import numpy as np

from bufferproxy import BufferProxy


class Locks:
    """before/after callbacks counting the acquisitions of the parent that are open."""

    def __init__(self):
        self.open = 0

    def before(self, parent):
        self.open += 1

    def after(self, parent):
        self.open -= 1


def described(data, shape, typestr="|u1", locks=None, **extra):
    """A proxy over buffer object `data` described by a dict."""
    description = {"shape": shape, "typestr": typestr, "data": data, **extra}
    if locks is not None:
        description["before"] = locks.before
        description["after"] = locks.after
    return BufferProxy(description)


def address_of(obj):
    """Start address of a buffer-protocol object (through a transient numpy view)."""
    return np.frombuffer(obj, dtype=np.uint8).ctypes.data
