"""The report's methods paragraphs, written from the parameters actually used.

Software versions come from the installed packages; FWHM, its source, df and thresholds
from each SVC result; flips from the crossover statistics; seeds' citations from
:mod:`napari_milna.core.roi.seeds`; QC, motion and RETROICOR settings from their results.
"""

from __future__ import annotations

import platform
from importlib import metadata

from ..protocol import SEED_FRACTION

#: Packages named in the software sentence (distribution name, how it is written).
PACKAGES = (
    ("numpy", "NumPy"),
    ("scipy", "SciPy"),
    ("nibabel", "nibabel"),
    ("nilearn", "nilearn"),
    ("pandas", "pandas"),
    ("scikit-image", "scikit-image"),
    ("matplotlib", "matplotlib"),
)


def package_version(name: str) -> str | None:
    """Installed version of a distribution (None when it is not installed)."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def software_versions(physio: bool = False) -> dict[str, str]:
    """``{"napari-milna": ..., "Python": ..., "NumPy": ...}`` of what computed the report."""
    from ... import __version__

    out = {"napari-milna": package_version("napari-milna") or __version__,
           "Python": platform.python_version()}
    packages = PACKAGES + ((("neurokit2", "NeuroKit2"),) if physio else ())
    for dist, label in packages:
        version = package_version(dist)
        if version:
            out[label] = version
    return out


def _mm(values) -> str:
    return " x ".join(f"{v:.3g}" for v in values)


def _stat_words(entry) -> str:
    """``a T map with 14 degrees of freedom (SPM.mat xX.erdf)``, or FSL's z of a t map."""
    r = entry.result
    converted = entry.summary.get("converted_from") == "T"
    if converted:
        return f"the z map of its t map with {entry.df_source}"
    if r.df is None:
        return f"a {r.stat_type} map"
    if isinstance(r.df, (tuple, list)):
        df = f"{r.df[0]:g} and {r.df[1]:g}"
    else:
        df = f"{r.df:g}"
    return f"a {r.stat_type} map with {df} degrees of freedom (from {entry.df_source})"


def _smoothness_words(smoothness) -> str:
    source = {"fwhm_mm": "typed", "fsl_smoothness": "FSL's smoothness file",
              "residuals": "estimated from the residuals"}.get(smoothness.source,
                                                               smoothness.source)
    return f"FWHM {_mm(smoothness.fwhm_mm)} mm along the voxel axes ({source})"


def _rois_paragraph(rep) -> str:
    parts = []
    seeds = {str(s.path): s for s in rep.seeds}
    for roi in rep.inputs.rois:
        seed = seeds.get(str(roi.path))
        if seed is not None:
            parts.append(
                f"the {roi.name} as a literature seed, {seed.spec.description} "
                f"({seed.spec.citation}), placed on the grid of {seed.reference.name} "
                f"keeping voxels covered by at least {SEED_FRACTION:g} of their volume "
                f"({seed.n_voxels} voxels; MNI space by {seed.mni_evidence})")
        else:
            label = f", label {roi.label}" if roi.label is not None else ""
            origin = "saved with the session" if roi.origin == "session" else "given"
            parts.append(f"the {roi.name} from {roi.path.name}{label} ({origin})")
    if not parts:
        return ""
    return "Regions of interest: " + "; ".join(parts) + "."


