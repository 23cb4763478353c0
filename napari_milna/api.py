"""The public Python API of napari-milna: the computations of the viewer and the CLI.

Each function is a thin, documented entry point over :mod:`napari_milna.core`. Images
are "niimg-like", as in nilearn: a file name, a path, an opened
:class:`~napari_milna.core.io.nifti.NiftiSource` or a nibabel NIfTI image held in memory.
Results are the core's dataclasses, with ``to_dict()`` (JSON-ready, what ``milna ...
--json`` prints) and, for tables, ``to_frame()`` (pandas). Bad input raises
:class:`~napari_milna.core.errors.MilnaInputError` with one sentence naming the file.

>>> import napari_milna
>>> napari_milna.framewise_displacement([[0, 0, 0, 0, 0, 0], [0.3, 0, 0, 0, 0, 0.002]])
array([0. , 0.4])
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from . import API_NAMES
from .core.protocol import (
    DROPOUT_THRESHOLD,
    FOURIER_ORDERS,
    GLM_HIGH_PASS_HZ,
    GLM_SMOOTHING_FWHM_MM,
    HEAD_RADIUS_MM,
    SEED_FRACTION,
    SVC_ALPHA,
    SVC_CONNECTIVITY,
    SVC_HEIGHT_P,
    SVC_MIN_DISTANCE_MM,
)

__all__ = list(API_NAMES)


def open_image(img):
    """Open and check a NIfTI image (3D volume or 4D run) without reading its voxels.

    Parameters
    ----------
    img : str, path-like, NiftiSource or nibabel image
        ``.nii``, ``.nii.gz`` or ``.hdr``/``.img``; NIfTI-1 or NIfTI-2.

    Returns
    -------
    NiftiSource
        The image with its voxel grid (``.grid``: shape, affine, voxel <-> world mm),
        ``.shape``, ``.is_run``, ``.tr``, ``.volume()`` (3D) and ``.run()`` (4D, read
        a volume at a time).

    Raises
    ------
    MilnaInputError
        Missing file, not NIfTI, truncated, RGB / complex data, not 3D or 4D, or an
        unusable affine.

    See Also
    --------
    napari_milna.core.io.nifti.open_nifti : what this calls.
    napari_milna.core.io.kinds.classify : what kind of image (T map, mask, run ...) it is.

    Examples
    --------
    >>> import nibabel as nib
    >>> import numpy as np
    >>> img = nib.Nifti1Image(np.zeros((4, 5, 6), np.float32), np.diag([2.5, 2.5, 3, 1]))
    >>> source = open_image(img)
    >>> source.shape, source.is_run
    ((4, 5, 6), False)
    >>> source.grid.to_world([1, 1, 1]).tolist()
    [2.5, 2.5, 3.0]
    """
    from .core.io.nifti import open_nifti

    return open_nifti(img)


def seed_roi(
    region: str,
    reference,
    *,
    variant: str | None = None,
    fraction: float = SEED_FRACTION,
    assume_mni: bool = False,
):
    """A literature seed (PAG or RVM, MNI mm) placed on a reference image's own grid.

    A voxel joins the ROI when the seed's shape covers at least ``fraction`` of it;
    nothing is upsampled. The reference must be in MNI space (sform / qform code 4, an
    MNI-like name, or ``assume_mni=True``).

    Parameters
    ----------
    region : {"PAG", "RVM"}
    reference : str, path-like, NiftiSource or nibabel image
        The stat map or EPI the ROI will be tested on.
    variant : str, optional
        PAG: ``"cylinder"`` (default, Satpute 2013) or ``"sphere"``; RVM: ``"canlab"``
        (default), ``"nrm"`` (Baer 2016) or ``"raphe"`` (Nash 2009).
    fraction : float
        Voxel coverage a voxel needs (default 0.5).
    assume_mni : bool
        Confirm MNI space when the header and the name do not say it.

    Returns
    -------
    RoiSeed
        ``.mask`` (bool array on the reference grid), ``.fraction`` (coverage),
        ``.spec`` (shape and citation) and ``.to_dict()``.

    Raises
    ------
    MilnaInputError
        Unknown region or variant, a reference not known to be MNI, or a seed outside
        its field of view.

    See Also
    --------
    roi_facts : size, centroid and CSF fraction of the seed.
    napari_milna.core.roi.seeds.SEEDS : the shapes and their sources.

    Examples
    --------
    >>> import nibabel as nib
    >>> import numpy as np
    >>> affine = np.array([[2., 0, 0, -20], [0, 2, 0, -50], [0, 0, 2, -30], [0, 0, 0, 1]])
    >>> mni = nib.Nifti1Image(np.zeros((20, 20, 20), np.float32), affine)
    >>> mni.set_sform(affine, code=4)
    >>> pag = seed_roi("PAG", mni)
    >>> pag.spec.variant, int(pag.mask.sum()) > 0
    ('cylinder', True)
    """
    from .core.io.nifti import open_nifti
    from .core.roi.seeds import seed_roi as _seed_roi

    return _seed_roi(region, open_nifti(reference), variant=variant, fraction=fraction,
                     assume_mni=assume_mni)


def _on_grid(img, grid, what: str, roi_source) -> np.ndarray:
    """Voxels of a map that must lie on the ROI's grid (array or niimg-like)."""
    from .core.errors import input_error
    from .core.io.nifti import load_volume

    if isinstance(img, np.ndarray):
        if img.shape != grid.shape:
            raise input_error(None, f"the {what} array has shape {img.shape}, not the ROI "
                                    f"grid's {grid.shape}")
        return img
    source = load_volume(img)
    if not source.grid.matches(grid):
        raise input_error(
            source.path, f"the {what} lies on a {source.grid.describe()} grid, not the grid "
            f"of the ROI {roi_source} ({grid.describe()}); resample it explicitly first"
        )
    return source.volume()


