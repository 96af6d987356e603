"""The papers' constants, in one place (docs/acr.md, docs/heatmap.md).

Every default that comes from one of the two papers is named here and imported where it is used,
so that a recipe change is one edit and a reader can trace each number to its source.
"""

from __future__ import annotations

#: Face-box enlargement of the crop: the longer box side times this is the crop side (both papers).
CROP_SCALE = 1.25

#: ACR: variance (%) the Smooth-Face PCA keeps as training goes on (docs/acr.md).
ACR_VARIANCES = (80.0, 85.0, 90.0, 95.0)
# The ACR authors fit their shape model on their offline-augmented annotations: each 300-W face
# and 9 augmented copies (rotations of up to 20 degrees, every other copy mirrored).
AUTHORS_PCA_DRAWS = 9

#: ACR: epochs at which the kept variance steps up, in the paper's 150-epoch run (docs/acr.md).
ACR_VARIANCE_MILESTONES = (16, 31, 71)
ACR_EPOCHS = 150

#: H3R: the heatmap decoder's k (softmax over the k largest logits, docs/heatmap.md).
H3R_TOPK = 9

#: H3R: output stride of the heatmaps.
H3R_STRIDE = 4
