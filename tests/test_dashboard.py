"""The dashboard: every page run in-process by Streamlit's AppTest on the fixture lakehouse (charts present,
numbers equal to the SQL answer), the empty lakehouse, refused queries, search, and a real-browser run:
the app served headless and screenshotted by Debian's chromium."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from speechcraft.dashboards import APP, streamlit_command
from speechcraft.warehouse.sql import QueryTimeoutError, query

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

PAGES = ["overview", "distributions", "validation", "clips", "search", "sql"]
SCREENSHOT = Path(__file__).resolve().parents[2] / "shared" / "tools" / "screenshot.py"
CHART = '[data-testid="stVegaLiteChart"]'


def run_page(lake: str, page: str, monkeypatch, **state) -> AppTest:
    monkeypatch.setenv("SPEECHCRAFT_LAKE", lake)
    app = AppTest.from_file(str(APP), default_timeout=120).run()
    if page != "overview":
        app.switch_page(f"sections/{page}.py")
    for key, value in state.items():
        app.session_state[key] = value
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def charts(app: AppTest) -> list:
    return app.get("arrow_vega_lite_chart") + app.get("vega_lite_chart")


def test_overview_numbers_equal_the_sql_answer(checked_lake, monkeypatch):
    app = run_page(checked_lake, "overview", monkeypatch)
    totals = query("""SELECT count(*) AS clips, count(DISTINCT corpus) AS corpora,
                             count(DISTINCT corpus || '/' || speaker_id) AS speakers FROM clips""",
                   checked_lake).to_pylist()[0]
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["clips"] == f"{totals['clips']:,}"
    assert metrics["corpora"] == str(totals["corpora"])
    assert metrics["speakers"] == f"{totals['speakers']:,}"
    shown = app.dataframe[0].value
    expected = query("SELECT * FROM corpus_summary ORDER BY language, corpus", checked_lake).to_pandas()
    assert shown.reset_index(drop=True).equals(expected)
    coverage = app.dataframe[1].value.set_index("stage").clips.groupby(level=0).sum()
    assert coverage["acoustics"] == query("SELECT count(*) AS n FROM acoustics", checked_lake).to_pylist()[0]["n"]
    described = query("SELECT count(DISTINCT clip_id) AS n FROM descriptions WHERE published AND text IS NOT NULL "
                      "AND kind = 'description'", checked_lake).to_pylist()[0]["n"]
    assert coverage["search index"] == described
    assert len(charts(app)) == 2
    assert "Quality gate passed" in app.success[0].value


def test_distributions_show_figure_4_the_histograms_and_word_clouds(checked_lake, monkeypatch):
    app = run_page(checked_lake, "distributions", monkeypatch)
    # age, gender, emotion; noise, reverberation, monotony in three bins and in Parler-TTS's words; pitch, energy,
    # speed histograms; one histogram per number the attribute stages measured; description lengths
    from speechcraft.warehouse import reports as measured
    from speechcraft.warehouse.sql import connect as connected

    numbers = measured.attribute_histograms(connected(checked_lake)).attribute.nunique()
    assert numbers >= 3                                        # snr_db, c50_db, f0_std_semitones at least
    assert len(charts(app)) == 7 + 6 + numbers
    assert len(app.get("image")) == 2                         # the English and the Chinese word cloud
    from speechcraft.warehouse import reports
    from speechcraft.warehouse.sql import connect

    counts = reports.label_counts(connect(checked_lake))
    gender = counts[counts.attribute == "gender"].groupby(["language", "label"]).clips.sum().to_dict()
    expected = {(r["language"], r["gender"]): r["n"] for r in query(
        "SELECT language, gender, count(*) AS n FROM clip_annotations WHERE gender IS NOT NULL GROUP BY ALL",
        checked_lake).to_pylist()}
    assert gender == expected
    pitch = reports.histogram(connect(checked_lake), "pitch")
    voiced = query("SELECT count(*) AS n FROM acoustics WHERE f0_mean_hz IS NOT NULL", checked_lake).to_pylist()
    assert pitch.clips.sum() == voiced[0]["n"]               # every voiced clip lands in exactly one bin


def test_validation_page_shows_the_stored_validations_and_checks(checked_lake, monkeypatch):
    app = run_page(checked_lake, "validation", monkeypatch)
    assert len(charts(app)) >= 3        # speaker accuracy, checker rates, quality over time
    speaker = app.dataframe[0].value
    stored = query("SELECT * FROM latest_validations WHERE attribute IN ('gender', 'age_group')",
                   checked_lake).to_pandas()
    assert sorted(speaker.accuracy.round(6)) == sorted(stored.accuracy.round(6))
    rates = app.dataframe[1].value
    passed = query("SELECT avg(passed::int) AS rate FROM descriptions WHERE text IS NOT NULL AND generator = "
                   "'embedded' AND language = 'en' AND kind = 'description'", checked_lake).to_pylist()[0]["rate"]
    row = rates[(rates.generator == "embedded") & (rates.language == "en") & (rates.kind == "description")]
    assert row.pass_rate.iloc[0] == pytest.approx(passed)


def test_clip_browser_filters_by_label_and_plays_the_clip(checked_lake, monkeypatch):
    app = run_page(checked_lake, "clips", monkeypatch, filter_gender=["female"], filter_language=["zh"])
    expected = query("SELECT clip_id FROM clip_annotations WHERE gender = 'female' AND language = 'zh' "
                     "ORDER BY clip_id", checked_lake).column("clip_id").to_pylist()
    assert app.caption[0].value.startswith(f"{len(expected):,} clips match")
    assert app.dataframe[0].value.clip_id.tolist() == expected
    assert app.selectbox(key="clip").value == expected[0]
    assert app.get("audio"), "no audio player for the chosen clip"
    shown = app.json[0].value
    assert '"gender": "female"' in shown and expected[0] in app.subheader[0].value


def test_search_finds_clips_by_a_description_in_plain_words(checked_lake, monkeypatch):
    app = run_page(checked_lake, "search", monkeypatch, query="a woman speaking", language="en")
    found = app.dataframe[0].value
    assert len(found) == 20 and found.similarity.is_monotonic_decreasing
    top = found.text.head(5).str.lower()
    assert sum(any(w in t for w in ("woman", "female", "lady", "girl", "she ")) for t in top) >= 4


def test_sql_page_runs_reads_and_refuses_writes_and_long_queries(checked_lake, monkeypatch):
    app = run_page(checked_lake, "sql", monkeypatch)
    expected = query("SELECT * FROM corpus_summary", checked_lake).to_pandas()
    assert app.dataframe[-1].value.equals(expected)
    app = run_page(checked_lake, "sql", monkeypatch, sql="DELETE FROM clips")
    assert "refused" in app.error[0].value and "read-only" in app.error[0].value
    assert query("SELECT count(*) AS n FROM clips", checked_lake).to_pylist()[0]["n"] > 0
    monkeypatch.setenv("SPEECHCRAFT_SQL_TIME_LIMIT_S", "0.5")
    app = run_page(checked_lake, "sql", monkeypatch, sql="SELECT sum(hash(i)) FROM range(100000000000) t(i)")
    assert "refused" in app.error[0].value and "longer than 0.5 s" in app.error[0].value


def test_a_query_past_its_time_limit_is_interrupted(checked_lake):
    started = time.perf_counter()
    with pytest.raises(QueryTimeoutError, match="longer than 0.3 s"):
        query("SELECT sum(hash(i)) FROM range(100000000000) t(i)", checked_lake, timeout_s=0.3)
    assert time.perf_counter() - started < 10


@pytest.mark.parametrize("page", PAGES)
def test_an_empty_lakehouse_says_how_to_ingest(tmp_path, monkeypatch, page):
    app = run_page(str(tmp_path / "empty"), page, monkeypatch)
    assert "has no clips yet" in app.info[0].value and "speechcraft ingest" in app.info[0].value


def test_the_search_index_embeds_each_published_text_once(checked_lake, tmp_path):
    from speechcraft.tasks.search_index import index_texts

    lake = str(tmp_path / "lake")
    shutil.copytree(checked_lake, lake)
    published = query("SELECT count(*) AS n FROM descriptions WHERE published AND text IS NOT NULL", lake)
    assert query("SELECT count(*) AS n FROM text_vectors", lake).to_pylist() == published.to_pylist()
    again = index_texts.fn(lake)
    assert again["embedded"] == 0 and again["indexed"] == published.to_pylist()[0]["n"]


def test_the_app_binds_to_localhost_unless_told_otherwise():
    from speechcraft.cli import build_parser

    args = build_parser().parse_args(["dashboard"])
    assert args.address == "127.0.0.1"
    command = streamlit_command(args.address, args.port)
    assert command[command.index("--server.address") + 1] == "127.0.0.1"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served_dashboard(checked_lake, tmp_path_factory):
    """`speechcraft dashboard` exactly as the README gives it, with no terminal (standard input from
    /dev/null, output to a file, as under a scheduler or nohup), until the module's tests end."""
    if not shutil.which("chromium"):
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: scripts/setup.sh installs it (apt-get install chromium)")
        pytest.skip("chromium is not installed")
    port = _free_port()
    log = tmp_path_factory.mktemp("dashboard") / "out.txt"
    command = [str(Path(sys.executable).with_name("speechcraft")), "dashboard", "--lake", checked_lake,
               "--port", str(port)]
    with open(log, "w") as out:
        server = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{url}/_stcore/health", timeout=1)
                break
            except OSError:
                assert server.poll() is None, f"the dashboard exited with {server.returncode}: {log.read_text()}"
                time.sleep(0.5)
        else:
            pytest.fail("the dashboard did not start within 60 s")
        yield url, log
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_the_readme_command_serves_without_a_terminal(served_dashboard):
    url, log = served_dashboard
    assert urllib.request.urlopen(url, timeout=10).status == 200
    printed = log.read_text()
    assert f"at {url}" in printed                        # the URL is printed for the user to open
    assert "Email" not in printed                        # Streamlit's sign-up prompt never appears


