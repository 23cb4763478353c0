"""napari-milna: brainstem pharmaco-fMRI in napari.

The computational work lives in :mod:`napari_milna.core` (no Qt, no napari);
the napari reader, writer and widgets and the ``milna`` command are thin shells
over it. The public Python API (:mod:`napari_milna.api`) is re-exported here and
imported on first use, so ``import napari_milna`` stays light (the ``milna``
command's start-up depends on it).
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

#: The public API: the names :mod:`napari_milna.api` defines (its ``__all__``).
API_NAMES = (
    "crossover",
    "first_level",
    "framewise_displacement",
    "multi_echo",
    "open_image",
    "retroicor",
    "roi_facts",
    "run_qc",
    "seed_roi",
    "sign_flip_test",
    "small_volume_correction",
)

__all__ = ["__version__", *API_NAMES]


def __getattr__(name: str):
    """Import :mod:`napari_milna.api` on first use of one of its names (PEP 562)."""
    if name in API_NAMES:
        value = getattr(importlib.import_module(".api", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(API_NAMES))
