import numpy as np
import pytest
import torch

from facealign.data.augment import AugmentConfig
from facealign.data.crop import crop_matrix, invert_affine, transform_points, warp_crop
from facealign.data.dataset import CropDataset
from facealign.models.config import ModelConfig


@pytest.mark.parametrize("rot,flip,shift", [(0, False, (0, 0)), (17.5, True, (0.03, -0.02)), (-40, False, (0, 0.1))])
def test_round_trip_below_1e3_px(ytf_val, rot, flip, shift):
    for s in ytf_val.samples[:50]:
        m = crop_matrix(s.landmark_box(), 128, 1.25, rot, shift, flip)
        back = transform_points(transform_points(s.landmarks, m), invert_affine(m))
        assert np.abs(back - s.landmarks).max() < 1e-3


def test_box_centre_maps_to_crop_centre_and_scale():
    m = crop_matrix(np.array([10.0, 20.0, 110.0, 70.0]), 100, scale=1.25)
    np.testing.assert_allclose(transform_points(np.array([[60.0, 45.0]]), m), [[49.5, 49.5]])
    # side = 1.25 * 100 = 125 px -> 100 px
    np.testing.assert_allclose(np.linalg.det(m[:, :2]), (100 / 125) ** 2)


@pytest.mark.parametrize("img_size,box_side", [(200, 100), (700, 301), (900, 500), (2000, 1500)])
def test_warp_puts_content_where_points_map(img_size, box_side):
    """A bright blob at a known sub-pixel point lands where the matrix says, also through the
    anti-aliasing path for large down-scaling."""
    yy, xx = np.mgrid[0:img_size, 0:img_size]
    p = np.array([img_size * 0.43 + 0.3, img_size * 0.57 - 0.2])
    sigma = img_size / 60
    blob = np.exp(-((xx - p[0]) ** 2 + (yy - p[1]) ** 2) / (2 * sigma ** 2))
    img = np.repeat((blob * 255).astype(np.uint8)[:, :, None], 3, axis=2)
    c = (img_size - box_side) / 2
    m = crop_matrix(np.array([c, c, c + box_side, c + box_side]), 128, 1.25, 10.0)
    crop = warp_crop(img, m, 128)[..., 0].astype(float)
    ys, xs = np.mgrid[0:128, 0:128]
    w = crop * (crop > 30)
    centroid = np.array([(xs * w).sum(), (ys * w).sum()]) / w.sum()
    np.testing.assert_allclose(centroid, transform_points(p[None], m)[0], atol=0.1)


@pytest.mark.parametrize("box_side", [301, 517, 1500])
def test_large_shrink_averages_fine_detail(box_side):
    """A crop that shrinks the face 2.4x to 15x averages a 1-pixel checkerboard to flat grey
    (area averaging, not 4 sampled pixels) and shows a bright square where the matrix maps it."""
    size = 2 * box_side
    img = np.zeros((size, size, 3), np.uint8)
    img[(np.add.outer(np.arange(size), np.arange(size)) % 2 == 0)] = 200
    c = size // 4
    m = crop_matrix(np.array([c, c, c + box_side, c + box_side]), 128, 1.25)
    crop = warp_crop(img, m, 128)[..., 0].astype(float)
    inner = crop[10:-10, 10:-10]
    assert abs(inner.mean() - 100) < 2 and inner.std() < 3
    square = img.copy()
    x0, x1 = int(c + box_side * 0.4), int(c + box_side * 0.6)
    square[x0:x1, x0:x1] = 255
    diff = warp_crop(square, m, 128)[..., 0].astype(float) - crop
    ys, xs = np.mgrid[0:128, 0:128]
    w = np.clip(diff, 0, None)
    centroid = np.array([(xs * w).sum(), (ys * w).sum()]) / w.sum()
    np.testing.assert_allclose(centroid, transform_points(np.array([[(x0 + x1 - 1) / 2] * 2]), m)[0], atol=0.15)


def test_crop_handles_box_partly_outside(ytf_val):
    s = ytf_val[0]
    img = s.load_image()
    h, w = img.shape[:2]
    m = crop_matrix(np.array([-50.0, -50, w * 0.5, h * 0.5]), 64)
    crop = warp_crop(img, m, 64)
    assert crop.shape == (64, 64, 3) and crop[0, 0].sum() == 0 and crop[-5, -5].sum() > 0


def test_crop_rejects_degenerate_box():
    with pytest.raises(ValueError, match="zero, negative"):
        crop_matrix(np.array([5.0, 5, 5, 10]), 64)


def test_dataset_is_seeded_and_worker_independent(ytf_val):
    ds = CropDataset(ytf_val, ModelConfig(input_size=96), augment=AugmentConfig(), seed=3)
    a = [ds[i] for i in (0, 5, 9)]
    b = [ds[i] for i in (9, 5, 0)][::-1]
    for x, y in zip(a, b):
        assert torch.equal(x["image"], y["image"]) and torch.equal(x["landmarks"], y["landmarks"])
    ds.set_epoch(1)
    assert not torch.equal(ds[0]["image"], a[0]["image"])


