"""Write every file of the sample study into a folder, and its ``truth.json``.

Used by :func:`napari_milna.sample_data.study.generate_sample_study`, which writes into
a temporary folder and renames it into place. Each random component has its own
stream, ``numpy.random.default_rng([SAMPLE_SEED, k])``, so the data are identical from
one generation to the next.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from napari_milna import __version__

from . import anatomy as anat_mod
from . import crossover as xo
from . import motion as motion_mod
from . import multiecho as multiecho_mod
from . import physio as physio_mod
from . import run as run_mod
from .layout import (
    FIRSTLEVEL_DIR,
    PATHS,
    SAMPLE_SEED,
    SAMPLE_VERSION,
    SPACE,
    SUBJECT,
    TASK,
    effect_map_path,
)
from .regions import REGIONS, coverage_maps, label_image
from .spm_folder import write_feat_folder, write_spm_second_level
from .writing import write_json, write_nifti, write_tsv, write_tsv_gz_no_header

#: Stream numbers of the random components.
STREAMS = {"physio": 1, "fields": 2, "motion": 3, "noise": 4, "crossover": 5, "participants": 6,
           "multiecho": 7}

#: Header description of the group t map (SPM convention: statistic and df).
GROUP_T_DESCRIPTION = "SPM{T_[14.0]} - drug x pain interaction"

README_SOURCE = Path(__file__).with_name("README.md")


def _rng(name: str) -> np.random.Generator:
    return np.random.default_rng([SAMPLE_SEED, STREAMS[name]])


def _stats(x) -> dict:
    x = np.asarray(x, dtype=float)
    return {"mean": float(x.mean()), "min": float(x.min()), "max": float(x.max())}


def write_study(folder: Path) -> dict:
    """Generate the study into ``folder`` (which must exist and be empty); return the truth.

    The completion marker is not written here (the caller writes it last).
    """
    folder = Path(folder)
    anat = anat_mod.build_anatomy()
    grid = anat.grid
    affine = grid.affine
    covs = coverage_maps(grid)
    traces = physio_mod.simulate_physio(_rng("physio"), run_mod.N_VOLUMES, run_mod.TR)
    run = run_mod.simulate_run(_rng("fields"), _rng("motion"), _rng("noise"), anat, covs, traces)
    cross = xo.simulate_crossover(_rng("crossover"), _rng("participants"), grid, anat.brain, covs)

    def p(key: str) -> Path:
        return folder / PATHS[key]

    # Anatomy and masks.
    write_nifti(anat.t1w.astype(np.float32), p("anat_t1w"), affine,
                description="MNI152 ICBM2009 sym T1 template (nilearn) on the EPI grid")
    for key, data, label in (("gm_probseg", anat.gm, "GM"), ("wm_probseg", anat.wm, "WM"),
                             ("csf_probseg", anat.csf, "CSF")):
        write_nifti(data.astype(np.float32), p(key), affine,
                    description=f"{label} probability (MNI152 template)")
    write_nifti(anat.brain.astype(np.uint8), p("brain_mask"), affine, description="brain mask")
    # The display underlay at 1 mm: nilearn's templates on their own grid, not resampled.
    fine = anat_mod.build_anatomy_1mm()
    for key, data, text in (
        ("anat_t1w_1mm", fine.t1w, "MNI152 ICBM2009 sym T1 template 1 mm (nilearn)"),
        ("gm_probseg_1mm", fine.gm, "GM probability 1 mm (nilearn MNI152 2009)"),
        ("wm_probseg_1mm", fine.wm, "WM probability 1 mm (nilearn MNI152 2009)"),
        ("csf_probseg_1mm", fine.csf, "CSF probability 1 mm = 1 - GM - WM in brain"),
    ):
        write_nifti(data, p(key), fine.affine, description=text)

    # The run.
    write_nifti(run.data, p("bold"), affine, tr=run_mod.TR, slice_times=run.slice_times,
                description="sample pressure-pain run (synthetic, napari-milna)")
    write_json({
        "TaskName": TASK,
        "RepetitionTime": run_mod.TR,
        "SliceTiming": [float(v) for v in run.slice_times],
        "SliceEncodingDirection": "k",
        "SliceTimingCorrected": False,
        "EchoTime": 0.03,
        "MagneticFieldStrength": 3,
        "SkullStripped": False,
        "Sources": [f"bids:raw:{PATHS['events']}"],
    }, p("bold_json"))
    write_tsv(run.events, p("events"), float_format="%.3f")
    write_tsv(run_mod.confounds_table(run.data, anat, run.motion, run.framewise_displacement),
              p("confounds"), float_format="%.10g")
    p("spm_rp").parent.mkdir(parents=True, exist_ok=True)
    np.savetxt(p("spm_rp"), run.motion, fmt="%16.7e", delimiter="")

    # Physio.
    write_tsv_gz_no_header(
        [traces.cardiac, traces.respiratory, traces.trigger],
        [f"%.{physio_mod.DECIMALS}f", f"%.{physio_mod.DECIMALS}f", "%d"],
        p("physio"),
    )
    write_json({
        "SamplingFrequency": physio_mod.SAMPLING_HZ,
        "StartTime": physio_mod.START_TIME_S,
        "Columns": ["cardiac", "respiratory", "trigger"],
        "cardiac": {"Description": "pulse oximeter (photoplethysmogram)", "Units": "a.u."},
        "respiratory": {"Description": "respiratory belt", "Units": "a.u."},
        "trigger": {"Description": "1 at the onset of each volume"},
    }, p("physio_json"))

    # Crossover maps and study tables.
    write_tsv(cross.participants, p("participants"))
    rows = []
    for s, sub in enumerate(cross.participants.participant_id):
        sequence = cross.participants.sequence[s]
        for ti, treatment in enumerate(xo.TREATMENTS):
            for ci, condition in enumerate(xo.CONDITIONS):
                rel = effect_map_path(sub, treatment, condition)
                write_nifti(cross.maps[s, ti, ci], folder / FIRSTLEVEL_DIR / rel, affine,
                            description=f"effect (% signal): {condition}, {treatment}")
                rows.append((sub, treatment, condition, rel, xo.period_of(sequence, treatment)))
    write_tsv(pd.DataFrame(rows, columns=["subject", "treatment", "condition", "path", "period"]),
              p("crossover_table"))
    write_nifti(cross.group_t.astype(np.float32), p("group_tmap"), affine,
                description=GROUP_T_DESCRIPTION)
    write_nifti(cross.group_con.astype(np.float32), p("group_con"), affine,
                description="SPM contrast - drug x pain interaction")
    write_nifti(anat.brain.astype(np.uint8), p("group_mask"), affine, description="SPM mask")
    # The same second level as SPM.mat (+ beta, ResMS, RPV) and as a FEAT folder.
    analysis_folders = {
        "spm": write_spm_second_level(p("group_tmap").parent, cross.interaction, anat.brain,
                                      affine, xo.FWHM_MM, "drug x pain interaction",
                                      GROUP_T_DESCRIPTION, write_nifti),
        "feat": write_feat_folder(p("group_feat_dir"), cross.interaction, anat.brain, affine,
                                  xo.FWHM_MM, "drug x pain interaction", write_nifti),
    }

    # Truth images.
    labels = label_image(covs)
    write_nifti(labels, p("regions_dseg"), affine, description="planted regions")
    write_tsv(pd.DataFrame({"index": [r.label for r in REGIONS],
                            "name": [r.name for r in REGIONS]}), p("regions_tsv"))
    write_nifti(run.dropout.astype(np.float32), p("dropout_map"), affine,
                description="signal retention after susceptibility dropout")
    write_nifti(run.physio_sd["total"].astype(np.float32), p("physio_sd_map"), affine,
                description="physiological noise sd (% signal)")

    # The multi-echo run.
    multiecho = multiecho_mod.write_multiecho(folder, anat, covs, _rng("multiecho"))

    truth = _truth(anat, covs, traces, run, cross, labels)
    truth["crossover"]["analysis_folders"] = analysis_folders
    truth["multiecho"] = multiecho
    write_json(truth, p("truth_json"))
    write_json({"Name": "napari-milna sample study (synthetic)", "BIDSVersion": "1.9.0",
                "DatasetType": "raw", "GeneratedBy": [{"Name": "napari-milna",
                                                       "Version": __version__}]},
               folder / "dataset_description.json")
    if README_SOURCE.exists():
        shutil.copyfile(README_SOURCE, folder / "README.md")
    return truth


def _truth(anat, covs, traces, run, cross, labels) -> dict:
    grid = anat.grid
    st = run.slice_times
    regions = []
    for r in REGIONS:
        cov = covs[r.name]
        d = r.to_dict()
        d.update({
            "pain_psc": run_mod.PAIN_PSC.get(r.name, 0.0),
            "sensory_psc": run_mod.SENSORY_PSC.get(r.name, 0.0),
            "peak_coverage": round(float(cov.max()), 6),
            "n_voxels_coverage_ge_0.5": int((cov >= 0.5).sum()),
            "n_voxels_label": int((labels == r.label).sum()),
            "coverage_mean_label_voxels": round(float(cov[labels == r.label].mean()), 6),
            "coverage_sum_voxels": round(float(cov.sum()), 4),
            "physio_sd_percent_mean": float(
                (run.physio_sd["total"] * cov).sum() / cov.sum()),
            "dropout_factor_mean": float((run.dropout * cov).sum() / cov.sum()),
            "dropout_factor_min": float(run.dropout[cov > 0].min()),
            "csf_probability_mean": float((anat.csf * cov).sum() / cov.sum()),
        })
        regions.append(d)
    fd = run.framewise_displacement
    spikes = list(motion_mod.SPIKE_VOLUMES)
    others = np.delete(fd, spikes)
    phi_c0, phi_r0 = run.phases_slice0
    n_samples = traces.time.size
    ibi = np.diff(traces.beat_times)
    return {
        "sample_version": SAMPLE_VERSION,
        "seed": SAMPLE_SEED,
        "generator": f"napari-milna {__version__}",
        "space": SPACE,
        "template": "nilearn MNI152 ICBM 2009 symmetric T1 / GM / WM / brain mask, 2 mm, "
                    "resampled trilinearly",
        "template_1mm": "nilearn MNI152 ICBM 2009 symmetric T1 / GM / WM at 1 mm as nilearn "
                        "loads them (no resampling); CSF = 1 - GM - WM inside nilearn's 1 mm "
                        "brain mask (T1 > 0.2), clipped to [0, 1] (nilearn ships no CSF map)",
        "grid": {
            "shape": list(grid.shape),
            "affine": grid.affine.tolist(),
            "voxel_size_mm": [float(v) for v in grid.zooms],
            "axcodes": grid.axcodes,
            "sform_code": 4,
            "qform_code": 4,
            "first_voxel_centre_mm": list(anat_mod.ORIGIN_MM),
            "last_voxel_centre_mm": [float(v) for v in grid.to_world(np.array(grid.shape) - 1)],
            "n_brain_voxels": int(anat.brain.sum()),
        },
        "run": {
            "subject": SUBJECT,
            "task": TASK,
            "tr": run_mod.TR,
            "n_volumes": run_mod.N_VOLUMES,
            "n_slices": int(grid.shape[2]),
            "slice_timing": [float(v) for v in st],
            "slice_order": [int(k) for k in np.argsort(st, kind="stable")],
            "slice_encoding_direction": "k",
            "slice_timing_corrected": False,
            "block_duration_s": run_mod.BLOCK_S,
            "block_onsets_s": {
                c: [float(v) for v in run.events.onset[run.events.trial_type == c]]
                for c in run_mod.CYCLE_ONSETS_S
            },
            "hrf": "nilearn glover_hrf with unit integral; pain_psc / sensory_psc are the "
                   "amplitudes of the boxcar-convolved regressor (GLM betas, percent)",
            "block_peak_gain": run_mod.block_peak_gain(),
            "signal_model": "S0 * dropout * (1 + (bold + physio + drift + spike) / 100), "
                            "magnitude of complex Gaussian noise, int16",
            "noise_sd": run_mod.NOISE_SD,
            "epi_intensity": anat_mod.EPI_INTENSITY,
            "bias_field": {"centre_mm": list(anat_mod.BIAS_CENTRE_MM),
                           "radius_mm": anat_mod.BIAS_RADIUS_MM, "gain": anat_mod.BIAS_GAIN},
            "drift_percent": {"linear_mean_sd": list(run_mod.DRIFT_LINEAR),
                              "half_cosine_mean_sd": list(run_mod.DRIFT_COSINE)},
        },
        "regions": regions,
        "dropout": [dict(d, centre_mm=list(d["centre_mm"]), sigma_mm=list(d["sigma_mm"]))
                    for d in run_mod.DROPOUT],
        "physio": {
            "sampling_frequency": physio_mod.SAMPLING_HZ,
            "start_time": physio_mod.START_TIME_S,
            "n_samples": int(n_samples),
            "columns": ["cardiac", "respiratory", "trigger"],
            "n_triggers": int(traces.trigger.sum()),
            "beat_times": [float(v) for v in traces.beat_times],
            "n_beats": int(traces.beat_times.size),
            "heart_rate_bpm": _stats(60.0 / ibi),
            "respiratory_rate_hz": _stats(traces.resp_rate_hz),
            "cardiac_phase_method": "2 pi (t - t1) / (t2 - t1) between the surrounding beats, "
                                    "at the exact acquisition time",
            "respiratory_phase_method": "Glover 2000: pi * cumulative histogram (100 bins over "
                                        "min..max of the whole saved belt trace) at bin "
                                        "round(100 * normalised amplitude) * sign(dR/dt); "
                                        "dR/dt from a Savitzky-Golay filter (51 samples, "
                                        "order 2); value of the nearest sample",
            "retroicor_orders": list(physio_mod.ORDERS),
            "retroicor_columns": _retroicor_names(),
            "phase_reference_slice": int(np.argmin(st)),
            "cardiac_phase_at_volumes": [round(float(v), 6) for v in phi_c0],
            "respiratory_phase_at_volumes": [round(float(v), 6) for v in phi_r0],
            "noise_weights_percent": run_mod.PHYSIO_WEIGHTS,
            "noise_patterns": _jsonable(run_mod.PHYSIO_PATTERNS),
            "interaction_ratio": run_mod.INTERACTION_RATIO,
            "order_weights": {k: list(v) for k, v in run_mod.ORDER_WEIGHTS.items()},
        },
        "motion": {
            "columns": ["trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z"],
            "units": ["mm", "mm", "mm", "rad", "rad", "rad"],
            "fd_radius_mm": motion_mod.FD_RADIUS_MM,
            "fd_threshold_mm": motion_mod.FD_THRESHOLD_MM,
            "spike_volumes": spikes,
            "spike_fd_mm": [float(fd[v]) for v in spikes],
            "max_fd_other_mm": float(others.max()),
            "mean_fd_mm": float(fd[1:].mean()),
            "spike_artifact": {
                "spin_history_percent": run_mod.SPIKE_SPIN_HISTORY_PSC,
                "spin_history_slices": "acquired in the second half of the TR (odd k)",
                "edge_percent": run_mod.SPIKE_EDGE_PSC,
            },
        },
        "crossover": {
            "n_subjects": xo.N_SUBJECTS,
            "treatments": list(xo.TREATMENTS),
            "conditions": list(xo.CONDITIONS),
            "contrast": "(Drug_Pain - Drug_Baseline) - (Placebo_Pain - Placebo_Baseline)",
            "df": xo.N_SUBJECTS - 1,
            "sequences": {s: int((cross.participants.sequence == s).sum())
                          for s in ("drug-placebo", "placebo-drug")},
            "units": "percent signal change",
            "fwhm_mm": [xo.FWHM_MM] * 3,
            "realised_fwhm_mm": cross.realised_fwhm_mm,
            "noise_sd": xo.NOISE_SD,
            "interaction_noise_sd_voxel": 2.0 * xo.NOISE_SD,
            "subject_sd": xo.SUBJECT_SD,
            "session_sd": xo.SESSION_SD,
            "pain_gain_sd": xo.GAIN_SD,
            "control_region": xo.CONTROL_REGION,
            "roi_coverage_threshold": xo.ROI_COVERAGE,
            "effects": cross.expected,
            "group_t": {
                "description": GROUP_T_DESCRIPTION,
                "max": float(cross.group_t.max()),
                "max_ijk": [int(v) for v in np.unravel_index(cross.group_t.argmax(),
                                                             grid.shape)],
                "min": float(cross.group_t.min()),
                "min_ijk": [int(v) for v in np.unravel_index(cross.group_t.argmin(),
                                                             grid.shape)],
                "outside_mask": 0.0,
            },
        },
        "files": dict(PATHS),
    }


def _retroicor_names() -> list[str]:
    names = []
    for m in range(1, physio_mod.ORDERS[0] + 1):
        names += [f"cos_{m}c", f"sin_{m}c"]
    for m in range(1, physio_mod.ORDERS[1] + 1):
        names += [f"cos_{m}r", f"sin_{m}r"]
    return names + ["cos_c+r", "sin_c+r", "cos_c-r", "sin_c-r"]


def _jsonable(obj):
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    return obj
