"""Keypoint tables: orders, limbs and flip permutations agree with the joint names."""

from __future__ import annotations

import numpy as np

from depthpose_core.keypoints import (
    COCO17_FROM_NET,
    COCO17_NAMES,
    HEATMAP_FLIP,
    LIMB_ORDER,
    LIMBS,
    NET_JOINTS,
    PAF_FLIP,
    coco17_to_mvor10,
    net_to_coco17,
)


def _mirror_name(name: str) -> str:
    if name.startswith("left_"):
        return "right_" + name[5:]
    if name.startswith("right_"):
        return "left_" + name[6:]
    return name


def test_coco17_mapping_matches_names() -> None:
    assert [NET_JOINTS[i] for i in COCO17_FROM_NET] == list(COCO17_NAMES)


def test_heatmap_flip_swaps_left_and_right() -> None:
    assert sorted(HEATMAP_FLIP) == list(range(19)) and HEATMAP_FLIP[18] == 18
    for c in range(18):
        assert NET_JOINTS[HEATMAP_FLIP[c]] == _mirror_name(NET_JOINTS[c])


def test_paf_flip_maps_each_limb_to_its_mirror_image() -> None:
    assert sorted(PAF_FLIP) == list(range(38))
    for k, (a, b) in enumerate(LIMBS):
        m = PAF_FLIP[2 * k] // 2
        assert PAF_FLIP[2 * k + 1] == 2 * m + 1
        mirrored = (_mirror_name(NET_JOINTS[a]), _mirror_name(NET_JOINTS[b]))
        assert (NET_JOINTS[LIMBS[m][0]], NET_JOINTS[LIMBS[m][1]]) == mirrored


def test_limb_order_is_a_permutation() -> None:
    assert sorted(LIMB_ORDER) == list(range(len(LIMBS)))


def test_net_to_coco17_and_mvor10() -> None:
    net = np.zeros((18, 3))
    net[:, 0] = np.arange(18) + 1  # x encodes the network joint index
    net[:, 1] = 100
    coco = net_to_coco17(net)
    assert coco[:, 0].tolist() == [i + 1 for i in COCO17_FROM_NET]
    mvor = coco17_to_mvor10(coco)
    # head = eye midpoint (R eye 14, L eye 15); neck = shoulder midpoint (R 2, L 5)
    assert mvor[0, 0] == (15 + 16) / 2 and mvor[1, 0] == (3 + 6) / 2
    # left shoulder, right shoulder, left hip, right hip, elbows, wrists copied
    assert mvor[2:, 0].tolist() == [6, 3, 12, 9, 7, 4, 8, 5]


def test_limb_tables_are_the_specification_s() -> None:
    # Written out from docs: limb k joins these joints (PAF channels 2k, 2k + 1), and the assembly order.
    spec = [
        ("neck", "right_hip"), ("right_hip", "right_knee"), ("right_knee", "right_ankle"), ("neck", "left_hip"),
        ("left_hip", "left_knee"), ("left_knee", "left_ankle"), ("neck", "right_shoulder"),
        ("right_shoulder", "right_elbow"), ("right_elbow", "right_wrist"), ("right_shoulder", "right_ear"),
        ("neck", "left_shoulder"), ("left_shoulder", "left_elbow"), ("left_elbow", "left_wrist"),
        ("left_shoulder", "left_ear"), ("neck", "nose"), ("nose", "right_eye"), ("nose", "left_eye"),
        ("right_eye", "right_ear"), ("left_eye", "left_ear"),
    ]  # fmt: skip
    assert [(NET_JOINTS[a], NET_JOINTS[b]) for a, b in LIMBS] == spec
    assert LIMB_ORDER == (6, 10, 7, 8, 11, 12, 0, 1, 2, 3, 4, 5, 14, 15, 17, 16, 18, 9, 13)
