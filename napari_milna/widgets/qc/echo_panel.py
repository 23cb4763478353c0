"""The multi-echo part of the QC tab: which echoes (magicgui form), and the comparison shown.

The echo set is found next to the runs the user has open (BIDS ``*_echo-<n>_bold``;
echo times from the JSON sidecars' ``EchoTime``), or chosen as files with the echo
times typed in ms. The job itself (the tab's :class:`~napari_milna.widgets.panel.jobs.
JobRunner`) is started by the dock; this panel shows its result: per ROI the QC of each
echo next to the optimal combination, the echo a single-echo protocol would have used
(and by which rule), and whether the combination recovers the ROI.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from magicgui.widgets import CheckBox, ComboBox, Container, FileEdit, LineEdit
from qtpy.QtCore import Qt
from qtpy.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget

from ..._napari.layers import source_of
from ...core.errors import MilnaInputError
from ..panel.status import escape
from .form import Quiet, compact, nullable_combo
from .multiecho import (
    SINGLE_ECHO_RULES,
    EchoComparison,
    echo_sets,
    recovery_sentence,
    sidecar_echo_times,
    single_echo,
)
from .table import EchoRow, EchoTable

#: Text of the echo-set entry that means "the files below".
FILES_BELOW = "(the files below)"


def te_text(echo_times_ms) -> str:
    """``"13, 30, 47"``."""
    return ", ".join(f"{t:g}" for t in echo_times_ms)


class EchoForm:
    """Echo set, echo files and times, output folder and single-echo rule (magicgui).

    Attributes
    ----------
    widget : magicgui Container
    echo_set : ComboBox
        Multi-echo runs found next to the open runs (value: the echo files), or
        :data:`FILES_BELOW`.
    echo_files : FileEdit
        The echoes, in order of echo time.
    echo_times : LineEdit
        Echo times in ms; filled from the sidecars, empty to read them at run time.
    out_dir : FileEdit
        Folder for the T2* / S0 maps and the combined run (empty: a temporary folder).
    overwrite : CheckBox
    rule : ComboBox
        How to name the single echo (:data:`~.multiecho.SINGLE_ECHO_RULES`).
    """

    def __init__(self, viewer, session):
        self.viewer, self.session = viewer, session
        self.user_chose = False
        self._quiet = Quiet()
        self.echo_files = FileEdit(
            label="Echoes", mode="rm", nullable=True, filter="NIfTI (*.nii *.nii.gz)",
            tooltip="One 4D run per echo, in order of echo time",
        )
        self.echo_set = nullable_combo(
            "Echo set", self._set_choices, FILES_BELOW,
            "Multi-echo runs (BIDS *_echo-<n>_bold) next to the runs you have open",
        )
        self.echo_times = LineEdit(
            label="TE (ms)",
            tooltip="Echo times in ms, e.g. 13, 30, 47 (filled from each echo's JSON sidecar "
                    "EchoTime, in s)",
        )
        self.out_dir = FileEdit(
            label="Write to", mode="d", nullable=True,
            tooltip="Folder for the T2* and S0 maps, the adaptive mask and the combined run "
                    "(BIDS-derivative names); empty: a temporary folder, removed with the tab",
        )
        self.overwrite = CheckBox(text="replace", value=False,
                                  tooltip="Replace outputs already in the folder")
        out_row = Container(layout="horizontal", widgets=[self.out_dir, self.overwrite],
                            labels=True)
        out_row.margins = (0, 0, 0, 0)
        self.rule = ComboBox(
            label="Single echo",
            choices=[(f"{words} over the ROIs", key) for key, words in
                     SINGLE_ECHO_RULES.items()],
            tooltip="How to name the echo a single-echo protocol would have used",
        )
        compact(self.rule)
        self.widget = Container(widgets=[self.echo_set, self.echo_files, self.echo_times,
                                         out_row, self.rule])
        self.widget.margins = (0, 0, 0, 0)
        self.echo_set.changed.connect(self._on_set)
        self.echo_files.changed.connect(self._on_files)
        session.run_changed.connect(self.refresh)
        session.layers_changed.connect(self.refresh)
        self.refresh()

    # ------------------------------------------------------------------ echo sets
    def folders(self) -> list[Path]:
        """Folders to look in: those of the open runs (the session's first)."""
        runs = ([self.session.run] if self.session.run is not None else []) + \
            list(self.session.runs())
        out = []
        for layer in runs:
            src = source_of(layer)
            if src is not None and src.source is not None:
                out.append(Path(src.source.path).parent)
        files = self.echo_files.value or ()
        out += [Path(p).parent for p in files]
        return list(dict.fromkeys(out))

    def _set_choices(self, widget=None) -> list[tuple[str, object]]:
        return list(echo_sets(self.folders()).items())

    def refresh(self, *args) -> None:
        """Look for echo sets again; propose the first one until the user picks."""
        with self._quiet:
            current = self.echo_set.value
            self.echo_set.reset_choices()
            sets = [v for v in self.echo_set.choices if v is not None]
            if current in self.echo_set.choices and (current is not None or self.user_chose):
                self.echo_set.value = current
            elif sets and not self.user_chose:
                self.echo_set.value = sets[0]
            chosen = self.echo_set.value
            if chosen is not None and self.echo_files.value != chosen:
                self._show_set(chosen)

    def _show_set(self, paths) -> None:
        self.echo_files.value = tuple(paths)
        self._fill_times(paths)

    def _on_set(self, paths) -> None:
        if self._quiet:
            return
        if paths is None:
            self.user_chose = True
            return
        with self._quiet:
            self._show_set(paths)

    def _on_files(self, paths) -> None:
        if self._quiet:
            return
        self.user_chose = True
        with self._quiet:
            if self.echo_set.value != paths:
                self.echo_set.value = None
            self._fill_times(paths or ())

    def _fill_times(self, paths) -> None:
        times = sidecar_echo_times(paths) if paths else None
        if times is not None:
            self.echo_times.value = te_text(times)

    def choose_files(self, paths) -> None:
        """Choose echo files (as the file dialog does)."""
        self.echo_files.value = tuple(Path(p) for p in paths)

    def close(self) -> None:
        """Stop following the session (the tab is closing)."""
        self.session.run_changed.disconnect(self.refresh)
        self.session.layers_changed.disconnect(self.refresh)


class EchoPanel(QWidget):
    """The multi-echo form, its button, the per-ROI echo table and the verdict in words."""

    def __init__(self, viewer, session, parent=None):
        super().__init__(parent)
        self.form = EchoForm(viewer, session)
        self.run_button = QPushButton("Fit T2* and combine echoes")
        self.run_button.setToolTip(
            "T2* and S0 by log-linear fit over the usable echoes (tedana), the T2*-weighted "
            "optimal combination (Posse 1999), then the QC of every echo and of the "
            "combination with the inputs above"
        )
        self.table = EchoTable()
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.comparison: EchoComparison | None = None
        self.chosen = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.form.widget.native)
        layout.addWidget(self.run_button)
        layout.addWidget(self.table)
        layout.addWidget(self.summary)
        self.table.setVisible(False)
        self.form.rule.changed.connect(self.render)

    def show_comparison(self, comparison: EchoComparison) -> None:
        """Show a finished multi-echo comparison."""
        self.comparison = comparison
        self.render()

    def render(self, *args) -> None:
        """Table and words for the current rule."""
        comparison = self.comparison
        if comparison is None:
            return
        warning = ""
        try:
            chosen = single_echo(comparison, self.form.rule.value)
        except MilnaInputError as exc:
            chosen = single_echo(comparison, "tsnr")
            warning = f"<i>{escape(str(exc))}</i><br>"
        self.chosen = chosen
        rows = []
        for name in comparison.roi_names:
            for e, run in enumerate(comparison.echoes, start=1):
                mark = " *" if e == chosen.echo else ""
                rows += [EchoRow(run.roi(name), run.label + mark)]
            rows.append(EchoRow(comparison.combined.roi(name), comparison.combined.label))
        self.table.show_rois(rows)
        self.table.setVisible(bool(rows))
        self.summary.setText(warning + self.summary_html(comparison, chosen))

    def summary_html(self, comparison: EchoComparison, chosen) -> str:
        """Single echo named (and why), per ROI the combination against it, the outputs."""
        me = comparison.me
        lines = [
            f"<b>Single echo:</b> echo {chosen.echo} (TE {chosen.te_ms:g} ms), by the "
            f"{escape(chosen.reason)}.",
        ]
        lines += [escape(recovery_sentence(comparison, name, chosen))
                  for name in comparison.roi_names]
        source = ("typed" if me.echoes.echo_times_source == "given"
                  else f"from {me.echoes.echo_times_source}")
        fitted = me.t2star_ms[me.mask]
        median = f"{float(np.median(fitted)):.0f} ms" if fitted.size else "none"
        lines.append(
            f"T2* fitted in {fitted.size} voxels (median {median}); echo times "
            f"{te_text(comparison.echo_times_ms)} ms {escape(source)}"
        )
        lines.append(f"Written to {escape(str(me.paths['t2star'].parent))}")
        lines += [f"<i>Note: {escape(n)}</i>" for n in comparison.notes]
        return "<br>".join(lines)

