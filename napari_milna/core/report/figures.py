"""The report's figures as PNG bytes: lightboxes through each ROI, paired lines, FD traces.

The lightboxes are :func:`napari_milna.core.figures.lightbox_figure` (the viewer's "Save
lightbox" renderer): the map in the viewer's colour ramp from the SVC's cluster-forming
height, over the T1w underlay, the ROI's outline, every slice of the map's grid that
holds ROI voxels. The plots are small matplotlib figures drawn without a display.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass

import numpy as np

from ..figures import FigureScene, RoiOutline, StatOverlay, Underlay, lightbox_figure
from ..viewer.display_values import StatRamp, robust_range, stat_display_max

#: Resolution of the report's images (dots per inch).
REPORT_DPI = 110
#: Field of a lightbox panel around the ROI (mm).
LIGHTBOX_FIELD_MM = 40.0
#: Most slices in one lightbox.
MAX_SLICES = 12
#: Paired-lines colours: drug above placebo warm, below cool (the stat ramps' ends).
UP, DOWN, MEAN = "#d9480f", "#1c7ed6", "#212529"


def png_bytes(figure, dpi: float = REPORT_DPI) -> bytes:
    """A matplotlib figure as PNG bytes."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, facecolor=figure.get_facecolor(),
                   metadata={"Software": "napari-milna"})
    return buffer.getvalue()


def data_uri(png: bytes) -> str:
    """``data:image/png;base64,...`` of PNG bytes (an image inside the HTML page)."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


@dataclass(frozen=True)
class UnderlayImage:
    """The anatomical underlay read once for every lightbox."""

    underlay: Underlay

    @classmethod
    def read(cls, path) -> UnderlayImage:
        """The T1w image at ``path`` with its grey limits (robust range, computed once)."""
        from ..io.nifti import load_volume

        source = load_volume(path)
        data = np.asarray(source.volume(), dtype=np.float32)
        return cls(Underlay(data, source.grid, robust_range(data), source.name))


def roi_slices(roi_mask: np.ndarray, grid) -> tuple[np.ndarray, np.ndarray]:
    """Axial slice centres (z mm) through the ROI and one beyond each end, and its centroid.

    The slices are the map grid's (one per voxel layer along z) from one below the ROI's
    lowest to one above its highest, when the grid has them.
    """
    from ..figures import slice_positions

    ijk = np.argwhere(roi_mask)
    world = grid.to_world(ijk)
    every = slice_positions(grid, "axial")
    low = np.searchsorted(every, world[:, 2].min() - 1e-6)
    high = np.searchsorted(every, world[:, 2].max() + 1e-6)
    z = every[max(low - 1, 0):min(high + 1, every.size)]
    if z.size > MAX_SLICES:
        keep = np.linspace(0, z.size - 1, MAX_SLICES).round().astype(int)
        z = z[np.unique(keep)]
    return z, world.mean(axis=0)


def svc_lightbox(entry, underlay: UnderlayImage | None) -> bytes:
    """PNG of the axial slices through an SVC's ROI, the map thresholded at its height.

    Parameters
    ----------
    entry : SvcEntry
    underlay : UnderlayImage or None

    Returns
    -------
    bytes
    """
    result = entry.result
    stat_type = result.stat_type
    two_sided = stat_type in ("T", "Z")
    stat = np.where(np.isfinite(entry.stat), entry.stat, np.nan)
    ramp = StatRamp(float(result.height_threshold),
                    max(stat_display_max(stat), float(result.height_threshold) * 1.01), two_sided)
    positions, centre = roi_slices(entry.roi_mask, entry.grid)
    scene = FigureScene(
        underlay=underlay.underlay if underlay is not None else None,
        stat=StatOverlay(stat, entry.grid, ramp, stat_type, result.df, entry.contrast.name),
        roi=RoiOutline(entry.roi_mask.astype(np.uint8), entry.grid, names={1: entry.roi.name}),
        cursor_mm=tuple(result.peak.xyz_mm),
    )
    height = (f"{stat_type} > {result.height_threshold:.2f} (p < {result.height_p:g})"
              if result.height_p is not None else f"{stat_type} > {result.height_threshold:.2f}")
    figure = lightbox_figure(
        scene, "axial", positions=positions, center_mm=centre, size_mm=LIGHTBOX_FIELD_MM,
        ncols=min(positions.size, 6), panel_width_in=1.45, dpi=REPORT_DPI,
        title=f"{entry.roi.name}: {height}",
    )
    return png_bytes(figure)


def paired_lines(stats, label: str) -> bytes:
    """PNG of one ROI's placebo -> drug values per subject, with the means' 95 % CIs.

    Parameters
    ----------
    stats : RoiStats
    label : str
        What the values are (the crossover contrast).
    """
    from matplotlib.figure import Figure

    placebo = np.asarray(stats.placebo, dtype=float)
    drug = np.asarray(stats.drug, dtype=float)
    fig = Figure(figsize=(3.0, 2.8), dpi=REPORT_DPI, facecolor="white")
    ax = fig.add_subplot(111)
    for p, d in zip(placebo, drug):
        ax.plot([0, 1], [p, d], color=UP if d > p else DOWN, lw=0.9, alpha=0.75,
                marker="o", ms=2.5)
    for x, which in ((0, "placebo"), (1, "drug")):
        mean, (lo, hi) = stats.mean_ci(which)
        ax.errorbar([x + (0.08 if x else -0.08)], [mean], yerr=[[mean - lo], [hi - mean]],
                    color=MEAN, marker="s", ms=4, capsize=3, lw=1.2)
    ax.set_xticks([0, 1], ["placebo", "drug"])
    ax.set_xlim(-0.3, 1.3)
    ax.set_ylabel(label, fontsize=8)
    ax.tick_params(labelsize=8)
    ax.axhline(0, color="#adb5bd", lw=0.6, zorder=0)
    ax.set_title(f"{stats.name}: t({stats.df}) = {stats.t:.2f}, dz = {stats.dz:.2f}",
                 fontsize=8)
    fig.tight_layout()
    return png_bytes(fig)


def fd_trace(motion) -> bytes:
    """PNG of framewise displacement per volume, the threshold and the scrubbed volumes.

    Parameters
    ----------
    motion : MotionResult
    """
    from matplotlib.figure import Figure

    fd = np.asarray(motion.fd, dtype=float)
    fig = Figure(figsize=(6.4, 1.7), dpi=REPORT_DPI, facecolor="white")
    ax = fig.add_subplot(111)
    volumes = np.arange(fd.size)
    ax.plot(volumes, fd, color="#343a40", lw=0.9)
    ax.axhline(motion.threshold, color=UP, lw=0.8, ls="--")
    scrubbed = np.flatnonzero(motion.scrub)
    ax.plot(scrubbed, fd[scrubbed], "o", color=UP, ms=3.5)
    ax.set_xlim(0, max(fd.size - 1, 1))
    ax.set_xlabel("volume", fontsize=8)
    ax.set_ylabel("FD (mm)", fontsize=8)
    ax.tick_params(labelsize=7)
    fig.tight_layout()
    return png_bytes(fig)


__all__ = [
    "REPORT_DPI",
    "UnderlayImage",
    "data_uri",
    "fd_trace",
    "paired_lines",
    "png_bytes",
    "roi_slices",
    "svc_lightbox",
]
