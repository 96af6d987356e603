"""Aligned face crops: a similarity transform from five landmarks to a template, one warp."""

from facealign.align.crop import AlignedFaces, align_faces, alignment_matrices
from facealign.align.similarity import apply_matrix, invert_matrix, umeyama
from facealign.align.templates import ARCFACE_112, TEMPLATES, template_points

__all__ = ["AlignedFaces", "align_faces", "alignment_matrices", "umeyama", "apply_matrix", "invert_matrix",
           "ARCFACE_112", "TEMPLATES", "template_points"]
