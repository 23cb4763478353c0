"""``milna info FILE``: geometry and kind of a NIfTI file."""

from __future__ import annotations

HELP = "geometry, kind, statistic and df of a NIfTI file"


def add_arguments(parser) -> None:
    """The arguments of ``milna info``."""
    parser.add_argument("file", help="NIfTI file (.nii, .nii.gz, .hdr/.img)")


def run(args) -> dict:
    """Open the file (4D runs and atlases are not read) and describe it."""
    from ..core.atlas import atlas_facts
    from ..core.io.kinds import classify
    from ..core.io.nifti import load_volume

    source = load_volume(args.file, allow_run=True)
    info = classify(source)
    grid = source.grid
    atlas = atlas_facts(source, info)
    out = {
        "file": str(source.path),
        "shape": list(source.shape),
        "zooms": [float(z) for z in grid.zooms],
        "affine": grid.affine.tolist(),
        "axcodes": grid.axcodes,
        "oblique": not grid.is_axis_aligned,
        "sform_code": source.sform_code,
        "qform_code": source.qform_code,
        "n_volumes": source.n_volumes,
        "tr": source.tr,
        "kind": info.kind.value,
        "stat_type": info.stat_type,
        "df": list(info.df) if isinstance(info.df, tuple) else info.df,
        "description": source.description,
    }
    if atlas is not None:  # a 4D probabilistic atlas is no run: no TR, one volume per label
        out.update(kind="atlas", tr=None, atlas=atlas)
    return out
