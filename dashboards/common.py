"""What every page shares: the lakehouse it reads, cached report queries, the empty-lakehouse page, charts.

Reports are cached per lakehouse version (`reports.lake_version`): a page reloads instantly until a flow
writes, then shows the new data on its next run.
"""
from __future__ import annotations

import math
import threading

import pandas as pd
import streamlit as st

from speechcraft.vocabulary import AGE_GROUPS, CONDITION_LABEL_NAMES, LABEL_NAMES, PARLER_BINS
from speechcraft.warehouse import reports
from speechcraft.warehouse.lake import resolve_lake_uri
from speechcraft.warehouse.sql import connect

# the order charts draw the classes of an attribute in (low to high, young to old)
LABEL_ORDER = {**{attribute: list(names) for attribute, names in {**LABEL_NAMES, **CONDITION_LABEL_NAMES}.items()},
               **{f"{attribute}_parler": list(labels) for attribute, (_, labels) in PARLER_BINS.items()},
               "age": list(AGE_GROUPS)}


def lake_uri() -> str:
    return resolve_lake_uri(None)     # $SPEECHCRAFT_LAKE, set by `speechcraft dashboard`


@st.cache_resource(show_spinner=False, max_entries=2)
def _connection(lake: str, version: str):
    # one read-only DuckDB connection per lakehouse version, shared by the sessions; DuckDB connections
    # are not safe for concurrent queries, hence the lock
    return connect(lake), threading.Lock()


@st.cache_data(show_spinner="querying the lakehouse…", max_entries=256)
def _report(name: str, lake: str, version: str, *args):
    con, lock = _connection(lake, version)
    with lock:
        return getattr(reports, name)(con, *args)


def report(name: str, *args):
    """A `warehouse.reports` function's answer, cached until the lakehouse changes."""
    lake = lake_uri()
    return _report(name, lake, reports.lake_version(lake), *args)


def require_clips() -> dict:
    """The lakehouse's totals; a page over an empty lakehouse says how to fill it and stops."""
    totals = report("totals")
    if totals["clips"] == 0:
        st.title("SpeechCraft lakehouse")
        st.info(f"The lakehouse at `{lake_uri()}` has no clips yet.\n\n"
                "Ingest a corpus, then annotate and describe it:\n\n"
                "```\nspeechcraft ingest aishell3 /data/AISHELL-3 --lake " + lake_uri() + "\n"
                "speechcraft annotate --lake " + lake_uri() + "\n"
                "speechcraft describe --lake " + lake_uri() + "\n```\n\n"
                "or build the demo lakehouse: `speechcraft demo --lake " + lake_uri() + "`")
        st.stop()
    return totals


def report_or_hint(name: str, hint: str, *args):
    """A report's frame, or None after a caption saying how to fill it (a stage that has not run yet)."""
    frame = report(name, *args)
    if frame.empty:
        st.caption(hint)
        return None
    return frame


def plain(value):
    """A value as JSON shows it: arrays as lists, NaN and NaT as null, timestamps as text."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return None
    return value if isinstance(value, (str, int, float, bool, list, dict)) else str(value)


def show(chart) -> None:
    st.altair_chart(chart, width="stretch")
