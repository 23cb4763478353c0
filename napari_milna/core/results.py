"""JSON-ready forms of result dataclasses: each field as its annotation says.

A result's ``to_dict()`` is often its fields, in order, each turned into plain Python
(``float(self.p)``, ``[int(v) for v in self.ijk]`` ...). :func:`field_dict` does that
from the dataclass's own annotations, so the dict cannot drift from the fields; a
dataclass that derives from :class:`FieldsToDict` gets that ``to_dict()``.
"""

from __future__ import annotations

import dataclasses
import os

_SCALARS = {"float": float, "int": int, "bool": bool, "str": str}


def _convert(annotation: str, value):
    """``value`` as the annotation's plain Python type (numpy scalars included)."""
    annotation = annotation.replace(" ", "")
    if value is None:
        return None
    options = [a for a in annotation.split("|") if a != "None"]
    if len(options) == 1:
        annotation = options[0]
    if annotation in _SCALARS:
        return _SCALARS[annotation](value)
    if annotation.startswith(("tuple[", "list[")):
        inner = annotation[annotation.index("[") + 1:-1].split(",")[0]
        if inner in _SCALARS:
            return [_SCALARS[inner](v) for v in value]
    return json_ready(value)


def json_ready(value):
    """Plain Python of a value: numpy scalars and arrays, tuples, paths, nested dicts."""
    if isinstance(value, dict):
        return {k: json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        return value.tolist()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if hasattr(value, "to_dict"):
        return value.to_dict()
    return value


def field_dict(result, *, exclude=()) -> dict:
    """The dataclass ``result``'s fields, in order, converted as their annotations say.

    Parameters
    ----------
    result : dataclass instance
    exclude : iterable of str
        Fields left out (arrays kept for painting maps, for instance).

    Returns
    -------
    dict

    Examples
    --------
    >>> import numpy as np
    >>> from dataclasses import dataclass
    >>> @dataclass
    ... class Peak:
    ...     value: float
    ...     ijk: tuple[int, int, int]
    ...     cluster: int | None = None
    >>> field_dict(Peak(np.float32(2.5), (np.int64(1), 2, 3)))
    {'value': 2.5, 'ijk': [1, 2, 3], 'cluster': None}
    """
    return {
        f.name: _convert(str(f.type), getattr(result, f.name))
        for f in dataclasses.fields(result)
        if f.name not in exclude
    }


class FieldsToDict:
    """Mixin of result dataclasses whose ``to_dict()`` is :func:`field_dict` of all fields."""

    def to_dict(self) -> dict:
        """JSON-ready form: every field, converted as its annotation says."""
        return field_dict(self)
