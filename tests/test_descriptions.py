"""The describe stage: the embedded generator over the demo corpora, an LLM backend (a tiny random causal LM
built in the test) whose nonsense is caught, retried and replaced, reruns, and bad input."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from speechcraft.cli import main
from speechcraft.models.llm_describer import TextRequest, guided_messages, messages, screen
from speechcraft.models.text_checker import check
from speechcraft.warehouse import Lakehouse
from speechcraft.warehouse.sql import query


def test_every_labelled_clip_gets_both_texts_and_every_published_text_passes(described_lake):
    rows = query("SELECT * FROM descriptions", described_lake).to_pylist()
    clips = query("SELECT clip_id, transcript FROM clip_annotations", described_lake).to_pylist()
    published = {(r["clip_id"], r["kind"]): r for r in rows if r["published"]}
    for clip in clips:
        assert (clip["clip_id"], "description") in published
        if clip["transcript"]:
            assert (clip["clip_id"], "instruction") in published
        else:
            reason = next(r for r in rows if r["clip_id"] == clip["clip_id"] and r["kind"] == "instruction")
            assert reason["text"] is None and reason["reason"].startswith("empty transcript")
    for row in published.values():                  # re-judged from the stored labels: all pass
        transcript = next(c["transcript"] for c in clips if c["clip_id"] == row["clip_id"])
        verdict = check(row["text"], json.loads(row["labels"]), row["language"],
                        transcript if row["kind"] == "instruction" else None)
        assert verdict.passed and row["passed"] and row["generator"] == "embedded"
    zh = [r for r in published.values() if r["language"] == "zh"]
    assert zh and all(any("\u4e00" <= ch <= "\u9fff" for ch in r["text"]) for r in zh)
    view = query("SELECT count(*) AS n, count(description) AS d FROM clip_annotations", described_lake).to_pylist()[0]
    assert view["n"] == view["d"]


def test_a_rerun_writes_nothing_and_a_label_change_rewrites_that_clip_only(described_lake, tmp_path):
    from speechcraft.flows.describe import describe_flow
    from speechcraft.warehouse import Lakehouse

    lake_uri = str(tmp_path / "lake")
    shutil.copytree(described_lake, lake_uri)
    assert describe_flow(lake_uri, show_progress=False)["clips"] == 0
    lake = Lakehouse(lake_uri)
    speaker = next(r for r in lake.read("speakers").to_pylist() if r["gender"] == "male")
    lake.upsert("speakers", [{**speaker, "gender": "female", "gender_source": "hand-corrected"}])
    again = describe_flow(lake_uri, show_progress=False)
    assert again["clips"] == 1
    text = query(f"SELECT description FROM clip_annotations WHERE clip_id = '{speaker['clip_id']}'",
                 lake_uri).column(0)[0].as_py()
    assert check(text, {"gender": "female"}, "zh" if any("\u4e00" <= c <= "\u9fff" for c in text) else "en").passed


def test_an_llm_whose_texts_fail_is_retried_then_replaced_and_every_attempt_is_kept(ingested_lake, annotated_lake,
                                                                                   tmp_path, capsys):
    from fixtures import tiny_models

    model = tiny_models.causal_lm(tmp_path / "tiny-lm")
    lake = str(tmp_path / "lake")
    shutil.copytree(annotated_lake, lake)
    assert main(["describe", "--backend", "transformers", "--model", str(model), "--retries", "1",
                 "--corpus", "folder", "--lake", lake]) == 0
    assert "transformers" in capsys.readouterr().out          # its pass rate is printed beside the fallback's
    rows = query("SELECT * FROM descriptions", lake).to_pylist()
    llm = [r for r in rows if r["generator"] == "transformers"]
    published = [r for r in rows if r["published"]]
    assert llm and not any(r["passed"] for r in llm) and all(r["reason"] for r in llm)
    assert {r["attempt"] for r in llm} == {1, 2}                        # the first try and one retry
    assert published and all(r["generator"] == "embedded" and r["passed"] for r in published)
    assert all(r["attempts"] >= 3 for r in published)                   # two LLM attempts, then the fallback
    rates = query("""SELECT generator, avg(passed::int) AS passed FROM descriptions WHERE text IS NOT NULL
                     GROUP BY generator ORDER BY generator""", lake).to_pylist()
    assert rates == [{"generator": "embedded", "passed": 1.0}, {"generator": "transformers", "passed": 0.0}]


def test_the_prompt_shuffles_attributes_per_clip_and_carries_the_rules():
    labels = {"gender": "female", "age": "elderly", "pitch": "low", "speed": "slow", "emotion": "sad"}
    orders = {messages(TextRequest(f"c{i}", labels, "en"))[-1]["content"] for i in range(20)}
    assert len(orders) > 5
    chat = messages(TextRequest("c", labels, "zh", transcript="今天很好"))
    assert "不要添加其他内容" in chat[0]["content"] and "今天很好" in chat[-1]["content"] and "老年" in chat[-1]["content"]


@pytest.mark.parametrize("language, transcript", [("en", None), ("en", "Close the door."), ("zh", None),
                                                  ("zh", "把门关上")])
def test_the_guided_prompt_offers_one_of_the_generators_phrases_for_every_label_the_speaker_first(language,
                                                                                                 transcript):
    from speechcraft.models.describer import _EN, _ZH, _ZH_SUBJECT

    table = _EN if language == "en" else _ZH
    labels = {"gender": "male", "age": "elderly", "pitch": "low", "volume": "high", "speed": "slow",
              "emotion": "sad", "topic": "history" if language == "en" else "历史"}
    orders = set()
    for i in range(12):
        chat = guided_messages(TextRequest(f"c{i}", labels, language, transcript))
        given, _, said = chat[-1]["content"].partition("\n")
        parts = given.split(" | " if language == "en" else "｜")
        assert len(parts) == 6                   # the speaker, four prosody labels and the emotion, the topic
        speaker, rest = parts[0], parts[1:]
        assert ("elderly" in speaker or "old" in speaker) if language == "en" else \
            speaker in _ZH_SUBJECT[("male", "elderly")]
        for attribute in ("pitch", "volume", "speed", "emotion"):
            assert sum(p in table[attribute][labels[attribute]] for p in rest) == 1, (attribute, rest)
        assert sum(p in [t.format(labels["topic"]) for t in table["topic"]] for p in rest) == 1
        assert (transcript in said) if transcript else not said
        orders.add(tuple(rest))
    assert len(orders) > 3                       # shuffled (and a synonym drawn) per clip
    assert chat[0]["role"] == "system" and [m["role"] for m in chat[1:-1]] == ["user", "assistant"] * 2


@pytest.mark.parametrize("text, language, reason", [
    ("", "en", "empty output"), ("   ", "zh", "empty output"),
    ("I'm sorry, I cannot help with that.", "en", "refusal"),
    ("一位年轻女性语速较快。", "en", "not English"), ("A young woman speaks quickly.", "zh", "not Chinese"),
    ("A young woman speaks quickly.", "en", None),
])
def test_empty_refusing_or_wrong_language_outputs_are_failed_attempts(text, language, reason):
    assert screen(text, language) == reason


def test_check_text_exits_by_the_verdict(capsys):
    assert main(["check-text", "A young woman speaks quickly in a high voice.",
                 "--labels", "gender=female,age=young_adult,pitch=high,speed=fast"]) == 0
    assert main(["check-text", "她用高亢的声音飞快地说：“今天很好。”", "--labels", "gender=female,pitch=high,speed=fast",
                 "--transcript", "今天很好", "--language", "zh"]) == 0
    assert main(["check-text", "A man speaks slowly.", "--labels", "gender=female,speed=fast"]) == 1
    assert "distorts speed" in capsys.readouterr().out
    assert main(["check-text", "x", "--labels", "pitch=squeaky"]) == 2


def test_the_llm_prompt_is_a_describe_option_of_the_config_and_part_of_the_backend_version(tmp_path):
    """[stages.describe] prompt = "paper" | "guided" reaches the LLM backend; the guided prompt is in its
    version (so switching rewrites the texts), the paper's keeps the version written before prompts existed;
    an unknown prompt is refused with the choices."""
    pytest.importorskip("transformers")
    from fixtures import tiny_models
    from speechcraft.models.registry import load_backend
    from speechcraft.settings import ConfigError, load_project_config

    config = tmp_path / "speechcraft.toml"
    config.write_text('[stages.describe]\nbackend = "transformers"\nprompt = "paper"\n')
    options = load_project_config(config)["stages"]["describe"]
    model = str(tiny_models.causal_lm(tmp_path / "tiny-lm"))
    versions = {prompt: load_backend("describe", {**options, "model": model, "prompt": prompt}).describe().version
                for prompt in ("paper", "guided")}
    assert "prompt=guided" in versions["guided"] and "prompt=" not in versions["paper"]
    with pytest.raises(ValueError, match="unknown prompt 'chatty'; choose from"):
        load_backend("describe", {**options, "model": model, "prompt": "chatty"})
    config.write_text("[stages.describe]\nprompt = 2\n")
    with pytest.raises(ConfigError, match="prompt must be a str"):
        load_project_config(config)


def test_vllm_without_vllm_installed_says_how_to_get_it(annotated_lake, tmp_path, capsys):
    pytest.importorskip("transformers")
    from fixtures import tiny_models

    try:
        import vllm  # noqa: F401
        pytest.skip("vLLM is installed here")
    except ImportError:
        pass
    model = tiny_models.causal_lm(tmp_path / "tiny-lm")
    assert main(["describe", "--backend", "vllm", "--model", str(model), "--lake", annotated_lake]) == 2
    assert "pip install -e '.[vllm]'" in capsys.readouterr().err


def test_a_clip_without_labels_gets_no_text_and_the_reason_and_the_rest_of_the_batch_lands():
    from speechcraft.tasks.descriptions import ClipText, write_texts

    batch = write_texts([ClipText("x/1", "en", {}, "hello there"), ClipText("x/2", "en", {"pitch": "high"}, None)],
                        {"backend": "embedded"}, "run")
    rows = {(r["clip_id"], r["kind"]): r for r in batch.rows}
    for kind in ("description", "instruction"):
        assert rows[("x/1", kind)]["text"] is None and not rows[("x/1", kind)]["published"]
        assert rows[("x/1", kind)]["reason"].startswith("no labels")
    assert rows[("x/2", "description")]["published"] and rows[("x/2", "description")]["passed"]
    assert rows[("x/2", "instruction")]["reason"].startswith("empty transcript")


def test_the_stored_verdict_is_the_checkers_on_every_label_even_when_an_optional_one_is_left_out():
    from speechcraft.models.describer import DescriberConfig, EmbeddedDescriber

    labels = {"gender": "male", "age": "elderly", "pitch": "low", "speed": "slow", "topic": "history",
              "emphasis": "river"}
    sometimes = EmbeddedDescriber(DescriberConfig(mention_topic=0.5, mention_emphasis=0.5))
    verdicts = []
    for i in range(40):
        transcript = "the river was wide" if i % 2 else None
        text, attempts, verdict = sometimes.write_judged(f"c/{i}", labels, "en", transcript)
        assert (text, attempts) == sometimes.write(f"c/{i}", labels, "en", transcript)
        assert verdict == check(text, labels, "en", transcript)
        verdicts.append(verdict.passed)
    assert True in verdicts and False in verdicts     # a text that leaves the topic out omits it, as stored


def test_the_search_index_built_after_describe_matches_the_one_describe_builds(described_lake, annotated_lake,
                                                                              tmp_path):
    from speechcraft.flows.describe import describe_flow, search_index_flow

    lake = str(tmp_path / "lake")
    shutil.copytree(annotated_lake, lake)
    result = describe_flow(lake, show_progress=False, search_index=False)
    assert result["published"] and result["search_index"] is None and not Lakehouse(lake).exists("text_vectors")
    index = search_index_flow(lake)
    assert index["embedded"] == index["indexed"] == result["published"] and index["wall_s"] > 0
    assert index["run"]["flow"] == "search-index" and index["run"]["status"] == "completed"
    assert search_index_flow(lake)["embedded"] == 0                       # built once: nothing left to embed
    vectors = "SELECT vector_id, text, vector FROM text_vectors ORDER BY vector_id"
    for built_now, built_by_describe in zip(query(vectors, lake).to_pylist(),
                                            query(vectors, described_lake).to_pylist(), strict=True):
        assert built_now["text"] == built_by_describe["text"]
        assert np.allclose(built_now["vector"], built_by_describe["vector"], atol=1e-5)


def test_the_conditions_option_rewrites_the_texts_with_them_and_only_texts_stating_them_go_stale_for_them(
        described_lake, tmp_path):
    """`conditions = true` (describe --conditions) is part of describe's configuration: the next run rewrites
    every text from labels that include noise, reverberation and monotony. The export's stale-texts rule
    compares a condition only in a text that states it: a relabelled noise makes such a text stale, and leaves a
    text written without conditions as it was."""
    from speechcraft.flows.describe import describe_flow
    from speechcraft.tasks.descriptions import describe_config
    from speechcraft.tasks.exports.selection import stale_texts_sql

    plain = {"backend": "embedded"}
    assert describe_config(plain) == describe_config({**plain, "conditions": False})   # off: today's hash
    assert describe_config(plain) != describe_config({**plain, "conditions": True})
    stale = f"""SELECT clip_id FROM clip_annotations a JOIN clips c USING (clip_id)
                JOIN (SELECT clip_id, labels FROM descriptions WHERE published AND kind = 'description') dl
                USING (clip_id) WHERE {stale_texts_sql('dl')} ORDER BY clip_id"""
    without, with_conditions = str(tmp_path / "without"), str(tmp_path / "with")
    shutil.copytree(described_lake, without)
    shutil.copytree(described_lake, with_conditions)
    clips = query("SELECT count(*) FROM clip_annotations", with_conditions).column(0)[0].as_py()
    options = {"conditions": True}
    assert describe_flow(with_conditions, options=options, show_progress=False, search_index=False)["clips"] == clips
    assert describe_flow(with_conditions, options=options, show_progress=False, search_index=False)["clips"] == 0
    rows = query("""SELECT d.*, a.noise_label, a.reverberation_label, a.monotony_label, a.transcript
                    FROM descriptions d JOIN clip_annotations a USING (clip_id) WHERE d.published""",
                 with_conditions).to_pylist()
    stated = 0
    for row in rows:
        labels = json.loads(row["labels"])
        for attribute in ("noise", "reverberation", "monotony"):
            assert labels.get(attribute) == row[f"{attribute}_label"]
        verdict = check(row["text"], labels, row["language"], row["transcript"] if row["kind"] == "instruction" else None)
        assert verdict.passed
        conditions = [a for a in ("noise", "reverberation", "monotony") if a in labels]     # known ones only
        assert all(verdict.found[a] == [labels[a]] for a in conditions)
        stated += len(conditions) == 3
    assert stated > 0 and query(stale, with_conditions).num_rows == query(stale, without).num_rows == 0

    for lake_uri in (without, with_conditions):
        lake = Lakehouse(lake_uri)
        label = next(r for r in lake.read("labels").to_pylist() if r["noise_label"])
        other = next(v for v in ("noisy", "moderate_noise", "clean") if v != label["noise_label"])
        lake.upsert("labels", [{**label, "noise_label": other}])
        assert query(stale, lake_uri).column(0).to_pylist() == ([label["clip_id"]] if lake_uri == with_conditions
                                                                else [])


def test_the_conditions_option_is_a_describe_option_of_the_config_and_the_command(tmp_path):
    from speechcraft.cli.parser import build_parser
    from speechcraft.settings import ConfigError, load_project_config

    config = tmp_path / "speechcraft.toml"
    config.write_text("[stages.describe]\nconditions = true\n")
    assert load_project_config(config)["stages"]["describe"] == {"conditions": True}
    config.write_text("[stages.speaker]\nconditions = true\n")
    with pytest.raises(ConfigError, match=r"\[stages.speaker\] has unknown option 'conditions'"):
        load_project_config(config)
    config.write_text('[stages.describe]\nconditions = "yes"\n')
    with pytest.raises(ConfigError, match="conditions must be a bool"):
        load_project_config(config)
    parser = build_parser()
    assert [parser.parse_args(["describe", *flag]).conditions for flag in ([], ["--conditions"], ["--no-conditions"])] \
        == [None, True, False]                       # None: the config's, else off