def test_augmented_flip_keeps_labels_on_content(ytf_val):
    """With a flip, the crop is mirrored and labels permuted: subject-right eye corner (36) must
    still be left of subject-left (45) in the crop, and the pixel content near each landmark must
    be the mirror of the unflipped crop's."""
    cfg = AugmentConfig(scale=(1, 1), rotation=0, translate=0, flip=1.0, color=0, gamma=0, blur=0, noise=0,
                        grayscale=0, occlusion=0)
    flipped = CropDataset(ytf_val, ModelConfig(input_size=96), augment=cfg)
    plain = CropDataset(ytf_val, ModelConfig(input_size=96))
    for i in range(10):
        f, p = flipped[i], plain[i]
        assert f["landmarks"][36, 0] < f["landmarks"][45, 0]
        diff = np.abs(f["image"].numpy().astype(int) - p["image"].numpy()[:, :, ::-1].astype(int))
        assert diff.max() <= 1  # bilinear rounding only
        perm = list(ytf_val.scheme.flip_perm)
        expect = p["landmarks"].numpy()[perm]
        expect[:, 0] = 95 - expect[:, 0]
        np.testing.assert_allclose(f["landmarks"].numpy(), expect, atol=1e-4)


def test_flip_shift_moves_each_mirrored_label_along_the_mirrored_x(ytf_val):
    """flip_shift[j] moves mirrored label j (not its mirror partner) by that many landmark-box
    sizes along +x of the mirrored crop, and leaves unflipped crops alone."""
    plain_geometry = dict(scale=(1, 1), rotation=0, translate=0, color=0, gamma=0, blur=0, noise=0, grayscale=0,
                          occlusion=0)
    shift = np.linspace(0.0, 0.05, 68)  # a different value for every point, so a wrong index shows
    spec = ModelConfig(input_size=96)
    mirrored = CropDataset(ytf_val, spec, augment=AugmentConfig(flip=1.0, **plain_geometry))
    shifted = CropDataset(ytf_val, spec, augment=AugmentConfig(flip=1.0, flip_shift=tuple(shift), **plain_geometry))
    unflipped = CropDataset(ytf_val, spec, augment=AugmentConfig(flip=0.0, flip_shift=tuple(shift), **plain_geometry))
    for i in range(5):
        lm = ytf_val.samples[i].landmarks
        wh = lm.max(axis=0) - lm.min(axis=0)
        a, b = mirrored[i], shifted[i]
        zoom = abs(float(a["matrix"][0, 0]))  # crop pixels per image pixel
        moved = (b["landmarks"] - a["landmarks"]).numpy()
        np.testing.assert_allclose(moved[:, 0], shift * np.sqrt(wh[0] * wh[1]) * zoom, rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(moved[:, 1], 0, atol=1e-4)
        assert torch.equal(a["image"], b["image"])
        assert torch.equal(unflipped[i]["landmarks"], CropDataset(ytf_val, spec)[i]["landmarks"])


@pytest.mark.parametrize("bad", [(0.01,) * 67, (float("nan"),) * 68, (0.9,) * 68])
def test_flip_shift_that_does_not_fit_the_scheme_is_refused(ytf_val, bad):
    with pytest.raises(ValueError, match="flip_shift"):
        CropDataset(ytf_val, ModelConfig(input_size=96), augment=AugmentConfig(flip_shift=bad))


def test_dataset_item_layout_and_inverse(ytf_val):
    item = CropDataset(ytf_val, ModelConfig(input_size=128), augment=AugmentConfig(), seed=0)[4]
    assert item["image"].dtype == torch.uint8 and item["image"].shape == (3, 128, 128)
    assert item["landmarks"].shape == (68, 2) and item["matrix"].shape == (2, 3)
    m = item["matrix"].double().numpy()
    back = transform_points(item["landmarks"].double().numpy(), invert_affine(m))
    if not np.allclose(back, ytf_val[4].landmarks, atol=1e-2):
        # a flipped item has permuted labels
        back = back[list(ytf_val.scheme.flip_perm)]
    np.testing.assert_allclose(back, ytf_val[4].landmarks, atol=1e-2)


def test_dataset_box_dataset_requires_box(ytf_val):
    from facealign.errors import DataError

    with pytest.raises(DataError, match="no box"):
        CropDataset(ytf_val, ModelConfig(input_size=64), box="dataset")[0]


@pytest.mark.parametrize("fmt", ["BMP", "TIFF", "PNG"])
def test_image_size_limit_reads_every_header(tmp_path, fmt):
    """The pixel limit is read from the header (Pillow), for every format, before any decoding."""
    from PIL import Image

    from facealign.data.images import MAX_PIXELS, image_size, read_image
    from facealign.errors import ImageError

    p = tmp_path / f"small.{fmt.lower()}"
    Image.new("RGB", (40, 30)).save(p, format=fmt)
    assert image_size(np.fromfile(p, np.uint8)) == (40, 30)
    assert MAX_PIXELS < 20000 * 20000
    big = tmp_path / f"big.{fmt.lower()}"
    Image.new("1", (20000, 20000)).save(big, format=fmt)  # 1-bit: a small file that claims 400 Mpx
    with pytest.raises(ImageError, match="over the limit"):
        read_image(big)

