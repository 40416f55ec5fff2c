"""The inference API: depth frames in, skeletons out.

Flow: depth frame -> :func:`preprocess.to_lowres` (privacy step) -> network (optionally with the flip test)
-> maps -> :func:`decode.decode` -> :class:`Skeleton` in the pixel frame of the frame that was given.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch
from torch import nn

from depthpose_core.backends import Network, open_backend
from depthpose_core.checkpoint import Checkpoint
from depthpose_core.config import RuntimeConfig
from depthpose_core.decode import MODES, DecodeCounts, DecoderParams, decode
from depthpose_core.errors import DepthPoseError, InputError
from depthpose_core.flip import merge_flipped, mirror
from depthpose_core.preprocess import Preprocessing, to_lowres, to_model_input
from depthpose_core.runtime import check_precision, resolve_device
from depthpose_core.skeleton import Skeleton
from depthpose_core.weights import UNTRAINED, ModelRequest, ResolvedModel, resolve_checkpoint, resolve_model

__all__ = ["ModelInfo", "PoseEstimator"]

logger = logging.getLogger(__name__)

@dataclass(frozen=True)
class ModelInfo:
    """What runs: printed by the CLI, published in diagnostics."""

    name: str
    weights: str  # checkpoint or exported file path, or "random initialisation (untrained)"
    trained: bool
    device: str
    precision: str
    backend: str = "torch"
    backend_detail: str = ""
    notice: str | None = None  # what the user must be told (shipped demo weights, untrained network)


class PoseEstimator:
    """Multi-person 2D pose estimation on depth frames.

    Build it with :meth:`from_request` (what every entry point does: a ``model`` value resolved by
    :func:`depthpose_core.weights.resolve_model`), :meth:`from_checkpoint` (project checkpoint, or the authors'
    plain state dict plus explicit options) or :meth:`untrained` (random weights: for demos and tests only). Call
    :meth:`estimate` with one frame or :meth:`estimate_batch` with several (one forward pass).

    Args:
        network: the forward pass in its backend (:func:`depthpose_core.backends.open_backend`).
        preprocessing: the input pipeline the weights expect.
        output_stride: model input pixels per output map cell (1 for DepthPose, 8 for RTPose).
        model_name: registry name, for reporting.
        weights: where the weights came from, for reporting.
        trained: False when the weights are a random initialisation.
        flip_test: also run the mirrored frame and merge the maps (the reference evaluation does); the frame
            and its mirror run as one batch of 2.
        decoder_mode: "fast" (default) or "reference" (the published numbers' exact semantics).
        decoder_params: decoder thresholds; None = the reference values.
        notice: what the user must be told about these weights (reported in ``info``).

    Attributes:
        decode_counts: frames decoded since construction, and those where the decoder's ``max_peaks`` cap bound
            (garbage maps: see :class:`~depthpose_core.decode.DecodeCounts`).
    """

    def __init__(
        self,
        network: Network,
        preprocessing: Preprocessing,
        *,
        output_stride: int,
        model_name: str,
        weights: str,
        trained: bool,
        flip_test: bool = True,
        decoder_mode: str = "fast",
        decoder_params: DecoderParams | None = None,
        notice: str | None = None,
    ) -> None:
        if decoder_mode not in MODES:
            raise DepthPoseError(f"decoder mode {decoder_mode!r} is not one of {list(MODES)}")
        self.network = network
        self.output_stride = output_stride
        self.device = network.device
        self.precision = network.precision
        self.preprocessing = preprocessing
        self.flip_test = flip_test
        self.decoder_mode = decoder_mode
        self.decoder_params = decoder_params or DecoderParams()
        self.decode_counts = DecodeCounts()
        self.info = ModelInfo(model_name, weights, trained, str(self.device), network.precision, network.backend,
                              network.detail, notice)  # fmt: skip
        logger.info("pose estimator: model %s (%s), backend %s on %s (%s, %s), flip test %s", model_name, weights,
                    network.backend, self.device, network.precision, network.detail,
                    "on" if flip_test else "off")  # fmt: skip

    @property
    def model(self) -> nn.Module:
        """The PyTorch module (torch backend only).

        Raises:
            DepthPoseError: the network runs in another backend.
        """
        if self.network.module is None:
            raise DepthPoseError(f"the network runs in the {self.network.backend} backend: no PyTorch module")
        return self.network.module

    # -- construction ----------------------------------------------------------------------------------------

    @classmethod
    def from_resolved(cls, resolved: ResolvedModel, *, device: str | torch.device = "auto", precision: str = "auto",
                      backend: str = "auto", **settings: Any) -> PoseEstimator:  # fmt: skip
        """Build the network of a resolved model in ``backend`` (:data:`~depthpose_core.backends.BACKENDS`) on
        ``device`` ("auto", "cpu", "cuda" or "cuda:N", see :func:`~depthpose_core.runtime.resolve_device`) in
        ``precision`` ("auto", "fp32", "fp16" or "bf16"; the decoder always runs in float32); ``settings`` are
        this class's other keyword arguments.

        Raises:
            DepthPoseError: a bad device, precision or backend, or a backend that is not installed.
            CheckpointError: the network cannot be built or loaded.
        """
        dev = resolve_device(device)
        check_precision(precision, allow_auto=True)
        module = None if resolved.exported is not None else resolved.build()
        stride = resolved.exported_stride if module is None else getattr(module, "output_stride", None)
        if not isinstance(stride, int):
            raise DepthPoseError(f"model {resolved.model_name!r} has no output_stride: not a pose network")
        network = open_backend(backend, dev, precision, module=module, exported=resolved.exported,
                               input_size=resolved.preprocessing.model_size)  # fmt: skip
        return cls(network, resolved.preprocessing, output_stride=stride, model_name=resolved.model_name,
                   weights=resolved.weights, trained=resolved.trained, notice=resolved.notice,
                   **settings)  # fmt: skip

    @classmethod
    def from_request(cls, request: ModelRequest | str = "", settings: RuntimeConfig | None = None, *,
                     privacy: bool = True) -> PoseEstimator:  # fmt: skip
        """The estimator of a ``model`` value (see :func:`depthpose_core.weights.resolve_model`) with the
        run-time ``settings`` (None = the defaults of ``config/inference.yaml``).

        Raises:
            DepthPoseError: see :func:`~depthpose_core.weights.resolve_model`; a bad device or precision.
        """
        resolved = resolve_model(request, privacy=privacy)
        return cls.from_resolved(resolved, **(settings or RuntimeConfig()).estimator_kwargs())

    @classmethod
    def from_checkpoint(
        cls,
        checkpoint: str | os.PathLike[str] | Checkpoint,
        *,
        model_name: str | None = None,
        preprocessing: Preprocessing | None = None,
        **settings: Any,
    ) -> PoseEstimator:
        """Build the estimator of a checkpoint file (or of one already read with
        :func:`~depthpose_core.checkpoint.load_checkpoint`); see
        :func:`~depthpose_core.weights.resolve_checkpoint` for the rules (a project checkpoint's model and
        preprocessing cannot be overridden; a plain state dict needs both).

        Raises:
            CheckpointError: unreadable, hostile or mismatching file, an override of a project checkpoint's
                preprocessing, an unknown keypoint format, or missing options for a plain state dict.
        """
        resolved = resolve_checkpoint(checkpoint, model_name=model_name, preprocessing=preprocessing)
        return cls.from_resolved(resolved, **settings)

    @classmethod
    def untrained(
        cls, model_name: str = "depthpose", preprocessing: Preprocessing | None = None, *, seed: int = 0,
        **settings: Any,
    ) -> PoseEstimator:  # fmt: skip
        """A randomly initialised model (seeded): its skeletons are meaningless; for demos and tests."""
        resolved = resolve_model(ModelRequest(UNTRAINED, model_name, seed=seed), privacy=False)
        if preprocessing is not None:
            resolved = replace(resolved, preprocessing=preprocessing)
        return cls.from_resolved(resolved, **settings)

    def describe(self) -> str:
        """What runs, in three lines: model and weights; device, precision, flip test, decoder; the ingress."""
        info, pre = self.info, self.preprocessing
        w, h = pre.lowres_size
        return (f"model {info.name}, weights: {info.weights}\n"
                f"backend {info.backend} ({info.backend_detail}) on {info.device}, precision {info.precision}, "
                f"flip test {'on' if self.flip_test else 'off'}, decoder {self.decoder_mode}\n"
                f"input reduced to {w}x{h} at ingress; depth {pre.near_mm:.0f}-{pre.far_mm:.0f} mm -> [0, 1]"
                )  # fmt: skip

    @property
    def map_size(self) -> tuple[int, int]:
        """(width, height) of the output maps: the model input size over the model's output stride."""
        stride = self.output_stride
        return self.preprocessing.model_size[0] // stride, self.preprocessing.model_size[1] // stride

    # -- ingress ---------------------------------------------------------------------------------------------

    def to_lowres(self, depth: np.ndarray) -> np.ndarray:
        """The privacy step: a depth frame at any resolution -> (h, w) float32 in [0, 1] at the low resolution."""
        return to_lowres(depth, self.preprocessing)

    # -- inference -------------------------------------------------------------------------------------------

    def maps(self, lowres: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Run the network (and the flip test) on low-resolution images.

        Args:
            lowres: B arrays (h, w) float32 in [0, 1] at ``preprocessing.lowres_size``.

        Returns:
            (paf (B, 38, mh, mw), heat (B, 19, mh, mw)) float32 numpy maps.
        """
        size = self.preprocessing.lowres_size
        for i, img in enumerate(lowres):
            if img.ndim != 2 or (img.shape[1], img.shape[0]) != size or img.dtype != np.float32:
                raise InputError(
                    f"low-resolution image {i} must be float32 {size[0]}x{size[1]}, got {img.dtype} "
                    f"{img.shape[1] if img.ndim > 1 else '?'}x{img.shape[0]}"
                )
        batch = np.stack([to_model_input(img, self.preprocessing) for img in lowres])[:, None]
        x = torch.from_numpy(batch)
        if self.flip_test:
            x = torch.cat([x, mirror(x)])
        paf, heat = self.network(x)
        if self.flip_test:
            n = len(lowres)
            paf, heat = merge_flipped(paf[:n], heat[:n], paf[n:], heat[n:])
        return paf.cpu().numpy(), heat.cpu().numpy()

    def estimate_lowres(
        self, lowres: Sequence[np.ndarray], frame_sizes: Sequence[tuple[int, int]] | None = None
    ) -> list[list[Skeleton]]:
        """Skeletons for low-resolution images (output of :meth:`to_lowres`), one forward pass for all.

        Args:
            lowres: B low-resolution images.
            frame_sizes: per image, the (width, height) of the pixel frame to express keypoints in (usually the
                original frame's size); None = the decode frame (``preprocessing.decode_frame``, 640x480).

        Returns:
            Per image, the people found, in the requested frame.
        """
        if len(lowres) == 0:
            return []
        paf, heat = self.maps(lowres)
        return self.decode_maps(paf, heat, frame_sizes)

    def decode_maps(
        self, paf: np.ndarray, heat: np.ndarray, frame_sizes: Sequence[tuple[int, int]] | None = None
    ) -> list[list[Skeleton]]:
        """Decode a batch of maps (from :meth:`maps`) into skeletons in the requested pixel frames.

        The maps are decoded into ``preprocessing.decode_frame`` (the reference 640x480 sensor frame) and the
        keypoints rescaled to each ``frame_sizes[i]`` (None = keep the decode frame). Frames where the decoder's
        ``max_peaks`` cap bound are counted in :attr:`decode_counts`.
        """
        decode_frame = self.preprocessing.decode_frame
        out: list[list[Skeleton]] = []
        for i in range(len(paf)):
            people = decode(paf[i], heat[i], decode_frame, mode=self.decoder_mode, params=self.decoder_params,
                            counts=self.decode_counts)  # fmt: skip
            target = decode_frame if frame_sizes is None else (int(frame_sizes[i][0]), int(frame_sizes[i][1]))
            out.append([p.rescaled(target) for p in people] if target != decode_frame else people)
        return out

    def estimate_batch(self, frames: Sequence[np.ndarray]) -> list[list[Skeleton]]:
        """Skeletons for several depth frames (e.g. several cameras) in one forward pass.

        Each frame's keypoints are in that frame's own pixel frame (x right, y down, pixel centres at +0.5).
        """
        sizes = [(int(f.shape[1]), int(f.shape[0])) for f in frames]
        return self.estimate_lowres([self.to_lowres(f) for f in frames], sizes)

    def estimate(self, depth: np.ndarray) -> list[Skeleton]:
        """Skeletons for one depth frame, in that frame's pixel frame (see :meth:`estimate_batch`)."""
        return self.estimate_batch([depth])[0]
