"""Write the sample study's second level as SPM12 and FEAT would: ``SPM.mat`` and a ``.feat``.

``SPM.mat`` is written with :func:`scipy.io.savemat` in SPM12's structure (the fields
``spm_spm`` and ``spm_contrasts`` fill that the results need): ``xX`` (design, ``erdf``),
``xVol`` (``M``, ``iM``, ``DIM``, ``FWHM`` in voxels, ``R``, ``S``, ``VRpv``), ``xCon``
(``name``, ``STAT``, ``c``, ``eidf``, ``Vcon``, ``Vspm``), ``VM``, ``VResMS``, ``Vbeta``,
``SPMid``, ``swd``, ``xY.P``. Volume structures (``spm_vol``) carry ``fname``, ``dim``,
``dt``, ``pinfo``, ``mat`` (1-based voxel -> mm) and ``descrip``; SPM's ``private``
``@nifti`` object is left out. The FWHM is the one the generator smoothed with.

Beside it: ``beta_0001.nii`` (the mean), ``ResMS.nii`` (residual variance, NaN outside
the mask, as SPM writes it) and ``RPV.nii`` (resels per voxel, ``1 / prod(FWHM)`` in
voxels inside the mask, NaN outside). The FEAT-like folder holds ``stats/tstat1``,
``zstat1`` (t converted to z with the df, as FSL's ttoz), ``cope1``, ``varcope1``,
``tdof_t1``, ``dof``, ``smoothness`` (DLH, VOLUME, RESELS from the same FWHM),
``design.con``, ``design.fsf`` and ``mask.nii.gz``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy import io as sio
from scipy import special, stats

#: SPM12's version string as spm_spm stores it.
SPM_ID = "SPM12: spm_spm (v7771)"
#: spm_type codes: float32, uint8.
SPM_FLOAT32 = [16, 0]
SPM_UINT8 = [2, 0]
FOUR_LN2 = 4.0 * np.log(2.0)


def one_based(affine: np.ndarray) -> np.ndarray:
    """SPM's ``mat``: the NIfTI affine for MATLAB's 1-based voxel indices."""
    shift = np.eye(4)
    shift[:3, 3] = -1.0
    return np.asarray(affine, dtype=float) @ shift


def spm_vol(fname: str, dim, affine, dt=SPM_FLOAT32, descrip: str = "") -> dict:
    """An ``spm_vol`` structure (without the ``private`` nifti object)."""
    return {
        "fname": fname,
        "dim": np.asarray(dim, dtype=float).reshape(1, 3),
        "dt": np.asarray(dt, dtype=float).reshape(1, 2),
        "pinfo": np.array([[1.0], [0.0], [352.0]]),
        "mat": one_based(affine),
        "n": np.array([[1.0, 1.0]]),
        "descrip": descrip,
    }


def struct_array(records: list[dict]) -> np.ndarray:
    """A MATLAB 1 x n struct array (savemat writes numpy records with object fields so)."""
    names = list(records[0])
    out = np.zeros((1, len(records)), dtype=[(n, "O") for n in names])
    for i, rec in enumerate(records):
        for n in names:
            out[0, i][n] = rec[n]
    return out


def spm_structure(
    *,
    folder: str,
    n_scans: int,
    scans: list[str],
    design: np.ndarray,
    regressor_names: list[str],
    contrasts: list[dict],
    erdf: float,
    fwhm_voxels,
    resels,
    n_search_voxels: int,
    dim,
    affine,
) -> dict:
    """SPM12's ``SPM`` structure for an estimated model with contrasts.

    ``contrasts``: dicts with ``name``, ``STAT``, ``c`` (weights), ``eidf``, ``con``
    (image name) and ``spm`` (statistic image name), ``descrip``.
    """
    m = one_based(affine)
    x_con = struct_array([
        {
            "name": c["name"],
            "STAT": c["STAT"],
            "c": np.asarray(c["c"], dtype=float).reshape(-1, 1),
            "X0": np.zeros((n_scans, 0)),
            "iX0": np.zeros((1, 0)),
            "X1o": np.zeros((n_scans, 1)),
            "eidf": float(c["eidf"]),
            "Vcon": spm_vol(c["con"], dim, affine, descrip=f"SPM contrast - {c['name']}"),
            "Vspm": spm_vol(c["spm"], dim, affine, descrip=c["descrip"]),
        }
        for c in contrasts
    ])
    return {
        "SPMid": SPM_ID,
        "swd": folder,
        "nscan": float(n_scans),
        "xY": {"P": np.array(scans, dtype=object).reshape(-1, 1)},
        "xX": {
            "X": np.asarray(design, dtype=float),
            "name": np.array(regressor_names, dtype=object).reshape(1, -1),
            "iH": np.zeros((1, 0)), "iC": np.arange(1, design.shape[1] + 1, dtype=float),
            "iB": np.zeros((1, 0)), "iG": np.zeros((1, 0)),
            "erdf": float(erdf), "trRV": float(erdf), "trRVRV": float(erdf),
        },
        "xVol": {
            "M": m,
            "iM": np.linalg.inv(m),
            "DIM": np.asarray(dim, dtype=float).reshape(3, 1),
            "FWHM": np.asarray(fwhm_voxels, dtype=float).reshape(1, 3),
            "R": np.asarray(resels, dtype=float).reshape(1, 4),
            "S": float(n_search_voxels),
            "VRpv": spm_vol("RPV.nii", dim, affine, descrip="spm_spm: resels per voxel"),
            "units": np.array(["mm", "mm", "mm"], dtype=object).reshape(1, 3),
        },
        "xCon": x_con,
        "VM": spm_vol("mask.nii", dim, affine, dt=SPM_UINT8, descrip="spm_spm:resultant "
                      "analysis mask"),
        "VResMS": spm_vol("ResMS.nii", dim, affine, descrip="spm_spm:Residual sum-of-squares"),
        "Vbeta": struct_array([spm_vol("beta_0001.nii", dim, affine,
                                       descrip="spm_spm:beta (0001) - mean")]),
    }


#: The 116-byte text of the MAT header (scipy writes the time there; fixed for reproducibility).
MAT_HEADER_TEXT = b"MATLAB 5.0 MAT-file, written by napari-milna's sample generator (scipy.io)"


def write_spm_mat(path: Path, spm: dict) -> Path:
    """Write ``{"SPM": spm}`` as a MAT v5 file (what SPM saves below 2 GB), reproducibly."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    sio.savemat(str(tmp), {"SPM": spm}, format="5", long_field_names=True, oned_as="column")
    with open(tmp, "r+b") as fh:
        fh.write(MAT_HEADER_TEXT.ljust(116))
    tmp.replace(path)
    return path


