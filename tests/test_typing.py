"""Typing: the stub matches the built module, typed code checks clean, and the proxy is a
Buffer where the interpreter has the notion (PEP 688, Python 3.12+)."""

import collections.abc
import subprocess
import sys
from pathlib import Path

import mypy.api
import pytest
import typing_sample

import bufferproxy
from bufferproxy import BufferProxy

SAMPLE = Path(typing_sample.__file__)


@pytest.mark.skipif(
    sys.version_info < (3, 12), reason="collections.abc.Buffer (PEP 688) is new in Python 3.12"
)
def test_isinstance_collections_abc_buffer():
    proxy = BufferProxy(bytearray(4))
    assert isinstance(proxy, collections.abc.Buffer)
    assert issubclass(BufferProxy, collections.abc.Buffer)


def test_dunder_buffer():
    proxy = BufferProxy({"shape": (2, 2), "typestr": "|u1", "data": bytearray(b"\x01\x02\x03\x04")})
    if sys.version_info >= (3, 12):
        with proxy.__buffer__(0) as view:
            assert type(view) is memoryview
            assert view.obj is proxy
            assert view.tobytes() == b"\x01\x02\x03\x04"
    else:
        # Before PEP 688 the interpreter has no Python-level __buffer__ for any type, and the
        # stub declares it only for 3.12 and later.
        assert not hasattr(proxy, "__buffer__")
        assert not hasattr(bytes, "__buffer__")


def test_typed_sample_checks_clean_under_mypy_strict(tmp_path):
    stdout, stderr, status = mypy.api.run(
        ["--strict", "--cache-dir", str(tmp_path / "cache"), str(SAMPLE)]
    )
    assert (stdout, stderr, status) == ("Success: no issues found in 1 source file\n", "", 0)


def test_typed_sample_runs():
    assert typing_sample.main() == sum(b"abcdefg")


@pytest.mark.parametrize(
    ("use", "exc"), typing_sample.REFUSED, ids=[use.__name__ for use, _ in typing_sample.REFUSED]
)
def test_typed_sample_refusals_raise_at_runtime(use, exc):
    proxy = BufferProxy({"shape": (4,), "typestr": "|u1", "data": bytearray(4)})
    with pytest.raises(exc):
        use(proxy)


def test_version_is_the_installed_distributions():
    import importlib.metadata

    assert bufferproxy.__version__ == importlib.metadata.version("bufferproxy")
    assert bufferproxy.__version__.count(".") >= 2


def test_version_is_read_only_when_asked():
    # importlib.metadata costs ~35 ms of import time; `import bufferproxy` must not pay it.
    code = (
        "import sys, bufferproxy; "
        "assert 'importlib.metadata' not in sys.modules; "
        "print(bufferproxy.__version__); "
        "assert 'importlib.metadata' in sys.modules"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == bufferproxy.__version__


def test_stub_matches_the_module_under_stubtest(tmp_path):
    # No allowlist on any version: the stub declares exactly what the interpreter has.
    command = [sys.executable, "-m", "mypy.stubtest", "bufferproxy"]
    result = subprocess.run(
        command, cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("Success: no issues found")
