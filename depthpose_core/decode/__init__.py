"""The PAF decoder: network maps -> people, in a reference mode (the published semantics) and a fast mode."""

from __future__ import annotations

from depthpose_core.decode.decoder import MODES, DecodeCounts, decode
from depthpose_core.decode.params import DECODER_SETTINGS, PUBLISHED, DecoderParams, SettingDoc

__all__ = ["DECODER_SETTINGS", "MODES", "PUBLISHED", "DecodeCounts", "DecoderParams", "SettingDoc", "decode"]
