"""The command line as a user meets it: help text, and the fixture builder's own entry point."""
from __future__ import annotations

import subprocess
import sys


def test_help_lists_the_commands():
    out = subprocess.run([sys.executable, "-m", "speechcraft.cli", "--help"], capture_output=True, text=True,
                         check=True).stdout
    for command in ("ingest", "sql", "demo"):
        assert command in out
    ingest = subprocess.run([sys.executable, "-m", "speechcraft.cli", "ingest", "--help"], capture_output=True,
                            text=True, check=True).stdout
    for corpus in ("aishell3", "libritts-r", "gigaspeech", "zhvoice", "folder", "--subset", "--lake"):
        assert corpus in ingest


def test_help_does_not_import_the_heavy_libraries():
    probe = ("import sys; from speechcraft.cli import build_parser; build_parser(); "
             "print(sorted(m for m in ('prefect', 'lancedb', 'lance', 'duckdb', 'torch') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_unknown_corpus_is_a_usage_error():
    result = subprocess.run([sys.executable, "-m", "speechcraft.cli", "ingest", "timit", "/tmp"],
                            capture_output=True, text=True)
    assert result.returncode == 2 and "invalid choice" in result.stderr
