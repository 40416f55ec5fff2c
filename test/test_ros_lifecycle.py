"""The managed (lifecycle) node through its real lifecycle services: the model exists from configure to cleanup,
the topics only while active, a failed configure can be retried, and frames are answered only when active."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from depthpose_ros.msg import Skeleton2DArray
from lifecycle_msgs.msg import State, Transition
from lifecycle_msgs.srv import ChangeState, GetState
from rclpy.parameter import Parameter as RclpyParameter
from ros_support import TINY_PARAMS, depth_image, make_node, ros_context, spin_until, wait_for_match
from sensor_msgs.msg import Image

from depthpose_core.demo_scene import make_demo_frame
from depthpose_ros.lifecycle import DepthPoseLifecycleNode

DEPTH = make_demo_frame(seed=0)[0]


class Managed:
    """A lifecycle depthpose node and a test node with the lifecycle service clients, on one executor."""

    def __init__(self, context: Any, params: dict[str, Any]) -> None:
        overrides = [RclpyParameter(k, value=v) for k, v in params.items()]
        self.node = DepthPoseLifecycleNode(context=context, parameter_overrides=overrides)
        self.tester, self.executor = make_node(context, "lifecycle_tester")
        self.executor.add_node(self.node)
        self.change = self.tester.create_client(ChangeState, "/depthpose/change_state")
        self.get = self.tester.create_client(GetState, "/depthpose/get_state")
        assert self.change.wait_for_service(timeout_sec=10) and self.get.wait_for_service(timeout_sec=10)
        self.pub = self.tester.create_publisher(Image, "depth/image", 10)
        self.arrays: list[Skeleton2DArray] = []
        self.tester.create_subscription(Skeleton2DArray, "skeletons", self.arrays.append, 10)

    def _call(self, client: Any, request: Any) -> Any:
        future = client.call_async(request)
        assert spin_until(self.executor, future.done, 30), "no answer from the lifecycle service"
        return future.result()

    def transition(self, transition_id: int) -> bool:
        return bool(self._call(self.change, ChangeState.Request(transition=Transition(id=transition_id))).success)

    def state(self) -> int:
        return int(self._call(self.get, GetState.Request()).current_state.id)

    def publishers(self, topic: str) -> int:
        """Publishers of ``topic`` in the ROS graph, once the graph has settled (it updates asynchronously)."""
        spin_until(self.executor, lambda: False, 0.3)
        return self.tester.count_publishers(topic)

    def close(self) -> None:
        self.executor.shutdown()
        self.node.destroy_node()
        self.tester.destroy_node()


@pytest.fixture
def managed(request: pytest.FixtureRequest) -> Iterator[Managed]:
    with ros_context() as context:
        m = Managed(context, {**TINY_PARAMS, **getattr(request, "param", {})})
        try:
            yield m
        finally:
            m.close()


def test_topics_exist_only_while_active_and_frames_are_answered_then(managed: Managed) -> None:
    assert managed.state() == State.PRIMARY_STATE_UNCONFIGURED
    assert not hasattr(managed.node, "_estimator") and managed.publishers("/skeletons") == 0
    assert managed.transition(Transition.TRANSITION_CONFIGURE)
    assert managed.state() == State.PRIMARY_STATE_INACTIVE
    assert hasattr(managed.node, "_estimator")  # the model is loaded and checked at configure
    assert managed.publishers("/skeletons") == 0 and managed.tester.count_subscribers("/depth/image") == 0
    assert managed.transition(Transition.TRANSITION_ACTIVATE)
    assert managed.state() == State.PRIMARY_STATE_ACTIVE
    assert spin_until(managed.executor, lambda: managed.tester.count_publishers("/skeletons") == 1, 10)
    assert managed.tester.count_publishers("/skeletons_3d") == 1
    wait_for_match(managed.executor, managed.pub)
    managed.pub.publish(depth_image(DEPTH, stamp_ns=11))
    assert spin_until(managed.executor, lambda: bool(managed.arrays), 30)
    assert managed.arrays[0].header.stamp.nanosec == 11
    assert managed.transition(Transition.TRANSITION_DEACTIVATE)
    assert managed.state() == State.PRIMARY_STATE_INACTIVE
    assert spin_until(managed.executor, lambda: managed.tester.count_publishers("/skeletons") == 0, 10)
    assert managed.tester.count_subscribers("/depth/image") == 0
    received = managed.node.stats().received
    managed.pub.publish(depth_image(DEPTH, stamp_ns=12))
    spin_until(managed.executor, lambda: False, 0.5)
    assert managed.node.stats().received == received and len(managed.arrays) == 1  # inactive: not read
    assert managed.transition(Transition.TRANSITION_CLEANUP)
    assert managed.state() == State.PRIMARY_STATE_UNCONFIGURED and not hasattr(managed.node, "_estimator")
    # Configure and activate again: the same node serves again.
    assert managed.transition(Transition.TRANSITION_CONFIGURE) and managed.transition(Transition.TRANSITION_ACTIVATE)
    wait_for_match(managed.executor, managed.pub)
    managed.pub.publish(depth_image(DEPTH, stamp_ns=13))
    assert spin_until(managed.executor, lambda: len(managed.arrays) == 2, 30)
    assert managed.arrays[1].header.stamp.nanosec == 13
    # Deactivate and activate again directly: frames published meanwhile are not counted as lost.
    assert managed.transition(Transition.TRANSITION_DEACTIVATE)
    for stamp in (14, 15, 16):
        managed.pub.publish(depth_image(DEPTH, stamp_ns=stamp))
    spin_until(managed.executor, lambda: False, 0.3)
    assert managed.transition(Transition.TRANSITION_ACTIVATE)
    wait_for_match(managed.executor, managed.pub)
    managed.pub.publish(depth_image(DEPTH, stamp_ns=17))
    assert spin_until(managed.executor, lambda: len(managed.arrays) == 3, 30)
    assert managed.node.stats().lost == 0
    # Shut down while active: topics and thread released, finalized.
    assert managed.transition(Transition.TRANSITION_ACTIVE_SHUTDOWN)
    assert managed.state() == State.PRIMARY_STATE_FINALIZED
    assert spin_until(managed.executor, lambda: managed.tester.count_publishers("/skeletons") == 0, 10)
    assert not hasattr(managed.node, "_estimator")


@pytest.mark.parametrize("managed", [{"model": "/no/such/checkpoint.pth"}], indirect=True)
def test_a_failed_configure_names_the_problem_and_leaves_the_node_unconfigured(managed: Managed) -> None:
    from rcl_interfaces.msg import Log

    logs: list[Log] = []
    managed.tester.create_subscription(Log, "/rosout", logs.append, 100)
    spin_until(managed.executor, lambda: False, 0.3)
    for _ in range(2):  # a transition may be tried again: it fails the same way, nothing half-loaded
        assert not managed.transition(Transition.TRANSITION_CONFIGURE)
        assert managed.state() == State.PRIMARY_STATE_UNCONFIGURED
    assert spin_until(managed.executor, lambda: any("configure failed" in m.msg for m in logs), 10)
    assert any("/no/such/checkpoint.pth" in m.msg for m in logs if "configure failed" in m.msg)
    assert managed.publishers("/skeletons") == 0 and not hasattr(managed.node, "_estimator")
    assert managed.transition(Transition.TRANSITION_UNCONFIGURED_SHUTDOWN)
    assert managed.state() == State.PRIMARY_STATE_FINALIZED
