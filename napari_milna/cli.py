"""The ``milna`` command: the core's computations for scripts and batch work.

Each subcommand lives in its own module in :mod:`napari_milna.commands`, which
declares its ``HELP``, ``add_arguments(parser)`` and ``run(args) -> dict | None``;
:func:`napari_milna.commands.register` adds every one the same way. With
``--json`` the returned dict is printed as one JSON object; otherwise as readable
lines. Bad input exits with status 2 and one line on stderr: a bad option value
(argparse, through the types of :mod:`napari_milna.commands.values`), a
:class:`~napari_milna.core.errors.MilnaInputError`, or an ``OSError`` (read-only
file system, disk full, ...). A closed stdout (``milna info X | head -0``) ends the
command quietly with status 141, as Unix tools do; SIGTERM and Ctrl-C end it with
128 + the signal after the usual clean-up (temporary files, worker processes).
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import os
import pkgutil
import signal
import sys

from . import __version__, commands
from .core.errors import MilnaInputError
from .core.io.atomic import os_error_sentence

#: Exit status of a command whose stdout was closed early (128 + SIGPIPE), as Unix tools.
BROKEN_PIPE_STATUS = 128 + 13


class Stopped(KeyboardInterrupt):
    """SIGTERM (or SIGINT) arrived: unwind like Ctrl-C, so clean-up code runs."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


class MilnaParser(argparse.ArgumentParser):
    """argparse with one-line errors: ``milna svc: argument --fwhm: ... (see --help)``."""

    def error(self, message: str):
        """Print one line and exit with status 2."""
        message = " ".join(message.split())
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


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
    parser = MilnaParser(
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
        if hasattr(module, "add_arguments"):  # not the option helpers and types
            commands.register(sub, module)
    return parser


def _stop(signum, frame):
    raise Stopped(signum)


def _print_result(args, result) -> None:
    if getattr(args, "json", False):
        print(json.dumps(_jsonable(result), allow_nan=False))
    else:
        _print_human(_jsonable(result))
    sys.stdout.flush()


def _quiet_stdout() -> None:
    """After a broken pipe: stdout to /dev/null, so the interpreter's last flush is silent."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    finally:
        os.close(devnull)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``milna`` console script; returns the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version (0) or a bad option value (2, one line)
        return exc.code if isinstance(exc.code, int) else 2
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    name = " ".join(filter(None, (args.command, getattr(args, "roi_command", None))))
    previous = None
    if threading_main():
        previous = signal.signal(signal.SIGTERM, _stop)
    try:
        result = args.func(args)
        if result is not None:
            _print_result(args, result)
    except MilnaInputError as exc:
        print(f"milna {name}: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        _quiet_stdout()
        return BROKEN_PIPE_STATUS
    except OSError as exc:
        print(f"milna {name}: {os_error_sentence(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        signum = exc.signum if isinstance(exc, Stopped) else signal.SIGINT
        word = "terminated" if signum == signal.SIGTERM else "interrupted"
        print(f"milna {name}: {word}", file=sys.stderr)
        return 128 + signum
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return 0


def threading_main() -> bool:
    """True in the main thread (the only one that may set signal handlers)."""
    import threading

    return threading.current_thread() is threading.main_thread()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
