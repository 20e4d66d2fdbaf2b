"""`@one_writer`: a flow that writes holds its lakehouse's writer lock for the whole run (warehouse/locks.py),
so two runs started at once on one lakehouse take turns instead of doing the same work twice."""
from __future__ import annotations

import functools
import inspect

from prefect import get_run_logger

from ..warehouse.lake import resolve_lake_uri
from ..warehouse.locks import writer_lock


def one_writer(fn):
    signature = inspect.signature(fn)

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        lake_uri = resolve_lake_uri(signature.bind(*args, **kwargs).arguments.get("lake_uri"))

        def waiting(holder: str) -> None:
            get_run_logger().warning("another run is writing to %s (%s): waiting for it to finish", lake_uri, holder)

        with writer_lock(lake_uri, on_wait=waiting):
            return fn(*args, **kwargs)

    return wrapper
