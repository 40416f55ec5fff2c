"""Settings files: the shipped file states the built-in defaults; bad files name the problem; the decoder
settings are described once (the table) and both YAML files say the same."""

from __future__ import annotations

import pathlib

import pytest

from depthpose_core.cli import _runtime, build_parser
from depthpose_core.config import RuntimeConfig, load_runtime_config
from depthpose_core.decode import DECODER_SETTINGS, DecoderParams
from depthpose_core.errors import ConfigError

SHIPPED = pathlib.Path(__file__).parents[1] / "config" / "inference.yaml"


def test_shipped_file_holds_the_built_in_defaults() -> None:
    assert load_runtime_config(SHIPPED) == RuntimeConfig()


def test_partial_file_keeps_other_defaults(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("flip_test: false\ndecoder:\n  mode: reference\n  peak_threshold: 0.2\n")
    cfg = load_runtime_config(path)
    assert not cfg.flip_test and cfg.decoder_mode == "reference"
    assert cfg.decoder == DecoderParams(peak_threshold=0.2) and cfg.device == "auto"


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("colour: red\n", "unknown keys"),
        ("decoder:\n  sigma: 3\n", "unknown decoder keys"),
        ("decoder:\n  mode: slow\n", "decoder.mode"),
        ("decoder:\n  num_samples: 1\n", "num_samples"),
        ("flip_test: 3\n", "flip_test must be bool"),
        ("- a\n- b\n", "mapping"),
        ("device: [\n", "not valid YAML"),
        ("backend: tensorrt\n", "backend must be one of"),
        ("precision: int8\n", "precision must be one of"),
    ],
)
def test_bad_files_name_the_problem(tmp_path: pathlib.Path, text: str, match: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=match):
        load_runtime_config(path)
    with pytest.raises(ConfigError, match="cannot read"):
        load_runtime_config(tmp_path / "absent.yaml")


def test_command_line_flags_override_the_file(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("device: cpu\nbackend: openvino\nprecision: bf16\ndecoder:\n  mode: reference\n")
    assert load_runtime_config(path).backend == "openvino"
    args = build_parser().parse_args(["infer", "x.png", "--untrained", "--config", str(path), "--decoder", "fast",
                                      "--no-flip", "--backend", "torch"])  # fmt: skip
    cfg = _runtime(args)
    assert (cfg.device, cfg.backend, cfg.precision, cfg.decoder_mode, cfg.flip_test) == ("cpu", "torch", "bf16",
                                                                                       "fast", False)  # fmt: skip
    assert _runtime(build_parser().parse_args(["infer", "x.png", "--untrained"])) == RuntimeConfig()


def _decoder_comments(path: pathlib.Path) -> dict[str, str]:
    """Key -> the comment lines right above it (joined), for every key of the file's ``decoder:`` block."""
    lines = path.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "decoder:")
    indent = len(lines[start]) - len(lines[start].lstrip())
    out, comment = {}, []
    for line in lines[start + 1 :]:
        if not line.strip() or len(line) - len(line.lstrip()) <= indent:
            break
        if line.strip().startswith("#"):
            comment.append(line.strip()[1:].strip())
        else:
            out[line.split(":")[0].strip()] = " ".join(comment)
            comment = []
    return out


@pytest.mark.parametrize("name", ["inference.yaml", "depthpose.yaml"])
def test_decoder_comments_say_what_the_one_table_says(name: str) -> None:
    comments = _decoder_comments(SHIPPED.with_name(name))
    assert comments, f"no decoder block in {name}"
    # Both ways: every documented setting is in the file, every key of the file is documented, in the same words.
    assert comments == {key: doc.description for key, doc in DECODER_SETTINGS.items()}
