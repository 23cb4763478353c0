"""Atomic writes: stage beside the target, then move into place; never overwrite unasked.

Every file napari-milna writes goes through :func:`atomic_target`:

* the data is written to ``<name>.tmp`` inside a ``.milna-tmp-<host>-<pid>-<random>``
  folder beside the target, so a crash or a kill never leaves half a file, nor a hidden
  file that ends like a real one (``.x.nii.gz.abc123.nii.gz``);
* it then appears under its final name in one step: ``os.replace`` when overwriting is
  allowed, else ``os.link``, which fails when the name exists (exclusive creation: of
  several writers racing for one new name exactly one wins; no check-then-rename);
* the new file gets the permissions any new file would get (``0666 & ~umask``), not the
  owner-only mode of a temporary file;
* an ``OSError`` while writing becomes one sentence (:func:`write_error`: "cannot write
  X: read-only file system", "disk full", "not a folder", "permission denied");
* the first write into a folder removes what dead processes left there
  (:func:`remove_stale`), so a killed run is cleaned up by the next one.

Several files that belong together (a GLM's maps, a crossover's subject and group maps,
a .hdr / .img pair) are written inside :func:`output_set`: each is staged, and they are
moved into place together when the block ends without error. A move that fails undoes
the moves before it (a replaced file comes back), so a command that fails leaves nothing
new at its output paths. A journal in the staging folder lets the next run undo the moves
of a set whose process was killed between two of them.
"""

from __future__ import annotations

import contextlib
import contextvars
import errno
import json
import os
import re
import shutil
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import MilnaInputError, input_error


