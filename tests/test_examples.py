"""The examples run as a user runs them: a fresh interpreter on the script file."""

import subprocess
import sys
from pathlib import Path

from PIL import Image

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run_example(name, *args, cwd):
    """Runs examples/`name` with warnings as errors; returns its stdout."""
    result = subprocess.run(
        [sys.executable, "-W", "error", str(EXAMPLES / name), *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return result.stdout


def test_quickstart(tmp_path):
    out = run_example("quickstart.py", cwd=tmp_path)
    assert "ctypes sees the write: 99" in out
    assert "after write, row 1: [255, 254, 8, 9, 10, 11]" in out
    assert "strided raw: [99, 2, 4, 255, 8, 10, 12, 14, 16, 18, 20, 22]" in out
    assert "bytearray pixels: 44332211443322114433221144332211" in out
    assert "callbacks: ['lock frame', 'reading 99', 'unlock frame']" in out
    assert list(tmp_path.iterdir()) == []


def test_framebuffer_saves_the_drawing(tmp_path):
    png = tmp_path / "out" / "frame.png"
    png.parent.mkdir()
    out = run_example("framebuffer.py", png, cwd=tmp_path)
    assert out.rstrip().endswith(f"saved 320x200 PNG to {png}")
    # Every lock was undone: the numpy view, then Pillow's mapping of the memory.
    assert out.count("  lock ") == out.count("  unlock ") == 2
    assert "locks held: 0)\nsaved" in out
    with Image.open(png) as image:
        assert image.format == "PNG"
        assert image.mode == "RGBA"
        assert image.size == (320, 200)
        assert image.getpixel((220, 110)) == (20, 30, 90, 255)  # circle centre
        assert image.getpixel((50, 30)) == (255, 255, 255, 255)  # rectangle
        assert image.getpixel((0, 199)) == (0, 255, 128, 255)  # gradient, bottom left
        assert image.getpixel((319, 0)) == (255, 0, 128, 255)  # gradient, top right


def test_framebuffer_default_output_is_a_temporary_png(tmp_path):
    out = run_example("framebuffer.py", cwd=tmp_path)
    saved = Path(out.rstrip().rsplit(" to ", 1)[1])
    try:
        assert saved.name == "framebuffer.png"
        assert not saved.is_relative_to(tmp_path)
        with Image.open(saved) as image:
            assert image.size == (320, 200)
    finally:
        saved.unlink()
        saved.parent.rmdir()
    assert list(tmp_path.iterdir()) == []