def write_spm_second_level(folder: Path, interaction: np.ndarray, mask: np.ndarray,
                           affine: np.ndarray, fwhm_mm: float, contrast_name: str,
                           t_description: str, write_nifti) -> dict:
    """Write SPM.mat, beta_0001, ResMS and RPV of a one-sample t second level.

    ``spmT_0001.nii``, ``con_0001.nii`` and ``mask.nii`` are written by the caller;
    ``write_nifti(data, path, affine, description=...)`` writes the others.

    Returns
    -------
    dict
        What was written (FWHM in voxels, resels, search voxels, df).
    """
    from napari_milna.core.svc.resels import resel_counts

    n = interaction.shape[0]
    zooms = np.sqrt((np.asarray(affine)[:3, :3] ** 2).sum(axis=0))
    fwhm_vox = float(fwhm_mm) / zooms
    mean = interaction.mean(axis=0)
    var = interaction.var(axis=0, ddof=1)
    dim = mask.shape
    write_nifti(np.where(mask, mean, np.nan).astype(np.float32), folder / "beta_0001.nii",
                affine, description="spm_spm:beta (0001) - mean")
    write_nifti(np.where(mask, var, np.nan).astype(np.float32), folder / "ResMS.nii", affine,
                description="spm_spm:Residual sum-of-squares")
    rpv = np.where(mask, 1.0 / np.prod(fwhm_vox), np.nan).astype(np.float32)
    write_nifti(rpv, folder / "RPV.nii", affine, description="spm_spm: resels per voxel")
    resels = resel_counts(mask, fwhm_vox)
    scans = [f"../../firstlevel/sub-{s + 1:02d}_interaction.nii,1" for s in range(n)]
    spm = spm_structure(
        folder=folder.name, n_scans=n, scans=scans, design=np.ones((n, 1)),
        regressor_names=["mean"],
        contrasts=[{"name": contrast_name, "STAT": "T", "c": [1.0], "eidf": 1.0,
                    "con": "con_0001.nii", "spm": "spmT_0001.nii",
                    "descrip": t_description}],
        erdf=n - 1, fwhm_voxels=fwhm_vox, resels=resels, n_search_voxels=int(mask.sum()),
        dim=dim, affine=affine,
    )
    write_spm_mat(folder / "SPM.mat", spm)
    return {"fwhm_voxels": [float(v) for v in fwhm_vox], "resels": [float(v) for v in resels],
            "search_voxels": int(mask.sum()), "df": float(n - 1)}


