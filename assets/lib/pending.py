"""Each load's own pending folder: `<lake>/<source>/_pending/<step>/`.

Files are parsed outside the working database's lock (lib/ingest.py), so two loads of one source
can write pending files at once: two batch-date ranges on the multiprocess executor, or a command's
run beside the daemon's. Each load writes into a folder of its own and holds an OS lock on a file
in `<lake>/<source>/_pending.locks/<step>` for as long as it lives, taken before its folder exists.
A load starting removes the folders whose lock it can take — their load died (a process that dies
releases its locks with it) — and never one whose load is still at work, whatever the clock says.
"""

from __future__ import annotations

import os
import shutil
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from filelock import FileLock, Timeout

from .lake import PENDING, LakeRoot, clear_pending, is_url

LOCKS = f"{PENDING}.locks"  # beside _pending, which goes when empty: a load's lock must be there first


@contextmanager
def pending_step(lake_dir: LakeRoot, source: str) -> Iterator[str]:
    """A load of `source`: the name of its own pending folder (lake.pending_path's `step`), which
    is removed when the load ends, whatever it left there (held-back files, or all of them), and
    _pending with it when no other load has a folder there."""
    step = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:12]}"
    if is_url(lake_dir):
        # An object store has no folder to make, and the loads sharing it may run on other
        # machines, whose locks no lock here could see: a load clears its own folder only, and
        # one that died leaves its files under _pending/<step>/, which nothing reads (docs/lake.md).
        try:
            yield step
        finally:
            clear_pending(lake_dir, source, step)
        return
    lake_dir = Path(lake_dir)
    locks = lake_dir / source / LOCKS
    locks.mkdir(parents=True, exist_ok=True)
    with FileLock(locks / step):  # taken before its folder exists: a folder seen with its lock free is abandoned
        clear_abandoned(lake_dir / source)
        _make_folder(lake_dir / source / PENDING / step)
        try:
            yield step
        finally:
            clear_pending(lake_dir, source, step)
            with suppress(OSError):  # another load's folder is there
                (lake_dir / source / PENDING).rmdir()
    # after the release: a load clearing abandoned folders may have it open; it finds no folder
    (locks / step).unlink(missing_ok=True)


def clear_abandoned(source_dir: Path) -> None:
    """Remove from a source's _pending folder what no live load holds: the folders of loads that
    died, and the files the layout before per-load folders left at its top.

    A lock whose folder is gone is left: its load may have created it and not locked it yet (the
    lock is its file's; unlinked then, the load would hold a lock nobody else could see)."""
    try:
        with os.scandir(source_dir / PENDING) as entries:
            found = list(entries)
    except FileNotFoundError:
        return
    for entry in found:
        if entry.is_dir():
            lock = FileLock(source_dir / LOCKS / entry.name, timeout=0)
            try:
                lock.acquire()
            except Timeout:  # its load is at work
                continue
            try:
                shutil.rmtree(entry.path, ignore_errors=True)
            finally:
                lock.release()
            Path(lock.lock_file).unlink(missing_ok=True)
        elif entry.name.endswith(".parquet"):
            Path(entry.path).unlink(missing_ok=True)


def _make_folder(folder: Path) -> None:
    """`folder` and _pending above it, which a load ending removes while it is empty: made again
    when that happened between the two."""
    while True:
        try:
            folder.mkdir(parents=True)
            return
        except FileNotFoundError:
            continue
