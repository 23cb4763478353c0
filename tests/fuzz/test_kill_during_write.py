"""SIGKILL every writing command while it writes; the next run cleans up after it.

Each command runs in a subprocess (:mod:`tests.fuzz.killpoint`) that stops when it is
about to move its first output into place (its temporary files complete) and is killed
there. Nothing may look final at the output path: no output file, and no hidden file that
ends like one (``.x.nii.gz.abc123.nii.gz``); temporaries live in a ``.milna-tmp-*``
folder or end in ``.tmp``. The same command run again succeeds and leaves nothing of the
killed run behind. For commands writing several files the kill also comes between two
moves (``n=2``): the next run rolls the moved file back before it writes.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .cases import COMMANDS
from .runner import listing, run_main

ROOT = Path(__file__).resolve().parents[2]
TEMP = re.compile(r"(^|/)(\.milna-tmp-[^/]*|\.[^/]*\.tmp(-[^/]*)?)(/|$)|\.tmp$")


def is_temporary(rel: str) -> bool:
    """A temporary name: inside a ``.milna-tmp-*`` folder, or ``*.tmp`` / ``.x.tmp-*``."""
    return bool(TEMP.search(rel))


class Killpoint:
    """The fork server of :mod:`tests.fuzz.killpoint` (one per module)."""

    def __init__(self):
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.fuzz.killpoint"], cwd=ROOT,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert json.loads(self.proc.stdout.readline())["ready"]

    def ask(self, request: dict) -> dict:
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def start(self, argv, folder: Path, *, watch=None, n=0, marker=None, go=None,
              hidden=False, name="run") -> Run:
        out, err = folder / f"{name}.stdout", folder / f"{name}.stderr"
        pid = self.ask({"argv": [str(a) for a in argv], "watch": str(watch), "n": n,
                        "marker": str(marker), "go": str(go) if go else None,
                        "hidden": hidden, "out": str(out), "err": str(err)})["pid"]
        return Run(self, pid, marker, err)

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=30)
        self.proc.stdout.close()


class Run:
    """One forked ``milna`` run."""

    def __init__(self, server: Killpoint, pid: int, marker, err: Path):
        self.server, self.pid, self.marker, self.err_path = server, pid, marker, err
        self.status = None

    def wait(self) -> int:
        if self.status is None:
            self.status = self.server.ask({"wait": self.pid})["status"]
        return self.status

    @property
    def err(self) -> str:
        return self.err_path.read_text() if self.err_path.exists() else ""

    def ended(self) -> bool:
        return not _alive(self.pid)

    def wait_for_marker(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while not Path(self.marker).exists():
            if self.ended():
                pytest.fail(f"the command ended (status {self.wait()}) before its write:\n"
                            f"{self.err}")
            if time.monotonic() > deadline:
                os.kill(self.pid, signal.SIGKILL)
                self.wait()
                pytest.fail("the command never reached its write")
            time.sleep(0.02)

    def kill(self) -> None:
        os.kill(self.pid, signal.SIGKILL)
        assert self.wait() == -signal.SIGKILL


@pytest.fixture(scope="module")
def killpoint():
    server = Killpoint()
    yield server
    server.close()


@pytest.fixture
def out(tmp_path) -> Path:
    """The empty folder ``out`` the commands write into (``w / "out"`` of :mod:`.cases`)."""
    path = tmp_path / "out"
    path.mkdir()
    return path


def kill_at(killpoint, argv, watch: Path, n: int, tmp_path: Path, hidden=False) -> None:
    run = killpoint.start(argv, tmp_path, watch=watch, n=n, marker=tmp_path / f"marker-{n}",
                          hidden=hidden)
    run.wait_for_marker()
    run.kill()


def _argv(name: str, good, w: Path) -> list[str]:
    argv = COMMANDS[name].argv(good, w)
    if name == "retroicor":
        argv += ["--save-peaks", str(w / "out" / "peaks.tsv")]
    if name == "roi resample":
        argv[2] = str(good.dseg)
        argv[-1] = str(w / "out" / "moved_dseg.nii.gz")
    return argv


def _kill_writer(name: str, killpoint, good, tmp_path: Path, out: Path, n: int) -> list[str]:
    """Run the writer ``name`` and kill it at its ``n``-th move into ``out``; its argv."""
    argv = _argv(name, good, tmp_path)
    kill_at(killpoint, argv, out, n, tmp_path)
    return argv


def _rerun_succeeds_and_cleans(argv: list[str], out: Path, capsys) -> None:
    """The killed command run again succeeds and leaves no temporary or hidden file."""
    outcome = run_main(argv, capsys)
    assert outcome.error is None and outcome.status == 0, (outcome.error, outcome.err_lines)
    leftovers = sorted(p for p in listing(out) if is_temporary(p) or Path(p).name[0] == ".")
    assert leftovers == [], leftovers


WRITERS = ["roi seed", "roi resample", "svc", "qc", "retroicor", "glm", "crossover",
           "connectivity", "multiecho"]
MULTI = ["roi resample", "retroicor", "qc", "glm", "crossover"]


@pytest.mark.parametrize("name", WRITERS)
def test_kill_before_the_first_move(name, killpoint, good, tmp_path, out, capsys):
    argv = _kill_writer(name, killpoint, good, tmp_path, out, 1)
    final_looking = sorted(p for p in listing(out) if not is_temporary(p))
    assert final_looking == [], final_looking
    _rerun_succeeds_and_cleans(argv, out, capsys)


@pytest.mark.parametrize("name", MULTI)
def test_kill_between_two_moves_is_rolled_back(name, killpoint, good, tmp_path, out, capsys):
    argv = _kill_writer(name, killpoint, good, tmp_path, out, 2)
    _rerun_succeeds_and_cleans(argv, out, capsys)


def test_killed_sample_leaves_a_temporary_folder_the_next_run_removes(killpoint, tmp_path, out,
                                                                       capsys, monkeypatch):
    argv = ["sample", "--out", str(out / "study")]
    kill_at(killpoint, argv, out, 1, tmp_path, hidden=True)
    left = listing(out)
    assert left and all(is_temporary(p) for p in left), sorted(left)
    # The next run removes what the killed one left before it generates (generation
    # itself stopped at once here: the full study takes half a minute).
    import napari_milna.sample_data.generate as generate

    from napari_milna.core.errors import input_error

    def stop(root):
        raise input_error(None, "stopped by the test")

    monkeypatch.setattr(generate, "write_study", stop)
    outcome = run_main(argv, capsys)
    assert outcome.status == 2 and "topped by the test" in outcome.err_lines[0]
    assert listing(out) == set(), sorted(listing(out))


def test_a_live_writer_keeps_its_temporaries(killpoint, good, tmp_path, out, capsys):
    """Cleaning removes only what dead processes left: a writer still running keeps its own."""
    go = tmp_path / "go"
    argv = COMMANDS["svc"].argv(good, tmp_path)
    run = killpoint.start(argv, tmp_path, watch=out, n=1, marker=tmp_path / "marker", go=go)
    try:
        run.wait_for_marker()
        held = {p for p in listing(out) if is_temporary(p)}
        assert held
        other = run_main(COMMANDS["roi seed"].argv(good, tmp_path), capsys)
        assert other.status == 0, other.err_lines
        assert held <= listing(out)
    finally:
        go.write_text("go")
    assert run.wait() == 0, run.err
    assert not any(is_temporary(p) for p in listing(out))


def test_three_writers_without_overwrite_one_wins(killpoint, good, tmp_path, out):
    """Three ``roi seed --out SAME`` lined up on the same target: exactly one succeeds."""
    go = tmp_path / "go"
    argv = COMMANDS["roi seed"].argv(good, tmp_path)
    runs = [killpoint.start(argv, tmp_path, watch=out, n=1,
                            marker=tmp_path / f"ready-{k}", go=go, name=f"writer-{k}")
            for k in range(3)]
    try:
        for run in runs:
            run.wait_for_marker()
    finally:
        go.write_text("go")
    status = [run.wait() for run in runs]
    errors = [run.err for run in runs]
    assert sorted(status) == [0, 2, 2], (status, errors)
    lost = [e for s, e in zip(status, errors) if s == 2]
    assert all(e.count("\n") == 1 and "already exists" in e for e in lost), lost
    target = out / "pag_mask.nii.gz"
    import nibabel as nib

    assert int((nib.load(target).get_fdata() > 0).sum()) > 0
    assert sorted(listing(out)) == ["pag_mask.nii.gz"]



def test_stdout_closed_early_exits_quietly(good):
    """``milna info X | true``: no traceback, nothing on stderr."""
    proc = subprocess.Popen([sys.executable, "-m", "napari_milna.cli", "info", str(good.stat)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    proc.wait(timeout=60)
    proc.stderr.close()
    assert err == ""
    assert proc.returncode == 128 + signal.SIGPIPE


def _children(pid: int) -> dict[int, str]:
    """Processes whose parent is ``pid``: pid -> command line."""
    out = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == pid:
                out[int(entry)] = Path(f"/proc/{entry}/cmdline").read_bytes().replace(
                    b"\0", b" ").decode(errors="replace")
        except (OSError, ValueError, IndexError):
            continue
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _working(pid: int) -> bool:
    """A worker past its start-up: it has unpickled a task, so numpy is loaded."""
    try:
        return "_multiarray_umath" in Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False


@pytest.mark.parametrize("how", ["SIGTERM", "SIGINT", "SIGKILL"])
def test_qc_batch_ends_its_workers(how, good, tmp_path):
    """A qc batch stopped while its worker processes run leaves none of them behind.

    A real ``python -m napari_milna.cli`` process (not the fork server): how a process
    ends is what is tested here.
    """
    runs = []
    for k in range(6):
        run = tmp_path / f"sub-{k:02d}_task-pain_bold.nii.gz"
        run.write_bytes(good.run.read_bytes())
        runs.append(str(run))
    batch = subprocess.Popen(
        [sys.executable, "-m", "napari_milna.cli", "qc", *runs, "--brain-mask",
         str(good.brain), "--workers", "2"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    workers: set[int] = set()
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and batch.poll() is None:
        workers |= {p for p, cmd in _children(batch.pid).items() if "spawn_main" in cmd}
        if any(_working(p) for p in workers):
            break
        time.sleep(0.05)
    assert workers and batch.poll() is None, "no worker started in time"
    batch.send_signal(getattr(signal, how))
    batch.wait(timeout=60)
    err = batch.stderr.read()
    batch.stderr.close()
    deadline = time.monotonic() + 20
    while any(_alive(p) for p in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    alive = [p for p in workers if _alive(p)]
    for pid in alive:
        os.kill(pid, signal.SIGKILL)
    assert alive == [], f"worker processes {alive} outlived the batch ({how})"
    if how != "SIGKILL":
        assert "Traceback" not in err and err.count("\n") == 1, err
        assert batch.returncode == 128 + getattr(signal, how), batch.returncode
