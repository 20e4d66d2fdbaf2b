"""The Streamlit dashboard: `speechcraft dashboard`. Pages read the lakehouse through `warehouse` only, read-only."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
import webbrowser
from pathlib import Path

APP = Path(__file__).with_name("app.py")


def streamlit_command(address: str = "127.0.0.1", port: int = 8501) -> list[str]:
    """The app under `streamlit run`; the lakehouse it reads comes from $SPEECHCRAFT_LAKE.
    Always headless: otherwise Streamlit asks for an e-mail on the terminal on first start, and exits 255
    when standard input is not one (a scheduler, nohup, CI, a systemd unit). The viewer toolbar hides the
    Deploy button, which means nothing for a local lakehouse."""
    return [sys.executable, "-m", "streamlit", "run", str(APP), "--server.address", address,
            "--server.port", str(port), "--server.headless", "true", "--client.toolbarMode", "viewer",
            "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]


def has_display() -> bool:
    """A person is at a terminal with somewhere to show a browser: only then is one opened."""
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        return False
    return sys.platform in ("darwin", "win32") or bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def wait_until_serving(url: str, server: subprocess.Popen, timeout_s: float = 120.0) -> bool:
    """True once the app answers its health check; False if the server died or took too long."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and server.poll() is None:
        try:
            urllib.request.urlopen(f"{url}/_stcore/health", timeout=1)
            return True
        except OSError:
            time.sleep(0.3)
    return False


def launch(lake_uri: str | None, address: str = "127.0.0.1", port: int = 8501, open_browser: bool = True) -> int:
    """Serve the app in the foreground until Ctrl-C, and open the user's browser on it when they have one."""
    from ..warehouse.lake import resolve_lake_uri

    try:
        import streamlit  # noqa: F401
    except ImportError:
        print("error: the dashboard needs streamlit: pip install 'speechcraft-lakehouse[dashboard]'", file=sys.stderr)
        return 2
    lake = resolve_lake_uri(lake_uri)
    # 0.0.0.0 serves every interface; the browser on this machine reaches it as localhost
    url = f"http://{'127.0.0.1' if address in ('0.0.0.0', '::') else address}:{port}"
    print(f"dashboard over {lake} at {url} (Ctrl-C stops it)", flush=True)
    server = subprocess.Popen(streamlit_command(address, port), env={**os.environ, "SPEECHCRAFT_LAKE": lake},
                              stdin=subprocess.DEVNULL)
    # a service manager stops us with SIGTERM: the server must not outlive this process
    signal.signal(signal.SIGTERM, lambda *_: server.terminate())
    if open_browser and has_display():
        threading.Thread(target=lambda: wait_until_serving(url, server) and webbrowser.open(url), daemon=True).start()
    try:
        return server.wait()
    except KeyboardInterrupt:
        server.terminate()
        server.wait(timeout=30)
        return 0
