"""The study report: one self-contained HTML page of a study folder or a saved session.

:func:`build_report` finds what the study holds (:mod:`.inputs`), computes each section
with the core functions the CLI and the panel use (:mod:`.sections`), draws the figures
(:mod:`.figures`, lightboxes by :mod:`napari_milna.core.figures`) and writes the methods
from the parameters used (:mod:`.methods`); :meth:`StudyReport.to_html` renders the page
(:mod:`.html`, tables in :mod:`.tables`) and :func:`write_report` writes it atomically.
"""

from .build import PlacedSeed, StudyReport, build_report, place_seeds, write_report
from .inputs import ContrastInput, RoiInput, StudyInputs, find_study
from .methods import methods_paragraphs, software_versions

__all__ = [
    "ContrastInput",
    "PlacedSeed",
    "RoiInput",
    "StudyInputs",
    "StudyReport",
    "build_report",
    "find_study",
    "methods_paragraphs",
    "place_seeds",
    "software_versions",
    "write_report",
]
