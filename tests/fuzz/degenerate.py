"""Degenerate data sets: readable files whose numbers make a statistic meaningless.

Each entry of :data:`DATA_CASES` is ``(command, name, build)`` or ``(command, name, build,
names)``: ``build(g, w)`` writes what it needs into ``w`` and returns the argv; the
message must name one of the files whose stem starts with ``bad-`` (or ``names``).
"""

from __future__ import annotations

import shutil

import numpy as np

from . import badfiles
from .cases import _out_dir, _out_file, _set  # noqa: F401  (shared argv helpers)
from .inputs import SHAPE, TR, save


def _copies(w, source, n, prefix="bad-identical"):
    out = []
    for s in range(n):
        path = w / f"{prefix}_{s:02d}.nii.gz"
        shutil.copy(source, path)
        out.append(str(path))
    return out


def perm_identical(g, w):
    return ["perm", str(g.roi), *_copies(w, g.subjects[0], 8), "--n-perm", "200"]


def perm_constant(g, w):
    paths = [str(save(w / f"bad-constant_{s}.nii.gz", np.full(SHAPE, 2.0, np.float32)))
             for s in range(8)]
    return ["perm", str(g.roi), *paths, "--n-perm", "200"]


def perm_nan_subject(g, w):
    nan = badfiles.nan3d(w)
    return ["perm", str(g.roi), *map(str, g.subjects[:7]), str(nan), "--n-perm", "200"]


def perm_one_subject(g, w):
    one = w / "bad-one_subject.nii.gz"
    shutil.copy(g.subjects[0], one)
    return ["perm", str(g.roi), str(one)]


def perm_tfce_identical(g, w):
    return ["perm", str(g.roi), *_copies(w, g.subjects[0], 8), "--n-perm", "50", "--tfce"]


def perm_whole_brain_identical(g, w):
    return ["perm", *_copies(w, g.subjects[0], 8), "--whole-brain", "--workers", "1",
            "--n-perm", "50"]


def _crossover_table(g, w, spoil):
    """A copy of the good crossover study with ``spoil(maps)`` applied to its maps."""
    import nibabel as nib

    src = g.crossover.parent
    dst = w / "bad-study"
    shutil.copytree(src, dst)
    table = dst / g.crossover.name
    maps = {p.name: p for p in sorted((dst / "maps").glob("*.nii.gz"))}
    for name, data in spoil({k: np.asarray(nib.load(p).dataobj) for k, p in maps.items()}):
        img = nib.load(maps[name])
        nib.save(nib.Nifti1Image(np.asarray(data, np.float32), img.affine, img.header),
                 str(maps[name]))
    return table


def crossover_nan_subject(g, w):
    def spoil(maps):
        first = sorted(maps)[0]
        yield first, np.full_like(maps[first], np.nan)

    return ["crossover", str(_crossover_table(g, w, spoil)), "--out", _out_dir(w)]


def crossover_identical(g, w):
    def spoil(maps):
        first = maps[sorted(maps)[0]]
        for name in maps:
            yield name, first

    return ["crossover", str(_crossover_table(g, w, spoil)), "--out", _out_dir(w)]


def crossover_zero_difference(g, w):
    """Every subject's drug maps equal its placebo maps: every difference is 0."""
    def spoil(maps):
        for name in maps:
            if "_drug_" in name:
                yield name, maps[name.replace("_drug_", "_placebo_")]

    return ["crossover", str(_crossover_table(g, w, spoil)), "--out", _out_dir(w)]


def crossover_one_subject(g, w):
    table = w / "bad-one_subject.tsv"
    lines = g.crossover.read_text().splitlines()
    keep = [lines[0]] + [row for row in lines[1:] if row.startswith("sub-01\t")]
    maps = g.crossover.parent
    table.write_text("\n".join(
        [keep[0]] + [r.replace("maps/", f"{maps}/maps/") for r in keep[1:]]) + "\n")
    return ["crossover", str(table), "--out", _out_dir(w)]


def crossover_missing_map(g, w):
    table = w / "bad-missing_map.tsv"
    lines = g.crossover.read_text().splitlines()
    maps = g.crossover.parent
    rows = [r.replace("maps/", f"{maps}/maps/") for r in lines[1:]]
    rows[0] = rows[0].replace("_pain.nii.gz", "_nosuch.nii.gz")
    table.write_text("\n".join([lines[0]] + rows) + "\n")
    return ["crossover", str(table), "--out", _out_dir(w)]


