"""The study session: what the user has loaded and chosen in one viewer.

One :class:`StudySession` belongs to each napari viewer (get it with
:meth:`StudySession.of`). Every tab of the milna panel reads its choices from the
session and writes them back: the statistical map under test (with its df and
smoothness), the ROI layer and label, the run, the brain / CSF / analysis masks and
the cursor in world mm. No tab keeps its own copy of "which map" or "which ROI".
Changes are announced through psygnal signals; the session holds no Qt objects.

The cursor is the one source of truth for every read-out: the cursor panel, the
crosshair, the time series and the status bar all show :attr:`cursor_mm`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from napari.layers import Image, Labels
from psygnal import Signal

from ..core.io.kinds import ImageKind
from .layers import source_of
from .per_viewer import OnePerViewer, unwrap_viewer
from .viewer_state import ViewerState

#: Mask roles a session knows.
MASK_ROLES = ("brain", "csf", "analysis")


@dataclass(frozen=True)
class Smoothness:
    """The smoothness a statistical map is tested with.

    Attributes
    ----------
    fwhm_mm : tuple of float
        FWHM along x, y, z in mm.
    source : str
        Where it came from, in words (``"typed"``, ``"SPM.mat xVol.FWHM"``,
        ``"FEAT stats/smoothness"``, ``"residuals"``).
    """

    fwhm_mm: tuple[float, float, float]
    source: str

    def describe(self) -> str:
        """``"FWHM 6 x 6 x 6 mm (typed)"``."""
        return "FWHM " + " x ".join(f"{v:g}" for v in self.fwhm_mm) + f" mm ({self.source})"


@dataclass(frozen=True)
class OpenAnalysis:
    """An analysis folder opened as one unit (SPM, FEAT, randomise, BIDS statistics).

    Attributes
    ----------
    analysis : napari_milna.core.analysis.Analysis
        The folder as the core read it.
    maps : dict
        Resolved path of a statistic map shown as a layer -> its
        :class:`~napari_milna.core.analysis.FolderStatMap` (df, smoothness, mask, RPV).
    found, missing : list of str
        What the folder gave and what it lacked, in words (the notification).
    """

    analysis: object
    maps: dict = field(default_factory=dict)
    found: list = field(default_factory=list)
    missing: list = field(default_factory=list)

    @property
    def folder(self) -> Path:
        """The analysis folder."""
        return Path(self.analysis.folder)


def _map_key(path) -> str:
    return str(Path(path).resolve())


def _is_result(layer) -> bool:
    src = source_of(layer)
    return src is not None and src.result_of is not None


def stat_map_layers(viewer) -> list:
    """Statistical maps of the viewer (napari-milna layers of kind STAT, not results)."""
    return [
        lay for lay in viewer.layers
        if isinstance(lay, Image) and (s := source_of(lay)) is not None
        and s.info.kind == ImageKind.STAT and not s.is_run
    ]


def _is_atlas(layer) -> bool:
    src = source_of(layer)
    return src is not None and src.atlas is not None


def atlas_layers(viewer) -> list:
    """Atlas layers (label or probabilistic atlases opened with their names)."""
    return [lay for lay in viewer.layers if _is_atlas(lay)]


def roi_layers(viewer) -> list:
    """Labels layers on a known grid that can hold ROIs (drawn ROIs, label images, masks)."""
    return [
        lay for lay in viewer.layers
        if isinstance(lay, Labels) and source_of(lay) is not None and not _is_result(lay)
        and not _is_atlas(lay)
    ]


def run_layers(viewer) -> list:
    """4D runs read from files."""
    return [
        lay for lay in viewer.layers
        if isinstance(lay, Image) and (s := source_of(lay)) is not None and s.is_run
    ]


def mask_layers(viewer) -> list:
    """3D masks and label images (files or drawn), not the tabs' own results."""
    return [
        lay for lay in viewer.layers
        if (s := source_of(lay)) is not None and not s.is_run and not _is_result(lay)
        and (isinstance(lay, Labels) or s.info.kind == ImageKind.MASK) and s.atlas is None
    ]


def csf_layers(viewer) -> list:
    """CSF probability maps (and masks, which also serve as CSF)."""
    return [
        lay for lay in viewer.layers
        if (s := source_of(lay)) is not None and not s.is_run and not _is_result(lay)
        and s.info.kind in (ImageKind.CSF, ImageKind.PROBABILITY)
    ]