def fsl_smoothness_text(fwhm_voxels, n_voxels: int) -> str:
    """FSL ``stats/smoothness`` for a known FWHM (voxels): DLH, VOLUME, RESELS."""
    resel = float(np.prod(fwhm_voxels))
    return f"DLH {FOUR_LN2 ** 1.5 / resel:.6g}\nVOLUME {n_voxels}\nRESELS {resel:.6g}\n"


def t_to_z(t: np.ndarray, df: float) -> np.ndarray:
    """FSL ttoz: the z with the same upper-tail probability (log scale, exact in the tails)."""
    return -special.ndtri_exp(stats.t.logsf(t, df))


def write_feat_folder(feat: Path, interaction: np.ndarray, mask: np.ndarray,
                      affine: np.ndarray, fwhm_mm: float, contrast_name: str,
                      write_nifti) -> dict:
    """A FEAT-like higher-level folder (one group mean) of the same interaction maps."""
    n = interaction.shape[0]
    zooms = np.sqrt((np.asarray(affine)[:3, :3] ** 2).sum(axis=0))
    fwhm_vox = float(fwhm_mm) / zooms
    mean = interaction.mean(axis=0)
    var = interaction.var(axis=0, ddof=1) / n
    ok = mask & (var > 0)
    t = np.zeros(mask.shape)
    t[ok] = mean[ok] / np.sqrt(var[ok])
    z = np.zeros(mask.shape)
    z[ok] = t_to_z(t[ok], n - 1)
    stats_dir = feat / "stats"
    stats_dir.mkdir(parents=True, exist_ok=True)
    for name, data in (("tstat1", t), ("zstat1", z), ("cope1", np.where(mask, mean, 0.0)),
                       ("varcope1", np.where(mask, var, 0.0)),
                       ("tdof_t1", np.where(mask, n - 1.0, 0.0))):
        write_nifti(data.astype(np.float32), stats_dir / f"{name}.nii.gz", affine,
                    description=f"FSL {name} (napari-milna sample)")
    write_nifti(mask.astype(np.uint8), feat / "mask.nii.gz", affine, description="FSL mask")
    (stats_dir / "dof").write_text(f"{n - 1}\n")
    (stats_dir / "smoothness").write_text(fsl_smoothness_text(fwhm_vox, int(mask.sum())))
    (feat / "design.con").write_text(
        f"/ContrastName1\t{contrast_name}\n/NumWaves\t1\n/NumContrasts\t1\n"
        "/PPheights\t\t1.000000e+00\n/RequiredEffect\t\t1.0\n\n/Matrix\n1.000000e+00 \n"
    )
    (feat / "design.fsf").write_text(
        "# FEAT version number\nset fmri(version) 6.00\n# Analysis level\n"
        "set fmri(level) 2\n# Mixed effects: 3 = fixed effects, 2 = FLAME 1\n"
        f"set fmri(mixed_yn) 2\nset fmri(npts) {n}\nset fmri(ncon_real) 1\n"
        f"set fmri(conname_real.1) \"{contrast_name}\"\n"
    )
    return {"fwhm_voxels": [float(v) for v in fwhm_vox], "df": float(n - 1),
            "resels_per_voxel_volume": float(np.prod(fwhm_vox))}