def glm_all_scrubbed(g, w):
    rp = w / "bad-jumpy_rp.txt"
    jumps = np.cumsum(np.tile([[5.0, 0, 0, 0, 0, 0], [-5.0, 0, 0, 0, 0, 0]], (20, 1)), axis=0)
    rp.write_text("\n".join(" ".join(f"{v:g}" for v in r) for r in jumps) + "\n")
    return _set(_glm(g, w), "--motion", [str(rp)]) + ["--motion-format", "spm"]


def _glm(g, w):
    from .cases import COMMANDS

    return COMMANDS["glm"].argv(g, w)


def glm_too_short(g, w):
    run = badfiles.short_run(w, n=3)
    argv = _glm(g, w)
    argv[1] = str(run)
    events = w / "bad-short_events.tsv"
    events.write_text("onset\tduration\ttrial_type\n0\t2\tpain\n2\t2\tsensory\n")
    return _set(argv, "--events", [str(events)])


def glm_constant_run(g, w):
    argv = _glm(g, w)
    argv[1] = str(badfiles.constant4d(w))
    return argv


def connectivity_short(g, w):
    rng = np.random.default_rng(4)
    affine = np.array([[4.0, 0, 0, -48], [0, 4.0, 0, -40], [0, 0, 4.0, -12], [0, 0, 0, 1]])
    runs = []
    for ses in ("drug", "placebo"):
        data = (500 + rng.normal(0, 5, (25, 18, 10, 20))).astype(np.float32)
        runs.append(str(save(w / f"bad-short_sub-02_ses-{ses}_task-rest_bold.nii.gz", data,
                             affine, tr=TR)))
    return ["connectivity", *runs, "--mask", str(g.rest_mask), "--seed", "left", "-36", "0",
            "4", "--out", _out_dir(w)]


def connectivity_nan(g, w):
    affine = np.array([[4.0, 0, 0, -48], [0, 4.0, 0, -40], [0, 0, 4.0, -12], [0, 0, 0, 1]])
    run = save(w / "bad-nan_sub-02_ses-drug_task-rest_bold.nii.gz",
               np.full((25, 18, 10, 60), np.nan, np.float32), affine, tr=TR)
    return ["connectivity", str(run), "--mask", str(g.rest_mask), "--seed", "left", "-36",
            "0", "4", "--out", _out_dir(w)]


def connectivity_constant(g, w):
    affine = np.array([[4.0, 0, 0, -48], [0, 4.0, 0, -40], [0, 0, 4.0, -12], [0, 0, 0, 1]])
    run = save(w / "bad-constant_sub-02_ses-drug_task-rest_bold.nii.gz",
               np.full((25, 18, 10, 60), 500.0, np.float32), affine, tr=TR)
    return ["connectivity", str(run), "--mask", str(g.rest_mask), "--seed", "left", "-36",
            "0", "4", "--out", _out_dir(w)]


def svc_roi_outside_data(g, w):
    stat = np.zeros(SHAPE, np.float32)
    stat[:3, :3, :3] = 3.0  # data only in a corner, far from the PAG ROI
    path = save(w / "bad-corner_spmT_0001.nii", stat, description="SPM{T_[14.0]} - corner")
    return ["svc", str(path), str(g.roi), "--fwhm", "6"]


def svc_nan_in_roi(g, w):
    import nibabel as nib

    stat = np.asarray(nib.load(g.stat).dataobj, np.float32).copy()
    roi = np.asarray(nib.load(g.roi).dataobj) > 0
    stat[roi] = np.nan
    path = save(w / "bad-nanroi_spmT_0001.nii", stat, description="SPM{T_[14.0]} - nan roi")
    return ["svc", str(path), str(g.roi), "--fwhm", "6"]


def retroicor_flat_belt(g, w):
    physio = badfiles.physio_flat_belt(w)
    return ["retroicor", str(physio), "--tr", "2", "--n-volumes", "40", "--out",
            _out_file(w, "retro.tsv")]


def retroicor_flat_belt_full(g, w):
    return retroicor_flat_belt(g, w) + ["--model", "retroicor+rvt+hr"]


def retroicor_longer_than_recording(g, w):
    return ["retroicor", str(g.physio), "--tr", "2", "--n-volumes", "400", "--out",
            _out_file(w, "retro.tsv")]


def qc_short_run(g, w):
    return ["qc", str(badfiles.short_run(w, n=2)), "--brain-mask", str(g.brain)]


def qc_batch_all_bad(g, w):
    return ["qc", str(badfiles.nan4d(w)), str(badfiles.zero4d(w)), "--brain-mask",
            str(g.brain), "--workers", "1", "--scheduler", "sync"]