def roi_facts(roi, *, label: int | None = None, name: str | None = None, stat=None, csf=None,
              brain=None, coverage=None):
    """Size, centroid, CSF / brain / coverage fractions and stat values of one ROI.

    Parameters
    ----------
    roi : str, path-like, NiftiSource or nibabel image
        A mask (non-zero voxels) or a label image (then give ``label``).
    label : int, optional
        The label of a label image (default: every non-zero voxel).
    name : str, optional
        The ROI's name in the result.
    stat, csf, brain, coverage : niimg-like or ndarray, optional
        A statistic map, a CSF probability map, a brain mask and a coverage (analysis)
        mask on the ROI's grid.

    Returns
    -------
    RoiFacts
        ``n_voxels``, ``volume_mm3``, ``centroid_mm``, ``csf_fraction``,
        ``brain_fraction``, ``coverage_fraction``, ``stat_mean``, ``stat_peak`` and
        ``stat_peak_mm``; ``.to_dict()``.

    Raises
    ------
    MilnaInputError
        An unreadable file, or a map on another grid than the ROI.

    See Also
    --------
    seed_roi : literature seeds.
    napari_milna.core.roi.facts.roi_facts_table : every label of a dseg at once.

    Examples
    --------
    >>> import nibabel as nib
    >>> import numpy as np
    >>> mask = np.zeros((10, 10, 10), np.uint8)
    >>> mask[2:4, 2:4, 2:5] = 1
    >>> img = nib.Nifti1Image(mask, np.diag([2.0, 2.0, 3.0, 1.0]))
    >>> facts = roi_facts(img, name="box", csf=np.full((10, 10, 10), 0.25))
    >>> facts.n_voxels, facts.volume_mm3, facts.csf_fraction
    (12, 144.0, 0.25)
    >>> [float(v) for v in facts.centroid_mm]
    [5.0, 5.0, 9.0]
    """
    from .core.io.nifti import load_volume
    from .core.roi.facts import roi_facts as _roi_facts

    source = load_volume(roi)
    grid = source.grid
    maps = {key: _on_grid(img, grid, key, source.path)
            for key, img in (("stat", stat), ("csf", csf), ("brain", brain),
                             ("coverage", coverage)) if img is not None}
    return _roi_facts(source.volume(), grid, label, name=name, **maps)


