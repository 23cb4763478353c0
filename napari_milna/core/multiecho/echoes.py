"""A multi-echo run: one 4D file per echo and the echo times.

BIDS names each echo ``*_echo-<n>_bold.nii.gz`` and gives its echo time in seconds
as ``EchoTime`` in the JSON sidecar next to it; without sidecars the echo times are
given in milliseconds (``milna multiecho ... --te 13 30 47``). Echo times are kept in
milliseconds here (tedana's convention). The echoes must lie on one voxel grid, hold
the same number of volumes and come in order of increasing echo time.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import input_error
from ..io.bids import sidecar_number
from ..io.nifti import NiftiSource, nifti_stem, open_nifti
from ..io.tables import read_json_object

#: An ``EchoTime`` above this many seconds in a sidecar is not a plausible echo time.
MAX_ECHO_TIME_S = 1.0


def sidecar_of(path: str | os.PathLike) -> Path:
    """The JSON sidecar of a NIfTI run (``x_echo-1_bold.nii.gz`` -> ``x_echo-1_bold.json``)."""
    path = Path(path)
    return path.with_name(nifti_stem(path) + ".json")


def sidecar_echo_time_ms(path: str | os.PathLike) -> float:
    """``EchoTime`` of a run's JSON sidecar, in milliseconds.

    Raises
    ------
    MilnaInputError
        No sidecar, no ``EchoTime``, or a value that is not a positive number of
        seconds.
    """
    side = sidecar_of(path)
    meta = read_json_object(
        side, "a multi-echo run needs each echo's EchoTime (or give the echo times in ms)"
    )
    value = meta.get("EchoTime")
    seconds = sidecar_number(meta, "EchoTime", side, "give the echo times in ms")
    if not (np.isfinite(seconds) and 0 < seconds <= MAX_ECHO_TIME_S):
        raise input_error(
            side, f"has an EchoTime of {value}, which is not a positive time in seconds "
            "(BIDS sidecars give seconds)",
        )
    return 1000.0 * seconds


@dataclass
class EchoSet:
    """The echoes of one multi-echo run, checked to fit together.

    Attributes
    ----------
    sources : list of NiftiSource
        One opened 4D run per echo, in order of increasing echo time.
    echo_times_ms : ndarray
        Echo times in ms.
    echo_times_source : str
        ``"JSON sidecars (EchoTime)"`` or ``"given"``.
    """

    sources: list[NiftiSource]
    echo_times_ms: np.ndarray
    echo_times_source: str

    @property
    def n_echoes(self) -> int:
        """Number of echoes."""
        return len(self.sources)

    @property
    def grid(self):
        """The shared voxel grid."""
        return self.sources[0].grid

    @property
    def n_volumes(self) -> int:
        """Volumes per echo."""
        return self.sources[0].n_volumes

    @property
    def tr(self) -> float | None:
        """Repetition time (s) from the first echo's header."""
        return self.sources[0].tr

    @property
    def paths(self) -> list[Path]:
        """The echo files."""
        return [s.path for s in self.sources]

    def to_dict(self) -> dict:
        """JSON-ready description."""
        return {
            "echoes": [str(p) for p in self.paths],
            "echo_times_ms": [float(t) for t in self.echo_times_ms],
            "echo_times_source": self.echo_times_source,
            "n_volumes": int(self.n_volumes),
            "tr": self.tr,
            "grid": self.grid.describe(),
        }


def _check_echo_times(te: np.ndarray, where: str) -> None:
    if not np.all(np.isfinite(te)) or np.any(te <= 0):
        raise input_error(None, f"the echo times {where} must be positive numbers "
                                f"(got {', '.join(f'{t:g}' for t in te)} ms)")
    if np.any(np.diff(te) <= 0):
        raise input_error(None, f"the echo times {where} must increase from echo to echo "
                                f"(got {', '.join(f'{t:g}' for t in te)} ms); give the echoes "
                                "in order of echo time")


def read_echo_set(
    paths: Sequence[str | os.PathLike], echo_times_ms: Sequence[float] | None = None
) -> EchoSet:
    """Open the echoes of a multi-echo run and check that they fit together.

    Parameters
    ----------
    paths : sequence of path-like
        One 4D run per echo, in order of increasing echo time.
    echo_times_ms : sequence of float, optional
        Echo times in ms; by default each echo's sidecar ``EchoTime`` (seconds).

    Returns
    -------
    EchoSet

    Raises
    ------
    MilnaInputError
        Fewer than two echoes, a 3D file, echoes on different grids or of different
        lengths, missing echo times (no sidecar, no ``EchoTime``), a number of echo
        times that differs from the number of files, echo times that are not
        positive or do not increase.
    """
    paths = [Path(p) for p in paths]
    if len(paths) < 2:
        raise input_error(paths[0] if paths else None,
                          "is a single echo; a multi-echo fit needs at least two echoes")
    if echo_times_ms is not None and len(echo_times_ms) != len(paths):
        raise input_error(None, f"{len(echo_times_ms)} echo times were given for "
                                f"{len(paths)} echo files")
    sources = [open_nifti(p) for p in paths]
    first = sources[0]
    for source in sources:
        if not source.is_run:
            raise input_error(source.path, "is a 3D image; each echo must be a 4D run")
    for source in sources[1:]:
        if not source.grid.matches(first.grid):
            raise input_error(source.path, f"lies on another grid ({source.grid.describe()}) "
                                           f"than {first.path.name} ({first.grid.describe()}); "
                                           "the echoes of a run share one grid")
        if source.n_volumes != first.n_volumes:
            raise input_error(source.path, f"holds {source.n_volumes} volumes but "
                                           f"{first.path.name} holds {first.n_volumes}; the "
                                           "echoes of a run have the same length")
    if echo_times_ms is not None:
        te = np.asarray([float(t) for t in echo_times_ms])
        _check_echo_times(te, "given")
        how = "given"
    else:
        te = np.asarray([sidecar_echo_time_ms(p) for p in paths])
        _check_echo_times(te, "of the sidecars")
        how = "JSON sidecars (EchoTime)"
    return EchoSet(sources, te, how)