def test_the_deploy_button_is_hidden():
    command = streamlit_command()
    assert command[command.index("--client.toolbarMode") + 1] == "viewer"
    assert command[command.index("--server.headless") + 1] == "true"


def _screenshot(url: str, out: Path) -> subprocess.CompletedProcess:
    """The shared screenshot tool, one at a time across xdist workers (it drives chromium on a fixed
    debugging port), tried again if chromium was too slow to start on a loaded machine (it gives it 10 s)."""
    import fcntl
    import tempfile

    with open(Path(tempfile.gettempdir()) / "speechcraft-screenshot.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for _ in range(3):
            shot = subprocess.run([sys.executable, str(SCREENSHOT), url, str(out), CHART, "60"],
                                  capture_output=True, text=True, timeout=120)
            if shot.returncode == 0 or "name 'tabs' is not defined" not in shot.stderr:
                return shot
    return shot


@pytest.mark.parametrize("page", ["overview", "distributions", "validation"])
def test_a_real_browser_renders_the_charts(served_dashboard, page, tmp_path):
    from PIL import Image

    out = Path(os.environ.get("SPEECHCRAFT_SCREENSHOTS", tmp_path)) / f"{page}.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    shot = _screenshot(f"{served_dashboard[0]}/{page}", out)
    assert shot.returncode == 0, shot.stderr
    assert "selector not found" not in shot.stdout, f"no chart rendered on {page}"
    assert "SpeechCraft lakehouse" in shot.stdout          # the page title: the app, not an error page
    image = Image.open(out).convert("L")
    dark = sum(image.histogram()[:200]) / (image.width * image.height)
    assert 0.02 < dark < 0.6, f"the screenshot looks blank or broken ({dark:.1%} dark pixels)"
