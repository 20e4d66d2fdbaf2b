"""The annotation vocabulary (speechcraft/vocabulary.py) is the one every layer speaks: the quality suites
enforce it, the checker accepts it, the classifiers map onto it, the dashboard draws it in its order, the
phrase tables say each of its values in both languages, and the schema's comments (docs/tables.md) name it.
Each test here breaks when one of them drifts from it."""
from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

import duckdb
import pytest

from speechcraft import vocabulary as v

ROOT = Path(__file__).resolve().parent.parent
CLOSED = set(v.TEXT_VALUES)          # the text labels with a closed vocabulary


def test_the_module_imports_nothing_of_the_project_and_nothing_heavy():
    tree = ast.parse((ROOT / "speechcraft" / "vocabulary.py").read_text(encoding="utf-8"))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module or "." for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported <= {"__future__"}, imported


def test_text_labels_are_the_stored_vocabularies_with_energy_named_volume():
    assert v.TEXT_LABELS == ("gender", "age", "pitch", "volume", "speed", "emotion", "emphasis", "topic")
    assert v.TEXT_VALUES["volume"] == v.LABEL_NAMES["energy"] and v.VOLUME == "volume"
    assert v.TEXT_VALUES["age"] == v.AGE_GROUPS and v.TEXT_VALUES["emotion"] == v.EMOTIONS
    assert set(v.LABEL_NAMES) == {"pitch", "energy", "speed"} and set(v.UNUSABLE_FLAGS) < set(v.FLAGS)
    assert set(v.RATE_UNITS) == set(v.LANGUAGES)
    assert {v.measure_unit(a, lang) for a in v.LABEL_NAMES for lang in v.LANGUAGES} == \
        {"Hz", "dBFS", "syllables/s", "characters/s"}


# -- the quality gate -----------------------------------------------------------------------------------------
def _value_sets() -> dict[tuple[str, str], list]:
    from speechcraft.tasks.quality_suites import SUITES

    return {(suite.name, check.kwargs["column"]): check.kwargs["value_set"] for suite in SUITES
            for check in suite.checks if check.expectation == "ExpectColumnValuesToBeInSet"}


def test_the_quality_suites_enforce_the_vocabulary():
    sets = _value_sets()
    expected = {
        ("clips", "language"): sorted(v.LANGUAGES), ("descriptions", "language"): sorted(v.LANGUAGES),
        ("clips", "meta_gender"): list(v.GENDERS), ("labels", "gender"): list(v.GENDERS),
        ("speakers", "gender"): list(v.GENDERS),
        ("clips", "meta_age_group"): list(v.AGE_GROUPS), ("speakers", "age_group"): list(v.AGE_GROUPS),
        ("emotions", "emotion"): list(v.EMOTIONS),
        ("labels", "pitch_label"): list(v.LEVELS), ("labels", "energy_label"): list(v.LEVELS),
        ("labels", "speed_label"): list(v.PACES),
        ("acoustics", "rate_unit"): ["syllables", "characters"],    # the order the stored results show
    }
    assert {key: sets[key] for key in expected} == expected


# -- models: the checker, the generators, the classifiers ----------------------------------------------------
def test_the_checker_accepts_every_value_and_names_the_vocabulary_when_refusing():
    from speechcraft.models.text_checker import LabelError, check_labels

    for key, values in v.TEXT_VALUES.items():
        for value in values:
            assert check_labels({key: value}) == {key: value}
        with pytest.raises(LabelError, match=", ".join(values)):
            check_labels({key: "unheard-of"})
    with pytest.raises(LabelError, match=", ".join(v.TEXT_LABELS)):
        check_labels({"energy": "low"})          # stored name: texts say volume


@pytest.mark.parametrize("language", sorted(v.LANGUAGES))
def test_the_checker_lexicon_names_every_value_in_both_languages(language):
    from speechcraft.models.text_lexicon import ATTRIBUTE_ORDER, LEXICON

    assert set(ATTRIBUTE_ORDER) == set(LEXICON[language]) == CLOSED
    for attribute, phrases in LEXICON[language].items():
        assert set().union(*(values for _, values in phrases)) == set(v.TEXT_VALUES[attribute]), attribute


