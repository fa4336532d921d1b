"""Test helpers: an exporter of Rust-owned memory with any format and layout."""

from bufferproxy._bufferproxy import Exporter

__all__ = ["Exporter"]