def small_volume_correction(
    stat_img,
    roi_img,
    *,
    fwhm_mm,
    stat_type: str | None = None,
    df=None,
    label: int | None = None,
    mask_img=None,
    alpha: float = SVC_ALPHA,
    two_sided: bool = False,
    height_p: float = SVC_HEIGHT_P,
    min_distance_mm: float = SVC_MIN_DISTANCE_MM,
    connectivity: int = SVC_CONNECTIVITY,
):
    """Small-volume correction of a T / Z / F map in an ROI, as SPM12 does it.

    Family-wise error over the ROI only: min(random field theory, Bonferroni over the
    ROI voxels with data), FDR q over the same voxels, and the peaks and clusters at
    the uncorrected height ``height_p``.

    Parameters
    ----------
    stat_img : str, path-like, NiftiSource or nibabel image
        ``spmT_0001.nii``, ``zstat1.nii.gz`` ...; the type and df come from the name /
        header (SPM ``SPM{T_[20.0]}``) unless given.
    roi_img : niimg-like
        Mask or label image on the map's grid (never resampled silently).
    fwhm_mm : float or sequence of 3 float
        Smoothness (FWHM, mm): one value, or one per voxel axis (i, j, k).
    stat_type : {"T", "Z", "F"}, optional
    df : float or (float, float), optional
        Degrees of freedom (T: one value; F: two).
    label : int, optional
        Use only this label of a label image.
    mask_img : niimg-like, optional
        Analysis mask (default: the map's non-zero, non-NaN voxels).
    alpha : float
        FWE level (default 0.05).
    two_sided : bool
        Search both tails (alpha / 2 each).
    height_p : float
        Uncorrected p defining clusters and listed peaks (default 0.001).
    min_distance_mm : float
        Minimum distance between listed peaks (SPM's SVC: 4 mm).
    connectivity : {6, 18, 26}
        Cluster connectivity (SPM: 18).

    Returns
    -------
    SvcResult
        ``.peak`` (value, z, p uncorrected / FWE RFT / Bonferroni / FWE, q FDR, mm),
        ``.resels``, ``.threshold_fwe``, ``.peaks``, ``.clusters``; ``.to_dict()`` (the
        JSON of ``milna svc``) and ``.to_frame()`` (the CSV of the SVC tab).

    Raises
    ------
    MilnaInputError
        Unknown type or df, an empty ROI, an ROI or mask on another grid, no ROI voxel
        with data.

    See Also
    --------
    sign_flip_test : the permutation alternative over subject images.
    napari_milna.core.svc.correction.small_volume_correction : arrays in, same result.

    Examples
    --------
    >>> import nibabel as nib
    >>> import numpy as np
    >>> affine = np.diag([2.0, 2.0, 2.0, 1.0])
    >>> t = np.random.default_rng(0).normal(size=(12, 12, 12)).astype(np.float32)
    >>> t[6, 6, 6] = 5.0
    >>> roi = np.zeros((12, 12, 12), np.uint8)
    >>> roi[3:9, 3:9, 3:9] = 1
    >>> res = small_volume_correction(nib.Nifti1Image(t, affine), nib.Nifti1Image(roi, affine),
    ...                               fwhm_mm=4.0, stat_type="T", df=20)
    >>> res.n_voxels, [round(r, 3) for r in res.resels]
    (216, [1.0, 7.5, 18.75, 15.625])
    >>> res.peak.ijk, bool(res.peak.p_fwe < 0.05)
    ((6, 6, 6), True)
    """
    from .core.svc.correction import (
        analysis_mask_of,
        check_search_volume,
    )
    from .core.svc.correction import (
        small_volume_correction as _svc,
    )
    from .core.svc.inputs import read_mask, read_roi, read_stat_map
    from .core.svc.smoothness import smoothness_from_fwhm_mm

    stat = read_stat_map(stat_img, stat_type, df)
    grid = stat.grid
    owner = f"the statistic map {stat.source.path}"
    roi = read_roi(roi_img, grid, label, False, owner, "a resampled copy")
    mask = read_mask(mask_img, grid, False, owner, "a resampled copy") if mask_img else None
    check_search_volume(roi, analysis_mask_of(stat.data, mask))
    return _svc(
        stat.data, roi, grid, smoothness_from_fwhm_mm(np.atleast_1d(fwhm_mm), grid),
        stat.stat_type, stat.df, analysis_mask=mask, alpha=alpha, two_sided=two_sided,
        height_p=height_p, min_distance_mm=min_distance_mm, connectivity=connectivity,
    )


