"""``milna sample --out DIR``: write the deterministic sample study (or reuse it).

Generate the deterministic sample study into DIR: a pressure-pain run with physio, dropout
and motion, and a 15-subject drug / placebo crossover with its group t map. A folder that
already holds a complete study of this version is reused.
"""

from __future__ import annotations

import time
from pathlib import Path

from ..core.errors import input_error
from . import options

HELP = "generate the synthetic brainstem pharmaco-fMRI sample study (with ground truth)"


def add_arguments(parser) -> None:
    """The arguments of ``milna sample``."""
    options.out(parser, "destination folder (new, empty, or a previous sample study)",
                metavar="DIR")
    parser.add_argument("--force", action="store_true",
                        help="regenerate even when DIR already holds a complete study")


def run(args) -> dict:
    """Generate or reuse the study; return its paths and headline truth."""
    from ..sample_data import SAMPLE_VERSION, ensure_sample_study, is_complete

    out = Path(args.out).expanduser()
    if out.exists() and not out.is_dir():
        raise input_error(out, "is a file, not a folder")
    reused = is_complete(out) and not args.force
    start = time.perf_counter()
    study = ensure_sample_study(out, force=args.force)
    return {
        "root": str(study.root),
        "sample_version": SAMPLE_VERSION,
        "reused": reused,
        "seconds": round(time.perf_counter() - start, 2),
        "truth": study.headline(),
        "paths": {k: v for k, v in study.to_dict().items() if k != "root"},
    }
