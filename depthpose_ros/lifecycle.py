"""The managed variant of the depthpose node (a ROS 2 lifecycle node, ``depthpose_lifecycle_node``).

Same parameters, topics, diagnostics and processing as :class:`~depthpose_ros.node.DepthPoseNode`; the lifecycle
transitions decide when the model exists and when the topics are open:

    configure   checks the parameters and loads the model (a bad checkpoint or device fails the transition,
                with the reason logged, and the node stays unconfigured: the model parameters are read-only, so
                a fixed file needs a new node)
    activate    creates the publishers and subscriptions and starts the inference thread (sequence numbers and
                tracks start afresh; a failure undoes what was created, logged, and the node stays inactive)
    deactivate  stops the inference thread and destroys them (a frame still waiting counts as dropped)
    cleanup     releases the model
    shutdown    all of the above that applies

A system manager (nav2's lifecycle manager, launch_ros event handlers, ``ros2 lifecycle set``) drives it through
the standard ``~/change_state`` and ``~/get_state`` services.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from rclpy.lifecycle import LifecycleNode, LifecycleState, TransitionCallbackReturn

from depthpose_core.errors import DepthPoseError
from depthpose_ros.node import DepthPoseNode, main

__all__ = ["DepthPoseLifecycleNode", "lifecycle_main"]


class DepthPoseLifecycleNode(DepthPoseNode, LifecycleNode):
    """The depthpose node as a lifecycle node (see the module docstring); starts unconfigured.

    Args:
        **kwargs: passed to :class:`rclpy.lifecycle.LifecycleNode` (``context``, ``parameter_overrides``, ...).
    """

    MANAGED = True

    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        try:
            self._load()
        except Exception as err:  # noqa: BLE001 - any reason is the transition's failure, logged in the node's words
            self.get_logger().error(f"configure failed: {err}" if isinstance(err, DepthPoseError)
                                    else f"configure failed: {err!r}")  # fmt: skip
            if hasattr(self, "_estimator"):
                self._unload()
            return TransitionCallbackReturn.FAILURE
        return TransitionCallbackReturn.SUCCESS

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        try:
            self._start()
        except Exception as err:  # noqa: BLE001 - undo a partial start; the node stays inactive
            self.get_logger().error(f"activate failed: {err!r}")
            self._stop()
            return TransitionCallbackReturn.FAILURE
        return TransitionCallbackReturn.SUCCESS

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._stop()
        return TransitionCallbackReturn.SUCCESS

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._unload()
        return TransitionCallbackReturn.SUCCESS

    def on_shutdown(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._stop()
        if hasattr(self, "_estimator"):
            self._unload()
        return TransitionCallbackReturn.SUCCESS


def lifecycle_main(args: Sequence[str] | None = None) -> int:
    """Console script ``depthpose_lifecycle_node``: as ``depthpose_node``, but managed (starts unconfigured)."""
    return main(args, node_class=DepthPoseLifecycleNode)


if __name__ == "__main__":
    sys.exit(lifecycle_main())
