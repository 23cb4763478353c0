"""Read and write session files: JSON with a schema version, paths relative to the file.

Every path is stored twice: relative to the session file's folder (``path``), so that a
study folder moved with its session still opens, and absolute (``absolute_path``), so
that a session file moved on its own still finds its data. Reading tries the relative
path first. A file that no longer exists is not an error here:
:meth:`~.model.SessionFile.missing` says which, and the viewer opens the rest.

Errors are one sentence naming the file: it does not exist, it is not JSON, it is not a
napari-milna session, or it was written by a newer version.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..errors import input_error
from ..io.tables import atomic_write_text, read_json_object
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

#: The ``format`` of a session file.
SESSION_FORMAT = "napari-milna session"
#: The schema version written (and the newest read).
SESSION_VERSION = 1
#: File name ending of session files.
SESSION_SUFFIX = ".milna-session.json"


def session_stem(path: str | os.PathLike) -> str:
    """The file name without :data:`SESSION_SUFFIX` (or ``.json``).

    ``study`` of ``study.milna-session.json``.
    """
    name = Path(path).name
    for suffix in (SESSION_SUFFIX, ".json"):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)] or "session"
    return Path(name).stem or "session"


def with_session_suffix(path: str | os.PathLike) -> Path:
    """``path`` ending in ``.json`` (:data:`SESSION_SUFFIX` added when it has no ``.json``)."""
    path = Path(path)
    return path if path.name.lower().endswith(".json") else path.with_name(
        path.name + SESSION_SUFFIX)


# ------------------------------------------------------------------------------- paths
def stored_path(path: str | os.PathLike | None, base: Path) -> dict | None:
    """``{"path": relative, "absolute_path": absolute}`` of a file for a session in ``base``.

    The relative path is given when the file and the session share a folder other than
    the file system's root (and lie on one drive); else ``path`` is the absolute path.
    """
    if path is None:
        return None
    absolute = Path(os.path.abspath(path))
    base = Path(os.path.abspath(base))
    relative = None
    try:
        common = Path(os.path.commonpath([absolute, base]))
        if common != Path(common.anchor):
            relative = Path(os.path.relpath(absolute, base)).as_posix()
    except ValueError:  # another drive
        relative = None
    return {"path": relative or absolute.as_posix(), "absolute_path": absolute.as_posix()}


def resolved_path(entry, base: Path) -> Path | None:
    """The file of a stored path: relative to ``base`` if it exists there, else absolute."""
    if entry is None:
        return None
    if isinstance(entry, str):
        entry = {"path": entry}
    relative = Path(entry.get("path") or "")
    first = relative if relative.is_absolute() else base / relative
    if first.exists() or not entry.get("absolute_path"):
        return Path(os.path.normpath(first))
    second = Path(entry["absolute_path"])
    return second if second.exists() else Path(os.path.normpath(first))


# ------------------------------------------------------------------------------- to dict
def session_to_dict(session: SessionFile, base: str | os.PathLike) -> dict:
    """The JSON object of a session whose file lies in the folder ``base``."""
    base = Path(base)
    layers = []
    for rec in session.layers:
        layers.append({
            "name": rec.name,
            "layer_type": rec.layer_type,
            "origin": rec.origin,
            "file": stored_path(rec.path, base),
            "atlas": rec.atlas,
            "lut": stored_path(rec.lut, base),
            "reference": stored_path(rec.reference, base),
            "display": rec.display.to_dict(),
            "statistic": None if rec.statistic is None else rec.statistic.to_dict(),
            "roi_names": (None if rec.roi_names is None
                          else {str(int(k)): str(v) for k, v in rec.roi_names.items()}),
        })
    return {
        "format": SESSION_FORMAT,
        "version": SESSION_VERSION,
        "saved_with": session.saved_with,
        "layers": layers,
        "choices": session.choices.to_dict(),
        "view": session.view.to_dict(),
        "analysis_folder": stored_path(session.analysis_folder, base),
        "notes": list(session.notes),
    }


# ------------------------------------------------------------------------------- from dict
class _Reader:
    """Typed access to a session object; a wrong value is one sentence naming the file."""

    def __init__(self, path):
        self.path = path

    def fail(self, what: str):
        raise input_error(self.path, f"is not a valid napari-milna session: {what}")

    def obj(self, data, key: str, where: str) -> dict:
        value = data.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.fail(f"{where}{key} must be an object")
        return value

    def text(self, data, key: str, where: str, choices=None, optional=True):
        value = data.get(key)
        if value is None and optional:
            return None
        if not isinstance(value, str) or (choices is not None and value not in choices):
            expected = f"one of {', '.join(choices)}" if choices else "a text"
            self.fail(f"{where}{key} must be {expected}, not {value!r}")
        return value

    def number(self, data, key: str, where: str, default=None):
        value = data.get(key, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(f"{where}{key} must be a number, not {value!r}")
        return float(value)

    def numbers(self, data, key: str, where: str, n: int | None = None):
        value = data.get(key)
        if value is None:
            return None
        if not isinstance(value, list) or (n is not None and len(value) != n) or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
            self.fail(f"{where}{key} must be a list of {n or 'some'} numbers, not {value!r}")
        return [float(v) for v in value]

    def flag(self, data, key: str, where: str, default: bool):
        value = data.get(key, default)
        if not isinstance(value, bool):
            self.fail(f"{where}{key} must be true or false, not {value!r}")
        return value

    def df(self, data, key: str, where: str):
        value = data.get(key)
        if isinstance(value, list):
            return self.numbers(data, key, where)
        return self.number(data, key, where)


def _display(r: _Reader, data: dict, where: str) -> LayerDisplay:
    limits = r.numbers(data, "contrast_limits", where, 2)
    points = r.obj(data, "colormap_points", where) or None
    contour = r.number(data, "contour", where)
    return LayerDisplay(
        colormap=r.text(data, "colormap", where),
        colormap_points=points,
        contrast_limits=None if limits is None else (limits[0], limits[1]),
        opacity=r.number(data, "opacity", where, 1.0),
        visible=r.flag(data, "visible", where, True),
        blending=r.text(data, "blending", where) or "translucent",
        interpolation=r.text(data, "interpolation", where),
        contour=None if contour is None else int(contour),
    )


def _layer(r: _Reader, data, index: int, base: Path) -> LayerRecord:
    where = f"layer {index + 1}: "
    if not isinstance(data, dict):
        r.fail(f"{where}must be an object")
    name = r.text(data, "name", where, optional=False)
    stat = None
    if data.get("statistic") is not None:
        s = r.obj(data, "statistic", where)
        sw = f"{where}statistic."
        threshold = r.number(s, "threshold", sw)
        vmax = r.number(s, "vmax", sw)
        if threshold is None or vmax is None:
            r.fail(f"{sw}threshold and vmax must be numbers")
        stat = StatDisplay(r.text(s, "stat_type", sw), r.df(s, "df", sw), threshold,
                           r.text(s, "threshold_unit", sw) or (r.text(s, "stat_type", sw) or ""),
                           vmax)
    names = data.get("roi_names")
    if names is not None:
        if not isinstance(names, dict):
            r.fail(f"{where}roi_names must be an object")
        try:
            names = {int(k): str(v) for k, v in names.items()}
        except ValueError:
            r.fail(f"{where}roi_names must map label numbers to names")
    rec = LayerRecord(
        name=name,
        layer_type=r.text(data, "layer_type", where, LAYER_TYPES, optional=False),
        origin=r.text(data, "origin", where, ORIGINS, optional=False),
        path=resolved_path(_stored(r, data, "file", where), base),
        display=_display(r, r.obj(data, "display", where), f"{where}display."),
        statistic=stat,
        atlas=r.text(data, "atlas", where),
        lut=resolved_path(_stored(r, data, "lut", where), base),
        reference=resolved_path(_stored(r, data, "reference", where), base),
        roi_names=names,
    )
    if rec.path is None and not (rec.origin == "atlas" and rec.atlas):
        r.fail(f"{where}the layer {name!r} names no file")
    return rec


def _stored(r: _Reader, data: dict, key: str, where: str):
    value = data.get(key)
    if value is None or isinstance(value, str):
        return value
    if not isinstance(value, dict) or not isinstance(value.get("path"), str):
        r.fail(f"{where}{key} must be a path")
    return value


def session_from_dict(data: dict, base: str | os.PathLike, path=None) -> SessionFile:
    """A :class:`SessionFile` from its JSON object; paths resolved against the folder ``base``.

    Raises
    ------
    MilnaInputError
        Not a napari-milna session, a newer version, or a value of the wrong kind.
    """
    base = Path(base)
    r = _Reader(path)
    if not isinstance(data, dict) or data.get("format") != SESSION_FORMAT:
        raise input_error(path, "is not a napari-milna session file (it has no \"format\": "
                                f"\"{SESSION_FORMAT}\")")
    version = data.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        r.fail(f"its version must be a whole number from 1, not {version!r}")
    if version > SESSION_VERSION:
        raise input_error(path, f"is a session of version {version}, written by a newer "
                                f"napari-milna; this one reads versions up to {SESSION_VERSION}")
    layers = data.get("layers", [])
    if not isinstance(layers, list):
        r.fail("layers must be a list")
    records = [_layer(r, item, i, base) for i, item in enumerate(layers)]
    names = [rec.name for rec in records]
    if len(set(names)) < len(names):
        r.fail("two layers have the same name")
    c = r.obj(data, "choices", "")
    masks = r.obj(c, "masks", "choices.")
    smooth = None
    if c.get("smoothness") is not None:
        s = r.obj(c, "smoothness", "choices.")
        fwhm = r.numbers(s, "fwhm_mm", "choices.smoothness.", 3)
        if fwhm is None:
            r.fail("choices.smoothness.fwhm_mm must be a list of 3 numbers")
        smooth = SmoothnessRecord(tuple(fwhm), r.text(s, "source", "choices.smoothness.") or "")
    label = r.number(c, "roi_label", "choices.", 0)
    choices = SessionChoices(
        stat_map=r.text(c, "stat_map", "choices."),
        roi_layer=r.text(c, "roi_layer", "choices."),
        roi_label=int(label or 0),
        run=r.text(c, "run", "choices."),
        masks={role: r.text(masks, role, "choices.masks.") for role in MASK_ROLES},
        atlas=r.text(c, "atlas", "choices."),
        df=r.df(c, "df", "choices."),
        smoothness=smooth,
    )
    v = r.obj(data, "view", "")
    cursor = r.numbers(v, "cursor_mm", "view.", 3) or [0.0, 0.0, 0.0]
    view = ViewRecord(
        cursor_mm=tuple(cursor),
        plane=r.text(v, "plane", "view.", PLANES) or "axial",
        radiological=r.flag(v, "radiological", "view.", False),
        display_space=r.text(v, "display_space", "view."),
    )
    notes = data.get("notes", [])
    if not isinstance(notes, list):
        r.fail("notes must be a list")
    return SessionFile(
        layers=records, choices=choices, view=view,
        analysis_folder=resolved_path(_stored(r, data, "analysis_folder", ""), base),
        saved_with=str(data.get("saved_with") or ""), notes=[str(n) for n in notes],
        path=None if path is None else Path(path),
    )


# ------------------------------------------------------------------------------- files
def looks_like_session(path: str | os.PathLike) -> bool:
    """True for a file that claims to be a session (its name, or a ``format`` key near the top)."""
    path = Path(path)
    if not path.is_file():
        return False
    if path.name.lower().endswith(SESSION_SUFFIX):
        return True
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            head = fh.read(4096)
    except OSError:
        return False
    return SESSION_FORMAT in head


def read_session(path: str | os.PathLike) -> SessionFile:
    """Read a session file.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    SessionFile
        Paths absolute; :meth:`~.model.SessionFile.missing` lists those that no longer exist.

    Raises
    ------
    MilnaInputError
        The file does not exist, is not JSON, is not a napari-milna session, or was
        written by a newer version (one sentence naming the file).
    """
    path = Path(path)
    if path.is_dir():
        raise input_error(path, "is a folder, not a napari-milna session file")
    data = read_json_object(path, "it should be a napari-milna session file "
                                  f"(*{SESSION_SUFFIX})")
    return session_from_dict(data, path.parent, path)


def write_session(session: SessionFile, path: str | os.PathLike, *,
                  overwrite: bool = False) -> Path:
    """Write ``session`` as JSON at ``path`` (atomic; an existing file only with ``overwrite``).

    Returns
    -------
    Path
    """
    path = Path(path)
    text = json.dumps(session_to_dict(session, path.parent), indent=2, allow_nan=False)
    written = atomic_write_text(path, text + "\n", overwrite=overwrite)
    session.path = written
    return written


__all__ = [
    "SESSION_FORMAT",
    "SESSION_SUFFIX",
    "SESSION_VERSION",
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