def sign_flip_test(
    images: Sequence,
    roi_img,
    *,
    label: int | None = None,
    n_perm: int = 0,
    seed: int = 0,
    two_sided: bool = False,
):
    """Sign-flip permutation test of subject images with FWE over an ROI (max t).

    A one-sample t per ROI voxel of the subject images (contrasts, or paired
    differences such as drug minus placebo), FWE-corrected by the maximum t over the
    ROI under sign flips (FSL randomise / SnPM style): all 2^N flips when there are at
    most 2^20, else ``n_perm`` random ones. ROI voxels without data in every subject
    (NaN, or zero in all) are left out.

    Parameters
    ----------
    images : sequence of niimg-like
        One 3D image per subject (or 4D files whose volumes are subjects), one grid.
    roi_img : niimg-like
        Mask or label image on the images' grid.
    label : int, optional
        Use only this label of a label image.
    n_perm : int
        0 (default): all flips when 2^N <= 2^20, else 10000 random flips.
    seed : int
        Seed of the random flips.
    two_sided : bool
        Max |t| instead of max t.

    Returns
    -------
    SignFlipResult
        ``t``, ``p_fwe`` and ``p_uncorrected`` per ROI voxel with data (C order),
        ``n_perm``, ``exhaustive``, ``peak_index``; ``.to_dict()``.

    Raises
    ------
    MilnaInputError
        Fewer than 5 subjects, images on different grids, an empty ROI, or no ROI
        voxel with data in every subject.

    See Also
    --------
    small_volume_correction : the random-field-theory SVC of a group map.
    napari_milna.core.svc.permutation.sign_flip_test : on a subjects x voxels matrix.

    Examples
    --------
    >>> import nibabel as nib
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> affine = np.eye(4)
    >>> subjects = [nib.Nifti1Image(rng.normal(1.0, 1.0, (4, 4, 4)), affine) for _ in range(6)]
    >>> roi = nib.Nifti1Image(np.ones((4, 4, 4), np.uint8), affine)
    >>> res = sign_flip_test(subjects, roi)
    >>> res.n_perm, res.exhaustive, res.t.shape
    (64, True, (64,))
    >>> float(res.p_fwe.min()) >= 1 / 64
    True
    """
    from .core.errors import input_error
    from .core.svc.inputs import read_roi, read_subject_images
    from .core.svc.permutation import MIN_SUBJECTS, subject_matrix
    from .core.svc.permutation import sign_flip_test as _sign_flip_test

    volumes, grid, first = read_subject_images(images)
    if len(volumes) < MIN_SUBJECTS:
        raise input_error(None, f"a sign-flip permutation test needs at least {MIN_SUBJECTS} "
                                f"subject images, got {len(volumes)}")
    roi = read_roi(roi_img, grid, label, False, f"the subject image {first}", "a copy")
    data, _ = subject_matrix(volumes, roi)
    if data.shape[1] == 0:
        raise input_error(None, "none of the ROI voxels has data (finite, not all zero) in "
                                "every subject image")
    return _sign_flip_test(data, n_perm=n_perm, seed=seed, two_sided=two_sided)


