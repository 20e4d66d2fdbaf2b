"""The Streamlit dashboard: `speechcraft dashboard`. Pages read the lakehouse through `warehouse` only, read-only."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

APP = Path(__file__).with_name("app.py")


def streamlit_command(address: str = "127.0.0.1", port: int = 8501, headless: bool = True) -> list[str]:
    """The app under `streamlit run`; the lakehouse it reads comes from $SPEECHCRAFT_LAKE."""
    return [sys.executable, "-m", "streamlit", "run", str(APP), "--server.address", address,
            "--server.port", str(port), "--server.headless", str(headless).lower(),
            "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]


def launch(lake_uri: str | None, address: str = "127.0.0.1", port: int = 8501, headless: bool = False) -> int:
    """Run the app in the foreground until Ctrl-C."""
    from ..warehouse.lake import resolve_lake_uri

    try:
        import streamlit  # noqa: F401
    except ImportError:
        print("error: the dashboard needs streamlit: pip install 'speechcraft-lakehouse[dashboard]'", file=sys.stderr)
        return 2
    lake = resolve_lake_uri(lake_uri)
    env = {**os.environ, "SPEECHCRAFT_LAKE": lake}
    print(f"dashboard over {lake} at http://{address}:{port} (Ctrl-C stops it)")
    try:
        return subprocess.call(streamlit_command(address, port, headless), env=env)
    except KeyboardInterrupt:
        return 0
