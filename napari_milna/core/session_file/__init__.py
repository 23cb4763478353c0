"""Saved sessions: a JSON file next to the data that reopens the same view and choices.

:class:`SessionFile` (:mod:`.model`) holds the layers bottom to top with their display,
the study session's choices (statistical map, ROI, run, masks, atlas, df, smoothness),
the view (cursor, plane, convention, display space) and the analysis folder.
:func:`read_session` / :func:`write_session` (:mod:`.io`) turn it into JSON with a schema
version and paths relative to the session file. ROIs are written beside the session by
the napari glue through :mod:`napari_milna.core.roi.io`.
"""

from . import io, model
from .io import *  # noqa: F403 (the names of io.__all__)
from .model import *  # noqa: F403 (the names of model.__all__)

#: What the package gives: the model's names, then those of reading and writing.
__all__ = [*model.__all__, *io.__all__]
