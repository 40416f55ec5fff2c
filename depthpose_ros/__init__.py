"""depthpose_ros: the ROS 2 adapter around depthpose_core (the node arrives with issue 3)."""