def run_qc(
    epi,
    *,
    brain_mask=None,
    csf=None,
    rois: Sequence = (),
    detrend: int = 0,
    dropout_threshold: float = DROPOUT_THRESHOLD,
):
    """Brainstem coverage / dropout QC of one EPI run, in one streamed pass.

    tSNR (mean / std, population, the nipype / MRIQC definition), signal ratio to the
    brain median, SPM's implicit mask (0.8 x global), CSF partial volume and
    pulsation, per ROI with a verdict (ok / warn / fail) and a reason in words.

    Parameters
    ----------
    epi : str, path-like, NiftiSource or nibabel image
        The 4D run (at least 10 volumes).
    brain_mask : niimg-like, optional
        Default: nilearn's ``compute_epi_mask`` of the temporal mean.
    csf : niimg-like, optional
        CSF probability map or binary mask.
    rois : sequence of niimg-like
        ROI masks or dseg label images (names from ``desc-<NAME>`` or the ``.tsv``).
    detrend : int
        Remove Legendre drifts of degree 1..K first (0: none).
    dropout_threshold : float
        Signal ratio below which a voxel counts as dropout (default 0.5).

    Returns
    -------
    QCResult
        ``tsnr_median``, ``n_volumes``, ``rois`` (coverage, dropout, tSNR, verdict,
        reason), ``maps`` (mean, std, tSNR, ratio ...); ``.to_dict()``.

    Raises
    ------
    MilnaInputError
        A 3D image, fewer than 10 volumes, unreadable or empty masks.

    See Also
    --------
    napari_milna.core.qc.batch.run_batch : many runs in parallel (dask).

    Examples
    --------
    >>> import nibabel as nib
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> run = 100.0 + rng.normal(0.0, 2.0, (8, 8, 8, 12))
    >>> affine = np.diag([3.0, 3.0, 3.0, 1.0])
    >>> brain = nib.Nifti1Image(np.ones((8, 8, 8), np.uint8), affine)
    >>> res = run_qc(nib.Nifti1Image(run, affine), brain_mask=brain)
    >>> res.n_volumes, 40 < res.tsnr_median < 60
    (12, True)
    """
    from .core.qc.coverage import run_qc as _run_qc

    return _run_qc(epi, brain_mask=brain_mask, csf=csf, rois=list(rois), detrend=detrend,
                   dropout_threshold=dropout_threshold)


def crossover(
    table,
    *,
    rois: Sequence = (),
    contrast: str | None = None,
    condition: str | None = None,
    control: str | None = None,
    period: bool = False,
    resample: bool = False,
):
    """Drug-vs-placebo crossover: per-subject contrasts, paired group t map, ROI statistics.

    The interaction (Drug_Pain - Drug_Baseline) - (Placebo_Pain - Placebo_Baseline), or
    Drug - Placebo of one condition or ready contrast; the paired group t (df N - 1,
    N - 2 with the period covariate) and per ROI: mean difference, paired t, Cohen's dz,
    Wilcoxon, exact sign-flip p and Holm across ROIs.

    Parameters
    ----------
    table : str or path-like
        A study table (TSV / CSV: ``subject``, ``treatment`` drug | placebo,
        ``condition``, ``path``, optional ``period``) or a BIDS-derivatives folder.
    rois : sequence of niimg-like
        ROI masks or dseg label images on the maps' grid.
    contrast : {"interaction", "difference"}, optional
    condition, control : str, optional
        The task and control conditions (default pain and baseline).
    period : bool
        Period (sequence) as a second-level covariate.
    resample : bool
        Resample maps on another grid onto the first map's (trilinear).

    Returns
    -------
    CrossoverResult
        ``df``, ``main_t()`` (group t map), ``group``, ``rois`` (RoiStats with
        ``to_dict()``), ``study``.

    Raises
    ------
    MilnaInputError
        A malformed table, missing maps, maps on different grids, fewer than 3
        subjects.

    See Also
    --------
    sign_flip_test : voxelwise permutation test of the per-subject contrasts.
    napari_milna.core.crossover.analysis.write_crossover : write the maps and tables.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import nibabel as nib
    >>> import numpy as np
    >>> import pandas as pd
    >>> folder = Path(tempfile.mkdtemp())
    >>> rng = np.random.default_rng(2)
    >>> rows = []
    >>> for s in range(1, 7):
    ...     for treatment, effect in (("drug", 1.0), ("placebo", 0.0)):
    ...         for condition in ("pain", "baseline"):
    ...             value = effect * (condition == "pain") + rng.normal(0, 0.3)
    ...             name = f"sub-{s}_{treatment}_{condition}.nii.gz"
    ...             nib.save(nib.Nifti1Image(np.full((3, 3, 3), value), np.eye(4)), folder / name)
    ...             rows.append((f"sub-{s}", treatment, condition, name))
    >>> table = pd.DataFrame(rows, columns=["subject", "treatment", "condition", "path"])
    >>> table.to_csv(folder / "study.csv", index=False)
    >>> roi = nib.Nifti1Image(np.ones((3, 3, 3), np.uint8), np.eye(4))
    >>> res = crossover(folder / "study.csv", rois=[roi])
    >>> res.df, res.rois[0].n, bool(res.rois[0].mean_difference > 0.5)
    (5.0, 6, True)
    """
    from .core.crossover.analysis import rois_from_files, run_crossover
    from .core.crossover.study_table import choose_contrast, open_study, validate_study

    study_table = open_study(table)
    chosen = choose_contrast(study_table, contrast, condition, control)
    study = validate_study(study_table, chosen, resample=resample)
    roi_list = rois_from_files(list(rois), study.grid) if rois else []
    return run_crossover(study, roi_list, period=period)


