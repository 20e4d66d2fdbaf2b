"""Corpus readers on their own (metadata only, no audio decoding): subset selection, speaker tables,
layout errors, streaming."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from collections import Counter

import pytest

from conftest import SHARED_DATA
from speechcraft.tasks.corpora import get_reader
from speechcraft.tasks.corpora.base import ClipSource, CorpusLayoutError, Reject
from speechcraft.tasks.corpora.libritts_r import read_speakers_tsv, read_speakers_txt


def _scan(corpus, root, subsets=None, **options):
    items = list(get_reader(corpus, root, subsets, **options).scan())
    return [i for i in items if isinstance(i, ClipSource)], [i for i in items if isinstance(i, Reject)]


def test_real_libritts_r_speakers_tsv_parses():
    problems = []
    genders = read_speakers_tsv(SHARED_DATA / "libritts_r_speakers.tsv",
                                lambda number, reason, detail: problems.append(number))
    assert len(genders) == 2484
    assert Counter(genders.values()) == {"female": 1201, "male": 1283}
    assert genders["60"] == "male"            # the row with an empty name
    assert genders["14"] == "female"
    assert problems == []


def test_speakers_txt_with_pipes_in_a_name(tmp_path):
    path = tmp_path / "SPEAKERS.txt"
    path.write_text(";ID  |SEX| SUBSET           |MINUTES| NAME\n"
                    "14   | F | train-clean-360  | 25.03 | Kristin LeMoine\n"
                    "60   | M | train-clean-100  | 20.18 | |CBW|Simon\n"
                    "not a row\n", encoding="utf-8")
    problems = []
    genders = read_speakers_txt(path, lambda number, reason, detail: problems.append((number, str(reason))))
    assert genders == {"14": "female", "60": "male"}
    assert problems == [(4, "malformed_metadata")]


def test_gigaspeech_subset_column_does_not_depend_on_the_request(corpora):
    root = corpora["gigaspeech"].root
    by_default = {c.native_id: c.subset for c in _scan("gigaspeech", root)[0]}
    as_xl = {c.native_id: c.subset for c in _scan("gigaspeech", root, ["XL"])[0]}
    assert as_xl and all(by_default[i] == subset for i, subset in as_xl.items())
    assert "M" in as_xl.values()          # an {XL},{L},{M} segment stays "M" when XL is asked for


def test_gigaspeech_subsets_follow_each_segments_own_tags(corpora):
    truth = corpora["gigaspeech"]
    tags = {c.native_id: c for c in truth.clips}
    everything, _ = _scan("gigaspeech", truth.root)
    scanned = [c.native_id for c in everything]
    assert len(scanned) == len(set(scanned)) and set(tags) <= set(scanned)  # every segment exactly once
    medium, _ = _scan("gigaspeech", truth.root, ["M"])
    dev_and_test, _ = _scan("gigaspeech", truth.root, ["DEV", "TEST"])
    assert medium and all(c.subset == "M" and c.split == "train" for c in medium)
    assert {c.split for c in dev_and_test} == {"dev", "test"}
    # a segment tagged only {XL} sits in a file that also holds {M} segments: the file's tags don't count
    xl_only = [c for c in everything if c.subset == "XL"]
    assert xl_only and not {c.native_id for c in xl_only} & {c.native_id for c in medium}
    assert {c.audio_path for c in xl_only} & {c.audio_path for c in medium}
    large, _ = _scan("gigaspeech", truth.root, ["L"])
    assert {c.native_id for c in medium} < {c.native_id for c in large}      # M nests inside L


def test_libritts_r_subset_choice_and_absent_subset(corpora):
    root = corpora["libritts-r"].root
    dev, _ = _scan("libritts-r", root, ["dev-clean"])
    assert dev and {c.subset for c in dev} == {"dev-clean"} and {c.split for c in dev} == {"dev"}
    everything, _ = _scan("libritts-r", root)
    assert {c.subset for c in everything} == {"dev-clean", "test-clean", "train-clean-100"}
    with pytest.raises(CorpusLayoutError, match="train-clean-360"):
        _scan("libritts-r", root, ["train-clean-360"])
    with pytest.raises(ValueError, match="unknown subset"):
        get_reader("libritts-r", root, ["train-clean-999"])


def test_zhvoice_reads_both_unpack_layouts(corpora):
    one_root, _ = _scan("zhvoice", corpora["zhvoice"].root)
    per_archive, _ = _scan("zhvoice", corpora["zhvoice-split"].root)
    # the scan offers every good clip (and the ones whose audio the ingest will reject on decoding)
    assert {c.clip_id for c in corpora["zhvoice"].clips} <= {c.clip_id for c in one_root}
    assert {c.clip_id for c in corpora["zhvoice-split"].clips} <= {c.clip_id for c in per_archive}
    only_thchs, _ = _scan("zhvoice", corpora["zhvoice"].root, ["zhthchs30"])
    assert only_thchs and {c.subset for c in only_thchs} == {"zhthchs30"}
    assert all(" " not in (c.transcript or "") for c in one_root + per_archive)


def test_folder_name_and_language_options(corpora):
    root = corpora["folder"].root
    clips, _ = _scan("folder", root, name="my-voices", language="zh")
    assert {c.corpus for c in clips} == {"my-voices"} and {c.language for c in clips} == {"zh"}
    auto, _ = _scan("folder", root)
    by_text = {c.language for c in auto if c.transcript and any("\u4e00" <= ch <= "\u9fff" for ch in c.transcript)}
    assert by_text == {"zh"}


@pytest.mark.parametrize("corpus,expected", [
    ("aishell3", "spk-info.txt"), ("gigaspeech", "GigaSpeech.json"), ("libritts-r", "train-clean-100"),
    ("zhvoice", "metadata.csv"),
])
def test_wrong_root_names_the_file_it_expected(tmp_path, corpus, expected):
    (tmp_path / "some_file.wav").write_bytes(b"RIFF")
    with pytest.raises(CorpusLayoutError, match=expected):
        get_reader(corpus, tmp_path).check_layout()


def test_unknown_corpus_lists_the_known_ones(tmp_path):
    with pytest.raises(ValueError, match="aishell3, libritts-r, gigaspeech, zhvoice, folder"):
        get_reader("timit", tmp_path)


def test_gigaspeech_json_is_streamed_not_loaded_whole(tmp_path):
    """Memory while scanning stays far below what loading the JSON would take."""
    segments = [{"sid": f"POD0000000001_S{i:07d}", "speaker": "N/A", "begin_time": i * 2.0,
                 "end_time": i * 2.0 + 1.5, "text_raw": "", "subsets": ["{XL}", "{L}", "{M}"],
                 "text_tn": "A FAIRLY TYPICAL SEGMENT OF PODCAST SPEECH GOES HERE <PERIOD>"} for i in range(60)]
    audios = [{"title": f"Episode {a}", "url": "", "path": f"audio/podcast/P0001/POD{a:010d}.opus",
               "aid": f"POD{a:010d}", "source": "podcast", "format": "opus", "sample_rate": 16000,
               "codec": "s16le", "channels": 1, "md5": "", "duration": 20000.0, "size": 1, "speaker": "N/A",
               "category": "Arts", "subsets": ["{XL}"],
               "segments": [dict(s, sid=s["sid"].replace("0000000001", f"{a:010d}")) for s in segments]}
              for a in range(400)]
    (tmp_path / "audio").mkdir()
    path = tmp_path / "GigaSpeech.json"
    path.write_text(json.dumps({"dataset": "GigaSpeech", "language": "EN", "version": "v1.0.0",
                                "audios": audios}), encoding="utf-8")
    # measured in a fresh interpreter: tracemalloc counts every thread's allocations, and threads an earlier test
    # left in this worker (a Prefect client, a LanceDB pool) allocate while the scan runs
    measure = textwrap.dedent(f"""
        import json, sys, tracemalloc
        from pathlib import Path
        from speechcraft.tasks.corpora import get_reader

        def peak_bytes(work):
            tracemalloc.start()
            result = work()
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            return result, peak

        count, scan_peak = peak_bytes(lambda: sum(1 for _ in get_reader("gigaspeech", Path({str(tmp_path)!r})).scan()))
        _, load_peak = peak_bytes(lambda: len(json.loads(Path({str(path)!r}).read_text(encoding="utf-8"))["audios"]))
        print(json.dumps([count, scan_peak, load_peak]))
    """)
    done = subprocess.run([sys.executable, "-c", measure], capture_output=True, text=True, check=True, timeout=300)
    count, scan_peak, load_peak = json.loads(done.stdout.strip().splitlines()[-1])
    assert scan_peak < load_peak / 4, f"scan peak {scan_peak / 1e6:.1f} MB vs loading {load_peak / 1e6:.1f} MB"


# -- zhvoice layouts: every base a documented layout allows, the one that holds the file --------------------
@pytest.fixture(scope="module")
def hybrid(tmp_path_factory):
    """zhvoice with layouts (a), (b) and a per-subset metadata.csv relative to the root, in one root."""
    from speechcraft.tasks.demo_corpora import zhvoice

    return zhvoice.build_hybrid(tmp_path_factory.mktemp("hybrid") / "zhvoice")


def test_zhvoice_hybrid_layout_offers_every_clip_at_its_real_path(hybrid):
    reader = get_reader("zhvoice", hybrid.root)
    clips, rejects = _scan("zhvoice", hybrid.root)
    by_id = {c.clip_id: c for c in clips}
    for expected in hybrid.clips:
        assert by_id[expected.clip_id].audio_path == hybrid.root / expected.audio_relpath, expected.clip_id
    # the scan's own rejects (decoding finds the rest) are all in the truth: no clip lost as missing_audio
    expected = {(r.source, r.reason, r.native_id) for r in hybrid.rejects}
    assert {(r.source, str(r.reason), r.native_id) for r in rejects} <= expected


def test_zhvoice_reports_the_layout_found_for_each_subset(hybrid):
    reader = get_reader("zhvoice", hybrid.root)
    list(reader.scan())
    report = {line.split(":")[0]: line for line in reader.layout_report()}
    assert set(report) == {"zhaishell", "zhprimewords", "zhmagicdata", "zhthchs30"}
    assert "text/metadata.csv" in report["zhaishell"] and "the corpus root" in report["zhaishell"]
    assert "zhmagicdata/metadata.csv" in report["zhmagicdata"] and "zhmagicdata/" in report["zhmagicdata"] \
        and "double" in report["zhmagicdata"]
    assert "zhthchs30/metadata.csv" in report["zhthchs30"] and "the corpus root" in report["zhthchs30"]
    # its good, truncated and repeated lines; the missing clip and the undecodable line's clip are nowhere
    assert report["zhthchs30"] == ("zhthchs30: zhthchs30/metadata.csv: 5 lines relative to the corpus root, "
                                   "2 lines found nowhere")


def _write_thchs_archive(root, lines: list[str]) -> None:
    (root / "zhthchs30" / "A11").mkdir(parents=True)
    (root / "zhthchs30" / "metadata.csv").write_text("index\tsentence\n" + "".join(f"{line}\n" for line in lines),
                                                     encoding="utf-8")


def test_zhvoice_subset_whose_lines_resolve_nowhere_is_a_layout_error(tmp_path):
    root = tmp_path / "zhvoice"
    _write_thchs_archive(root, ["zhthchs30/A11/A11_0.mp3\t绿是阳春烟景", "zhthchs30/A11/A11_1.mp3\t他仅凭腰部的力量"])
    (root / "zhthchs30" / "A11" / "A11_0.wav").write_bytes(b"RIFF")   # converted to wav: no listed mp3 anywhere
    with pytest.raises(CorpusLayoutError) as error:
        list(get_reader("zhvoice", root).scan())
    message = str(error.value)
    assert "zhthchs30/metadata.csv" in message and "zhthchs30/A11/A11_0.mp3" in message
    for base in (root / "zhthchs30", root, root / "zhthchs30" / "zhthchs30"):
        assert f"{base}/" in message, base
    assert "2 lines" in message


def test_zhvoice_combined_list_of_subsets_not_on_disk_is_no_layout_error(tmp_path):
    root = tmp_path / "zhvoice"
    _write_thchs_archive(root, ["zhthchs30/A11/A11_0.mp3\t绿是阳春烟景"])
    (root / "zhthchs30" / "A11" / "A11_0.mp3").write_bytes(b"ID3")
    (root / "text").mkdir()
    (root / "text" / "metadata.csv").write_text("index\tsentence\nzhstcmds/P00406I/P00406I_1.mp3\t你好\n",
                                                encoding="utf-8")
    reader = get_reader("zhvoice", root)
    clips, rejects = _scan("zhvoice", root)
    assert [c.native_id for c in clips] == ["zhthchs30/A11/A11_0"] and rejects == []
    list(reader.scan())
    assert any(line.startswith("zhstcmds:") and "not on disk" in line for line in reader.layout_report())
    shutil.rmtree(root / "zhthchs30")       # no subset folder at all: nothing could be read, which is an error
    with pytest.raises(CorpusLayoutError, match="zhXXX"):
        get_reader("zhvoice", root).check_layout()


# -- metadata lines that are not UTF-8 ------------------------------------------------------------------------
@pytest.mark.parametrize("corpus", ["aishell3", "libritts-r"])
def test_gb18030_line_is_recovered_and_an_undecodable_line_names_its_clip(corpora, tmp_path, corpus):
    from fixtures.encodings import with_encoded_lines

    copy = with_encoded_lines(corpora[corpus], tmp_path / corpus)
    clips, rejects = _scan(corpus, copy.root)
    recovered = next(c for c in clips if c.native_id == copy.recovered)
    assert recovered.transcript == copy.transcript
    assert [(w.source, str(w.reason), w.native_id) for w in recovered.warnings] == \
        [(copy.recovered_source, "recovered_encoding", copy.recovered)]
    assert [(r.source, str(r.reason), r.native_id) for r in rejects if r.source == copy.unreadable_source] == \
        [(copy.unreadable_source, "bad_encoding", copy.unreadable)]
    assert copy.unreadable not in {c.native_id for c in clips}


def test_zhvoice_gb18030_lines_land_with_a_warning_and_undecodable_lines_name_their_clip(hybrid):
    clips, rejects = _scan("zhvoice", hybrid.root)
    warnings = {(w.source, str(w.reason), w.native_id) for c in clips for w in c.warnings}
    assert warnings == {(r.source, r.reason, r.native_id) for r in hybrid.rejects if r.reason == "recovered_encoding"}
    assert len(warnings) == 2
    unreadable = {(r.source, str(r.reason), r.native_id) for r in rejects if r.reason == "bad_encoding"}
    assert unreadable == {(r.source, r.reason, r.native_id) for r in hybrid.rejects if r.reason == "bad_encoding"}
    assert all(native_id for _, _, native_id in unreadable)


def test_folder_gb18030_transcript_and_speaker_table_are_recovered_with_warnings(tmp_path):
    from speechcraft.tasks.demo_corpora.common import not_utf8, undecodable

    for name in ("recovered", "unreadable"):
        (tmp_path / "李雷" / f"{name}.wav").parent.mkdir(exist_ok=True)
        (tmp_path / "李雷" / f"{name}.wav").write_bytes(b"RIFF")
    (tmp_path / "李雷" / "recovered.txt").write_bytes(not_utf8("今天天气很好"))
    (tmp_path / "李雷" / "unreadable.txt").write_bytes(undecodable("今天天气很好"))
    (tmp_path / "speakers.tsv").write_bytes(b"speaker\tgender\n" + not_utf8("李雷\tM") + b"\n")
    clips, rejects = _scan("folder", tmp_path, name="voices")
    by_id = {c.native_id: c for c in clips}
    assert by_id["李雷/recovered"].transcript == "今天天气很好" and by_id["李雷/recovered"].language == "zh"
    assert [(w.source, str(w.reason), w.native_id) for w in by_id["李雷/recovered"].warnings] == \
        [("李雷/recovered.txt", "recovered_encoding", "李雷/recovered")]
    assert by_id["李雷/unreadable"].transcript is None                  # lands without one, as before
    assert by_id["李雷/unreadable"].meta_gender == "male"               # from the GB18030 speakers.tsv row
    assert sorted((r.source, str(r.reason), r.native_id) for r in rejects) == [
        ("speakers.tsv:2", "recovered_encoding", None), ("李雷/unreadable.txt", "bad_encoding", "李雷/unreadable")]
