"""Shared pytest configuration: hypothesis profiles chosen by BUFFERPROXY_HYPOTHESIS_PROFILE;
which bufferproxy is under test, in the report header and, with BUFFERPROXY_EXPECT_WHEEL,
checked to be the expected installed wheel."""

import os
import sysconfig
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "thorough",
    max_examples=5000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=30, deadline=None)
settings.load_profile(os.environ.get("BUFFERPROXY_HYPOTHESIS_PROFILE", "ci"))


def _installed_bufferproxy():
    """Where bufferproxy is imported from: its package file, native module and wheel tags."""
    import importlib.metadata

    import bufferproxy
    from bufferproxy import _bufferproxy

    wheel = importlib.metadata.distribution("bufferproxy").read_text("WHEEL") or ""
    tags = [line.split(":", 1)[1].strip() for line in wheel.splitlines() if line.startswith("Tag:")]
    return Path(bufferproxy.__file__), Path(_bufferproxy.__file__), tags


def pytest_report_header(config):
    package, native, tags = _installed_bufferproxy()
    return [f"bufferproxy: {package} ({native.name}; wheel tags {', '.join(tags)})"]


def pytest_configure(config):
    """With BUFFERPROXY_EXPECT_WHEEL set (the test script sets it), the suite runs only against
    an installed wheel whose tag starts with it (e.g. `cp312-cp312-manylinux`, `cp311-abi3-`),
    imported from this interpreter's site-packages, never from the source tree."""
    expected = os.environ.get("BUFFERPROXY_EXPECT_WHEEL")
    if not expected:
        return
    package, native, tags = _installed_bufferproxy()
    site_packages = Path(sysconfig.get_paths()["platlib"]).resolve()
    problems = []
    if not package.resolve().is_relative_to(site_packages):
        problems.append(f"bufferproxy is imported from {package}, not from {site_packages}")
    if not any(tag.startswith(expected) for tag in tags):
        problems.append(f"the installed wheel is tagged {tags}, expected {expected}*")
    if native.name.endswith(".abi3.so") != ("-abi3-" in expected):
        problems.append(f"the native module is {native.name}, expected from a {expected}* wheel")
    if problems:
        raise pytest.UsageError("BUFFERPROXY_EXPECT_WHEEL: " + "; ".join(problems))