def multiecho_zero_echo(g, w):
    import nibabel as nib

    img = nib.load(g.echoes[1])
    path = w / "bad-zero_echo-2_bold.nii.gz"
    nib.save(nib.Nifti1Image(np.zeros(img.shape, np.int16), img.affine, img.header), str(path))
    return ["multiecho", str(g.echoes[0]), str(path), str(g.echoes[2]), "--te", "13", "30",
            "47", "--mask", str(g.echo_mask), "--no-qc", "--out", _out_dir(w)]


def multiecho_nan_echoes(g, w):
    import nibabel as nib

    paths = []
    for e, echo in enumerate(g.echoes, start=1):
        img = nib.load(echo)
        path = w / f"bad-nan_echo-{e}_bold.nii.gz"
        nib.save(nib.Nifti1Image(np.full(img.shape, np.nan, np.float32), img.affine),
                 str(path))
        paths.append(str(path))
    return ["multiecho", *paths, "--te", "13", "30", "47", "--no-qc", "--out", _out_dir(w)]


def roi_seed_outside_fov(g, w):
    from .inputs import AFFINE

    affine = AFFINE.copy()
    affine[:3, 3] += 200.0
    ref = save(w / "bad-far_space-MNI152NLin2009cAsym_T1w.nii.gz", np.ones(SHAPE, np.float32),
               affine)
    return ["roi", "seed", "--region", "PAG", "--ref", str(ref), "--out",
            _out_file(w, "pag_mask.nii.gz")]


def roi_seed_all_csf(g, w):
    csf = save(w / "bad-all_csf_probseg.nii.gz", np.ones(SHAPE, np.float32))
    return ["roi", "seed", "--region", "PAG", "--ref", str(g.ref), "--assume-mni", "--csf",
            str(csf), "--csf-max", "0.5", "--out", _out_file(w, "pag_mask.nii.gz")]


def roi_info_outside_stat(g, w):
    stat = save(w / "bad-nan_in_roi_stat.nii.gz", np.full(SHAPE, np.nan, np.float32))
    return ["roi", "info", str(g.roi), "--stat", str(stat)]


def sample_foreign_folder(g, w):
    folder = w / "bad-foreign"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    return ["sample", "--out", str(folder)]


def _and_roi(g, w, argv):
    """The stat map or the ROI: the problem is where they meet."""
    from .cases import _stems

    return _stems(*[a for a in argv if "bad-" in a], g.roi)


DATA_CASES = [
    ("perm", "identical_images", perm_identical),
    ("perm", "constant_images", perm_constant),
    ("perm", "nan_subject", perm_nan_subject),
    ("perm", "one_subject", perm_one_subject),
    ("perm", "tfce_identical_images", perm_tfce_identical),
    ("perm", "whole_brain_identical_images", perm_whole_brain_identical),
    ("crossover", "nan_subject_map", crossover_nan_subject),
    ("crossover", "identical_maps", crossover_identical),
    ("crossover", "zero_differences", crossover_zero_difference),
    ("crossover", "one_subject", crossover_one_subject),
    ("crossover", "missing_map", crossover_missing_map, lambda g, w, a: ["nosuch"]),
    ("glm", "all_volumes_scrubbed", glm_all_scrubbed),
    ("glm", "too_short", glm_too_short),
    ("glm", "constant_run", glm_constant_run),
    ("connectivity", "too_short_for_filter", connectivity_short),
    ("connectivity", "nan_run", connectivity_nan),
    ("connectivity", "constant_run", connectivity_constant),
    ("svc", "roi_outside_data", svc_roi_outside_data, _and_roi),
    ("svc", "nan_in_roi", svc_nan_in_roi, _and_roi),
    ("retroicor", "flat_belt", retroicor_flat_belt),
    ("retroicor", "flat_belt_rvt", retroicor_flat_belt_full),
    ("retroicor", "run_longer_than_recording", retroicor_longer_than_recording,
     lambda g, w, a: [g.physio.name.split(".")[0], "--n-volumes"]),
    ("qc", "two_volumes", qc_short_run),
    ("qc", "batch_all_bad", qc_batch_all_bad),
    ("multiecho", "zero_echo", multiecho_zero_echo),
    ("multiecho", "nan_echoes", multiecho_nan_echoes),
    ("roi seed", "outside_fov", roi_seed_outside_fov),
    ("roi seed", "all_csf", roi_seed_all_csf),
    ("roi info", "stat_nan_in_roi", roi_info_outside_stat),
    ("sample", "foreign_folder", sample_foreign_folder),
]
