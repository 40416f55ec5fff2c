"""rosbag2 files in one place: readers and writers as context managers, the project's typestore, topic rules, and
the package's data files (messages, config) found in a checkout or an install."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from rosbags.rosbag2 import StoragePlugin

from depthpose_core import bags
from depthpose_core.errors import DepthPoseError
from depthpose_core.share import share_file


@pytest.mark.parametrize("storage", ["sqlite3", "mcap"])
def test_a_written_bag_reads_back_in_its_storage(tmp_path: Path, storage: str) -> None:
    store = bags.typestore()
    t = store.types
    header = t["std_msgs/msg/Header"](stamp=t["builtin_interfaces/msg/Time"](sec=1, nanosec=2), frame_id="cam")
    image = t[bags.IMAGE](header=header, height=1, width=2, encoding="16UC1", is_bigendian=0, step=4,
                     data=np.zeros(4, np.uint8))  # fmt: skip
    with bags.create_bag(tmp_path / "bag", storage) as writer:
        conn = writer.add_connection("/cam1/depth/image_raw", bags.IMAGE, typestore=store)
        writer.write(conn, 5, store.serialize_cdr(image, bags.IMAGE))
    with bags.open_bag(tmp_path / "bag") as reader:
        assert bags.storage_of(reader) == {"sqlite3": StoragePlugin.SQLITE3, "mcap": StoragePlugin.MCAP}[storage]
        images, infos = bags.select_topics(reader, None, "the bag")
        assert [c.topic for c in images] == ["/cam1/depth/image_raw"] and infos == []
        assert [bag_time for _, bag_time, _ in reader.messages()] == [5]
        with pytest.raises(DepthPoseError, match=r"the bag has no image topic \['/cam2'\]"):
            bags.select_topics(reader, ["/cam2"], "the bag")
    with pytest.raises(DepthPoseError, match="already exists"):
        with bags.create_bag(tmp_path / "bag", storage):
            pass


def test_bad_bags_and_storages_name_the_problem(tmp_path: Path) -> None:
    with pytest.raises(DepthPoseError, match="is not a readable rosbag2"):
        with bags.open_bag(tmp_path / "missing"):
            pass
    with pytest.raises(DepthPoseError, match="bag storage must be one of"):
        with bags.create_bag(tmp_path / "new", "zip"):
            pass
    assert not (tmp_path / "new").exists()


def test_project_messages_are_registered_only_when_asked() -> None:
    assert bags.SKELETON_ARRAY in bags.typestore().types
    assert bags.SKELETON_ARRAY not in bags.typestore(project_messages=False).types


def test_outputs_sit_beside_their_input() -> None:
    assert bags.output_topic("/cam1/depth/image_raw", "skeletons") == "/cam1/depth/skeletons"


def test_share_files_are_found_in_the_checkout() -> None:
    repo = Path(__file__).resolve().parents[1]
    assert share_file("msg", "Skeleton2DArray.msg") == repo / "msg" / "Skeleton2DArray.msg"
    assert share_file("config", "fastdds_localhost.xml") == repo / "config" / "fastdds_localhost.xml"
    with pytest.raises(DepthPoseError, match="config/nothing.xml of depthpose_ros was not found"):
        share_file("config", "nothing.xml")
