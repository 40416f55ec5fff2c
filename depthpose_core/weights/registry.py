"""The weights that ship inside the package, as data: a named entry per file with the model it builds, the
preprocessing its weights were trained with, what the user must be told when it runs, and its figures."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from depthpose_core.errors import CheckpointError
from depthpose_core.preprocess import Preprocessing

__all__ = ["DEFAULT_WEIGHTS", "SHIPPED", "ShippedWeights", "shipped_weights"]

_FOLDER = Path(__file__).resolve().parent


@dataclass(frozen=True)
class ShippedWeights:
    """One shipped checkpoint (the file records the same model and preprocessing; a test checks it).

    Attributes:
        name: the registry name users pass as the ``model`` value.
        file_name: the checkpoint file in this folder.
        model_name: architecture (``models.list_models()``) and ``model_kwargs`` its builder takes.
        preprocessing: the ingress the weights were trained with.
        notice: what every entry point tells the user when these weights run.
        meta: figures from the model card (parameters, MACs, training data, held-out PCK).
    """

    name: str
    file_name: str
    model_name: str
    model_kwargs: Mapping[str, Any]
    preprocessing: Preprocessing
    notice: str
    meta: Mapping[str, Any] = field(default_factory=dict)

    @property
    def path(self) -> Path:
        """The checkpoint file.

        Raises:
            CheckpointError: the file is missing (a broken install; ``make demo-weights`` rebuilds the demo one).
        """
        path = _FOLDER / self.file_name
        if not path.is_file():
            raise CheckpointError(f"the shipped weights {path} are missing: reinstall depthpose, or rebuild them "
                                  "with `make demo-weights`")  # fmt: skip
        return path


_NOTICE = ("running the shipped demo weights, trained on SYNTHETIC data only (see depthpose_core/weights/"
           "MODEL_CARD.md): not a model for real operating rooms; train one on your own recordings")

#: Every shipped entry by name.
SHIPPED: dict[str, ShippedWeights] = {
    "demo": ShippedWeights(
        name="demo",
        file_name="depthpose_lite_64x48_synth.pth",
        model_name="depthpose_lite",
        model_kwargs={"width": 1.0, "num_refinement": 1},
        preprocessing=Preprocessing(lowres_size=(64, 48), model_size=(64, 48), near_mm=500.0, far_mm=6000.0,
                                    downsampling="valid_area"),
        notice=_NOTICE,
        meta={"num_params": 336_224, "gmac": 1.56, "training_frames": 5400, "iterations": 3600,
              "held_out_pck_average": 54.2, "model_card": "MODEL_CARD.md"},
    ),
    "depthpose_w0125": ShippedWeights(
        name="depthpose_w0125",
        file_name="depthpose_w0125_64x48_synth.pth",
        model_name="depthpose",
        model_kwargs={"width": 0.125},
        preprocessing=Preprocessing(lowres_size=(64, 48), model_size=(64, 48), near_mm=500.0, far_mm=6000.0),
        notice=_NOTICE,
        meta={"num_params": 851_104, "gmac": 4.07, "training_frames": 5400, "iterations": 4500,
              "held_out_pck_average": 29.0, "model_card": "MODEL_CARD.md"},
    ),
}  # fmt: skip
#: The entry an empty ``model`` value stands for.
DEFAULT_WEIGHTS = "demo"


def shipped_weights(name: str = DEFAULT_WEIGHTS) -> ShippedWeights:
    """The shipped entry ``name``.

    Raises:
        CheckpointError: no such entry.
    """
    if name not in SHIPPED:
        raise CheckpointError(f"no shipped weights named {name!r}; shipped: {sorted(SHIPPED)}")
    return SHIPPED[name]
