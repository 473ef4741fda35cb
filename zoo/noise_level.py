"""Estimating the strength of Gaussian noise in a photo (for blind denoising).

A denoiser with a `noise_level` input needs the noise's sigma; when the user does
not give it, `estimate_sigma` measures it the classical way (Donoho & Johnstone's
wavelet estimator): the finest diagonal Haar detail of a photo is almost all noise,
and the median of its magnitude / 0.6745 is the noise's standard deviation, robust
to the few edges that leak in. numpy only.
"""

import numpy as np

MAD_TO_SIGMA = 0.6745  # median(|N(0, 1)|)
MID_TONES = (0.25, 0.75)  # block means counted (see estimate_sigma)
MIN_MID_SHARE = 0.25      # share of blocks needed to estimate from mid-tones alone


def estimate_sigma(image):
    """Gaussian noise sigma of `image` (H, W, C) float in [0, 1], in 8-bit units (0-255).

    The median over all channels' 2 x 2 blocks of |HH| / 0.6745, where HH is the
    orthonormal Haar diagonal detail. Only blocks whose mean lies in MID_TONES count
    while enough remain: noise is clipped to [0, 1] near black and white, which
    shrinks it there. (The block mean is the Haar LL part, independent of HH for
    Gaussian noise, so choosing blocks by it does not bias the estimate; choosing by
    the noisy values themselves would.) Needs at least 2 x 2 pixels.
    """
    image = np.asarray(image, np.float32)
    if image.ndim == 2:
        image = image[..., None]
    height, width = (image.shape[0] // 2) * 2, (image.shape[1] // 2) * 2
    if height == 0 or width == 0:
        raise ValueError(f"estimate_sigma needs at least 2 x 2 pixels, got {image.shape[:2]}")
    blocks = image[:height, :width]
    corners = (blocks[0::2, 0::2], blocks[0::2, 1::2], blocks[1::2, 0::2], blocks[1::2, 1::2])
    diagonal = np.abs(corners[0] - corners[1] - corners[2] + corners[3]) / 2.0
    mean = sum(corners) / 4.0
    mid = (mean > MID_TONES[0]) & (mean < MID_TONES[1])
    values = diagonal[mid] if mid.mean() >= MIN_MID_SHARE else diagonal.ravel()
    return float(np.median(values) / MAD_TO_SIGMA * 255.0)
