"""Where and how the network runs: device rules (no silent CPU fall-back) and precision names."""

from __future__ import annotations

import pytest
import torch

from depthpose_core.errors import DepthPoseError
from depthpose_core.runtime import PRECISIONS, autocast, check_precision, resolve_device


def test_resolve_device(monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_device("cpu") == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == torch.device("cpu")
    with pytest.raises(DepthPoseError, match="CUDA is not available"):
        resolve_device("cuda")
    with pytest.raises(DepthPoseError, match="CUDA is not available"):
        resolve_device("cuda:1")
    with pytest.raises(DepthPoseError, match="not"):
        resolve_device("tpu")
    with pytest.raises(DepthPoseError, match="not valid"):
        resolve_device("gpu please")


def test_cuda_index_beyond_the_devices_present_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    assert resolve_device("cuda") == torch.device("cuda", 0)
    assert resolve_device("auto") == torch.device("cuda", 0)
    with pytest.raises(DepthPoseError, match="only 1 CUDA device"):
        resolve_device("cuda:3")


def test_precisions() -> None:
    assert set(PRECISIONS) == {"fp32", "fp16", "bf16"}
    assert check_precision("bf16") == "bf16"
    with pytest.raises(DepthPoseError, match="precision 'int4' is not one of"):
        check_precision("int4")
    with autocast(torch.device("cpu"), "bf16"):
        assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == torch.bfloat16
    with autocast(torch.device("cpu"), "fp32"):
        assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == torch.float32
