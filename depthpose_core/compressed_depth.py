"""image_transport's ``compressedDepth`` format: ``sensor_msgs/CompressedImage`` messages as depth arrays, and back.

The layout (image_transport_plugins' compressed_depth_image_transport, written here from its description):

- ``format``: ``"<encoding>; compressedDepth png"`` (or ``rvl``); older publishers write ``"<encoding>;
  compressedDepth"`` or only ``"<encoding>"``, both PNG. ``<encoding>`` is ``16UC1`` (mm) or ``32FC1`` (m).
- ``data``: a 12-byte little-endian configuration header (int32 compression format, 0 = inverse depth; float32
  quantisation parameters A and B), then the payload.
- 16UC1: the payload is a 16-bit single-channel PNG of the depth in millimetres (0 = no reading).
- 32FC1: the payload is a 16-bit PNG of the quantised inverse depth q = trunc(A / z + B), z in metres; q = 0 means
  no reading (beyond the publisher's depth_max, or invalid) and decodes to NaN; otherwise z = A / (q - B). The
  publisher picks A = Z0 (Z0 + 1) and B = 1 - A / depth_max from its ``depth_quantization`` Z0 and ``depth_max``.

RVL payloads are refused with a clear error (set the publisher's ``format`` parameter to ``png``); plain
``compressed`` images (8-bit JPEG/PNG) carry no depth and are refused too.
"""

from __future__ import annotations

import math
import struct
from typing import Any

import cv2
import numpy as np

from depthpose_core.messages import MAX_PIXELS, ImageError

__all__ = ["COMPRESSED_DEPTH", "HEADER_BYTES", "compressed_to_depth", "depth_to_compressed"]

#: Suffix of image_transport's compressedDepth topics (``<image topic>/compressedDepth``).
COMPRESSED_DEPTH = "/compressedDepth"

#: Size of the configuration header before the payload: int32 format, two float32 quantisation parameters.
HEADER_BYTES = 12
_INV_DEPTH = 0
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _parse_format(fmt: str) -> str:
    """The pixel encoding of a compressedDepth ``format`` string with a PNG payload."""
    encoding, _, rest = fmt.partition(";")
    encoding, rest = encoding.strip(), rest.strip()
    if (rest and not rest.startswith("compressedDepth")) or encoding.lower() in ("jpeg", "jpg", "png"):
        raise ImageError("encoding", f"format {fmt!r} is not compressedDepth (plain 'compressed' JPEG/PNG images are "
                                     "8-bit colour, not depth: subscribe to the depth topic's compressedDepth "
                                     "transport or to the raw image)")  # fmt: skip
    codec = rest.removeprefix("compressedDepth").strip() or "png"
    if encoding not in ("16UC1", "32FC1"):
        raise ImageError("encoding", f"compressedDepth format {fmt!r}: the pixel encoding must be 16UC1 (mm) or 32FC1 "
                                     "(m)")  # fmt: skip
    if codec != "png":
        raise ImageError("encoding", f"compressedDepth format {fmt!r}: only the png payload is read here, not "
                                     f"{codec!r} (set the publisher's compressedDepth format to png)")  # fmt: skip
    return encoding