def test_the_embedded_generator_has_phrases_for_every_value_in_both_languages():
    from speechcraft.models import describer as d

    for table in (d._EN, d._ZH):
        for attribute in d.PROSODY:
            assert set(table[attribute]) == set(v.TEXT_VALUES[attribute]), attribute
    assert set(d._EN_AGE) == set(v.AGE_GROUPS)                                    # every age group, English
    assert set(d._EN_NOUN) - {None} == set(v.GENDERS) == set(d._EN_PRONOUN) - {None}
    subjects = {(gender, age) for gender in (*v.GENDERS, None) for age in (*v.AGE_GROUPS, None)}
    assert set(d._ZH_SUBJECT) == subjects                                          # and Chinese, with gender
    assert set(d.PROSODY) <= set(v.TEXT_LABELS)


def test_the_llm_prompt_translates_every_label_and_value_into_chinese():
    from speechcraft.models.llm_describer import ZH_KEYS, ZH_VALUES

    assert tuple(ZH_KEYS) == v.TEXT_LABELS
    assert set(ZH_VALUES) == {value for values in v.TEXT_VALUES.values() for value in values}


def test_the_model_classifiers_map_onto_the_vocabulary():
    from speechcraft.models.emotion_model import EMOTION_ALIASES
    from speechcraft.models.speaker_model import AGE_ALIASES, GENDER_ALIASES

    assert set(EMOTION_ALIASES.values()) == set(v.EMOTIONS)
    assert set(GENDER_ALIASES.values()) == {*v.GENDERS, "child"}      # a child head, read as the age group
    assert set(AGE_ALIASES.values()) | {"child"} == set(v.AGE_GROUPS)


def test_ages_in_years_fall_into_the_age_groups_in_their_order():
    from speechcraft.models.annotators import age_group_from_years
    from speechcraft.tasks.corpora.aishell3 import AGE_BANDS

    swept = [age_group_from_years(years) for years in range(0, 101)]
    assert list(dict.fromkeys(swept)) == list(v.AGE_GROUPS)
    # AISHELL-3's letters: A under 14, B 14-25, C 26-40, D over 40
    assert {band: age_group_from_years(years) for band, years in zip("ABCD", (10, 20, 30, 45))} == AGE_BANDS


# -- tasks ---------------------------------------------------------------------------------------------------
def test_the_labels_stage_bins_into_the_vocabulary_with_its_units(tmp_path):
    from speechcraft.tasks import labels

    binned = {**v.LABEL_NAMES, **v.CONDITION_LABEL_NAMES}
    assert {name: attribute.names for name, attribute in labels.ATTRIBUTES.items()} == binned
    fixed = tmp_path / "bins.toml"
    fixed.write_text('["*"]\npitch_male = [100, 150]\nenergy = [-30, -20]\nspeed = [3, 5]\nnoise = [10, 20]\n'
                     'reverberation = [0, 10]\nmonotony = [1, 3]\n', encoding="utf-8")
    units = {(g["language"], g["attribute"]): g["unit"] for g in labels.fixed_groups(fixed)}
    assert units == {(lang, attribute): v.measure_unit(attribute, lang) for lang in v.LANGUAGES for attribute in binned}
    assert units[("en", "noise")] == "dB SNR" and units[("zh", "monotony")] == "semitones"
    assert units[("zh", "speed")] == "characters/s" and units[("en", "speed")] == "syllables/s"
    (tmp_path / "fr.toml").write_text("[fr]\nenergy = [1, 2]\n", encoding="utf-8")
    with pytest.raises(ValueError, match=re.escape(f"a language {list(v.LANGUAGES)} or '*'")):
        labels.fixed_groups(tmp_path / "fr.toml")


