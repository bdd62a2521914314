"""One way to write a file so that readers never see it half-written.

The data go to a temporary file in the destination's directory (so that the
final rename stays on one file system), are flushed and fsync'ed, and the
temporary file is renamed over the destination with :func:`os.replace`, which
is atomic on POSIX and Windows. Each write has a temporary file of its own
(``.<name>.<random>.<pid>.part``), so concurrent writers of one destination
never share one: the last to finish wins, whole. A process killed during the
write leaves at most such a file, never a truncated destination;
:func:`remove_partial_files` clears those on the next run.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

__all__ = ["PART_SUFFIX", "atomic_write", "remove_partial_files"]

#: Suffix of the temporary files of :func:`atomic_write`.
PART_SUFFIX = ".part"


@contextlib.contextmanager
def atomic_write(path, mode="w", **open_kwargs):
    """Open a temporary file for writing; on success, move it to ``path`` atomically.

    Parameters
    ----------
    path : str or path-like
        The destination. Its directory is created if missing.
    mode : {"w", "wb"}, default="w"
        Text or binary.
    **open_kwargs
        Passed to :func:`open` (e.g. ``encoding="utf-8"``).

    Yields
    ------
    file object
        The open temporary file. If the ``with`` block raises, the temporary
        file is removed and ``path`` is left as it was.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from skecd._atomic import atomic_write
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
    >>> with atomic_write(target) as fh:
    ...     _ = fh.write("done")
    >>> target.read_text()
    'done'
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"mode must be 'w' or 'wb', got {mode!r}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # A random part of its own, created exclusively ("x"), with the umask's permissions.
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.{os.getpid()}{PART_SUFFIX}")
    try:
        with open(tmp, mode.replace("w", "x"), **open_kwargs) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def remove_partial_files(directory):
    """Remove the temporary files that killed writers of :func:`atomic_write` left behind.

    Only hidden ``.*.part`` files are touched, and of those written by
    :func:`atomic_write` only the ones whose process no longer runs, so that a
    concurrent writer in the same directory is left alone.

    Parameters
    ----------
    directory : str or path-like
        Searched recursively; a missing directory is fine.

    Returns
    -------
    list of pathlib.Path
        The files removed.
    """
    removed = []
    directory = Path(directory)
    if not directory.is_dir():
        return removed
    for tmp in directory.rglob(f".*{PART_SUFFIX}"):  # the hidden names atomic_write uses
        pid = tmp.name[: -len(PART_SUFFIX)].rsplit(".", 1)[-1]
        if pid.isdigit() and _process_alive(int(pid)):
            continue
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
            removed.append(tmp)
    return removed


def _process_alive(pid):
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    except OSError:
        return False
    return True