class StudySession(OnePerViewer):
    """What the user has loaded and chosen in one viewer. Get it with :meth:`of`.

    Attributes
    ----------
    stat_map : napari layer or None
        The statistical map under test (its df live in its ``LayerSource.df``).
    smoothness : Smoothness or None
        The smoothness the map is tested with.
    roi_layer : napari Labels layer or None
        The layer holding the current ROI.
    roi_label : int
        The current ROI's label value in ``roi_layer`` (0: none).
    run : napari layer or None
        The 4D run of QC, time series and preprocessing.
    masks : dict
        Role (``"brain"``, ``"csf"``, ``"analysis"``) -> layer.
    cursor_mm : ndarray, shape (3,)
        The cursor in world mm: the one position every read-out shows.
    atlas : napari Labels layer or None
        The atlas layer whose labels the read-out and the tables name
        (:meth:`atlas_object` gives its :class:`~napari_milna.core.atlas.Atlas`).
    """

    #: The statistical map changed (the new layer or None).
    stat_map_changed = Signal(object)
    #: The smoothness changed (a :class:`Smoothness` or None).
    smoothness_changed = Signal(object)
    #: The current ROI changed: ``(layer or None, label)``.
    roi_changed = Signal(object, int)
    #: The run changed (the new layer or None).
    run_changed = Signal(object)
    #: A mask changed: ``(role, layer or None)``.
    mask_changed = Signal(str, object)
    #: The cursor moved: world mm (ndarray of 3).
    cursor_changed = Signal(object)
    #: Layers were added, removed or renamed (candidate lists need a refresh).
    layers_changed = Signal()
    #: A tab says something about the session: ``(level, text)`` for the status strip.
    message = Signal(str, str)
    #: An analysis folder was opened (an :class:`OpenAnalysis`).
    analysis_changed = Signal(object)
    #: The atlas changed (the atlas layer or None).
    atlas_changed = Signal(object)

    def __init__(self, viewer):
        super().__init__(viewer)
        self.stat_map = None
        self.smoothness: Smoothness | None = None
        self.roi_layer = None
        self.roi_label = 0
        self.run = None
        self.masks: dict[str, object] = dict.fromkeys(MASK_ROLES)
        self.cursor_mm = np.zeros(3)
        #: The analysis folder opened last (an :class:`OpenAnalysis`), or None.
        self.analysis: OpenAnalysis | None = None
        self._folder_maps: dict[str, object] = {}
        self.atlas = None
        viewer.layers.events.inserted.connect(self._on_inserted)
        viewer.layers.events.removed.connect(self._on_removed)
        for layer in viewer.layers:
            layer.events.name.connect(self._on_renamed)

    # ------------------------------------------------------------------ access
    def _attached(self) -> None:
        ViewerState.of(self.viewer)  # links the dims point to the cursor

    # ------------------------------------------------------------------ candidates
    def stat_maps(self) -> list:
        """Layers that can be the statistical map."""
        return stat_map_layers(self.viewer)

    def roi_layers(self) -> list:
        """Layers that can hold the ROI."""
        return roi_layers(self.viewer)

    def runs(self) -> list:
        """Layers that can be the run."""
        return run_layers(self.viewer)

    def mask_candidates(self, role: str) -> list:
        """Layers that can take the mask ``role``."""
        if role == "csf":
            return csf_layers(self.viewer) + mask_layers(self.viewer)
        return mask_layers(self.viewer)

    # ------------------------------------------------------------------ choices
    def _set_layer(self, attr: str, layer, changed) -> None:
        """Make ``layer`` (None: none) the ``attr`` choice; ``changed`` announces a change."""
        layer = unwrap_viewer(layer) if layer is not None else None
        if layer is not getattr(self, attr):
            setattr(self, attr, layer)
            changed.emit(layer)

    def set_stat_map(self, layer) -> None:
        """Choose the statistical map (None: none)."""
        self._set_layer("stat_map", layer, self.stat_map_changed)

    def set_smoothness(self, smoothness: Smoothness | None) -> None:
        """Choose the smoothness the map is tested with."""
        if smoothness == self.smoothness:
            return
        self.smoothness = smoothness
        self.smoothness_changed.emit(smoothness)

    def set_roi(self, layer, label: int | None = None) -> None:
        """Choose the ROI: ``label`` in ``layer`` (None keeps the label, or takes the first)."""
        layer = unwrap_viewer(layer) if layer is not None else None
        if label is None:
            label = self.roi_label if layer is self.roi_layer else _first_label(layer)
        label = int(label)
        if layer is self.roi_layer and label == self.roi_label:
            return
        self.roi_layer, self.roi_label = layer, label
        self.roi_changed.emit(layer, label)

    def set_run(self, layer) -> None:
        """Choose the run (None: none)."""
        self._set_layer("run", layer, self.run_changed)

    def set_mask(self, role: str, layer) -> None:
        """Choose the ``role`` mask (``"brain"``, ``"csf"`` or ``"analysis"``; None: none)."""
        if role not in MASK_ROLES:
            raise ValueError(f"unknown mask role {role!r}; expected one of {MASK_ROLES}")
        layer = unwrap_viewer(layer) if layer is not None else None
        if self.masks.get(role) is layer:
            return
        self.masks[role] = layer
        self.mask_changed.emit(role, layer)

    def set_cursor(self, world_mm) -> None:
        """Move the cursor to ``world_mm`` (the viewer follows through its state)."""
        xyz = np.asarray(world_mm, dtype=float)[-3:]
        if np.allclose(xyz, self.cursor_mm, atol=1e-9):
            return
        self.cursor_mm = xyz.copy()
        self.cursor_changed.emit(self.cursor_mm.copy())

    def atlases(self) -> list:
        """Layers that can be the atlas."""
        return atlas_layers(self.viewer)

    def set_atlas(self, layer) -> None:
        """Choose the atlas layer whose labels the read-out names (None: none)."""
        self._set_layer("atlas", layer, self.atlas_changed)

    def atlas_object(self):
        """The :class:`~napari_milna.core.atlas.Atlas` of the atlas layer, or None."""
        src = source_of(self.atlas) if self.atlas is not None else None
        return src.atlas if src is not None else None

    def set_analysis(self, opened: OpenAnalysis) -> None:
        """An analysis folder was opened: its maps' df, smoothness and masks become known."""
        for key, folder_map in opened.maps.items():
            self._folder_maps[_map_key(key)] = folder_map
        self.analysis = opened
        self.analysis_changed.emit(opened)

    def folder_map(self, layer):
        """What the analysis folder of a statistic layer says about it, or None.

        Maps opened with their folder are known; for a map opened as a single file, the
        folder it lies in (SPM.mat, FEAT stats/, BIDS sidecars) is read once and kept.

        Returns
        -------
        napari_milna.core.analysis.FolderStatMap or None

        Raises
        ------
        MilnaInputError
            The folder looks like an analysis but cannot be read (one sentence).
        """
        src = source_of(layer) if layer is not None else None
        if src is None or src.source is None or src.is_run:
            return None
        key = _map_key(src.source.path)
        if key not in self._folder_maps:
            if not Path(key).is_file():
                return None
            from ..core.analysis import folder_stat_map
            from ..core.errors import MilnaInputError

            try:
                self._folder_maps[key] = folder_stat_map(key)
            except MilnaInputError as exc:
                self._folder_maps[key] = exc  # read once: the same sentence next time
        found = self._folder_maps[key]
        if isinstance(found, Exception):
            raise found
        return found

    def describe(self) -> str:
        """One line: map, ROI and masks in use."""
        parts = [f"map: {self.stat_map.name if self.stat_map is not None else 'none'}"]
        if self.roi_layer is not None and self.roi_label:
            name = roi_name(self.roi_layer, self.roi_label)
            parts.append(f"ROI: {name} ({self.roi_layer.name})")
        else:
            parts.append("ROI: none")
        for role in MASK_ROLES:
            if self.masks.get(role) is not None:
                parts.append(f"{role} mask: {self.masks[role].name}")
        return "; ".join(parts)

    # ------------------------------------------------------------------ layer events
    def _on_inserted(self, event) -> None:
        layer = event.value
        layer.events.name.connect(self._on_renamed)
        src = source_of(layer)
        if src is not None and src.session_role is not None:
            role, src.session_role = src.session_role, None
            self.take_as(role, layer)
        elif src is not None and src.result_of is None:
            if self.stat_map is None and layer in stat_map_layers(self.viewer):
                self.set_stat_map(layer)
            elif self.run is None and src.is_run:
                self.set_run(layer)
            elif self.atlas is None and src.atlas is not None:
                self.set_atlas(layer)
        self.layers_changed.emit()

    def take_as(self, role: str, layer) -> None:
        """Choose ``layer`` for ``role``: ``"stat_map"``, ``"run"``, ``"atlas"`` or a mask role."""
        if role == "stat_map":
            self.set_stat_map(layer)
        elif role == "run":
            self.set_run(layer)
        elif role == "atlas":
            self.set_atlas(layer)
        else:
            self.set_mask(role, layer)

    def _on_renamed(self, event=None) -> None:
        self.layers_changed.emit()

    def _on_removed(self, event) -> None:
        layer = event.value
        layer.events.name.disconnect(self._on_renamed)
        if layer is self.stat_map:
            self.set_stat_map(None)
        if layer is self.roi_layer:
            self.set_roi(None, 0)
        if layer is self.run:
            self.set_run(None)
        if layer is self.atlas:
            self.set_atlas(None)
        for role, mask in self.masks.items():
            if mask is layer:
                self.set_mask(role, None)
        self.layers_changed.emit()


def roi_name(layer, label: int) -> str:
    """The name of ``label`` in an ROI layer (``"label 3"`` without one)."""
    src = source_of(layer)
    names = src.roi.names if src is not None and src.roi is not None else {}
    return names.get(int(label), f"label {int(label)}")


def _first_label(layer) -> int:
    if layer is None:
        return 0
    src = source_of(layer)
    if src is not None and src.roi is not None and src.roi.names:
        return int(min(src.roi.names))
    data = np.asarray(layer.data)
    values = np.unique(data[data > 0]) if data.size else []
    return int(values[0]) if len(values) else 0


__all__ = [
    "MASK_ROLES",
    "OpenAnalysis",
    "Smoothness",
    "StudySession",
    "atlas_layers",
    "csf_layers",
    "mask_layers",
    "roi_layers",
    "roi_name",
    "run_layers",
    "stat_map_layers",
]
