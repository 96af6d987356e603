"""Statistical shape model (PCA of training shapes) and the ACR Smooth-Face."""

from facealign.shape.pca import ShapePCA, fit_shape_pca, load_shape_pca, smooth_face
from facealign.shape.training import training_shapes

__all__ = ["ShapePCA", "fit_shape_pca", "load_shape_pca", "smooth_face", "training_shapes"]
