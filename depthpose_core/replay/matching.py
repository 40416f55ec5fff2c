"""Matching replayed frames to ground truth and scoring them: shared by offline replay (``depthpose replay``) and
live replay through a node (``depthpose_replay_live``)."""

from __future__ import annotations

from typing import Any

from depthpose_core.eval.pck import PCKResult, evaluate

__all__ = ["GroundTruthIndex", "evaluate_replay"]


class GroundTruthIndex:
    """Finds the ground-truth image of a bag image.

    By (topic, stamp), then (topic, position on the topic) for labelled images that name their ``topic``; labelled
    images without a topic match by stamp, or by position (``frame_index``) when only one camera is replayed.
    """

    def __init__(self, gt: dict | None, topics: list[str]) -> None:
        self.by_topic_stamp: dict[tuple[str, int], Any] = {}
        self.by_topic_index: dict[tuple[str, int], Any] = {}
        self.by_stamp: dict[int, Any] = {}
        self.by_index: dict[int, Any] = {}
        self.single = len(set(topics)) == 1
        for img in (gt or {}).get("images", []):
            topic = img.get("topic")
            if "stamp_ns" in img:
                if topic:
                    self.by_topic_stamp[(topic, int(img["stamp_ns"]))] = img["id"]
                else:
                    self.by_stamp[int(img["stamp_ns"])] = img["id"]
            if "frame_index" in img:
                if topic:
                    self.by_topic_index[(topic, int(img["frame_index"]))] = img["id"]
                else:
                    self.by_index[int(img["frame_index"])] = img["id"]

    def find(self, topic: str, stamp: int, index: int) -> Any:
        """The ground-truth image id of the ``index``-th image on ``topic`` (stamp in ns), or None."""
        if (topic, stamp) in self.by_topic_stamp:
            return self.by_topic_stamp[(topic, stamp)]
        if (topic, index) in self.by_topic_index:
            return self.by_topic_index[(topic, index)]
        if stamp in self.by_stamp:
            return self.by_stamp[stamp]
        return self.by_index.get(index) if self.single else None

    def result_id(self, topic: str, stamp: int, index: int) -> tuple[Any, bool]:
        """The ``image_id`` to give results of this image, and whether it matched ground truth: the ground-truth
        id, else ``"<topic>@<stamp>"`` (which :func:`evaluate_replay` leaves out)."""
        found = self.find(topic, stamp, index)
        return (found, True) if found is not None else (f"{topic}@{stamp}", False)


def evaluate_replay(results: dict[str, list[dict]], ground_truth: dict) -> dict[str, PCKResult]:
    """The MVOR PCK of replayed results (image topic -> COCO results) against ground truth: per topic (camera)
    and ``all``.

    Only the played cameras count: ground-truth images of other topics are left out (images without a
    ``topic`` always count). A topic without labelled people gets no table of its own; results whose image had
    no ground truth (string ids) are left out.

    Raises:
        EvaluationError: no labelled person among the played images, or malformed ground truth.
    """
    out: dict[str, PCKResult] = {}
    images = [img for img in ground_truth.get("images", []) if "topic" not in img or img["topic"] in results]
    annotations = ground_truth.get("annotations", [])

    def subset(ids: set) -> dict:
        return {**ground_truth, "images": [i for i in images if i["id"] in ids],
                "annotations": [a for a in annotations if a.get("image_id") in ids]}  # fmt: skip

    for topic, found in results.items():
        part = subset({img["id"] for img in images if img.get("topic") == topic})
        if any(not a.get("only_bbox") and any(a.get("keypoints", [])) for a in part["annotations"]):
            out[topic] = evaluate(part, [r for r in found if not isinstance(r["image_id"], str)])
    matched = [r for found in results.values() for r in found if not isinstance(r["image_id"], str)]
    out["all"] = evaluate(subset({img["id"] for img in images}), matched)
    return out
