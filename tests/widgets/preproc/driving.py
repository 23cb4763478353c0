"""Driving the preprocessing tab as a user would: wait for its jobs, click its plots."""

from __future__ import annotations

import numpy as np
from qtpy.QtCore import QPoint, Qt

from napari_milna._napari.layers import source_of

WAIT_MS = 120_000


def wait_for(qtbot, panel):
    """Wait until the panel's job runner is idle."""
    qtbot.waitUntil(lambda: not panel.runner.running, timeout=WAIT_MS)


def wait_for_rebuild(qtbot, physio):
    """Wait until the RETROICOR panel has rebuilt its regressors after a change."""
    qtbot.waitUntil(lambda: not physio._rebuild.isActive() and not physio.runner.running,
                    timeout=WAIT_MS)


def click_plot(qtbot, plot, t):
    """A left click on the pulse plot at time ``t`` (middle of the y range)."""
    plot.centre_on(t)
    plot.canvas.draw()
    ax = plot.axes
    x, y = ax.transData.transform((t, np.mean(ax.get_ylim())))
    ratio = plot.canvas.device_pixel_ratio
    pos = QPoint(int(round(x / ratio)), int(round(plot.canvas.height() - y / ratio)))
    qtbot.mouseClick(plot.canvas, Qt.MouseButton.LeftButton, pos=pos)


def file_of(layer):
    """The file a layer was read from."""
    return source_of(layer).source.path


def errors(messages):
    """The texts of the error notifications."""
    return [text for level, text in messages if level == "error"]
