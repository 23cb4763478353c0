"""Save a matplotlib figure as PNG, SVG or PDF: atomically, never over a file unasked.

Text stays text: SVG keeps its ``<text>`` elements and PDF embeds TrueType fonts
(Type 42), so a journal's editor can still change a label.
"""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib

from ..errors import input_error
from ..io.atomic import atomic_target, check_writable

#: File suffix -> matplotlib format.
FIGURE_FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}
#: Resolution of PNG figures unless one is chosen (dots per inch).
DEFAULT_DPI = 300
_RC = {"svg.fonttype": "none", "pdf.fonttype": 42, "svg.hashsalt": "napari-milna"}


def figure_format(path: str | os.PathLike) -> str:
    """``"png"``, ``"svg"`` or ``"pdf"`` from the file's suffix (else one sentence)."""
    suffix = Path(path).suffix.lower()
    if suffix not in FIGURE_FORMATS:
        raise input_error(path, "is not a .png, .svg or .pdf file name")
    return FIGURE_FORMATS[suffix]


def save_figure(
    figure, path: str | os.PathLike, dpi: float | None = None, overwrite: bool = False
) -> Path:
    """Write ``figure`` to ``path`` (PNG, SVG or PDF by its suffix), atomically.

    Parameters
    ----------
    figure : matplotlib.figure.Figure
    path : str or path-like
        ``.png``, ``.svg`` or ``.pdf``.
    dpi : float, optional
        Resolution of a PNG (default :data:`DEFAULT_DPI`); also the resolution of
        the images embedded in an SVG or PDF.
    overwrite : bool
        Replace an existing file (otherwise it is refused in one sentence).

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    MilnaInputError
        Unknown suffix, an existing file without ``overwrite``, a missing folder.
    """
    path = Path(path)
    fmt = figure_format(path)
    check_writable(path, overwrite)
    metadata = {"png": {"Software": "napari-milna"}, "svg": {"Creator": "napari-milna"},
                "pdf": {"Creator": "napari-milna"}}[fmt]
    # exclusive creation unless overwriting: a file that appears meanwhile is never replaced
    with matplotlib.rc_context(_RC), atomic_target(path, overwrite=overwrite) as tmp:
        figure.savefig(
            tmp, format=fmt, dpi=dpi or DEFAULT_DPI, facecolor=figure.get_facecolor(),
            metadata=metadata,
        )
    return path
