"""Head-motion parameters, framewise displacement and scrubbing.

Readers turn the motion files of SPM, FSL, AFNI and fMRIPrep into one layout:
translations (x, y, z) in mm and rotations about (x, y, z) in radians.

========  ==========================  =============================  =================
format    file                        columns as written              units
========  ==========================  =============================  =================
spm       ``rp_*.txt``                x y z pitch roll yaw            mm, rad
fsl       mcflirt ``*.par``           rx ry rz tx ty tz               rad, mm
afni      3dvolreg ``-1Dfile``        roll pitch yaw dS dL dP         degrees, mm
fmriprep  ``*_desc-confounds_*.tsv``  trans_x..z, rot_x..z (header)   mm, rad
========  ==========================  =============================  =================

AFNI conventions (3dvolreg help): roll is the rotation about the I-S axis, pitch
about the R-L axis, yaw about the A-P axis, in degrees counter-clockwise; dS, dL,
dP are displacements towards Superior, Left and Posterior. The reader converts
the translations to RAS+ (x = -dL, y = -dP, z = dS), reorders the rotations to
(pitch, yaw, roll) = about (x, y, z) and converts them to radians; their sign is
left as AFNI writes it. Framewise displacement uses absolute frame-to-frame
differences only, so neither the translation signs nor the rotation signs change it
(nipype's ``normalize_mc_params`` uses the same column mapping for AFNI).

Framewise displacement (Power et al. 2012, NeuroImage 59:2142)::

    FD_t = |dx| + |dy| + |dz| + r (|d rot_x| + |d rot_y| + |d rot_z|),   r = 50 mm

with ``d`` the difference to the previous volume and FD_0 = 0.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import input_error
from ..io.tables import atomic_write_text, read_table, write_table
from ..protocol import FD_THRESHOLD_MM, HEAD_RADIUS_MM, MOTION_FORMATS

FMRIPREP_MOTION_COLUMNS = ("trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z")


@dataclass
class MotionParameters:
    """Rigid-body motion of a run in one layout.

    Attributes
    ----------
    translations : ndarray, shape (n, 3)
        x, y, z translations in mm.
    rotations : ndarray, shape (n, 3)
        Rotations about x, y, z in radians.
    source_format : str
        The format the file was read as.
    path : Path or None
        The file read.
    """

    translations: np.ndarray
    rotations: np.ndarray
    source_format: str = "array"
    path: Path | None = None

    @property
    def n_volumes(self) -> int:
        """Number of volumes."""
        return int(self.translations.shape[0])

    def as_array(self) -> np.ndarray:
        """``(n, 6)`` array: trans_x, trans_y, trans_z (mm), rot_x, rot_y, rot_z (rad)."""
        return np.hstack([self.translations, self.rotations])

    def to_frame(self):
        """The six parameters as a pandas DataFrame with fMRIPrep column names."""
        import pandas as pd

        return pd.DataFrame(self.as_array(), columns=list(FMRIPREP_MOTION_COLUMNS))


def _read_numeric_table(path: Path, n_columns: int) -> np.ndarray:
    """A whitespace- (or comma-) separated numeric table, checked line by line."""
    rows = []
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise input_error(path, f"could not be read ({exc.strerror or exc})") from None
    for lineno, line in enumerate(text.splitlines(), start=1):
        stripped = line.split("#", 1)[0].strip()
        if not stripped:
            continue
        cells = stripped.replace(",", " ").split()
        if len(cells) != n_columns:
            raise input_error(
                path, f"line {lineno} has {len(cells)} columns where {n_columns} are expected"
            )
        try:
            values = [float(c) for c in cells]
        except ValueError:
            bad = next(c for c in cells if not _is_float(c))
            raise input_error(path, f"line {lineno} holds a non-numeric cell {bad!r}") from None
        if not all(np.isfinite(values)):
            raise input_error(path, f"line {lineno} holds a value that is not finite")
        rows.append(values)
    if not rows:
        raise input_error(path, "holds no motion parameters")
    return np.asarray(rows, dtype=float)


def _is_float(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _read_fmriprep(path: Path) -> np.ndarray:
    table = read_table(path, sep="\t", as_text=True)
    missing = [c for c in FMRIPREP_MOTION_COLUMNS if c not in table.columns]
    if missing:
        raise input_error(
            path,
            f"has no column {', '.join(missing)}; an fMRIPrep confounds file has trans_x, "
            "trans_y, trans_z, rot_x, rot_y, rot_z",
        )
    if len(table) == 0:
        raise input_error(path, "holds no rows")
    out = np.empty((len(table), 6))
    for j, name in enumerate(FMRIPREP_MOTION_COLUMNS):
        for i, cell in enumerate(table[name]):
            try:
                value = float(cell)
            except ValueError:
                value = np.nan
            if not np.isfinite(value):
                # Line 1 is the header, so row i sits on line i + 2.
                raise input_error(
                    path, f"line {i + 2} holds a non-numeric {name} value {cell!r}"
                )
            out[i, j] = value
    return out


def _check_motion_rows(path: Path, table: np.ndarray, first_line: int) -> None:
    """At least two volumes, every value finite (else FD is undefined)."""
    if table.shape[0] < 2:
        raise input_error(path, f"holds {table.shape[0]} volume(s) of motion parameters; "
                                "framewise displacement needs at least 2")
    bad = ~np.isfinite(table)
    if bad.any():
        row = int(np.flatnonzero(bad.any(axis=1))[0])
        raise input_error(path, f"line {row + first_line} holds a NaN or infinite motion "
                                "parameter")


def read_motion(path: str | os.PathLike, fmt: str) -> MotionParameters:
    """Read a motion-parameter file into translations (mm) and rotations (rad).

    Parameters
    ----------
    path : str or path-like
        ``rp_*.txt`` (SPM), ``*.par`` (FSL mcflirt), 3dvolreg ``-1Dfile`` (AFNI) or an
        fMRIPrep ``*_desc-confounds_timeseries.tsv``.
    fmt : {"spm", "fsl", "afni", "fmriprep"}

    Returns
    -------
    MotionParameters

    Raises
    ------
    MilnaInputError
        Missing file, wrong number of columns or a non-numeric cell (naming the line).
    """
    path = Path(path)
    fmt = str(fmt).lower()
    if fmt not in MOTION_FORMATS:
        raise input_error(path, f"cannot be read as {fmt!r}; formats: {', '.join(MOTION_FORMATS)}")
    if path.is_dir():
        raise input_error(path, "is a folder, not a motion parameter file")
    if not path.is_file():
        raise input_error(path, "does not exist")
    if fmt == "fmriprep":
        table = _read_fmriprep(path)
        _check_motion_rows(path, table, first_line=2)
        trans, rot = table[:, :3], table[:, 3:]
    else:
        table = _read_numeric_table(path, 6)
        _check_motion_rows(path, table, first_line=1)
        if fmt == "spm":  # x y z pitch roll yaw
            trans, rot = table[:, :3], table[:, 3:]
        elif fmt == "fsl":  # rx ry rz tx ty tz
            trans, rot = table[:, 3:], table[:, :3]
        else:  # afni: roll pitch yaw dS dL dP (degrees, mm)
            roll, pitch, yaw, d_s, d_l, d_p = table.T
            trans = np.column_stack([-d_l, -d_p, d_s])
            rot = np.deg2rad(np.column_stack([pitch, yaw, roll]))
    return MotionParameters(
        np.ascontiguousarray(trans), np.ascontiguousarray(rot), source_format=fmt, path=path
    )


def write_motion(params: MotionParameters, path: str | os.PathLike, fmt: str) -> Path:
    """Write motion parameters in one of the readable formats (inverse of :func:`read_motion`).

    Used to convert between packages and in tests. Writes atomically and refuses to
    overwrite an existing file.
    """
    path = Path(path)
    fmt = str(fmt).lower()
    t, r = params.translations, params.rotations
    if fmt == "spm":
        table = np.hstack([t, r])
    elif fmt == "fsl":
        table = np.hstack([r, t])
    elif fmt == "afni":
        deg = np.rad2deg(r)
        table = np.column_stack([deg[:, 2], deg[:, 0], deg[:, 1], t[:, 2], -t[:, 0], -t[:, 1]])
    elif fmt == "fmriprep":
        return write_table(params.to_frame(), path, float_format=None)
    else:
        raise ValueError(f"unknown motion format {fmt!r}")
    text = "\n".join("  ".join(f"{v:.10e}" for v in row) for row in table) + "\n"
    return atomic_write_text(path, text)


def framewise_displacement(
    params: MotionParameters | np.ndarray, radius: float = HEAD_RADIUS_MM
) -> np.ndarray:
    """Framewise displacement (Power et al. 2012) in mm, one value per volume.

    Parameters
    ----------
    params : MotionParameters or ndarray, shape (n, 6)
        Translations x, y, z (mm) then rotations about x, y, z (rad).
    radius : float
        Sphere radius turning rotations into mm (50 mm, as Power 2012 and nipype).

    Returns
    -------
    ndarray, shape (n,)
        ``fd[0] = 0``; ``fd[t]`` is the displacement from volume t - 1 to t.
    """
    if isinstance(params, MotionParameters):
        table = params.as_array()
    else:
        table = np.asarray(params, dtype=float)
    if table.ndim != 2 or table.shape[1] != 6:
        raise ValueError(f"motion parameters must be (n, 6), got {table.shape}")
    diff = np.abs(np.diff(table, axis=0))
    fd = diff[:, :3].sum(axis=1) + radius * diff[:, 3:].sum(axis=1)
    return np.concatenate([[0.0], fd])


def scrub_mask(
    fd: np.ndarray, threshold: float = FD_THRESHOLD_MM, before: int = 0, after: int = 0
) -> np.ndarray:
    """Volumes to censor: FD above ``threshold`` and, optionally, their neighbours.

    Parameters
    ----------
    fd : ndarray, shape (n,)
        Framewise displacement in mm.
    threshold : float
        Volumes with ``fd > threshold`` are scrubbed.
    before, after : int
        Also scrub this many volumes before / after each one above threshold
        (Power et al. 2014 used 1 before and 2 after).

    Returns
    -------
    ndarray of bool, shape (n,)
        True for volumes to drop.
    """
    fd = np.asarray(fd, dtype=float)
    if before < 0 or after < 0:
        raise ValueError("before and after must be >= 0")
    hit = fd > threshold
    mask = hit.copy()
    n = fd.size
    for t in np.flatnonzero(hit):
        mask[max(0, t - before) : min(n, t + after + 1)] = True
    return mask


@dataclass
class MotionResult:
    """Framewise displacement and scrubbing of one run.

    Attributes
    ----------
    fd : ndarray
        Framewise displacement per volume (mm), ``fd[0] = 0``.
    mean_fd : float
        Mean over the n - 1 frame-to-frame displacements (as nipype / MRIQC ``fd_mean``).
    max_fd : float
    n_scrubbed : int
    scrub : ndarray of bool
        True for volumes to censor.
    threshold, before, after : settings used.
    source_format : str
    path : Path or None
    """

    fd: np.ndarray
    mean_fd: float
    max_fd: float
    n_scrubbed: int
    scrub: np.ndarray
    threshold: float
    before: int = 0
    after: int = 0
    source_format: str = "array"
    path: Path | None = None
    params: MotionParameters | None = field(default=None, repr=False)

    @property
    def n_volumes(self) -> int:
        """Number of volumes."""
        return int(self.fd.size)

    @property
    def sample_mask(self) -> np.ndarray:
        """Indices of the volumes kept (nilearn's ``sample_mask``)."""
        return np.flatnonzero(~self.scrub)

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return {
            "file": str(self.path) if self.path is not None else None,
            "format": self.source_format,
            "n_volumes": self.n_volumes,
            "threshold": float(self.threshold),
            "before": int(self.before),
            "after": int(self.after),
            "fd": [float(v) for v in self.fd],
            "mean_fd": float(self.mean_fd),
            "max_fd": float(self.max_fd),
            "n_scrubbed": int(self.n_scrubbed),
            "scrub": [bool(v) for v in self.scrub],
            "scrubbed_volumes": [int(v) for v in np.flatnonzero(self.scrub)],
        }


def assess_motion(
    params: MotionParameters,
    threshold: float = FD_THRESHOLD_MM,
    before: int = 0,
    after: int = 0,
    radius: float = HEAD_RADIUS_MM,
) -> MotionResult:
    """FD, its summary and the scrub mask of a run.

    Parameters
    ----------
    params : MotionParameters
    threshold : float
        FD threshold in mm (default 0.5).
    before, after : int
        Neighbours scrubbed with each volume above threshold.
    radius : float
        Head radius in mm for rotations.

    Returns
    -------
    MotionResult
    """
    if not (np.isfinite(threshold) and threshold > 0):
        raise input_error(None, f"the FD threshold must be a positive number of mm, not "
                                f"{threshold}")
    if not (np.isfinite(radius) and radius > 0):
        raise input_error(None, f"the head radius must be a positive number of mm, not {radius}")
    if int(before) < 0 or int(after) < 0:
        raise input_error(None, "the volumes scrubbed before and after must be 0 or more")
    fd = framewise_displacement(params, radius=radius)
    scrub = scrub_mask(fd, threshold, before, after)
    steps = fd[1:]
    return MotionResult(
        fd=fd,
        mean_fd=float(steps.mean()) if steps.size else 0.0,
        max_fd=float(fd.max()),
        n_scrubbed=int(scrub.sum()),
        scrub=scrub,
        threshold=float(threshold),
        before=int(before),
        after=int(after),
        source_format=params.source_format,
        path=params.path,
        params=params,
    )
