"""Orthogonal views: the first build, then showing / hiding them, on the sample study.

In a real napari viewer (1600 x 1000) with the milna panel and the sample study, this
times

* ``build``: the first "Orthogonal views" switch-on (napari-orthogonal-views builds two
  side viewers and copies every layer into them);
* ``show`` / ``hide``: switching them on and off afterwards (the views are kept and
  only shown or hidden);

each until Qt has processed the resulting events. The baseline is what the switch did
before (issue 10): the side plugin's own hide + show, which tears the side viewers down
and builds them again, timed in the same run. Target: a toggle after the first takes
< 0.5 s. Run under Xvfb::

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python benchmarks/bench_ortho_toggle.py
"""

from __future__ import annotations

import time

import numpy as np


def _settled(app) -> None:
    for _ in range(3):
        app.processEvents()


def main(repeats: int = 10, rebuilds: int = 3) -> None:
    import napari
    from qtpy.QtWidgets import QApplication

    from napari_milna.widgets.panel.panel import open_panel
    from napari_milna.widgets.viewer.ortho_views import OrthoViews

    app = QApplication.instance() or QApplication([])
    viewer = napari.Viewer(show=True)
    viewer.window._qt_window.resize(1600, 1000)
    panel = open_panel(viewer)
    viewer.open_sample("napari-milna", "sample_study")
    for _ in range(20):
        app.processEvents()
        time.sleep(0.02)
    box = panel.controls.ortho
    views = OrthoViews.of(viewer)

    start = time.perf_counter()
    box.setChecked(True)
    _settled(app)
    build = time.perf_counter() - start
    assert views.shown

    shows, hides = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        box.setChecked(False)
        _settled(app)
        hides.append(time.perf_counter() - start)
        start = time.perf_counter()
        box.setChecked(True)
        _settled(app)
        shows.append(time.perf_counter() - start)
    toggles = np.array(shows + hides)

    # baseline: the plugin's own hide + show (a rebuild), as every switch-on was before
    manager = views.manager
    views._restore()  # hand the plugin its splitters back
    rebuild = []
    for _ in range(rebuilds):
        manager.hide()
        _settled(app)
        start = time.perf_counter()
        manager.show()
        _settled(app)
        rebuild.append(time.perf_counter() - start)
    rebuild = np.array(rebuild)

    print(f"layers: {len(viewer.layers)} (sample study), window 1600 x 1000")
    print(f"first build            {build:8.3f} s")
    print(f"show (mean of {repeats})       {np.mean(shows):8.4f} s   max {np.max(shows):.4f} s")
    print(f"hide (mean of {repeats})       {np.mean(hides):8.4f} s   max {np.max(hides):.4f} s")
    print(f"toggle (mean)          {toggles.mean():8.4f} s   target < 0.5 s")
    print(f"baseline rebuild (mean of {rebuilds}) {rebuild.mean():8.3f} s")
    print(f"ratio toggle / rebuild {toggles.mean() / rebuild.mean():8.4f}")
    viewer.close()


if __name__ == "__main__":
    main()
