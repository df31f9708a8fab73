"""A vectorised z-buffer triangle rasteriser in numpy, for the CPU renderer's warp maps.

For each pixel it finds the nearest covering triangle and the pixel's barycentric
coordinates in it. Triangles are processed in batches by bounding-box size, so the work is a
handful of array operations rather than a Python loop per triangle: a 10k-triangle face at
256 px takes a few milliseconds. (OpenGL would be faster but needs a GPU or a display; this
runs anywhere numpy does.) Pixel centres are at integer coordinates, as in ``cv2.remap``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Raster:
    """Per-pixel coverage: ``triangle`` (H, W) int (-1 = empty), ``bary`` (H, W, 3), ``depth``."""

    triangle: np.ndarray
    bary: np.ndarray
    depth: np.ndarray

    @property
    def covered(self) -> np.ndarray:
        return self.triangle >= 0

    def interpolate(self, values: np.ndarray, triangles: np.ndarray) -> np.ndarray:
        """Per-vertex ``values`` (V, C) interpolated at covered pixels -> (H, W, C) (0 elsewhere)."""
        out = np.zeros(self.triangle.shape + (values.shape[1],), values.dtype)
        ys, xs = np.nonzero(self.covered)
        corners = values[triangles[self.triangle[ys, xs]]]  # (N, 3, C)
        out[ys, xs] = np.einsum("nk,nkc->nc", self.bary[ys, xs], corners)
        return out


def rasterize(xy: np.ndarray, depth: np.ndarray, triangles: np.ndarray, width: int, height: int) -> Raster:
    """Rasterise ``triangles`` (F, 3) with image positions ``xy`` (V, 2) and ``depth`` (V,)
    (larger = nearer the viewer). Back faces (clockwise in the image) are culled."""
    tri_xy = xy[triangles]  # (F, 3, 2)
    a, b, c = tri_xy[:, 0], tri_xy[:, 1], tri_xy[:, 2]
    area = (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])
    lo = np.floor(tri_xy.min(1)).astype(np.int64) + 1  # first pixel centre inside the box
    hi = np.floor(tri_xy.max(1)).astype(np.int64)
    lo = np.maximum(lo, 0)
    hi = np.minimum(hi, [width - 1, height - 1])
    # Image y grows downward, so a front face (counter-clockwise on the mesh) has negative area here.
    keep = (area < -1e-12) & (hi >= lo).all(1)
    ids = np.nonzero(keep)[0]
    extent = (hi - lo + 1)[ids].max(1) if len(ids) else np.zeros(0, np.int64)
    hits = []
    for size in np.unique(np.minimum(2 ** np.ceil(np.log2(np.maximum(extent, 1))), 1 << 30).astype(np.int64)):
        batch = ids[(extent <= size) & (extent > size // 2)] if size > 1 else ids[extent <= 1]
        if len(batch):
            hits.append(_cover(batch, int(size), lo, hi, tri_xy, area, depth[triangles], width))
    triangle = np.full((height, width), -1, np.int64)
    bary = np.zeros((height, width, 3), np.float64)
    zbuf = np.full((height, width), -np.inf)
    if hits:
        pix, tri, w, z = (np.concatenate(parts) for parts in zip(*hits))
        order = np.lexsort((-z, pix))  # per pixel, nearest first
        pix, tri, w, z = pix[order], tri[order], w[order], z[order]
        first = np.ones(len(pix), bool)
        first[1:] = pix[1:] != pix[:-1]
        pix, tri, w, z = pix[first], tri[first], w[first], z[first]
        triangle.ravel()[pix] = tri
        bary.reshape(-1, 3)[pix] = w
        zbuf.ravel()[pix] = z
    return Raster(triangle, bary, zbuf)


def _cover(batch, size, lo, hi, tri_xy, area, tri_depth, width):
    """Pixels inside each triangle of ``batch`` (boxes at most ``size`` wide), with barycentrics."""
    oy, ox = np.mgrid[0:size, 0:size]
    px = lo[batch, 0][:, None] + ox.ravel()[None]  # (B, size*size)
    py = lo[batch, 1][:, None] + oy.ravel()[None]
    valid = (px <= hi[batch, 0][:, None]) & (py <= hi[batch, 1][:, None])
    a, b, c = (tri_xy[batch, k][:, None, :] for k in range(3))
    inv = 1.0 / area[batch][:, None]
    w0 = ((b[..., 0] - px) * (c[..., 1] - py) - (b[..., 1] - py) * (c[..., 0] - px)) * inv
    w1 = ((c[..., 0] - px) * (a[..., 1] - py) - (c[..., 1] - py) * (a[..., 0] - px)) * inv
    w2 = 1.0 - w0 - w1
    eps = -1e-9
    inside = valid & (w0 >= eps) & (w1 >= eps) & (w2 >= eps)
    rows, cols = np.nonzero(inside)
    weights = np.stack([w0[rows, cols], w1[rows, cols], w2[rows, cols]], -1)
    z = np.einsum("nk,nk->n", weights, tri_depth[batch][rows])
    return py[rows, cols] * width + px[rows, cols], batch[rows], weights, z
