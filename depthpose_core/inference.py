"""The inference API: depth frames in, skeletons out.

Flow: depth frame -> :func:`preprocess.to_lowres` (privacy step) -> network (optionally with the flip test)
-> maps -> :func:`decode.decode` -> :class:`Skeleton` in the pixel frame of the frame that was given.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from depthpose_core.checkpoint import KEYPOINT_FORMAT, Checkpoint, load_checkpoint
from depthpose_core.decode import MODES, DecoderParams, decode
from depthpose_core.errors import CheckpointError, DepthPoseError, InputError
from depthpose_core.flip import merge_flipped, mirror
from depthpose_core.models import build_model, load_weights
from depthpose_core.preprocess import Preprocessing, to_lowres, to_model_input
from depthpose_core.skeleton import Skeleton

__all__ = ["PRECISIONS", "PoseEstimator", "resolve_device"]

logger = logging.getLogger(__name__)

#: Autocast dtypes by precision name ("fp32" runs without autocast).
PRECISIONS: dict[str, torch.dtype | None] = {"fp32": None, "fp16": torch.float16, "bf16": torch.bfloat16}


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """Turn "auto", "cpu", "cuda" or "cuda:N" into a device that exists.

    "auto" picks the first CUDA GPU when one is usable, else the CPU. Asking for CUDA where there is none is an
    error, never a silent fall-back to the CPU.

    Raises:
        DepthPoseError: CUDA was requested but is not available, or the index is out of range.
    """
    if str(device) == "auto":
        return torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except RuntimeError as err:
        raise DepthPoseError(f"device {device!r} is not valid (use auto, cpu, cuda or cuda:N): {err}") from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise DepthPoseError(
                f"device {device!r} was requested but CUDA is not available (torch {torch.__version__}, "
                f"CUDA build: {torch.version.cuda or 'none'}); use device 'cpu' or 'auto'"
            )
        index = 0 if dev.index is None else dev.index
        if index >= torch.cuda.device_count():
            raise DepthPoseError(f"device {device!r}: only {torch.cuda.device_count()} CUDA device(s) present")
        return torch.device("cuda", index)
    if dev.type != "cpu":
        raise DepthPoseError(f"device {device!r} is not supported (use auto, cpu, cuda or cuda:N)")
    return dev


@dataclass(frozen=True)
class ModelInfo:
    """What runs: printed by the CLI, published in diagnostics."""

    name: str
    weights: str  # checkpoint path, or "random initialisation (untrained)"
    trained: bool
    device: str
    precision: str


class PoseEstimator:
    """Multi-person 2D pose estimation on depth frames.

    Build it with :meth:`from_checkpoint` (project checkpoint, or the authors' plain state dict plus explicit
    options) or :meth:`untrained` (random weights: for demos and tests only). Call :meth:`estimate` with one
    frame or :meth:`estimate_batch` with several (one forward pass).

    Args:
        model: the network; moved to ``device`` and set to eval mode.
        preprocessing: the input pipeline the weights expect.
        model_name: registry name, for reporting.
        weights: where the weights came from, for reporting.
        trained: False when the weights are a random initialisation.
        device: "auto", "cpu", "cuda" or "cuda:N" (see :func:`resolve_device`).
        precision: "fp32", "fp16" or "bf16" (autocast for the network; the decoder always runs in float32).
        flip_test: also run the mirrored frame and merge the maps (the reference evaluation does).
        decoder_mode: "fast" (default) or "reference" (the published numbers' exact semantics).
        decoder_params: decoder thresholds; None = the reference values.
    """

    def __init__(
        self,
        model: nn.Module,
        preprocessing: Preprocessing,
        *,
        model_name: str,
        weights: str,
        trained: bool,
        device: str | torch.device = "auto",
        precision: str = "fp32",
        flip_test: bool = True,
        decoder_mode: str = "fast",
        decoder_params: DecoderParams | None = None,
    ) -> None:
        if precision not in PRECISIONS:
            raise DepthPoseError(f"precision {precision!r} is not one of {sorted(PRECISIONS)}")
        if decoder_mode not in MODES:
            raise DepthPoseError(f"decoder mode {decoder_mode!r} is not one of {list(MODES)}")
        if getattr(model, "output_stride", None) is None:
            raise DepthPoseError(f"model {model_name!r} has no output_stride: not a pose network")
        self.device = resolve_device(device)
        self.preprocessing = preprocessing
        self.precision = precision
        self.flip_test = flip_test
        self.decoder_mode = decoder_mode
        self.decoder_params = decoder_params or DecoderParams()
        self.model = model.to(self.device).eval()
        self.info = ModelInfo(model_name, weights, trained, str(self.device), precision)
        logger.info(
            "pose estimator: model %s (%s) on %s%s, %s, flip test %s",
            model_name, weights, self.device,
            f" ({torch.cuda.get_device_name(self.device)})" if self.device.type == "cuda" else "",
            precision, "on" if flip_test else "off",
        )  # fmt: skip

    # -- construction ----------------------------------------------------------------------------------------

    @classmethod
    def from_checkpoint(
        cls,
        checkpoint: str | os.PathLike[str] | Checkpoint,
        *,
        model_name: str | None = None,
        preprocessing: Preprocessing | None = None,
        **kwargs: object,
    ) -> PoseEstimator:
        """Build the estimator of a checkpoint file (or of one already read with :func:`load_checkpoint`).

        A project checkpoint carries its model name and preprocessing; they cannot be overridden, so that
        inference always sees the input the weights were trained on. A plain state dict (the authors'
        ``depthpose_64x48.pth`` / ``depthpose_80x60.pth``) needs ``model_name`` and ``preprocessing`` given
        explicitly (at least the low resolution it was trained for).

        Raises:
            CheckpointError: unreadable, hostile or mismatching file, an override of a project checkpoint's
                preprocessing, an unknown keypoint format, or missing options for a plain state dict.
        """
        ckpt = checkpoint if isinstance(checkpoint, Checkpoint) else load_checkpoint(checkpoint)
        where = ckpt.source or "checkpoint"
        if ckpt.keypoint_format != KEYPOINT_FORMAT:
            raise CheckpointError(
                f"checkpoint {where} has keypoint format {ckpt.keypoint_format!r}; this version reads "
                f"{KEYPOINT_FORMAT!r}"
            )
        if ckpt.is_plain and (model_name is None or preprocessing is None):
            raise CheckpointError(
                f"checkpoint {where} is a plain state dict without metadata: give model_name (e.g. 'depthpose') "
                "and preprocessing (its low resolution, e.g. 64x48, and depth mapping) explicitly"
            )
        if not ckpt.is_plain:
            if model_name and model_name != ckpt.model_name:
                raise CheckpointError(f"checkpoint {where} holds model {ckpt.model_name!r}, not {model_name!r}")
            if preprocessing is not None and preprocessing != ckpt.preprocessing:
                raise CheckpointError(
                    f"checkpoint {where} records the preprocessing its weights were trained with "
                    f"({ckpt.preprocessing}); it cannot be overridden (low resolution and depth mapping options "
                    "apply to plain state dicts only)"
                )
        name = ckpt.model_name or model_name
        pre = ckpt.preprocessing or preprocessing
        try:
            model = build_model(name, **ckpt.model_kwargs)
        except (TypeError, ValueError) as err:
            raise CheckpointError(f"checkpoint {where}: cannot build model {name!r}: {err}") from None
        load_weights(model, ckpt.state_dict, source=where)
        return cls(model, pre, model_name=name, weights=where, trained=True, **kwargs)  # type: ignore[arg-type]

    @classmethod
    def untrained(
        cls, model_name: str = "depthpose", preprocessing: Preprocessing | None = None, *, seed: int = 0,
        **kwargs: object,
    ) -> PoseEstimator:  # fmt: skip
        """A randomly initialised model (seeded): its skeletons are meaningless; for demos and tests."""
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = build_model(model_name)
        return cls(
            model, preprocessing or Preprocessing(), model_name=model_name,
            weights="random initialisation (untrained)", trained=False, **kwargs,  # type: ignore[arg-type]
        )  # fmt: skip

    @property
    def map_size(self) -> tuple[int, int]:
        """(width, height) of the output maps: the model input size over the model's output stride."""
        stride = self.model.output_stride
        return self.preprocessing.model_size[0] // stride, self.preprocessing.model_size[1] // stride

    # -- ingress ---------------------------------------------------------------------------------------------

    def to_lowres(self, depth: np.ndarray) -> np.ndarray:
        """The privacy step: a depth frame at any resolution -> (h, w) float32 in [0, 1] at the low resolution."""
        return to_lowres(depth, self.preprocessing)

    # -- inference -------------------------------------------------------------------------------------------

    def _autocast(self) -> contextlib.AbstractContextManager[object]:
        dtype = PRECISIONS[self.precision]
        if dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=dtype)

    @torch.inference_mode()
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
        if self.device.type == "cuda":
            x = x.pin_memory().to(self.device, non_blocking=True)
        if self.flip_test:
            x = torch.cat([x, mirror(x)])
        with self._autocast():
            paf, heat = self.model(x)
        paf, heat = paf.float(), heat.float()
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
        keypoints rescaled to each ``frame_sizes[i]`` (None = keep the decode frame).
        """
        decode_frame = self.preprocessing.decode_frame
        out: list[list[Skeleton]] = []
        for i in range(len(paf)):
            people = decode(paf[i], heat[i], decode_frame, mode=self.decoder_mode, params=self.decoder_params)
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
