"""compressedDepth messages (image_transport's plugin format): round trips and every malformed case refused."""

from __future__ import annotations

import struct
import zlib
from types import SimpleNamespace

import cv2
import numpy as np
import pytest

from depthpose_core.compressed_depth import HEADER_BYTES, compressed_to_depth, depth_to_compressed
from depthpose_core.messages import ImageError


def message(fmt: str, data: bytes) -> SimpleNamespace:
    return SimpleNamespace(format=fmt, data=data)


def frame_mm() -> np.ndarray:
    rng = np.random.default_rng(0)
    depth = rng.integers(500, 6000, (480, 640)).astype(np.uint16)
    depth[rng.random(depth.shape) < 0.1] = 0  # holes
    return depth


def test_16uc1_round_trip_is_exact_and_drops_readings_beyond_depth_max() -> None:
    depth = frame_mm()
    fmt, data = depth_to_compressed(depth, depth_max_m=5.0)
    assert fmt == "16UC1; compressedDepth png" and len(data) < depth.nbytes
    out = compressed_to_depth(message(fmt, data))
    assert out.dtype == np.uint16
    np.testing.assert_array_equal(out, np.where(depth > 5000, 0, depth))
    for older in ("16UC1; compressedDepth", "16UC1"):  # older publishers' format strings: PNG too
        np.testing.assert_array_equal(compressed_to_depth(message(older, data)), out)


def test_32fc1_inverse_depth_quantisation_within_its_step() -> None:
    metres = frame_mm().astype(np.float32) / 1000.0
    metres[metres == 0] = np.nan
    metres[0, :10] = 12.0  # beyond depth_max
    fmt, data = depth_to_compressed(metres, depth_max_m=10.0, depth_quantization=100.0)
    out = compressed_to_depth(message(fmt, data))
    assert fmt == "32FC1; compressedDepth png" and out.dtype == np.float32
    valid = np.isfinite(metres) & (metres < 10.0)
    assert np.isnan(out[~valid]).all() and np.isfinite(out[valid]).all()
    step = metres[valid] ** 2 / (100.0 * 101.0)  # dz = z^2 / A for one quantisation level
    assert (np.abs(out[valid] - metres[valid]) <= step * 1.01 + 1e-6).all()


def png16(width: int, height: int) -> bytes:
    return cv2.imencode(".png", np.ones((height, width), np.uint16))[1].tobytes()


def header(kind: int = 0, a: float = 0.0, b: float = 0.0) -> bytes:
    return struct.pack("<iff", kind, a, b)


def huge_png_header() -> bytes:
    """A PNG signature and header chunk claiming 100000 x 100000 16-bit pixels (a decompression bomb's start)."""
    ihdr = struct.pack(">IIBBBBB", 100_000, 100_000, 16, 0, 0, 0, 0)
    chunk = struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return b"\x89PNG\r\n\x1a\n" + chunk + b"\x00" * 16


@pytest.mark.parametrize(("fmt", "data", "cause", "match"), [
    ("jpeg", header() + png16(4, 4), "encoding", "not compressedDepth"),
    ("bgr8; jpeg compressed bgr8", header() + png16(4, 4), "encoding", "not compressedDepth"),
    ("8UC1; compressedDepth png", header() + png16(4, 4), "encoding", "16UC1 \\(mm\\) or 32FC1"),
    ("16UC1; compressedDepth rvl", header() + png16(4, 4), "encoding", "only the png payload"),
    ("16UC1; compressedDepth png", b"\x00" * 20, "data", "too short"),
    ("16UC1; compressedDepth png", header(kind=3) + png16(4, 4), "data", "compression format 3"),
    ("16UC1; compressedDepth png", header() + b"GIF89a" + b"\x00" * 40, "data", "not a PNG"),
    ("16UC1; compressedDepth png", header() + cv2.imencode(".png", np.ones((4, 4), np.uint8))[1].tobytes(), "data",
     "bit depth 8"),
    ("16UC1; compressedDepth png", header() + huge_png_header(), "size", "100000x100000 pixels"),
    ("16UC1; compressedDepth png", header() + png16(64, 48)[:-30], "data", "truncated or corrupt"),
    ("32FC1; compressedDepth png", header(a=float("nan")) + png16(4, 4), "data", "quantisation parameters"),
])  # fmt: skip
def test_malformed_messages_are_refused_with_the_cause(fmt: str, data: bytes, cause: str, match: str) -> None:
    with pytest.raises(ImageError, match=match) as err:
        compressed_to_depth(message(fmt, data))
    assert err.value.cause == cause
    assert HEADER_BYTES == 12
