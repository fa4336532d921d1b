"""Draw into a C library's frame buffer with numpy and save it with Pillow, copying nothing.

Run it with:  python examples/framebuffer.py [output.png]
(needs numpy and Pillow: pip install '.[examples]'). Without an argument the PNG goes to
framebuffer.png in a new temporary directory; the script prints where.
"""

import ctypes
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from bufferproxy import BufferProxy

WIDTH, HEIGHT = 320, 200


class FrameBufferLibrary:
    """Stands in for a C library that owns a frame buffer and wants it locked while in use.

    The pixels live in a ctypes array: memory Python only knows by its address, as if a C
    library had allocated it. Rows are WIDTH pixels of 4 bytes (R, G, B, A).
    """

    def __init__(self, width, height):
        self.pixels = (ctypes.c_uint8 * (width * height * 4))()
        self.address = ctypes.addressof(self.pixels)
        self.locks = 0

    def lock(self):
        self.locks += 1
        print(f"  lock   (locks held: {self.locks})")

    def unlock(self):
        self.locks -= 1
        print(f"  unlock (locks held: {self.locks})")


library = FrameBufferLibrary(WIDTH, HEIGHT)

# 1. Describe the memory with a dict, as the array interface does: shape, item type, address
#    (with a read-only flag) and byte strides. "parent" is handed to the callbacks and kept
#    alive as long as the proxy; before/after bracket every use of the memory.
frame = BufferProxy(
    {
        "shape": (HEIGHT, WIDTH, 4),
        "typestr": "|u1",  # unsigned bytes
        "data": (library.address, False),  # (address, read-only?)
        "strides": (WIDTH * 4, 4, 1),  # bytes to the next row, pixel, channel
        "parent": library,
        "before": lambda lib: lib.lock(),
        "after": lambda lib: lib.unlock(),
    }
)

# 2. Draw through a numpy view: numpy.asarray exports the memory itself (the library locks
#    it); every assignment below writes straight into the library's buffer.
print("drawing with numpy:")
pixels = np.asarray(frame)
assert pixels.ctypes.data == library.address  # the same memory, not a copy

#    A gradient: red grows left to right, green top to bottom, blue constant.
pixels[..., 0] = np.linspace(0, 255, WIDTH, dtype=np.uint8)[np.newaxis, :]
pixels[..., 1] = np.linspace(0, 255, HEIGHT, dtype=np.uint8)[:, np.newaxis]
pixels[..., 2] = 128
pixels[..., 3] = 255  # opaque

#    A white rectangle: rows 20-59, columns 20-119.
pixels[20:60, 20:120] = (255, 255, 255, 255)

#    A dark blue filled circle of radius 50 centred at (x=220, y=110).
rows, columns = np.ogrid[:HEIGHT, :WIDTH]
inside = (columns - 220) ** 2 + (rows - 110) ** 2 <= 50**2
pixels[inside] = (20, 30, 90, 255)

del pixels  # releasing the view unlocks the buffer
centre = (110 * WIDTH + 220) * 4  # byte offset of pixel (x=220, y=110)
print("the C side sees the circle's centre pixel:", library.pixels[centre : centre + 4])

# 3. Save it with Pillow. With the ("raw", mode, 0, 1) arguments Image.frombuffer maps the
#    exported memory instead of copying it (for modes L, RGBA, RGBX, ...).
print("saving with Pillow:")
image = Image.frombuffer("RGBA", (WIDTH, HEIGHT), frame, "raw", "RGBA", 0, 1)
output = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp()) / "framebuffer.png"
image.save(output)
del image  # the image held the memory (and the lock) until now
print(f"saved {WIDTH}x{HEIGHT} PNG to {output}")