def retroicor(
    physio,
    n_volumes: int,
    tr: float,
    *,
    slice_time: float = 0.0,
    orders: Sequence[int] = FOURIER_ORDERS,
    peaks=None,
    cardiac_kind: str = "auto",
):
    """RETROICOR regressors (Glover 2000, Harvey 2008) of a run from its physiology.

    Cardiac phase between the surrounding beats, respiratory phase from the histogram
    of the belt amplitude and the sign of its slope, and their Fourier terms (orders 3
    cardiac, 4 respiratory, 1 interaction: 18 regressors), sampled at each volume's
    acquisition time of the chosen slice.

    Parameters
    ----------
    physio : str, path-like or PhysioRecording
        A BIDS ``*_physio.tsv.gz`` (its JSON sidecar next to it), or a recording.
    n_volumes : int
    tr : float
        Repetition time (s).
    slice_time : float
        Acquisition time (s within the TR) of the slice to sample at.
    orders : (int, int, int)
        Fourier orders: cardiac, respiratory, interaction.
    peaks : sequence of float, optional
        Corrected cardiac beat times (s); detected with neurokit2 when not given.
    cardiac_kind : {"auto", "ppg", "ecg"}

    Returns
    -------
    RetroicorResult
        ``regressors`` (n_volumes x 2C + 2R + 4M), ``columns``, ``peaks``;
        ``.to_frame()`` (the TSV) and ``.to_dict()``.

    Raises
    ------
    MilnaInputError
        A recording that does not cover the run, no cardiac or respiratory column, no
        beats, a flat belt trace.

    See Also
    --------
    first_level : a GLM with these regressors as confounds.
    napari_milna.core.preproc.retroicor.retroicor_variance_map : their partial R^2.

    Examples
    --------
    >>> import numpy as np
    >>> from napari_milna.core.preproc.physio import PhysioRecording
    >>> fs = 50.0
    >>> t = np.arange(0, 130, 1 / fs)
    >>> rec = PhysioRecording({"cardiac": np.sin(2 * np.pi * 1.1 * t),
    ...                        "respiratory": np.sin(2 * np.pi * 0.25 * t)}, fs)
    >>> res = retroicor(rec, n_volumes=60, tr=2.0, peaks=np.arange(0.2, 130, 1 / 1.1))
    >>> res.regressors.shape, res.columns[:2]
    ((60, 18), ['cardiac_cos1', 'cardiac_cos2'])
    """
    from .core.preproc.physio import PhysioRecording, peaks_from_times, read_bids_physio
    from .core.preproc.retroicor import FourierOrders, compute_retroicor

    recording = physio if isinstance(physio, PhysioRecording) else read_bids_physio(physio)
    beats = None if peaks is None else peaks_from_times(peaks)
    return compute_retroicor(recording, int(n_volumes), float(tr), slice_time=slice_time,
                             orders=FourierOrders(*orders), peaks=beats,
                             cardiac_kind=cardiac_kind)


