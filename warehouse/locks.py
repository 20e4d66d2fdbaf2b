"""One writer at a time per lakehouse: the lock every writing flow holds for its whole run.

Lance commits are atomic, so two processes writing at once cannot corrupt a table; but two runs of one stage
over the same pending clips would both compute them, and two ingests of one new file would both count it
as new. So a flow that writes takes the lakehouse's lock first; a second run started meanwhile waits, then
finds the work done. The lock is an `flock` on `<lake>/.writer.lock`: the kernel frees it when the holder
dies, even with `kill -9`, so a killed run never leaves the lakehouse locked. Re-entrant within a process
(the pipeline flow holds it while its stage flows take it again).

On object storage there is no flock: runs on one machine still exclude each other through a lock file in
the local cache folder named after the lakehouse URI; runs on several machines must be kept apart by the
scheduler (one deployment per lakehouse with a concurrency limit of 1, as `speechcraft serve` makes them).
"""
from __future__ import annotations

import fcntl
import hashlib
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

_held: dict[str, tuple[int, int]] = {}      # lock path -> (file descriptor, depth) held by this process
_guard = threading.RLock()


def lock_path(lake_uri: str) -> Path:
    if "://" not in lake_uri:
        Path(lake_uri).mkdir(parents=True, exist_ok=True)
        return Path(lake_uri) / ".writer.lock"
    folder = Path(os.environ.get("SPEECHCRAFT_CACHE") or Path.home() / ".cache" / "speechcraft").expanduser() / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / (hashlib.sha256(lake_uri.encode()).hexdigest()[:16] + ".lock")


@contextmanager
def writer_lock(lake_uri: str, on_wait: Callable[[str], None] | None = None, poll_s: float = 0.5) -> Iterator[None]:
    """Hold the lakehouse's writer lock; `on_wait(holder)` is called once if another process has it."""
    path = str(lock_path(lake_uri))
    with _guard:
        if path in _held:
            fd, depth = _held[path]
            _held[path] = (fd, depth + 1)
            reentered = True
        else:
            reentered = False
    if not reentered:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not told and on_wait:
                    on_wait(_holder(path))
                    told = True
                time.sleep(poll_s)
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()} on {os.uname().nodename}".encode())
        with _guard:
            _held[path] = (fd, 1)
    try:
        yield
    finally:
        with _guard:
            fd, depth = _held[path]
            if depth > 1:
                _held[path] = (fd, depth - 1)
            else:
                del _held[path]
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)


def _holder(path: str) -> str:
    try:
        return Path(path).read_text() or "another process"
    except OSError:
        return "another process"
