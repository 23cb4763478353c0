"""The ``milna`` command: the core's computations for scripts and batch work.

Each subcommand lives in its own module in :mod:`napari_milna.commands` and
provides ``add_parser(subparsers)`` and ``run(args) -> dict | None``. With
``--json`` the returned dict is printed as one JSON object; otherwise as readable
lines. Bad input exits with status 2 and one line on stderr.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import pkgutil
import sys

from . import __version__, commands
from .core.errors import MilnaInputError


def _jsonable(value):
    # numpy is not imported here (start-up time): a numpy value exists only once a command
    # has imported it.
    np = sys.modules.get("numpy")
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if np is not None and isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if np is not None and isinstance(value, np.generic):
        return _jsonable(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "to_dict"):
        return _jsonable(value.to_dict())
    if hasattr(value, "__fspath__"):
        return str(value)
    return value


def _print_human(result: dict, indent: str = "") -> None:
    for key, value in result.items():
        if isinstance(value, dict):
            print(f"{indent}{key}:")
            _print_human(value, indent + "  ")
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            print(f"{indent}{key}:")
            for item in value:
                print(f"{indent}  - " + ", ".join(f"{k}={v}" for k, v in item.items()))
        else:
            print(f"{indent}{key}: {value}")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand module registered."""
    parser = argparse.ArgumentParser(
        prog="milna",
        description="Brainstem pharmaco-fMRI: inspect NIfTI geometry, seed ROIs, run SVC, QC "
        "and preprocessing from the command line.",
    )
    parser.add_argument("--version", action="version", version=f"napari-milna {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for mod_info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if mod_info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{commands.__name__}.{mod_info.name}")
        if hasattr(module, "add_parser"):
            module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``milna`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        result = args.func(args)
    except MilnaInputError as exc:
        print(f"milna {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"milna {args.command}: interrupted", file=sys.stderr)
        return 130
    if result is None:
        return 0
    if getattr(args, "json", False):
        print(json.dumps(_jsonable(result), allow_nan=False))
    else:
        _print_human(_jsonable(result))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