def _read_umask() -> int:
    """The process umask (from /proc when available, so no other thread sees it change)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


#: Mode of files we create, as ``open()`` would give them.
NEW_FILE_MODE = 0o666 & ~_read_umask()

#: Name prefix of the staging folders.
STAGING_PREFIX = ".milna-tmp-"
#: Suffix of a staged file.
STAGED_SUFFIX = ".tmp"
_JOURNAL = "journal.json"


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9]", "", socket.gethostname())[:32] or "host"


_STAGING = re.compile(re.escape(STAGING_PREFIX) + r"(?P<host>[A-Za-z0-9]+)-(?P<pid>\d+)-")

# --------------------------------------------------------------------------- messages

_REASONS = {
    errno.EROFS: "read-only file system",
    errno.ENOSPC: "disk full (no space left on the device)",
    errno.EDQUOT: "disk quota exceeded",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EISDIR: "it is a folder",
    errno.ENAMETOOLONG: "the name is too long",
    errno.ENOENT: "its folder does not exist",
    errno.EIO: "input/output error (a failing disk or network file system)",
    errno.EMFILE: "too many files open",
    errno.ENFILE: "too many files open",
    errno.EFBIG: "the file is too large for the file system",
}


def _file_above(path: Path) -> Path | None:
    """The nearest ancestor of ``path`` that exists and is a file, when there is one."""
    for parent in path.parents:
        if parent.exists():
            return parent if not parent.is_dir() else None
    return None


def os_error_reason(exc: OSError, path: str | os.PathLike | None = None) -> str:
    """What an ``OSError`` means, in words (``"read-only file system"``)."""
    if exc.errno == errno.ENOTDIR:
        above = _file_above(Path(path)) if path is not None else None
        return f"not a folder ({above} is a file)" if above else "not a folder"
    reason = _REASONS.get(exc.errno)
    if reason is None:
        reason = (exc.strerror or type(exc).__name__).lower()
    return reason


def write_error(path: str | os.PathLike, exc: OSError) -> MilnaInputError:
    """One sentence for an ``OSError`` while writing ``path``.

    Parameters
    ----------
    path : str or path-like
        The file being written (its final name, not the temporary one).
    exc : OSError

    Returns
    -------
    MilnaInputError
        ``"cannot write PATH: read-only file system."`` and the like.
    """
    return input_error(None, f"cannot write {os.fspath(path)}: {os_error_reason(exc, path)}")


def os_error_sentence(exc: OSError) -> str:
    """One sentence for any ``OSError`` that reached the command line (no file known)."""
    where = exc.filename if exc.filename is not None else None
    reason = os_error_reason(exc, where)
    text = f"{os.fsdecode(where)}: {reason}" if where is not None else reason
    return text[:1].upper() + text[1:] + "."


# --------------------------------------------------------------------------- checks


def check_writable(path: Path, overwrite: bool) -> None:
    """Refuse an existing file (unless ``overwrite``) and a missing folder, in one sentence.

    What killed runs left in the folder is removed first (:func:`remove_stale`): a file
    a killed set had already moved into place is not "existing".
    """
    path = Path(path)
    remove_stale(path.parent)
    if path.is_dir():
        raise input_error(path, "is a folder; give a file name")
    if path.exists() and not overwrite:
        raise input_error(path, "already exists; choose another name or allow overwriting")
    if not path.parent.is_dir():
        above = _file_above(path)
        if above is not None:
            raise input_error(None, f"cannot write {path}: not a folder ({above} is a file)")
        raise input_error(path.parent, "is not an existing folder")


# --------------------------------------------------------------------------- cleaning


def process_alive(pid: int) -> bool:
    """True while process ``pid`` of this machine runs (a zombie counts as ended).

    Where that cannot be asked safely (Windows, whose ``os.kill`` ends the process), every
    process counts as running: nothing of another process is ever removed there.
    """
    if pid == os.getpid() or os.name == "nt":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (killed, not yet reaped) is dead for our purpose
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        return state != "Z"
    except (OSError, IndexError):
        return True


def _undo(staging: Path) -> None:
    """Undo the moves a set's journal lists (a move is ours when the inode is ours)."""
    journal = staging / _JOURNAL
    try:
        entries = json.loads(journal.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    for entry in reversed(entries):
        final = Path(entry["final"])
        backup = staging / entry["backup"] if entry.get("backup") else None
        try:
            stat = os.stat(final)
        except OSError:
            continue
        if (stat.st_ino, stat.st_dev) != (entry["inode"], entry["device"]):
            continue  # not the file this set moved there
        with contextlib.suppress(OSError):
            if backup is not None and backup.exists():
                os.replace(backup, final)
            else:
                os.unlink(final)


def remove_stale(folder: str | os.PathLike) -> list[Path]:
    """Remove the staging folders dead processes of this machine left in ``folder``.

    A set killed between two moves is undone first (its journal says what it moved).

    Returns
    -------
    list of Path
        The staging folders removed.
    """
    removed = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    host = _host()
    for name in names:
        match = _STAGING.match(name)
        if not match or match["host"] != host or process_alive(int(match["pid"])):
            continue
        staging = Path(folder) / name
        _undo(staging)
        shutil.rmtree(staging, ignore_errors=True)
        removed.append(staging)
    return removed


def _new_staging(folder: Path) -> Path:
    remove_stale(folder)
    staging = folder / f"{STAGING_PREFIX}{_host()}-{os.getpid()}-{uuid.uuid4().hex[:10]}"
    staging.mkdir()
    return staging


# --------------------------------------------------------------------------- moving


#: ``errno`` of ``os.link`` on a file system without hard links (FAT, some FUSE and SMB).
_NO_HARD_LINKS = (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK, errno.ENOSYS)


def _publish(staged: Path, final: Path, overwrite: bool, backup: Path | None = None) -> None:
    """Move ``staged`` to ``final``: replace when allowed, else create exclusively."""
    os.chmod(staged, NEW_FILE_MODE)
    if overwrite:
        if backup is not None:
            with contextlib.suppress(FileNotFoundError):
                try:
                    os.link(final, backup)  # the replaced file, kept until the set is complete
                except OSError as exc:
                    if exc.errno not in _NO_HARD_LINKS:
                        raise
                    shutil.copy2(final, backup)  # no hard links here: a copy serves
        os.replace(staged, final)
        return
    try:
        os.link(staged, final)
    except FileExistsError:
        raise input_error(final, "already exists; choose another name or allow "
                                 "overwriting") from None
    except OSError as exc:
        if exc.errno not in _NO_HARD_LINKS:
            raise
        # No hard links on this file system: reserve the name exclusively, then replace.
        try:
            fd = os.open(final, os.O_CREAT | os.O_EXCL | os.O_WRONLY, NEW_FILE_MODE)
        except FileExistsError:
            raise input_error(final, "already exists; choose another name or allow "
                                     "overwriting") from None
        os.close(fd)
        os.replace(staged, final)
        return
    os.unlink(staged)


class _OutputSet:
    """Files staged together and moved into place together (see :func:`output_set`)."""

    def __init__(self):
        self.staging: dict[Path, Path] = {}           # folder -> staging folder
        self.entries: dict[Path, tuple[Path, bool]] = {}  # final -> (staged, overwrite)

    def staging_for(self, folder: Path) -> Path:
        folder = Path(os.path.abspath(folder))
        if folder not in self.staging:
            self.staging[folder] = _new_staging(folder)
        return self.staging[folder]

    def discard(self) -> None:
        for staging in self.staging.values():
            shutil.rmtree(staging, ignore_errors=True)
        self.staging.clear()
        self.entries.clear()

    def _journal(self) -> list[tuple[Path, Path, bool, Path | None]]:
        """Write each staging folder's journal; return the moves in order."""
        moves, journals = [], {}
        for k, (final, (staged, overwrite)) in enumerate(self.entries.items()):
            staging = staged.parent
            backup = staging / f"backup-{k}" if overwrite and final.exists() else None
            stat = os.stat(staged)
            journals.setdefault(staging, []).append({
                "final": str(final), "inode": stat.st_ino, "device": stat.st_dev,
                "backup": backup.name if backup is not None else None})
            moves.append((final, staged, overwrite, backup))
        for staging, entries in journals.items():
            (staging / _JOURNAL).write_text(json.dumps(entries), encoding="utf-8")
        return moves

    def commit(self) -> None:
        if not self.entries:
            self.discard()
            return
        try:
            moves = self._journal()
        except OSError as exc:
            final = next(iter(self.entries))
            self.discard()
            raise write_error(final, exc) from None
        done = []
        try:
            for final, staged, overwrite, backup in moves:
                _publish(staged, final, overwrite, backup)
                done.append((final, backup))
        except BaseException as exc:
            for final, backup in reversed(done):
                with contextlib.suppress(OSError):
                    if backup is not None and backup.exists():
                        os.replace(backup, final)
                    else:
                        os.unlink(final)
            self.discard()
            if isinstance(exc, OSError):
                raise write_error(final, exc) from None
            raise
        for staging in self.staging.values():
            with contextlib.suppress(OSError):
                os.unlink(staging / _JOURNAL)  # the set is complete: nothing to undo
        self.discard()


_CURRENT: contextvars.ContextVar[_OutputSet | None] = contextvars.ContextVar(
    "milna_output_set", default=None)


@contextmanager
def output_set() -> Iterator[None]:
    """Stage every file written in the block; move them into place together at its end.

    Writes through :func:`atomic_target` (so every NIfTI / table write) inside the block
    are staged; when the block ends without error they are moved into place, each as it
    would have been alone (replaced when its writer allowed overwriting, else created
    exclusively). When the block raises, nothing is moved; when a move fails, the moves
    before it are undone. Nested blocks join the outermost one.

    A file written in the block is not at its final path until the block ends: code that
    reads back what it wrote ends the block first.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from napari_milna.core.io.tables import atomic_write_text
    >>> folder = Path(tempfile.mkdtemp())
    >>> with output_set():
    ...     _ = atomic_write_text(folder / "a.txt", "a")
    ...     (folder / "a.txt").exists()
    False
    >>> sorted(p.name for p in folder.iterdir())
    ['a.txt']
    """
    if _CURRENT.get() is not None:
        yield
        return
    current = _OutputSet()
    token = _CURRENT.set(current)
    try:
        yield
    except BaseException:
        _CURRENT.reset(token)
        current.discard()
        raise
    _CURRENT.reset(token)
    current.commit()


@contextmanager
def atomic_target(path: str | os.PathLike, suffix: str = STAGED_SUFFIX, *,
                  overwrite: bool = True) -> Iterator[Path]:
    """A staged path for ``path``: write there; it becomes ``path`` when the block succeeds.

    Parameters
    ----------
    path : str or path-like
        The final file.
    suffix : str
        Kept for callers of earlier versions; the staged file always ends in ``.tmp``.
    overwrite : bool
        Replace an existing ``path``. Without it the final move is an exclusive creation:
        an existing file (even one that appeared while this one was written) is refused.

    Yields
    ------
    Path
        Where to write (``.milna-tmp-*/<name>.tmp`` beside ``path``). On success it is
        moved onto ``path`` (at the end of the enclosing :func:`output_set`, if any) with
        the usual permissions of a new file; on any error it is removed. An ``OSError``
        about the staged file becomes :func:`write_error`'s sentence.
    """
    del suffix
    path = Path(os.path.abspath(path))
    current = _CURRENT.get()
    alone = current is None
    if alone:
        current = _OutputSet()
    try:
        staging = current.staging_for(path.parent)
    except OSError as exc:
        raise write_error(path, exc) from None
    staged = staging / f"{path.name}{STAGED_SUFFIX}"
    try:
        yield staged
        if not staged.exists():
            raise FileNotFoundError(errno.ENOENT, "nothing was written", str(staged))
    except OSError as exc:
        if alone:
            current.discard()
        else:
            with contextlib.suppress(OSError):
                staged.unlink()
        ours = exc.filename is None or os.fsdecode(exc.filename).startswith(str(staging))
        if ours or os.fsdecode(exc.filename) == str(path):
            raise write_error(path, exc) from None
        raise
    except BaseException:
        if alone:
            current.discard()
        else:
            with contextlib.suppress(OSError):
                staged.unlink()
        raise
    current.entries.pop(path, None)
    current.entries[path] = (staged, overwrite)
    if alone:
        current.commit()