def _svc_paragraph(rep) -> str:
    if not rep.svc:
        return ""
    seen, maps = set(), []
    for entry in rep.svc:
        if entry.contrast.name in seen:
            continue
        seen.add(entry.contrast.name)
        r = entry.result
        mask = entry.summary["files"]["mask"]
        maps.append(f"{entry.contrast.name}: {_stat_words(entry)}, smoothness "
                    f"{_smoothness_words(r.smoothness)}, analysis mask "
                    + (mask.rsplit('/', 1)[-1] if mask else "the map's non-zero voxels"))
    r = rep.svc[0].result
    levels = r.levels
    extent = levels.extent_method if levels is not None else "stationary"
    rpv = " (SPM's RPV image)" if extent == "non-stationary" else ""
    return (
        "Small-volume correction followed SPM12 (spm_VOI, spm_resels_vol, spm_P_RF, spm_uc) "
        "with each ROI as the search volume: " + "; ".join(maps) + ". Resel counts were "
        "those of the ROI; peak-level family-wise error (FWE) p values are the smaller of "
        "random field theory and Bonferroni over the ROI voxels inside the analysis mask, "
        f"{'two' if r.two_sided else 'one'}-sided at alpha = {r.alpha:g}; FDR q values are "
        "Benjamini-Hochberg over the same voxels. Clusters were formed at p < "
        f"{r.height_p:g} uncorrected with {r.connectivity}-connectivity and an extent "
        f"threshold of {levels.extent_voxels if levels is not None else 0} voxels; cluster- "
        f"and set-level p values as spm_P_RF with {extent} cluster extents{rpv}, cluster "
        "q values SPM's topological FDR (spm_P_clusterFDR over every cluster in the ROI "
        "at that height, Chumbley and Friston 2009); the table "
        f"lists up to {levels.max_peaks if levels is not None else 3} maxima per cluster at "
        f"least {levels.min_distance_mm if levels is not None else 8:g} mm apart, as SPM's "
        "results table. Figures show the map above the cluster-forming height on every "
        "axial slice of its grid through the ROI."
    )


def _qc_paragraph(rep) -> str:
    if not rep.qc:
        return ""
    first = rep.qc[0]
    return (
        f"Coverage and dropout QC of {len(rep.qc)} run(s): tSNR as the temporal mean over "
        "the standard deviation (population, ddof 0; detrending degree "
        f"{first['detrend']}), the signal ratio to the brain's median, dropout below "
        f"{first['dropout_threshold']:g} of it, SPM's implicit mask (voxels below 0.8 x the "
        "global mean) and the CSF partial volume and CSF signal correlation, each per ROI "
        "with the verdict of milna qc."
    )


def _crossover_paragraph(rep) -> str:
    if not rep.crossover:
        return ""
    out = []
    for entry in rep.crossover:
        s = entry.summary
        flips = sorted({r.n_perm for r in entry.rois})
        n = s["n_subjects"]
        flip_words = ""
        if flips:
            exact = flips == [2 ** n]
            flip_words = (f", an exact sign-flip test over all 2^{n} = {2 ** n} flips"
                          if exact else f", a sign-flip test with {flips[0]} flips")
        out.append(
            f"Crossover ({entry.table.name}, {n} subjects): per subject the "
            f"{s['contrast']['label']} averaged over each ROI, then the paired t test "
            f"(df {s['df']:g}), Cohen's dz, the Wilcoxon signed-rank test{flip_words}, and "
            f"Holm's correction across the {len(entry.rois)} ROIs.")
    return " ".join(out)


def _motion_paragraph(rep) -> str:
    if not rep.motion:
        return ""
    m = rep.motion[0]
    return (f"Framewise displacement (Power et al. 2012) of {len(rep.motion)} motion file(s) "
            "with rotations on a 50 mm sphere; volumes with FD above "
            f"{m.threshold:g} mm are flagged for scrubbing.")


def _physio_paragraph(rep) -> str:
    if not rep.physio:
        return ""
    p = rep.physio[0]
    orders = p["orders"]
    return (
        f"Physiology: cardiac peaks by {p['peak_source']}; RETROICOR (Glover 2000; Harvey "
        f"2008) with Fourier orders {orders[0]} cardiac, {orders[1]} respiratory and "
        f"{orders[2]} interaction ({len(p['columns'])} regressors), sampled at "
        f"{p['slice_time']:.3f} s into each volume ({p['slice_time_source']})."
    )


def methods_paragraphs(rep) -> list[str]:
    """The methods of a :class:`~.build.StudyReport`, one paragraph per part used."""
    versions = software_versions(physio=bool(rep.physio))
    main = ", ".join(f"{k} {v}" for k, v in versions.items() if k not in ("napari-milna",
                                                                         "Python"))
    software = (
        f"Computed with napari-milna {versions['napari-milna']} (Python {versions['Python']}; "
        f"{main}) on {rep.created[:10]}, from {rep.source_name}. Every number here comes "
        "from the functions behind the milna command line and the napari panel."
    )
    parts = [software, _rois_paragraph(rep), _svc_paragraph(rep), _qc_paragraph(rep),
             _crossover_paragraph(rep), _motion_paragraph(rep), _physio_paragraph(rep)]
    return [p for p in parts if p]


__all__ = ["PACKAGES", "methods_paragraphs", "package_version", "software_versions"]
