"""Public API of the sample study: generate once, reuse afterwards.

>>> from napari_milna.sample_data import ensure_sample_study
>>> study = ensure_sample_study()          # doctest: +SKIP
>>> study.bold, study.truth["run"]["tr"]   # doctest: +SKIP

The cache folder is ``$MILNA_SAMPLE_DIR`` when set, else
``~/.cache/napari-milna/sample-study-v{SAMPLE_VERSION}``. A study is generated into a
hidden temporary sibling folder and renamed into place once complete (its completion
marker is the last file written), so an interrupted run never leaves half a study.
Two processes asking at once are safe: a lock file (in the temp folder) serialises them
where the platform has ``fcntl``, and in any case the first rename wins and the loser
discards its copy (both copies are byte-identical).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass, field, fields
from pathlib import Path

from napari_milna.core.errors import input_error
from napari_milna.core.io.atomic import process_alive, write_error

from .layout import COMPLETE_MARKER, PATHS, SAMPLE_SEED, SAMPLE_VERSION

#: Environment variable naming the cache folder.
ENV_VAR = "MILNA_SAMPLE_DIR"


def default_sample_dir() -> Path:
    """``$MILNA_SAMPLE_DIR`` or ``~/.cache/napari-milna/sample-study-v{SAMPLE_VERSION}``."""
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "napari-milna" / f"sample-study-v{SAMPLE_VERSION}"


@dataclass(frozen=True)
class SampleStudy:
    """Paths of a generated sample study and its ground truth.

    Attributes
    ----------
    root : Path
    anat_t1w : Path
        MNI T1 template on the EPI grid (display).
    gm_probseg, wm_probseg, csf_probseg : Path
        Tissue probability maps (fMRIPrep ``label-*_probseg``) on the EPI grid.
    anat_t1w_1mm, gm_probseg_1mm, wm_probseg_1mm, csf_probseg_1mm : Path
        nilearn's 1 mm MNI152 2009 T1 template and GM / WM probabilities as nilearn
        ships them, and CSF = 1 - GM - WM inside its brain mask (``res-1``): the
        underlay at the brainstem's scale, in world mm beside the 2.5 mm EPI.
    bold, bold_json : Path
        The preprocessed pain run (4D int16, MNI space) and its sidecar (RepetitionTime,
        SliceTiming, SliceEncodingDirection ``"k"``).
    brain_mask : Path
    confounds : Path
        fMRIPrep ``desc-confounds_timeseries.tsv``.
    events : Path
    physio, physio_json : Path
        BIDS physio (cardiac, respiratory, trigger) and its sidecar.
    spm_rp : Path
        SPM realignment parameters (x y z pitch roll yaw; mm, rad).
    participants : Path
        ``participants.tsv`` of the crossover (sequence, age, sex).
    crossover_table : Path
        ``crossover.tsv``: subject, treatment, condition, path (relative to the
        table's folder), period.
    group_tmap, group_con, group_mask : Path
        SPM-style second level of the drug x pain interaction (df 14).
    group_spm_mat, group_rpv, group_resms : Path
        Its SPM.mat (SPM12 structure, xVol.FWHM = the generator's FWHM), RPV and ResMS.
    group_feat_dir : Path
        The same second level as a FEAT folder (``drug_x_pain.gfeat/cope1.feat``).
    regions_dseg, regions_tsv, dropout_map, physio_sd_map, truth_json : Path
        What was planted.
    me_bold_echo1, me_bold_echo2, me_bold_echo3, me_json_echo1, me_json_echo2, me_json_echo3 : Path
        The multi-echo run (TE 13 / 30 / 47 ms, 60 volumes) and its sidecars (``EchoTime``).
    me_t2star_truth, me_s0_truth : Path
        Its planted T2* (seconds) and S0 maps.
    truth : dict
        ``truth.json`` loaded.
    """

    root: Path
    anat_t1w: Path
    gm_probseg: Path
    wm_probseg: Path
    csf_probseg: Path
    anat_t1w_1mm: Path
    gm_probseg_1mm: Path
    wm_probseg_1mm: Path
    csf_probseg_1mm: Path
    bold: Path
    bold_json: Path
    brain_mask: Path
    confounds: Path
    events: Path
    physio: Path
    physio_json: Path
    spm_rp: Path
    participants: Path
    crossover_table: Path
    group_tmap: Path
    group_con: Path
    group_mask: Path
    group_spm_mat: Path
    group_rpv: Path
    group_resms: Path
    group_feat_dir: Path
    regions_dseg: Path
    regions_tsv: Path
    dropout_map: Path
    physio_sd_map: Path
    truth_json: Path
    me_bold_echo1: Path
    me_bold_echo2: Path
    me_bold_echo3: Path
    me_json_echo1: Path
    me_json_echo2: Path
    me_json_echo3: Path
    me_t2star_truth: Path
    me_s0_truth: Path
    truth: dict = field(repr=False, compare=False)

    @classmethod
    def from_root(cls, root: str | os.PathLike) -> SampleStudy:
        """The study in ``root`` (its ``truth.json`` is read)."""
        root = Path(root)
        paths = {key: root / rel for key, rel in PATHS.items()}
        truth = json.loads(paths["truth_json"].read_text())
        return cls(root=root, truth=truth, **paths)

    @property
    def me_echoes(self) -> list[Path]:
        """The multi-echo run's three echoes, in order of echo time."""
        return [self.me_bold_echo1, self.me_bold_echo2, self.me_bold_echo3]

    def to_dict(self) -> dict:
        """Paths as strings (JSON-ready); the truth is left out (it is in ``truth_json``)."""
        return {f.name: str(getattr(self, f.name)) for f in fields(self) if f.name != "truth"}

    def headline(self) -> dict:
        """Short summary of the ground truth: grid, run, planted regions, crossover."""
        t = self.truth
        return {
            "sample_version": t["sample_version"],
            "grid": {"shape": t["grid"]["shape"], "voxel_size_mm": t["grid"]["voxel_size_mm"],
                     "affine": t["grid"]["affine"]},
            "n_volumes": t["run"]["n_volumes"],
            "tr": t["run"]["tr"],
            "planted_regions": [
                {"name": r["name"], "centre_mm": r["centre_mm"], "pain_psc": r["pain_psc"],
                 "sensory_psc": r["sensory_psc"],
                 "interaction_dz": t["crossover"]["effects"].get(r["name"], {}).get(
                     "expected_dz_peak_voxel", 0.0)}
                for r in t["regions"]
            ],
            "motion_spike_volumes": t["motion"]["spike_volumes"],
            "crossover_fwhm_mm": t["crossover"]["fwhm_mm"],
        }


def _marker(root: Path) -> dict | None:
    try:
        return json.loads((root / COMPLETE_MARKER).read_text())
    except (OSError, ValueError):
        return None


def is_complete(root: str | os.PathLike) -> bool:
    """True when ``root`` holds a complete study of this :data:`SAMPLE_VERSION`."""
    marker = _marker(Path(root))
    return bool(marker) and marker.get("sample_version") == SAMPLE_VERSION


def load_sample_study(root: str | os.PathLike) -> SampleStudy:
    """Open the complete study in ``root``.

    Raises
    ------
    MilnaInputError
        When ``root`` does not hold a complete study of this version.
    """
    root = Path(root)
    if not is_complete(root):
        raise input_error(
            root, f"does not hold a complete sample study (version {SAMPLE_VERSION})"
        )
    return SampleStudy.from_root(root)


def _is_replaceable(root: Path) -> bool:
    """A folder we may replace: missing, empty, or a sample study (any version)."""
    if not root.exists():
        return True
    if not root.is_dir():
        return False
    return not any(root.iterdir()) or _marker(root) is not None


def _install(tmp: Path, root: Path, replace_old: bool, replace_complete: bool) -> None:
    """Rename the finished ``tmp`` folder to ``root`` (first rename wins).

    ``replace_old``: a sample study of another version in ``root`` may be replaced.
    ``replace_complete``: a complete study of this version may be replaced too (the
    user asked to regenerate); otherwise such a study wins and ``tmp`` is discarded.
    """
    try:
        os.rename(tmp, root)  # also replaces an empty folder on POSIX
        return
    except OSError:
        if root.is_dir() and not any(root.iterdir()):
            root.rmdir()
            os.rename(tmp, root)
            return
    if is_complete(root) and not replace_complete:
        return  # another process finished first; our identical copy is discarded
    if (replace_old or replace_complete) and _marker(root) is not None:
        old = root.with_name(f".{root.name}.old-{os.getpid()}-{uuid.uuid4().hex[:12]}")
        os.rename(root, old)
        os.rename(tmp, root)
        shutil.rmtree(old, ignore_errors=True)
        return
    raise input_error(root, "already exists and is not a sample study; choose an empty folder")


def generate_sample_study(root: str | os.PathLike, *, overwrite: bool = False) -> SampleStudy:
    """Generate the sample study into ``root``, atomically.

    Parameters
    ----------
    root : str or path-like
        Destination folder: must not exist, be empty, or (with ``overwrite``) hold a
        previous sample study.
    overwrite : bool
        Replace a sample study already in ``root``.

    Returns
    -------
    SampleStudy

    Raises
    ------
    MilnaInputError
        When ``root`` is a file or a non-empty folder that is not a sample study, or
        holds a sample study and ``overwrite`` is False.
    """
    return _generate(root, replace_old=overwrite, replace_complete=overwrite)


_TEMPORARY = re.compile(r"^\.(?P<name>.+)\.(?:tmp|old)-(?P<pid>\d+)-[0-9a-f]{12}$")


def remove_stale_temporaries(root: str | os.PathLike) -> list[Path]:
    """Remove the ``.<name>.tmp-<pid>-*`` / ``.old-*`` folders that killed runs left.

    A generation writes into such a folder beside ``root`` and renames it at the end; a
    run killed on the way leaves it behind. Only folders whose process has ended are
    removed (a generation still running keeps its own). Every generation and every reuse
    of ``root`` calls this first.

    Returns
    -------
    list of Path
        The folders removed.
    """
    root = Path(root).expanduser().absolute()
    removed = []
    try:
        entries = list(root.parent.iterdir())
    except OSError:
        return removed
    for entry in entries:
        match = _TEMPORARY.match(entry.name)
        if match and match["name"] == root.name and not process_alive(int(match["pid"])):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


def _make_parent(root: Path) -> None:
    """``root``'s folder, made when missing; a file on the way is one sentence."""
    above = next((p for p in root.parents if p.exists()), None)
    if above is not None and not above.is_dir():
        raise input_error(None, f"cannot write {root}: not a folder ({above} is a file)")
    try:
        root.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise write_error(root, exc) from None


def _generate(root, replace_old: bool, replace_complete: bool) -> SampleStudy:
    from .generate import write_study

    root = Path(root).expanduser().absolute()
    if not _is_replaceable(root):
        raise input_error(root, "already exists and is not a sample study; choose an empty folder")
    if not (replace_old or replace_complete) and _marker(root) is not None:
        raise input_error(root, "already holds a sample study; ask to overwrite it")
    _make_parent(root)
    remove_stale_temporaries(root)
    tmp = root.with_name(f".{root.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:12]}")
    try:
        tmp.mkdir()  # the usual permissions (umask), unlike mkdtemp's private folder
    except OSError as exc:
        raise write_error(root, exc) from None
    try:
        start = time.perf_counter()
        write_study(tmp)
        marker = {"sample_version": SAMPLE_VERSION, "seed": SAMPLE_SEED,
                  "generation_seconds": round(time.perf_counter() - start, 2)}
        (tmp / COMPLETE_MARKER).write_text(json.dumps(marker) + "\n")
        _install(tmp, root, replace_old, replace_complete)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return load_sample_study(root)


@contextlib.contextmanager
def _lock(root: Path):
    """Hold an exclusive lock on ``root`` (a file in the temp folder; no-op without ``fcntl``)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: rename-wins only
        yield
        return
    digest = hashlib.sha1(str(root).encode("utf-8")).hexdigest()[:16]
    with open(Path(tempfile.gettempdir()) / f"napari-milna-sample-{digest}.lock", "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def ensure_sample_study(root: str | os.PathLike | None = None, force: bool = False) -> SampleStudy:
    """The sample study in ``root`` (default :func:`default_sample_dir`), generated if needed.

    Parameters
    ----------
    root : str or path-like, optional
    force : bool
        Regenerate even when a complete study is there.

    Returns
    -------
    SampleStudy
    """
    root = Path(root if root is not None else default_sample_dir()).expanduser().absolute()
    remove_stale_temporaries(root)
    if not force and is_complete(root):
        return load_sample_study(root)
    with _lock(root):
        if not force and is_complete(root):
            return load_sample_study(root)
        return _generate(root, replace_old=True, replace_complete=force)
