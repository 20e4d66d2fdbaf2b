"""A new corpus is its reader module (plus its fixture): a toy reader registered from this test — no product
file edited — is a choice of `speechcraft ingest` and a `corpus` of `speechcraft run`'s sources, and its clips,
rejects and re-runs behave as every reader's do."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from speechcraft.cli import main
from speechcraft.tasks.corpora import READERS
from speechcraft.tasks.corpora.base import ClipSource, CorpusReader, ScanItem
from speechcraft.warehouse.sql import query


class ToyReader(CorpusReader):
    """`list.tsv` lines `<file>.wav<TAB>transcript<TAB>mood`, audio beside it."""
    name = "toy"
    language = "en"
    speaking_style = "read"
    required = ("list.tsv",)
    extra_columns = {"mood": "string"}      # its own queryable column in `clips`

    def scan(self) -> Iterator[ScanItem]:
        self.check_layout()
        for line in self.read_lines(self.root / "list.tsv", self.read_line):
            yield line

    def read_line(self, number: int, text: str) -> ScanItem | None:
        fields = text.split("\t")
        if len(fields) != 3:
            return self.malformed(self.root / "list.tsv", number, f"expected 3 tab-separated fields, got {len(fields)}")
        native_id = Path(fields[0]).stem
        audio = self.root / fields[0]
        problem = self.check_clip(self.line_source(self.root / "list.tsv", number), audio, native_id)
        return problem or ClipSource(corpus=self.name, native_id=native_id, language=self.language,
                                     audio_path=audio, transcript=fields[1].strip(), transcript_raw=fields[1],
                                     extras={"mood": fields[2].strip(), "take": 1})


def build_toy_corpus(root: Path) -> Path:
    """Two clips, one line whose file is missing, one malformed line."""
    root.mkdir(parents=True)
    rate = 16_000
    t = np.arange(rate) / rate
    for i, f0 in enumerate((120.0, 210.0)):
        sf.write(root / f"utt{i}.wav", (0.3 * np.sin(2 * np.pi * f0 * t)).astype(np.float32), rate)
    (root / "list.tsv").write_text("utt0.wav\thello there\tcalm\nutt1.wav\tgood morning\tbright\n"
                                   "gone.wav\tmissing\tcalm\n"
                                   "no tab here\n", encoding="utf-8")
    return root


@pytest.fixture
def toy_reader(monkeypatch):
    monkeypatch.setitem(READERS, "toy", ToyReader)      # the one registry line a new corpus adds


def test_a_registered_reader_is_ingested_and_run_like_the_others(toy_reader, prefect_harness, tmp_path, capsys):
    root = build_toy_corpus(tmp_path / "toy")
    lake = str(tmp_path / "lake")
    assert main(["ingest", "toy", str(root), "--lake", lake]) == 0
    assert "2 new" in capsys.readouterr().out
    clips = query("SELECT clip_id, transcript, mood, extras, reader, speaking_style FROM clips ORDER BY clip_id",
                  lake).to_pylist()
    toy = {"reader": "toy", "speaking_style": "read", "extras": '{"take": 1}'}
    assert clips == [{"clip_id": "toy/utt0", "transcript": "hello there", "mood": "calm", **toy},
                     {"clip_id": "toy/utt1", "transcript": "good morning", "mood": "bright", **toy}]
    rejects = query("SELECT reason FROM rejects ORDER BY reason", lake).to_pylist()
    assert [r["reason"] for r in rejects] == ["malformed_metadata", "missing_audio"]

    config = tmp_path / "speechcraft.toml"
    config.write_text(f'[pipeline]\nsteps = ["ingest", "annotate"]\n[annotate]\nstages = ["acoustics"]\n'
                      f'[[sources]]\ncorpus = "toy"\npath = "{root}"\n')
    assert main(["run", "--config", str(config), "--lake", lake]) == 0        # nothing new to ingest, measured
    measured = query("SELECT clip_id FROM acoustics ORDER BY clip_id", lake).to_pylist()
    assert [r["clip_id"] for r in measured] == ["toy/utt0", "toy/utt1"]
    assert query("SELECT count(*) AS n FROM clips", lake).to_pylist() == [{"n": 2}]   # a re-run duplicates nothing
