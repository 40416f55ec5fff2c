"""depthpose_core: privacy-preserving multi-person pose estimation on low-resolution depth (framework-free)."""

from __future__ import annotations

__version__ = "0.1.0"
