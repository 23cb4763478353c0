"""napari-milna: brainstem pharmaco-fMRI in napari.

The computational work lives in :mod:`napari_milna.core` (no Qt, no napari);
the napari reader, writer and widgets and the ``milna`` command are thin shells
over it.
"""

__version__ = "0.1.0"
