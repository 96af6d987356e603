"""Data: the sample record, benchmark readers, images, crops and augmentation."""

from facealign.data.images import read_image
from facealign.data.readers.cofw import read_cofw
from facealign.data.readers.lapa import read_lapa
from facealign.data.readers.pts import read_pts, read_pts_folder, write_pts
from facealign.data.readers.tabular import read_coco, read_csv_dataset, read_landmark_csv, write_landmark_csv
from facealign.data.readers.wflw import WFLW_ATTRIBUTES, read_wflw
from facealign.data.sample import PIXEL_CONVENTION, LandmarkSet, Sample, landmark_box
from facealign.data.sources import FORMATS, load_dataset

__all__ = [
    "PIXEL_CONVENTION", "Sample", "LandmarkSet", "landmark_box", "read_image", "load_dataset", "FORMATS",
    "read_wflw", "WFLW_ATTRIBUTES", "read_pts", "write_pts", "read_pts_folder", "read_cofw", "read_lapa",
    "read_csv_dataset", "read_landmark_csv", "write_landmark_csv", "read_coco",
]
