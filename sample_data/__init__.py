"""The deterministic sample study (installed as ``napari_milna.sample_data``).

A synthetic but realistic brainstem pharmaco-fMRI study with known ground truth: one
subject's pressure-pain run with physiological noise, dropout and motion (fMRIPrep /
BIDS / SPM file conventions), and a 15-subject drug / placebo crossover of first-level
effect maps with its group t map. See ``README.md`` in this folder.

>>> from napari_milna.sample_data import ensure_sample_study
>>> study = ensure_sample_study()  # doctest: +SKIP
"""

from .layout import SAMPLE_SEED, SAMPLE_VERSION
from .study import (
    SampleStudy,
    default_sample_dir,
    ensure_sample_study,
    generate_sample_study,
    is_complete,
    load_sample_study,
)

__all__ = [
    "SAMPLE_SEED",
    "SAMPLE_VERSION",
    "SampleStudy",
    "default_sample_dir",
    "ensure_sample_study",
    "generate_sample_study",
    "is_complete",
    "load_sample_study",
]