def framewise_displacement(motion, fmt: str | None = None, *,
                           radius: float = HEAD_RADIUS_MM) -> np.ndarray:
    """Framewise displacement (Power et al. 2012) in mm, one value per volume.

    ``FD_t = |dx| + |dy| + |dz| + r (|d rot_x| + |d rot_y| + |d rot_z|)`` with ``d`` the
    difference to the previous volume, rotations in radians, ``r`` = 50 mm; FD_0 = 0.

    Parameters
    ----------
    motion : str, path-like, MotionParameters or array of shape (n, 6)
        A motion file (give ``fmt``), or translations x, y, z (mm) then rotations about
        x, y, z (rad) per volume.
    fmt : {"spm", "fsl", "afni", "fmriprep"}, optional
        Format of a motion file: SPM ``rp_*.txt``, FSL ``.par``, AFNI 3dvolreg 1D,
        fMRIPrep confounds TSV.
    radius : float
        Head radius (mm) turning rotations into displacements.

    Returns
    -------
    ndarray (n,)

    Raises
    ------
    MilnaInputError
        A file without ``fmt``, or an unreadable file.

    See Also
    --------
    napari_milna.core.preproc.motion.assess_motion : FD summary and the scrub mask.

    Examples
    --------
    >>> framewise_displacement(np.array([[0, 0, 0, 0, 0, 0], [0.1, -0.2, 0, 0.001, 0, 0]]))
    array([0.  , 0.35])
    """
    from .core.errors import input_error
    from .core.preproc.motion import MotionParameters, read_motion
    from .core.preproc.motion import framewise_displacement as _fd

    if isinstance(motion, (str, os.PathLike)):
        if fmt is None:
            raise input_error(motion, "is a motion file; give its format (spm, fsl, afni or "
                                      "fmriprep)")
        motion = read_motion(motion, fmt)
    elif not isinstance(motion, MotionParameters):
        motion = np.asarray(motion, dtype=float)
    return _fd(motion, radius)


def first_level(
    bold,
    events,
    *,
    confounds=None,
    smoothing_fwhm: float | None = GLM_SMOOTHING_FWHM_MM,
    high_pass: float = GLM_HIGH_PASS_HZ,
    noise_model: str = "ar1",
    mask_img=None,
    tr: float | None = None,
):
    """First-level pain GLM (nilearn): Pain > Baseline and Pain > Sensory as SPM-style maps.

    Block design from BIDS events with SPM's canonical HRF, cosine drift (128 s), AR(1)
    noise, 5 mm smoothing (brainstem: 4-5 mm, not 8).

    Parameters
    ----------
    bold : str, path-like, NiftiSource or nibabel image
        The preprocessed 4D run (its TR from the header unless ``tr`` is given).
    events : str, path-like or pandas.DataFrame
        BIDS ``*_events.tsv`` (``onset``, ``duration``, ``trial_type``: pain, sensory,
        baseline / rest).
    confounds : pandas.DataFrame, optional
        One row per volume (RETROICOR, motion, CSF ...).
    smoothing_fwhm : float or None
        Gaussian smoothing (mm); None for none.
    high_pass : float
        Cosine drift cut-off (Hz).
    noise_model : {"ar1", "ols"}
    mask_img : niimg-like, False or None
        GLM mask; None lets nilearn compute one; False fits every voxel.
    tr : float, optional

    Returns
    -------
    FirstLevelFit
        ``contrasts`` (name, ``t`` and ``effect`` maps on the BOLD grid), ``df``,
        ``mask``, the fitted nilearn ``model``; ``.to_dict()``.

    Raises
    ------
    MilnaInputError
        A 3D image, no TR, events outside the run, no ``pain`` trial type.

    See Also
    --------
    retroicor : physiological confounds.
    napari_milna.core.preproc.pain_glm.pain_glm : the whole ``milna glm`` pipeline.

    Examples
    --------
    >>> import nibabel as nib
    >>> import numpy as np
    >>> import pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> affine = np.diag([3.0, 3.0, 3.0, 1.0])
    >>> run = 100 + rng.normal(0, 1, (5, 5, 5, 60))
    >>> run[2, 2, 2, :] += 3 * (np.arange(60) % 20 >= 10)
    >>> bold = nib.Nifti1Image(run, affine)
    >>> bold.header.set_zooms((3.0, 3.0, 3.0, 2.0))
    >>> events = pd.DataFrame({"onset": np.arange(20.0, 120, 40), "duration": 20.0,
    ...                        "trial_type": "pain"})
    >>> fit = first_level(bold, events, smoothing_fwhm=None, mask_img=False)
    >>> [c.name for c in fit.contrasts], fit.n_scans
    (['pain'], 60)
    >>> t = fit.contrast("pain").t
    >>> tuple(int(i) for i in np.unravel_index(np.nanargmax(t), t.shape))
    (2, 2, 2)
    """
    import pandas as pd

    from .core.io.nifti import open_nifti
    from .core.preproc.first_level import fit_first_level, read_events

    source = open_nifti(bold)
    if not isinstance(events, pd.DataFrame):
        events = read_events(events, source.n_volumes, tr or source.tr or 0.0)
    return fit_first_level(source, events, confounds=confounds, smoothing_fwhm=smoothing_fwhm,
                           high_pass=high_pass, noise_model=noise_model, mask_img=mask_img,
                           tr=tr)



