"""People from accepted limbs: the reference decoder's greedy assembly, pruning and output (steps 5 and 6)."""

from __future__ import annotations

import numpy as np

from depthpose_core.decode.limbs import Connection
from depthpose_core.decode.params import DecoderParams
from depthpose_core.decode.peaks import Peaks
from depthpose_core.keypoints import LIMB_ORDER, LIMBS, NUM_JOINTS
from depthpose_core.skeleton import Skeleton

__all__ = ["assemble_people"]


class _Person:
    """A person being assembled: one peak id (or -1) per joint, the summed part and limb scores, the part count."""

    __slots__ = ("count", "slots", "total")

    def __init__(self, slots: list[int], total: float, count: int) -> None:
        self.slots = slots
        self.total = total
        self.count = count

    def set_part(self, joint: int, peak: int, peak_score: float, limb_score: float) -> None:
        """The one-person rule: put ``peak`` in the joint's slot unless it is already there."""
        if self.slots[joint] != peak:
            self.slots[joint] = peak
            self.count += 1
            self.total += peak_score + limb_score


def _grow(people: list[_Person], ja: int, jb: int, a: int, b: int, limb_score: float, scores: list[float]) -> None:
    """Apply one accepted limb (source peak ``a`` of joint ``ja``, destination ``b`` of joint ``jb``)."""
    found = [p for p in people if p.slots[ja] == a or p.slots[jb] == b]
    if not found:
        slots = [-1] * NUM_JOINTS
        slots[ja], slots[jb] = a, b
        people.append(_Person(slots, scores[a] + scores[b] + limb_score, 2))
        return
    first = found[0]
    if len(found) == 1:
        first.set_part(jb, b, scores[b], limb_score)
        return
    second = found[1]  # the reference never meets more than two; the first two found are used
    if any(s >= 0 and t >= 0 for s, t in zip(first.slots, second.slots)):
        first.set_part(jb, b, scores[b], limb_score)
        return
    first.slots = [s if s >= 0 else t for s, t in zip(first.slots, second.slots)]
    first.total += second.total
    first.count += second.count
    first.total += limb_score
    people.remove(second)


def assemble_people(
    connections: list[list[Connection]], peaks: Peaks, frame_size: tuple[int, int], params: DecoderParams
) -> list[Skeleton]:
    """Group accepted limbs into people, prune them and convert them to skeletons.

    Limb types are taken in ``LIMB_ORDER``, limbs in accepted order. For a limb (src a, dst b, score l), the people
    whose source slot holds a or whose destination slot holds b are looked up (in list order):

    - one person: if its destination slot is not b, it becomes b (overwriting), count + 1, total + score(b) + l;
    - two people sharing no filled slot: the second merges into the first (slots combined, counts and totals
      added, total + l); sharing a slot: the one-person rule on the first;
    - nobody: a new person (src a, dst b, count 2, total score(a) + score(b) + l) is appended.

    People with fewer than ``min_parts`` parts or total / count below ``min_mean_score`` are dropped.

    Args:
        connections: per limb type, the accepted (src id, dst id, limb score) in acceptance order.
        peaks: the peaks the ids refer to.
        frame_size: (width, height) of the frame the peaks live in, pixels.
        params: decoder thresholds.

    Returns:
        The people in assembly order; keypoints at the peak pixels' centres (pixel + 0.5), score = total x count.
    """
    scores = peaks.score.tolist()
    people: list[_Person] = []
    for k in LIMB_ORDER:
        ja, jb = LIMBS[k]
        for a, b, limb_score in connections[k]:
            _grow(people, ja, jb, a, b, limb_score, scores)

    skeletons = []
    for person in people:
        if person.count < params.min_parts or person.total / person.count < params.min_mean_score:
            continue
        slots = np.array(person.slots)
        present = slots >= 0
        ids = slots[present]
        keypoints = np.full((NUM_JOINTS, 2), np.nan)
        keypoints[present, 0] = peaks.x[ids] + 0.5
        keypoints[present, 1] = peaks.y[ids] + 0.5
        part_scores = np.zeros(NUM_JOINTS)
        part_scores[present] = peaks.score[ids]
        skeletons.append(Skeleton(keypoints, part_scores, person.total * person.count, tuple(frame_size)))
    return skeletons
