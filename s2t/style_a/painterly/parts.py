"""Per-part colour: when the art picture holds a face, the photo's skin, lips, eyes, hair and
background each take the colours of the same part of the art face (as DualStyleGAN's colour
path does), instead of one global colour mapping.

Parts come from the 68 iBUG landmarks of both pictures (dlib, :mod:`s2t.face.detect`): polygons
for the lips and eyes, the face outline for the skin, a band above the brows for the hair and
everything well outside the head for the background. Each part's colour is moved by a Lab
mean-and-spread transfer from the photo's part to the art's, blended through soft (blurred)
masks so that no seam shows; pixels in no part keep the global transfer.
"""

from __future__ import annotations

import cv2
import numpy as np

PARTS = ("skin", "lips", "eyes", "hair", "background")


def part_masks(landmarks: np.ndarray, shape: tuple[int, int]) -> dict[str, np.ndarray]:
    """Soft masks in [0, 1] of ``shape`` (H, W) for each of :data:`PARTS`, from 68 landmarks (x, y)."""
    height, width = shape
    points = np.asarray(landmarks, np.float64)
    face_width = float(np.ptp(points[:, 0]))
    scale = max(face_width, 1.0)

    def polygon(indices, grow: float = 0.0) -> np.ndarray:
        mask = np.zeros(shape, np.uint8)
        cv2.fillPoly(mask, [np.round(points[list(indices)]).astype(np.int32)], 1)
        if grow > 0:
            size = max(1, int(round(grow * scale)))
            mask = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * size + 1, 2 * size + 1)))
        return mask.astype(np.float32)

    lips = np.clip(polygon(range(48, 60)) - polygon(range(60, 68)), 0, 1)
    eyes = np.maximum(polygon(range(36, 42), 0.02), polygon(range(42, 48), 0.02))
    brows_up = points[17:27].copy()
    brows_up[:, 1] -= 0.12 * scale  # the forehead above the brows is skin too
    outline = np.zeros(shape, np.uint8)
    cv2.fillPoly(outline, [np.round(np.concatenate([points[0:17], brows_up[::-1]])).astype(np.int32)], 1)
    skin = np.clip(outline.astype(np.float32) - lips - eyes - polygon(range(17, 27), 0.01), 0, 1)
    centre = points[:, 0].mean(), points[17:27, 1].min()
    head = np.zeros(shape, np.uint8)  # skull and hair: an ellipse over the face, wider and taller
    cv2.ellipse(head, (int(centre[0]), int(centre[1])), (int(0.75 * scale), int(0.75 * scale)), 0, 180, 360, 1, -1)
    hair = np.clip(head.astype(np.float32) - outline, 0, 1)
    hair[int(centre[1]):] = 0
    body = np.zeros(shape, np.uint8)
    cv2.ellipse(body, (int(points[:, 0].mean()), int(points[:, 1].mean())), (int(1.1 * scale), int(1.5 * scale)),
                0, 0, 360, 1, -1)
    background = 1.0 - body.astype(np.float32)
    soft = max(0.5, 0.006 * scale)  # small parts: sharp enough to stay apart
    masks = {name: cv2.GaussianBlur(mask, (0, 0), soft) for name, mask in zip(PARTS[:3], (skin, lips, eyes))}
    # hair and background meet the rest far from anything the eye checks: fade them wide
    masks["hair"] = cv2.GaussianBlur(hair, (0, 0), max(1.0, 0.05 * scale))
    masks["background"] = cv2.GaussianBlur(background, (0, 0), max(1.0, 0.25 * scale))
    return masks


def _lab(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb.astype(np.float32) / 255, cv2.COLOR_RGB2LAB)


def part_colours(rgb: np.ndarray, masks: dict[str, np.ndarray]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per part with enough pixels: the Lab mean and standard deviation, weighted by the mask."""
    lab = _lab(rgb).reshape(-1, 3)
    out = {}
    for name, mask in masks.items():
        weight = mask.reshape(-1)
        total = float(weight.sum())
        if total < 20:
            continue
        mean = (lab * weight[:, None]).sum(0) / total
        std = np.sqrt(((lab - mean) ** 2 * weight[:, None]).sum(0) / total) + 1e-3
        out[name] = (mean, std)
    return out


def recolour_parts(photo: np.ndarray, photo_landmarks: np.ndarray, art: np.ndarray, art_landmarks: np.ndarray,
                   strength: float = 1.0) -> np.ndarray:
    """``photo`` (RGB uint8) with each part's colours moved to the art face's same part.

    The spread is matched only up to 1.5x (a flat cartoon part must not flatten the photo's
    shading entirely, nor a noisy one blow it up); ``strength`` blends toward the result."""
    photo_masks = part_masks(photo_landmarks, photo.shape[:2])
    source = part_colours(photo, photo_masks)
    target = part_colours(art, part_masks(art_landmarks, art.shape[:2]))
    lab = _lab(photo)
    moved, weight = np.zeros_like(lab), np.zeros(lab.shape[:2], np.float32)
    for name in PARTS:
        if name not in source or name not in target:
            continue
        (mean_s, std_s), (mean_t, std_t) = source[name], target[name]
        gain = np.clip(std_t / std_s, 1 / 1.5, 1.5)
        moved += photo_masks[name][..., None] * ((lab - mean_s) * gain + mean_t)
        weight += photo_masks[name]
    share = np.clip(weight, 0, 1)[..., None] * strength
    result = lab * (1 - share) + moved / np.maximum(weight, 1e-6)[..., None] * share
    rgb = np.clip(cv2.cvtColor(result.astype(np.float32), cv2.COLOR_LAB2RGB), 0, 1)
    return np.round(rgb * 255).astype(np.uint8)
