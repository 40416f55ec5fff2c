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
    """A person being assembled: one peak id (or -1) per joint, the summed part and limb scores, the part count;
    ``serial`` is its creation rank (the reference's list order)."""

    __slots__ = ("count", "serial", "slots", "total")

    def __init__(self, serial: int, slots: list[int], total: float, count: int) -> None:
        self.serial = serial
        self.slots = slots
        self.total = total
        self.count = count


class _Assembly:
    """The people being assembled, with an index from each peak id to the people whose slot holds it."""

    def __init__(self, scores: list[float]) -> None:
        self.people: list[_Person] = []
        self._created = 0
        self._holders: dict[int, list[_Person]] = {}
        self._scores = scores

    def _hold(self, peak: int, person: _Person) -> None:
        self._holders.setdefault(peak, []).append(person)

    def _set_part(self, person: _Person, joint: int, peak: int, limb_score: float) -> None:
        """The one-person rule: put ``peak`` in the joint's slot unless it is already there."""
        old = person.slots[joint]
        if old == peak:
            return
        if old >= 0:
            self._holders[old].remove(person)
        person.slots[joint] = peak
        self._hold(peak, person)
        person.count += 1
        person.total += self._scores[peak] + limb_score

    def add_limb(self, ja: int, jb: int, a: int, b: int, limb_score: float) -> None:
        """Apply one accepted limb (source peak ``a`` of joint ``ja``, destination ``b`` of joint ``jb``)."""
        found = self._holders.get(a, []) + [p for p in self._holders.get(b, ()) if p.slots[ja] != a]
        if not found:
            slots = [-1] * NUM_JOINTS
            slots[ja], slots[jb] = a, b
            person = _Person(self._created, slots, self._scores[a] + self._scores[b] + limb_score, 2)
            self._created += 1
            self.people.append(person)
            self._hold(a, person)
            self._hold(b, person)
            return
        if len(found) > 1:
            found.sort(key=lambda p: p.serial)
        first = found[0]
        if len(found) == 1:
            self._set_part(first, jb, b, limb_score)
            return
        second = found[1]  # the reference never meets more than two; the first two found are used
        if any(s >= 0 and t >= 0 for s, t in zip(first.slots, second.slots)):
            self._set_part(first, jb, b, limb_score)
            return
        for joint, peak in enumerate(second.slots):
            if peak >= 0:
                first.slots[joint] = peak
                holders = self._holders[peak]
                holders[holders.index(second)] = first
        first.total += second.total
        first.count += second.count
        first.total += limb_score
        self.people.remove(second)


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
    assembly = _Assembly(peaks.score.tolist())
    for k in LIMB_ORDER:
        ja, jb = LIMBS[k]
        for a, b, limb_score in connections[k]:
            assembly.add_limb(ja, jb, a, b, limb_score)

    skeletons = []
    for person in assembly.people:
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
        skeletons.append(Skeleton(keypoints, part_scores, person.total * person.count, frame_size))
    return skeletons
