"""Saved sessions: a JSON file next to the data that reopens the same view and choices.

:class:`SessionFile` (:mod:`.model`) holds the layers bottom to top with their display,
the study session's choices (statistical map, ROI, run, masks, atlas, df, smoothness),
the view (cursor, plane, convention, display space) and the analysis folder.
:func:`read_session` / :func:`write_session` (:mod:`.io`) turn it into JSON with a schema
version and paths relative to the session file. ROIs are written beside the session by
the napari glue through :mod:`napari_milna.core.roi.io`.
"""

from .io import (
    SESSION_FORMAT,
    SESSION_SUFFIX,
    SESSION_VERSION,
    looks_like_session,
    read_session,
    resolved_path,
    session_from_dict,
    session_stem,
    session_to_dict,
    stored_path,
    with_session_suffix,
    write_session,
)
from .model import (
    LAYER_TYPES,
    MASK_ROLES,
    ORIGINS,
    PLANES,
    LayerDisplay,
    LayerRecord,
    SessionChoices,
    SessionFile,
    SmoothnessRecord,
    StatDisplay,
    ViewRecord,
)

__all__ = [
    "LAYER_TYPES",
    "MASK_ROLES",
    "ORIGINS",
    "PLANES",
    "SESSION_FORMAT",
    "SESSION_SUFFIX",
    "SESSION_VERSION",
    "LayerDisplay",
    "LayerRecord",
    "SessionChoices",
    "SessionFile",
    "SmoothnessRecord",
    "StatDisplay",
    "ViewRecord",
    "looks_like_session",
    "read_session",
    "resolved_path",
    "session_from_dict",
    "session_stem",
    "session_to_dict",
    "stored_path",
    "with_session_suffix",
    "write_session",
]
