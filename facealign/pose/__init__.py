"""Head pose from landmarks: a generic 3D face fitted to the points with OpenCV's solvePnP."""

from facealign.pose.solve import HeadPose, face_model_3d, head_pose

__all__ = ["HeadPose", "head_pose", "face_model_3d"]
