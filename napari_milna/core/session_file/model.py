"""What a saved session holds: layers and their display, the study's choices, the view.

A :class:`SessionFile` is plain data: no napari, no arrays. The napari glue
(:mod:`napari_milna._napari.saved_session`) fills one from a viewer and restores a viewer
from one; :mod:`.io` reads and writes it as JSON with paths relative to the session file.
Layers are kept bottom to top (napari's order).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

#: Where a layer comes from, and so how it is opened again.
ORIGINS = ("file", "analysis", "atlas", "roi")
#: Layer types a session restores.
LAYER_TYPES = ("image", "labels")
#: Planes of the view.
PLANES = ("axial", "coronal", "sagittal")
#: Mask roles of the study session.
MASK_ROLES = ("brain", "csf", "analysis")


@dataclass
class LayerDisplay:
    """How a layer is drawn.

    Attributes
    ----------
    colormap : str or None
        napari colormap name (``"gray"``, ``"cyan"`` ...); statistical maps are drawn
        from their :class:`StatDisplay` instead.
    colormap_points : dict or None
        A colormap of no registered name: ``{"controls": [...], "colors": [[r, g, b, a],
        ...]}`` (napari's ``Colormap``).
    contrast_limits : (float, float) or None
    opacity : float
    visible : bool
    blending : str
        napari blending (``"translucent"``, ``"additive"`` ...).
    interpolation : str or None
        2D interpolation of an image (``"nearest"``, ``"linear"``).
    contour : int or None
        Outline width of a labels layer (0: filled).
    """

    colormap: str | None = None
    colormap_points: dict | None = None
    contrast_limits: tuple[float, float] | None = None
    opacity: float = 1.0
    visible: bool = True
    blending: str = "translucent"
    interpolation: str | None = None
    contour: int | None = None

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return {
            "colormap": self.colormap,
            "colormap_points": self.colormap_points,
            "contrast_limits": (None if self.contrast_limits is None
                                else [float(v) for v in self.contrast_limits]),
            "opacity": float(self.opacity),
            "visible": bool(self.visible),
            "blending": self.blending,
            "interpolation": self.interpolation,
            "contour": None if self.contour is None else int(self.contour),
        }


@dataclass
class StatDisplay:
    """A statistical map's statistic and display threshold.

    Attributes
    ----------
    stat_type : str or None
        ``"T"``, ``"Z"``, ``"F"``.
    df : float or list of float or None
        Degrees of freedom in use (from the header, the folder or typed by the user).
    threshold : float
        Display threshold (voxels below it are transparent).
    threshold_unit : str
        The unit of ``threshold``: the map's own statistic (``"T"``, ``"Z"``, ``"F"``).
    vmax : float
        Top of the colour ramp.
    """

    stat_type: str | None
    df: float | list | None
    threshold: float
    threshold_unit: str
    vmax: float

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return {
            "stat_type": self.stat_type,
            "df": _df(self.df),
            "threshold": float(self.threshold),
            "threshold_unit": self.threshold_unit,
            "vmax": float(self.vmax),
        }


@dataclass
class LayerRecord:
    """One layer of a session.

    Attributes
    ----------
    name : str
        The layer's name (the session's choices refer to layers by name).
    layer_type : {"image", "labels"}
    origin : {"file", "analysis", "atlas", "roi"}
        ``file``: a NIfTI file; ``analysis``: a map or mask of the session's analysis
        folder (opened through the folder, so its df and a FEAT t-to-z conversion come
        back); ``atlas``: a built-in atlas (``atlas``) or an atlas file; ``roi``: ROIs
        written beside the session (a BIDS ``dseg`` with its ``.tsv`` of names).
    path : Path or None
        The file (absolute once read; None for a built-in atlas).
    display : LayerDisplay
    statistic : StatDisplay or None
        For statistical maps.
    atlas : str or None
        Name of a built-in atlas (``"harvard-oxford"`` ...).
    lut : Path or None
        Lookup table of an atlas file, when it does not sit beside it.
    reference : Path or None
        ROI layers: the image whose grid and header the ROIs were drawn on.
    roi_names : dict of int to str or None
        ROI layers: label value -> name.
    """

    name: str
    layer_type: str
    origin: str
    path: Path | None = None
    display: LayerDisplay = field(default_factory=LayerDisplay)
    statistic: StatDisplay | None = None
    atlas: str | None = None
    lut: Path | None = None
    reference: Path | None = None
    roi_names: dict | None = None

    def files(self) -> list[tuple[str, Path]]:
        """``(what, path)`` of every file this layer needs."""
        out = [("file", self.path)] if self.path is not None else []
        if self.lut is not None:
            out.append(("lookup table", self.lut))
        return out


@dataclass(frozen=True)
class SmoothnessRecord:
    """The smoothness the statistical map is tested with (FWHM along i, j, k in mm)."""

    fwhm_mm: tuple[float, float, float]
    source: str

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return {"fwhm_mm": [float(v) for v in self.fwhm_mm], "source": self.source}


@dataclass
class SessionChoices:
    """What the study session has chosen (layers by name).

    Attributes
    ----------
    stat_map, roi_layer, run, atlas : str or None
    roi_label : int
    masks : dict
        Role (``"brain"``, ``"csf"``, ``"analysis"``) -> layer name or None.
    df : float or list or None
        The statistical map's degrees of freedom in use.
    smoothness : SmoothnessRecord or None
    """

    stat_map: str | None = None
    roi_layer: str | None = None
    roi_label: int = 0
    run: str | None = None
    masks: dict = field(default_factory=lambda: dict.fromkeys(MASK_ROLES))
    atlas: str | None = None
    df: float | list | None = None
    smoothness: SmoothnessRecord | None = None

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return {
            "stat_map": self.stat_map,
            "roi_layer": self.roi_layer,
            "roi_label": int(self.roi_label),
            "run": self.run,
            "masks": {role: self.masks.get(role) for role in MASK_ROLES},
            "atlas": self.atlas,
            "df": _df(self.df),
            "smoothness": None if self.smoothness is None else self.smoothness.to_dict(),
        }


@dataclass
class ViewRecord:
    """The view: cursor, plane, convention and display space.

    Attributes
    ----------
    cursor_mm : (float, float, float)
        The cursor in world mm.
    plane : {"axial", "coronal", "sagittal"}
    radiological : bool
        Left on the right (False: neurological).
    display_space : str or None
        None: world mm; else the name of the layer whose voxel grid is shown.
    """

    cursor_mm: tuple[float, float, float] = (0.0, 0.0, 0.0)
    plane: str = "axial"
    radiological: bool = False
    display_space: str | None = None

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return {
            "cursor_mm": [float(v) for v in self.cursor_mm],
            "plane": self.plane,
            "radiological": bool(self.radiological),
            "display_space": self.display_space,
        }


@dataclass
class SessionFile:
    """A saved session: layers bottom to top, the study's choices, the view, the folder.

    Attributes
    ----------
    layers : list of LayerRecord
    choices : SessionChoices
    view : ViewRecord
    analysis_folder : Path or None
        The analysis folder open in the session (SPM, FEAT, randomise, BIDS).
    saved_with : str
        ``"napari-milna <version>"``.
    notes : list of str
        What the session did not keep, in words (a napari points layer, a result layer).
    path : Path or None
        The file it was read from or will be written to.
    """

    layers: list[LayerRecord] = field(default_factory=list)
    choices: SessionChoices = field(default_factory=SessionChoices)
    view: ViewRecord = field(default_factory=ViewRecord)
    analysis_folder: Path | None = None
    saved_with: str = ""
    notes: list[str] = field(default_factory=list)
    path: Path | None = None

    def layer(self, name: str | None) -> LayerRecord | None:
        """The record of the layer called ``name`` (None when there is none)."""
        return next((rec for rec in self.layers if rec.name == name), None) if name else None

    def missing(self) -> list[str]:
        """One sentence per file that no longer exists (the rest can still be opened)."""
        out = []
        for rec in self.layers:
            for what, path in rec.files():
                if not Path(path).exists():
                    out.append(f"{path}: does not exist any more, so the layer {rec.name!r} "
                               f"({what}) cannot be opened.")
        if self.analysis_folder is not None and not Path(self.analysis_folder).is_dir():
            out.append(f"{self.analysis_folder}: the analysis folder does not exist any more; "
                       "its maps open as single files.")
        return out

    def openable(self) -> list[LayerRecord]:
        """Layers whose files all exist."""
        return [rec for rec in self.layers if all(Path(p).exists() for _, p in rec.files())]


def _df(df):
    if df is None:
        return None
    if isinstance(df, (list, tuple)):
        return [float(v) for v in df]
    return float(df)


__all__ = [
    "LAYER_TYPES",
    "MASK_ROLES",
    "ORIGINS",
    "PLANES",
    "LayerDisplay",
    "LayerRecord",
    "SessionChoices",
    "SessionFile",
    "SmoothnessRecord",
    "StatDisplay",
    "ViewRecord",
]
