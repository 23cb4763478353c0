"""Run ``milna ARGV`` in a process of its own and stop it at the N-th file it moves into place.

Used by the kill, race and worker tests, as a server: ``python -m tests.fuzz.killpoint``
imports the scientific stack once, then reads one JSON request per line on stdin and
answers one JSON line on stdout:

* ``{"argv": [...], "watch": DIR, "n": N, "marker": FILE, "go": FILE|null,
  "hidden": bool, "out": FILE, "err": FILE}``: fork a process that runs ``milna ARGV``
  (stdout / stderr into those files) and answer ``{"pid": PID}``. With ``n`` > 0, every
  ``os.link`` / ``os.rename`` / ``os.replace`` (and, with ``hidden``, ``os.mkdir``)
  whose destination lies below ``watch`` is counted (a folder once made, a file before
  it moves); by default only destinations that
  look final (no path component below ``watch`` starts with a dot). At the N-th one the
  process writes its pid to ``marker`` and waits: forever (the test SIGKILLs it there:
  its temporary files are complete and nothing is moved yet), or with ``go`` until that
  file exists (a barrier lining several writers up on one target).
* ``{"wait": PID}``: wait for that process and answer ``{"status": S}`` (``-SIG`` when a
  signal ended it).

Each run is a real, separate process running the real command; forking from a process
that has already imported numpy, scipy, nibabel and nilearn only saves the seconds those
imports take. It watches only the calls that make a file appear under its final name, so
it works on any implementation of the writes.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time

PRELOAD = ("numpy", "scipy.ndimage", "scipy.signal", "scipy.stats", "scipy.io", "nibabel",
           "pandas", "nilearn.image", "nilearn.masking", "nilearn.maskers",
           "nilearn.glm.first_level", "skimage.measure", "dask", "neurokit2",
           "napari_milna.cli", "napari_milna.core.io.nifti", "napari_milna.core.io.nifti_write",
           "napari_milna.core.roi.seeds", "napari_milna.core.svc.correction",
           "napari_milna.core.qc.coverage", "napari_milna.core.qc.batch",
           "napari_milna.core.preproc.pain_glm", "napari_milna.core.preproc.connectivity_study",
           "napari_milna.core.crossover.analysis", "napari_milna.core.multiecho.combine")


def watch_moves(watch: str, n: int, marker: str, go: str | None, hidden: bool) -> None:
    """Count the moves into ``watch`` and stop at the ``n``-th (see the module notes)."""
    root = os.path.realpath(watch)
    count = [0]

    def counts(dst) -> bool:
        try:
            full = os.path.realpath(os.path.abspath(os.fsdecode(os.fspath(dst))))
        except TypeError:
            return False
        if not full.startswith(root + os.sep):
            return False
        parts = os.path.relpath(full, root).split(os.sep)
        return hidden or not any(p.startswith(".") for p in parts)

    def stop_here():
        count[0] += 1
        if count[0] == n:
            with open(marker, "w") as fh:
                fh.write(str(os.getpid()))
            while go is None or not os.path.exists(go):
                time.sleep(0.02)

    def wrap(real):
        def call(src, dst, *args, **kwargs):
            if counts(dst):
                stop_here()
            return real(src, dst, *args, **kwargs)
        return call

    def wrap_mkdir(real):
        def call(path, *args, **kwargs):
            made = real(path, *args, **kwargs)
            if counts(path):
                stop_here()  # after the folder is made: a kill leaves it behind
            return made
        return call

    for name in ("link", "rename", "replace"):
        setattr(os, name, wrap(getattr(os, name)))
    if hidden:
        os.mkdir = wrap_mkdir(os.mkdir)


def _child(request: dict) -> None:
    out = os.open(request["out"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    err = os.open(request["err"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(out, 1)
    os.dup2(err, 2)
    sys.stdout = os.fdopen(1, "w", buffering=1)
    sys.stderr = os.fdopen(2, "w", buffering=1)
    status = 1
    try:
        if request.get("n"):
            watch_moves(request["watch"], request["n"], request["marker"], request.get("go"),
                        request.get("hidden", False))
        from napari_milna.cli import main

        status = main(request["argv"])
    except SystemExit as exc:
        status = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # noqa: BLE001 - shown to the test as stderr
        import traceback

        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(status)


def serve() -> None:
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        if "wait" in request:
            _, code = os.waitpid(request["wait"], 0)
            status = -os.WTERMSIG(code) if os.WIFSIGNALED(code) else os.WEXITSTATUS(code)
            print(json.dumps({"status": status}), flush=True)
            continue
        pid = os.fork()
        if pid == 0:
            os.setsid()  # its own session: a signal to it is not a signal to the server
            _child(request)
        print(json.dumps({"pid": pid}), flush=True)


if __name__ == "__main__":
    serve()
