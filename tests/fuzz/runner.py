"""Run one fuzz case in-process, as the ``milna`` console script would, with guards.

* stderr as the user sees it: what ``main`` prints plus every Python warning that the
  default filters would show (each is one more line), plus argparse's own output;
* a memory guard (the address space may grow by at most :data:`MEMORY_HEADROOM`), so a
  command that would allocate gigabytes fails here with MemoryError instead of taking
  the machine down; a time guard (:data:`TIME_LIMIT_S`);
* optional write faults below a folder (read-only file system, disk full), emulated by
  patching the calls that create or change files (``open`` for writing, ``os.open``,
  ``mkdir``, ``link``, ``rename``, ``replace``); the real file systems are exercised by
  ``test_real_filesystems.py``;
* ``napari`` replaced by a stub, so a ``milna view`` that accepts a bad file fails
  instead of opening a window.
"""

from __future__ import annotations

import builtins
import contextlib
import errno
import io
import os
import resource
import signal
import sys
import traceback
import types
import warnings
from dataclasses import dataclass
from pathlib import Path

#: How much the address space may grow while a case runs.
MEMORY_HEADROOM = 3 * 2**30
#: Seconds a case may take.
TIME_LIMIT_S = 90


@dataclass
class Outcome:
    """What one run gave."""

    status: int | None
    out: str
    err_lines: list[str]
    error: str | None       # a traceback, when an exception escaped ``main``


def _vm_size() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


@contextlib.contextmanager
def memory_guard(enabled: bool = True):
    if not enabled:
        yield
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = _vm_size() + MEMORY_HEADROOM
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


class CaseTimeout(Exception):
    """The case took longer than TIME_LIMIT_S."""


@contextlib.contextmanager
def time_guard(seconds: int = TIME_LIMIT_S):
    def alarm(signum, frame):
        raise CaseTimeout(f"no answer after {seconds} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


@contextlib.contextmanager
def write_fault(folder: Path | None, code: int):
    """Make every creation or change of a file below ``folder`` fail with ``code``."""
    if folder is None:
        yield
        return
    root = os.path.realpath(folder)

    def below(path) -> bool:
        if isinstance(path, int):
            return False
        try:
            path = os.fsdecode(os.fspath(path))
        except TypeError:
            return False
        full = os.path.realpath(os.path.abspath(path))
        return full == root or full.startswith(root + os.sep)

    def fail(path):
        raise OSError(code, os.strerror(code), os.fsdecode(os.fspath(path)))

    real = {"open": builtins.open, "os.open": os.open, "mkdir": os.mkdir, "link": os.link,
            "rename": os.rename, "replace": os.replace, "symlink": os.symlink}

    def open_(file, mode="r", *args, **kwargs):
        if any(c in mode for c in "wax+") and below(file):
            fail(file)
        return real["open"](file, mode, *args, **kwargs)

    def os_open(path, flags, *args, **kwargs):
        if flags & _WRITE_FLAGS and below(path):
            fail(path)
        return real["os.open"](path, flags, *args, **kwargs)

    def one(name):
        def call(src, *args, **kwargs):
            if below(src) and name == "mkdir":
                fail(src)
            if args and below(args[0]):
                fail(args[0])
            return real[name](src, *args, **kwargs)
        return call

    patches = [(builtins, "open", open_), (io, "open", open_), (os, "open", os_open)]
    patches += [(os, n, one(n)) for n in ("mkdir", "link", "rename", "replace", "symlink")]
    saved = [(mod, name, getattr(mod, name)) for mod, name, _ in patches]
    for mod, name, value in patches:
        setattr(mod, name, value)
    try:
        yield
    finally:
        for mod, name, value in saved:
            setattr(mod, name, value)


@contextlib.contextmanager
def no_viewer():
    """``import napari`` gives a stub whose Viewer raises (a bad file must not get there)."""
    stub = types.ModuleType("napari")

    def viewer(*args, **kwargs):
        raise RuntimeError("milna view accepted the file and tried to open a window")

    stub.Viewer = viewer
    stub.run = viewer
    saved = sys.modules.get("napari")
    sys.modules["napari"] = stub
    try:
        yield
    finally:
        if saved is None:
            sys.modules.pop("napari", None)
        else:
            sys.modules["napari"] = saved


_HIDDEN = (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning)


def run_main(argv: list[str], capsys, *, fault: tuple[Path, int] | None = None,
             memory: bool = True) -> Outcome:
    """``milna ARGV`` in this process; never raises."""
    from napari_milna.cli import main

    status, error = None, None
    folder, code = fault if fault else (None, 0)
    with warnings.catch_warnings(record=True) as shown:
        warnings.resetwarnings()
        warnings.simplefilter("default")
        for category in _HIDDEN:
            warnings.filterwarnings("ignore", category=category)
        try:
            with time_guard(), memory_guard(memory), write_fault(folder, code), no_viewer():
                status = main([str(a) for a in argv])
        except SystemExit as exc:
            status = exc.code if isinstance(exc.code, int) else 1
        except BaseException:  # noqa: BLE001 - a traceback is what the case looks for
            error = traceback.format_exc()
            status = 1
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if line.strip()]
    lines += [f"{w.category.__name__}: {w.message}" for w in shown]
    return Outcome(status, captured.out, lines, error)


def names_one_of(line: str, names) -> bool:
    """True when ``line`` names one of ``names``: a file (its name or stem) or an option.

    An option counts as named by itself (``--fwhm``) or by its words as a whole word
    (``FWHM``, ``min distance``), whatever the case.
    """
    import re

    for name in names:
        if name in line:
            return True
        if name.startswith("--"):
            words = r"[- ]".join(re.escape(w) for w in name[2:].split("-"))
            if re.search(rf"(?i)\b{words}", line):
                return True
    return False


def listing(root: Path) -> set[str]:
    """Every file and folder below ``root`` (relative paths)."""
    if not root.exists():
        return set()
    return {str(p.relative_to(root)) for p in root.rglob("*")}


FAULTS = {"erofs": errno.EROFS, "enospc": errno.ENOSPC}
