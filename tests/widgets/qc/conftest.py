"""Shared set-up of the QC tab tests: small synthetic runs, the tab, ROI layers, a press of Run."""

from __future__ import annotations

import numpy as np
import pytest
from qtpy.QtCore import Qt

from napari_milna._napari.layers import source_of
from napari_milna._napari.roi_layers import add_roi_layer
from napari_milna.widgets.panel.panel import open_panel
from napari_milna.widgets.qc.dock import QCDock
from napari_milna.widgets.qc.inputs import is_qc_layer
from tests.synth.qc import CSF_BOX, DROPOUT_BOX, PAG_BOX, SHAPE, brain, make_run, save

RUN_NAME = "sub-01_task-pain_desc-preproc_bold"


@pytest.fixture
def synth(tmp_path):
    """A 40-volume run (pulsating CSF and PAG boxes), brain mask, CSF probability, ROI dseg."""
    x = make_run(40, pulsation=40.0)
    csf = np.zeros(SHAPE, np.float32)
    csf[CSF_BOX] = 1.0
    csf[PAG_BOX] = 0.2
    labels = np.zeros(SHAPE, np.uint8)
    labels[PAG_BOX] = 1
    labels[DROPOUT_BOX] = 2
    dseg = save(tmp_path / "sub-01_desc-rois_dseg.nii.gz", labels)
    (tmp_path / "sub-01_desc-rois_dseg.tsv").write_text("index\tname\n1\tPAG\n2\tRVM\n")
    return {
        "x": x.astype(np.float64),
        "bold": save(tmp_path / f"{RUN_NAME}.nii.gz", x),
        "mask": save(tmp_path / "sub-01_desc-brain_mask.nii.gz", brain().astype(np.uint8)),
        "csf": save(tmp_path / "sub-01_label-CSF_probseg.nii.gz", csf),
        "labels": labels,
        "dseg": dseg,
        "tmp": tmp_path,
    }


@pytest.fixture
def open_dock(make_napari_viewer):
    """``make(*paths, panel=False)``: a viewer with the QC tab (the dock, or the milna
    panel's QC tab) and the files opened as a user would."""

    def make(*paths, panel=False):
        viewer = make_napari_viewer()
        if panel:
            dock = open_panel(viewer, tab="QC").tab("QC")
        else:
            dock = QCDock(viewer)
            viewer.window.add_dock_widget(dock)
        for p in paths:
            viewer.open(str(p), plugin="napari-milna")
        return viewer, dock

    return make


def run_layer(viewer):
    """The first 4D run layer."""
    return next(lay for lay in viewer.layers if (s := source_of(lay)) and s.is_run)


def add_rois(viewer, labels, names, grid=None, grid_source=None):
    """An ROI labels layer as the ROI workbench makes it (on the run's grid by default)."""
    src = source_of(run_layer(viewer))
    return add_roi_layer(
        viewer, grid or src.grid, grid_source or src.source, "run", labels, names
    )


def press_run(dock, qtbot, timeout=20000) -> str:
    """Press Run QC and wait for the outcome (``done``, ``cancelled``, ``error``)."""
    with qtbot.waitSignal(dock.qc_finished, timeout=timeout) as blocker:
        qtbot.mouseClick(dock.run_button, Qt.MouseButton.LeftButton)
    return blocker.args[0]


def plain(label) -> str:
    """A label's text without the zero-width spaces that let long names wrap."""
    return label.text().replace("\u200b", "")


def qc_layers(viewer):
    """The QC tab's result layers."""
    return [lay for lay in viewer.layers if is_qc_layer(lay)]