def test_the_acoustic_flags_and_rate_units_are_the_vocabulary():
    import numpy as np

    from speechcraft.tasks.acoustic_analysis import AcousticConfig, measure
    from speechcraft.tasks.stressing import UNUSABLE

    silent = measure(np.zeros(1600, dtype=np.float32), 16000, None, "zh", AcousticConfig())
    assert silent["flags"] == [v.Flag.TOO_SHORT, v.Flag.NO_SPEECH, v.Flag.NO_TRANSCRIPT]
    assert set(silent["flags"]) == set(v.FLAGS)
    assert silent["rate_unit"] == v.RATE_UNITS["zh"]
    assert set(UNUSABLE) == set(v.UNUSABLE_FLAGS)                # the emphasize stage skips the same parents


def test_the_folder_reader_takes_the_age_groups_as_people_write_them(tmp_path):
    from speechcraft.tasks.corpora.folder import read_speaker_table

    path = tmp_path / "speakers.tsv"
    rows = [f"s{i}\tF\t{group.replace('_', ' ')}" for i, group in enumerate(v.AGE_GROUPS)] + ["x\tM\tancient"]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    problems = []
    table = read_speaker_table(path, lambda number, reason, detail: problems.append(detail))
    assert [age for _, age in table.values()] == list(v.AGE_GROUPS)
    assert {gender for gender, _ in table.values()} == {"female"}
    assert problems == [f"unknown age group 'ancient' ({', '.join(v.AGE_GROUPS)})"]


def test_descriptions_read_the_energy_label_as_volume():
    from speechcraft.tasks.descriptions import LABEL_COLUMNS

    assert LABEL_COLUMNS["energy_label"] == v.VOLUME and set(LABEL_COLUMNS.values()) == set(v.TEXT_LABELS)


# -- warehouse and dashboard ---------------------------------------------------------------------------------
def test_the_label_distribution_view_lists_binned_labels_low_to_high():
    from speechcraft.warehouse.views import _LABEL_RANK

    parler = {f"{attribute}_parler": labels for attribute, (_, labels) in v.PARLER_BINS.items()}
    for attribute, names in {**v.LABEL_NAMES, **v.CONDITION_LABEL_NAMES, **parler}.items():
        shuffled = ", ".join(f"('{attribute}', '{name}')" for name in reversed(names))
        ordered = duckdb.sql(f"SELECT label FROM (VALUES {shuffled}) t(attribute, label) "
                             f"ORDER BY {_LABEL_RANK}").fetchall()
        assert [label for (label,) in ordered] == list(names), attribute


def _schema_comments() -> dict[str, list[str]]:
    """Column name -> the comments on its lines in warehouse/schema.py (what docs/tables.md shows)."""
    source = (ROOT / "warehouse" / "schema.py").read_text(encoding="utf-8")
    lines = source.splitlines()
    out: dict[str, list[str]] = {}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            line = lines[token.start[0] - 1].strip()
            if line.startswith('("'):
                out.setdefault(line.split('"')[1], []).append(token.string.lstrip("#").strip())
    return out


def test_the_schema_documents_the_vocabulary():
    comments = _schema_comments()
    assert " / ".join(v.AGE_GROUPS) in comments["age_group"]
    assert any(c.startswith(", ".join(v.EMOTIONS) + ";") for c in comments["emotion"])
    assert ", ".join(v.FLAGS) in comments["flags"]
    assert " / ".join(v.LEVELS) in comments["pitch_label"] and " / ".join(v.LEVELS) in comments["energy_label"]
    assert " / ".join(v.PACES) in comments["speed_label"]
    for attribute, names in v.CONDITION_LABEL_NAMES.items():
        assert " / ".join(names) in comments[f"{attribute}_label"][0], attribute
    units = [*v.MEASURE_UNITS.values(), *(v.per_second(v.RATE_UNITS[lang]) for lang in sorted(v.LANGUAGES))]
    assert ", ".join(units) in comments["unit"]


def test_the_dashboard_draws_classes_in_the_vocabulary_order():
    pytest.importorskip("streamlit")
    from speechcraft.dashboards.common import LABEL_ORDER

    assert LABEL_ORDER == {**{a: list(names) for a, names in {**v.LABEL_NAMES, **v.CONDITION_LABEL_NAMES}.items()},
                           **{f"{a}_parler": list(labels) for a, (_, labels) in v.PARLER_BINS.items()},
                           "age": list(v.AGE_GROUPS)}