def compressed_to_depth(msg: Any, *, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """The depth of a compressedDepth ``sensor_msgs/CompressedImage`` (rclpy or rosbags: ``format``, ``data``).

    Returns:
        ``(height, width)`` uint16 depth in mm (16UC1) or float32 depth in m (32FC1, NaN where there is no
        reading), as :func:`~depthpose_core.messages.image_to_depth` returns for the raw image.

    Raises:
        ImageError: ``encoding``: not compressedDepth, another pixel encoding or an RVL payload; ``size``: the
            PNG's size is empty or above ``max_pixels`` (checked before decompressing); ``data``: a short or
            unknown header, non-finite quantisation parameters, or a payload that is not a 16-bit
            single-channel PNG.
    """
    encoding = _parse_format(str(msg.format))
    data = bytes(msg.data)
    if len(data) < HEADER_BYTES + len(_PNG_SIGNATURE) + 16:
        raise ImageError("data", f"compressedDepth data holds {len(data)} bytes: too short for the {HEADER_BYTES}-byte "
                                 "header and a PNG")  # fmt: skip
    kind, quant_a, quant_b = struct.unpack_from("<iff", data)
    if kind != _INV_DEPTH:
        raise ImageError("data", f"compressedDepth header names compression format {kind}, not 0 (inverse depth)")
    payload = data[HEADER_BYTES:]
    if not payload.startswith(_PNG_SIGNATURE) or payload[12:16] != b"IHDR":
        raise ImageError("data", "compressedDepth payload is not a PNG (no PNG signature and header chunk)")
    width, height, bit_depth, colour_type = struct.unpack_from(">IIBB", payload, 16)
    if width == 0 or height == 0 or width * height > max_pixels:
        raise ImageError("size", f"compressedDepth PNG of {width}x{height} pixels is empty or exceeds the limit of "
                                 f"{max_pixels} pixels")  # fmt: skip
    if bit_depth != 16 or colour_type != 0:
        raise ImageError("data", f"compressedDepth PNG has bit depth {bit_depth} and colour type {colour_type}, "
                                 "not a 16-bit single-channel image")  # fmt: skip
    image = cv2.imdecode(np.frombuffer(payload, np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None or image.dtype != np.uint16 or image.shape != (height, width):
        raise ImageError("data", f"compressedDepth PNG of {width}x{height} pixels is truncated or corrupt")
    if encoding == "16UC1":
        return image
    if not (math.isfinite(quant_a) and math.isfinite(quant_b)) or quant_a <= 0:
        raise ImageError("data", f"compressedDepth 32FC1 quantisation parameters A={quant_a}, B={quant_b} are not "
                                 "finite with A > 0")  # fmt: skip
    q = image.astype(np.float32)
    with np.errstate(divide="ignore"):
        depth = np.float32(quant_a) / (q - np.float32(quant_b))
    depth[(image == 0) | ~(depth > 0)] = np.nan
    return depth


def depth_to_compressed(depth: np.ndarray, *, depth_max_m: float = 10.0, depth_quantization: float = 100.0,
                        png_level: int = 1) -> tuple[str, bytes]:  # fmt: skip
    """A depth frame as the compressedDepth plugin publishes it: the (``format``, ``data``) of its message.

    Args:
        depth: ``(H, W)`` uint16 depth in mm (16UC1; readings above ``depth_max_m`` become 0) or float32 in m
            (32FC1; NaN, non-positive and readings at or beyond ``depth_max_m`` become "no reading").
        depth_max_m: the publisher's ``depth_max`` (m).
        depth_quantization: the publisher's ``depth_quantization`` Z0 (32FC1 only).
        png_level: PNG compression level, 0-9.
    """
    if depth.ndim != 2 or depth.dtype not in (np.uint16, np.float32):
        raise ValueError(f"depth must be (H, W) uint16 (mm) or float32 (m), got {depth.dtype} {depth.shape}")
    quant_a = quant_b = 0.0
    if depth.dtype == np.uint16:
        encoding, image = "16UC1", np.where(depth > int(depth_max_m * 1000.0), 0, depth).astype(np.uint16)
    else:
        encoding = "32FC1"
        quant_a = depth_quantization * (depth_quantization + 1.0)
        quant_b = 1.0 - quant_a / depth_max_m
        valid = np.isfinite(depth) & (depth > 0) & (depth < depth_max_m)
        with np.errstate(divide="ignore", invalid="ignore"):
            q = np.float32(quant_a) / depth + np.float32(quant_b)
        image = np.where(valid, np.clip(q, 0, 65535), 0).astype(np.uint16)
    ok, png = cv2.imencode(".png", image, [cv2.IMWRITE_PNG_COMPRESSION, int(png_level)])
    if not ok:
        raise ValueError("PNG encoding of the depth frame failed")
    return f"{encoding}; compressedDepth png", struct.pack("<iff", _INV_DEPTH, quant_a, quant_b) + png.tobytes()