def multi_echo(
    echoes: Sequence,
    out_dir,
    *,
    echo_times_ms: Sequence[float] | None = None,
    mask=None,
    rois: Sequence = (),
    overwrite: bool = False,
):
    """Multi-echo EPI: T2* and S0 maps, the adaptive mask and the optimal combination.

    The log-linear fit over echoes with tedana's adaptive mask (how many echoes are
    usable per voxel) and the T2*-weighted combination of Posse (1999), streamed over
    the run in chunks; the files (``T2starmap``, ``S0map``, the combined ``bold`` and
    the adaptive mask, BIDS-derivative names) are written to ``out_dir`` with the first
    echo's header. As ``milna multiecho``.

    Parameters
    ----------
    echoes : sequence of path-like
        One 4D run per echo, in order of increasing echo time, on one grid.
    out_dir : path-like
        Existing folder for the outputs.
    echo_times_ms : sequence of float, optional
        Echo times in ms; by default each echo's JSON sidecar ``EchoTime`` (seconds).
    mask : path-like, optional
        Brain mask; by default nilearn's ``compute_epi_mask`` of echo 1's mean.
    rois : sequence
        ``"PAG"`` / ``"RVM"`` (literature seeds, MNI space) or ROI mask / dseg files:
        per ROI, tSNR of each echo and of the combination, median T2*, signal recovery.
    overwrite : bool
        Replace existing outputs.

    Returns
    -------
    MultiEchoResult
        ``t2star_ms``, ``s0``, ``adaptive``, ``tsnr_echoes``, ``rois``, ``qc`` (the
        combined run's QC), ``paths``; ``.to_dict()`` is ``milna multiecho --json``.

    Raises
    ------
    MilnaInputError
        A single echo, echoes on different grids or of different lengths, missing or
        non-increasing echo times, an existing output without ``overwrite``.

    See Also
    --------
    run_qc : the QC of one run.

    Examples
    --------
    Three echoes (TE 13 / 30 / 47 ms) of a run whose T2* is 40 ms everywhere:

    >>> from pathlib import Path
    >>> from tempfile import mkdtemp
    >>> import nibabel as nib
    >>> import numpy as np
    >>> folder, rng = Path(mkdtemp()), np.random.default_rng(0)
    >>> affine = np.diag([3.0, 3.0, 3.0, 1.0])
    >>> nib.save(nib.Nifti1Image(np.ones((6, 6, 6), np.uint8), affine), folder / "brain.nii")
    >>> files = []
    >>> for number, te in enumerate([13.0, 30.0, 47.0], start=1):
    ...     run = 1000.0 * np.exp(-te / 40.0) * (1 + 0.01 * rng.standard_normal((6, 6, 6, 12)))
    ...     files.append(folder / f"sub-01_echo-{number}_bold.nii.gz")
    ...     nib.save(nib.Nifti1Image(run.astype(np.float32), affine), files[-1])
    >>> res = multi_echo(files, folder, echo_times_ms=[13, 30, 47], mask=folder / "brain.nii")
    >>> round(float(np.median(res.t2star_ms[res.mask])))  # the simulated T2*: 40 ms
    40
    >>> sorted(res.paths)[:3]
    ['adaptive_mask', 'optcom', 'optcom_json']
    """
    from .core.multiecho.combine import multiecho_combine

    return multiecho_combine(list(echoes), out_dir, echo_times_ms=echo_times_ms, mask=mask,
                             rois=list(rois), overwrite=overwrite)
