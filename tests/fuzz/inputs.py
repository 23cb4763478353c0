"""Tiny good inputs for every subcommand: the fuzz suite spoils one of them at a time.

Everything lies on one 2 mm MNI grid that covers the PAG and the RVM (10 x 12 x 27
voxels), except the crossover study (``tests.synth.crossover``), the multi-echo run
(``tests.synth.multiecho``), the resting-state runs (4 mm, as nilearn's DMN nodes need a
wider field of view) and the SPM folder (``tests.core.analysis.folders``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import nibabel as nib
import numpy as np

from tests.synth import crossover as synth_crossover
from tests.synth.multiecho import write_echoes
from tests.synth.physio import write_bids_physio

#: The common grid: 2 mm MNI, x -10..8, y -46..-24, z -52..0 (PAG and RVM inside).
SHAPE = (10, 12, 27)
AFFINE = np.array([[2.0, 0, 0, -10.0], [0, 2.0, 0, -46.0], [0, 0, 2.0, -52.0], [0, 0, 0, 1]])
TR = 2.0
N_VOLUMES = 40
MNI = "space-MNI152NLin2009cAsym"


def save(path: Path, data, affine=AFFINE, *, description: str | None = None, tr=None,
         code: int = 4) -> Path:
    """Write ``data`` as NIfTI-1 with sform = qform = ``affine`` (MNI code by default)."""
    img = nib.Nifti1Image(np.asarray(data), affine)
    img.header.set_sform(affine, code)
    img.header.set_qform(affine, code)
    img.header.set_xyzt_units("mm", "sec")
    if tr is not None:
        img.header["pixdim"][4] = tr
    if description:
        img.header["descrip"] = description.encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    nib.save(img, str(path))
    return path


def _ijk(xyz) -> tuple[int, int, int]:
    ijk = np.linalg.solve(AFFINE, np.r_[xyz, 1.0])[:3]
    return tuple(int(round(v)) for v in ijk)


@dataclass
class GoodInputs:
    """Paths of the good inputs (all small) and the folder holding them."""

    root: Path
    ref: Path
    stat: Path
    roi: Path
    dseg: Path
    csf: Path
    brain: Path
    subjects: list[Path]
    run: Path
    events: Path
    physio: Path
    peaks: Path
    motion: Path
    confounds: Path
    crossover: Path
    rest: list[Path]
    rest_mask: Path
    rest_confounds: Path
    echoes: list[Path]
    echo_mask: Path
    spm: Path


def _run_data(rng, n=N_VOLUMES) -> np.ndarray:
    t = np.arange(n) * TR
    pain = ((t % 30) < 10).astype(float)
    data = 1000 + rng.normal(0, 10, SHAPE + (n,))
    data += 15 * pain  # every voxel answers a little to the task
    return data.astype(np.float32)


def write_good_inputs(root: Path) -> GoodInputs:
    """Write the good inputs into ``root`` (a few hundred kB in all)."""
    rng = np.random.default_rng(14)
    root.mkdir(parents=True, exist_ok=True)
    pag, rvm = _ijk((0.5, -31.0, -9.0)), _ijk((2.0, -36.0, -42.0))

    ref = save(root / f"sub-01_{MNI}_T1w.nii.gz", 500 + 50 * rng.random(SHAPE, np.float32))
    t = rng.normal(0, 1, SHAPE).astype(np.float32)
    t[pag[0] - 1:pag[0] + 2, pag[1] - 1:pag[1] + 2, pag[2] - 1:pag[2] + 2] += 5.0
    stat = save(root / "spmT_0001.nii", t, description="SPM{T_[14.0]} - contrast 1: pain")

    box = np.zeros(SHAPE, np.uint8)
    box[pag[0] - 2:pag[0] + 3, pag[1] - 2:pag[1] + 3, pag[2] - 2:pag[2] + 3] = 1
    roi = save(root / f"sub-01_{MNI}_desc-PAG_mask.nii.gz", box)
    labels = box.copy()
    labels[rvm[0] - 1:rvm[0] + 2, rvm[1] - 1:rvm[1] + 2, rvm[2] - 2:rvm[2] + 3] = 2
    dseg = save(root / f"sub-01_{MNI}_desc-brainstem_dseg.nii.gz", labels)
    (root / f"sub-01_{MNI}_desc-brainstem_dseg.tsv").write_text("index\tname\n1\tPAG\n2\tRVM\n")
    csf = save(root / f"sub-01_{MNI}_label-CSF_probseg.nii.gz",
               (0.6 * rng.random(SHAPE)).astype(np.float32))
    brain = save(root / f"sub-01_{MNI}_desc-brain_mask.nii.gz", np.ones(SHAPE, np.uint8))
    subjects = [save(root / f"sub-{s:02d}_con_0001.nii.gz",
                     (rng.normal(0.8, 1.0, SHAPE)).astype(np.float32)) for s in range(1, 9)]

    run = save(root / f"sub-01_task-pain_{MNI}_desc-preproc_bold.nii.gz", _run_data(rng), tr=TR)
    events = root / "sub-01_task-pain_events.tsv"
    rows = ["onset\tduration\ttrial_type"]
    rows += [f"{o}\t10\tpain" for o in range(0, 80, 30)]
    rows += [f"{o}\t5\tsensory" for o in range(15, 80, 30)]
    events.write_text("\n".join(rows) + "\n")
    physio, beats, _, _ = write_bids_physio(root, duration=90.0, start_time=-2.0,
                                            name="sub-01_task-pain_physio")
    peaks = root / "sub-01_task-pain_peaks.txt"
    peaks.write_text("\n".join(f"{b:.3f}" for b in beats) + "\n")
    motion = root / "rp_sub-01_task-pain_bold.txt"
    params = np.cumsum(rng.normal(0, [0.02] * 3 + [2e-4] * 3, (N_VOLUMES, 6)), axis=0)
    motion.write_text("\n".join("  ".join(f"{v:.7e}" for v in r) for r in params) + "\n")
    confounds = root / "sub-01_task-pain_desc-confounds_timeseries.tsv"
    names = ["trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z", "csf",
             "white_matter", "framewise_displacement"]
    values = np.column_stack([params, rng.normal(0, 1, (N_VOLUMES, 2)),
                              np.r_[np.nan, np.abs(rng.normal(0, 0.1, N_VOLUMES - 1))]])
    lines = ["\t".join(names)] + ["\t".join("n/a" if np.isnan(v) else f"{v:.6g}" for v in r)
                                  for r in values]
    confounds.write_text("\n".join(lines) + "\n")

    maps, periods = synth_crossover.make_maps(n=6, seed=3)
    crossover = synth_crossover.write_table(root / "crossover", maps, periods)

    rest_affine = np.array([[4.0, 0, 0, -48], [0, 4.0, 0, -40], [0, 0, 4.0, -12], [0, 0, 0, 1]])
    rest = []
    for k, ses in enumerate(("drug", "placebo")):
        data = (500 + np.random.default_rng(k).normal(0, 5, (25, 18, 10, 60))).astype(np.float32)
        rest.append(save(root / "rest" / f"sub-02_ses-{ses}_task-rest_{MNI}_bold.nii.gz", data,
                         rest_affine, tr=TR))
    rest_mask = save(root / "rest" / "brain_mask.nii.gz", np.ones((25, 18, 10), np.uint8),
                     rest_affine)

    rest_confounds = root / "rest" / "sub-02_ses-placebo_task-rest_desc-confounds_timeseries.tsv"
    rows = np.column_stack([np.random.default_rng(7).normal(0, 0.05, (60, 8)),
                            np.r_[np.nan, np.full(59, 0.1)]])
    lines = ["\t".join(names)] + ["\t".join("n/a" if np.isnan(v) else f"{v:.6g}" for v in r)
                                  for r in rows]
    rest_confounds.write_text("\n".join(lines) + "\n")

    (root / "echo").mkdir(exist_ok=True)
    echoes, echo_mask = write_echoes(root / "echo", n_volumes=12)

    from tests.core.analysis.folders import spm_folder

    spm = spm_folder(root / "spm")["folder"]
    (root / "inputs.json").write_text(json.dumps({"shape": SHAPE, "tr": TR}))
    return GoodInputs(root, ref, stat, roi, dseg, csf, brain, subjects, run, events, physio,
                      peaks, motion, confounds, crossover, rest, rest_mask, rest_confounds,
                      echoes, echo_mask, spm)
