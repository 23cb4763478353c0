"""Small synthetic crossover studies for the crossover tests (tables and BIDS folders)."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np

SHAPE = (6, 5, 4)
AFFINE = np.array([[2.0, 0, 0, -6.0], [0, 2.0, 0, -4.0], [0, 0, 3.0, -3.0], [0, 0, 0, 1]])


def save_map(path: Path, data, affine=AFFINE, description: str = "first-level effect") -> Path:
    img = nib.Nifti1Image(np.asarray(data, np.float32), affine)
    img.header.set_sform(affine, 4)
    img.header.set_qform(affine, 4)
    img.header.set_xyzt_units("mm", "sec")
    img.header["descrip"] = description.encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    nib.save(img, str(path))
    return path


def make_maps(n=8, conditions=("pain", "baseline"), seed=0, effect=None):
    """Random maps ``maps[subject][treatment][condition]`` (float32) and drug periods.

    ``effect`` (grid-shaped) is added to every drug pain map. Voxel (0, 0, 0) is zero in
    every map (outside the brain).
    """
    rng = np.random.default_rng(seed)
    maps = {}
    for s in range(n):
        sid = f"sub-{s + 1:02d}"
        maps[sid] = {}
        for treatment in ("drug", "placebo"):
            maps[sid][treatment] = {}
            for condition in conditions:
                m = rng.normal(size=SHAPE).astype(np.float32)
                if effect is not None and treatment == "drug" and condition == "pain":
                    m = (m + effect).astype(np.float32)
                m[0, 0, 0] = 0.0
                maps[sid][treatment][condition] = m
    drug_period = {sid: 1 + (i % 2) for i, sid in enumerate(maps)}
    return maps, drug_period


def write_table(folder: Path, maps, drug_period=None, sep="\t", name="crossover.tsv",
                with_period=True) -> Path:
    """Write the maps under ``folder/maps`` and a study table with relative paths."""
    folder.mkdir(parents=True, exist_ok=True)
    header = ["subject", "treatment", "condition", "path"] + (["period"] if with_period else [])
    lines = [sep.join(header)]
    for sid, by_treatment in maps.items():
        for treatment, by_condition in by_treatment.items():
            for condition, data in by_condition.items():
                rel = f"maps/{sid}_{treatment}_{condition}.nii.gz"
                save_map(folder / rel, data)
                row = [sid, treatment, condition, rel]
                if with_period:
                    p = drug_period[sid] if treatment == "drug" else 3 - drug_period[sid]
                    row.append(str(p))
                lines.append(sep.join(row))
    table = folder / name
    table.write_text("\n".join(lines) + "\n")
    return table


def write_bids(folder: Path, maps, drug_period=None) -> Path:
    """BIDS-derivatives layout: sub-XX/ses-{drug,placebo}/..._contrast-<c>_stat-effect_statmap,
    plus stat-t decoys and a participants.tsv with the sequence two levels up."""
    deriv = folder / "derivatives" / "firstlevel"
    for sid, by_treatment in maps.items():
        for treatment, by_condition in by_treatment.items():
            for condition, data in by_condition.items():
                stem = f"{sid}_ses-{treatment}_task-pain_contrast-{condition}"
                base = deriv / sid / f"ses-{treatment}"
                save_map(base / f"{stem}_stat-effect_statmap.nii.gz", data)
                save_map(base / f"{stem}_stat-t_statmap.nii.gz", data * 10)
    if drug_period is not None:
        rows = ["participant_id\tsequence"] + [
            f"{sid}\t{'drug-placebo' if p == 1 else 'placebo-drug'}"
            for sid, p in drug_period.items()
        ]
        (folder / "participants.tsv").write_text("\n".join(rows) + "\n")
    return deriv
