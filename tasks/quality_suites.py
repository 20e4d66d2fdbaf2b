"""The lakehouse's quality expectations, reviewed like code: one suite per table plus two derived checks.

A suite is a SQL query over the documented tables and views (what is checked) and great-expectations
expectations over its rows, each marked critical (a failure blocks exports and fails `speechcraft check`)
or warning (shown, never blocking). To add one: append to a suite's list, or add a `Suite` to `SUITES`.
Nulls pass value-set and range expectations by design: a missing value is a coverage question, checked
by the not-null and coverage expectations, never mistaken for a wrong value.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from great_expectations.expectations.row_conditions import Column

from ..stages import DONE_CLIPS
from .checks import CRITICAL, WARNING, Check, critical, in_vocabulary, key_checks, probability, warning
from ..vocabulary import AGE_GROUPS, CONDITION_LABEL_NAMES, EMOTIONS, GENDERS, LABEL_NAMES, LANGUAGES, RATE_UNITS, VOLUME

MAX_CLASS_SHARE = 0.95        # no label class above 95% of a corpus (distribution sanity)
MIN_CLIPS_FOR_SHARES = 20     # fewer labelled clips say nothing about a distribution
# Stages every clip goes through: a corpus none of whose clips a stage has done, while the stage has run
# elsewhere, was left out (the stage has not run since the corpus was ingested, or it failed on all of it).
STAGES_COVERING_ALL_CLIPS = DONE_CLIPS         # table -> the clips done (speechcraft/stages.py)


@dataclass(frozen=True)
class Suite:
    name: str
    sql: str                      # the rows the expectations see
    checks: list[Check] = field(default_factory=list)
    table: str | None = None      # the stored table it reads; a suite over an unwritten table is skipped
    ids: tuple[str, ...] = ("clip_id",)   # columns that name a failing row in the results


PUBLISHED = Column("published") == True   # noqa: E712 (a great-expectations condition, not a comparison)

SUITES: list[Suite] = [
    Suite("clips", "SELECT * EXCLUDE (extras) FROM clips", table="clips", checks=[
        *key_checks("clip_id"),
        critical("ExpectColumnValuesToNotBeNull", "every clip belongs to a corpus", column="corpus"),
        critical("ExpectColumnValuesToNotBeNull", "every clip references its audio", column="audio_path"),
        critical("ExpectColumnValuesToBeInSet", "languages the annotators support", column="language",
                 value_set=sorted(LANGUAGES)),
        critical("ExpectColumnValuesToBeBetween", "a clip has audio and is no longer than a long-form file",
                 column="duration_s", min_value=0.01, max_value=4 * 3600),
        critical("ExpectColumnValuesToBeBetween", "a sample rate audio is stored at",
                 column="sample_rate", min_value=8000, max_value=192000),
        in_vocabulary("meta_gender", GENDERS, "the corpus's gender"),
        in_vocabulary("meta_age_group", AGE_GROUPS, "the corpus's age group"),
        warning("ExpectColumnValuesToBeBetween", "TTS training clips: between 0.5 s and 60 s",
                column="duration_s", min_value=0.5, max_value=60, mostly=0.95),
        warning("ExpectColumnValuesToBeBetween", "not digital silence or a clip-less recording",
                column="peak_dbfs", min_value=-60, max_value=1.0, mostly=0.99),   # lossy decodes overshoot 0 dBFS
    ]),
    Suite("acoustics", "SELECT * EXCLUDE (flags) FROM acoustics", table="acoustics", checks=[
        *key_checks("clip_id"),
        critical("ExpectColumnValuesToBeBetween", "F0 of human speech where voiced: 50-600 Hz",
                 column="f0_mean_hz", min_value=50, max_value=600),
        critical("ExpectColumnValuesToBeBetween", "a share of frames", column="voiced_ratio",
                 min_value=0.0, max_value=1.0),
        critical("ExpectColumnValuesToBeBetween", "RMS in dBFS cannot exceed full scale",
                 column="energy_db", min_value=-120, max_value=0.0),
        critical("ExpectColumnValuesToBeBetween", "a speaking rate (syllables or characters a second)",
                 column="speech_rate", min_value=0.0, max_value=30.0),
        critical("ExpectColumnValuesToBeInSet", "rates are per syllable (en) or character (zh)",
                 column="rate_unit", value_set=list(RATE_UNITS.values())),
        warning("ExpectColumnValuesToBeBetween", "conversational to fast read speech",
                column="speech_rate", min_value=0.5, max_value=12.0, mostly=0.95),
    ]),
    Suite("labels", "SELECT * FROM labels", table="labels", checks=[
        *key_checks("clip_id"),
        in_vocabulary("pitch_label", LABEL_NAMES["pitch"], "pitch"),
        in_vocabulary("energy_label", LABEL_NAMES["energy"], f"energy ({VOLUME})"),
        in_vocabulary("speed_label", LABEL_NAMES["speed"], "speed"),
        *(in_vocabulary(f"{attribute}_label", names, attribute) for attribute, names in CONDITION_LABEL_NAMES.items()),
        in_vocabulary("gender", GENDERS, "gender"),
        critical("ExpectColumnValuesToNotBeNull", "every label names the bin edges it came from",
                 column="pitch_edges", row_condition=Column("pitch_label").is_not_null()),
    ]),
    Suite("speakers", "SELECT * FROM speakers", table="speakers", checks=[
        *key_checks("clip_id"),
        in_vocabulary("gender", GENDERS, "gender"),
        in_vocabulary("age_group", AGE_GROUPS, "age"),
        probability("gender_prob"),
        probability("age_prob"),
        critical("ExpectColumnValuesToBeBetween", "an age in years", column="age_years", min_value=0, max_value=120),
    ]),
    Suite("emotions", "SELECT * FROM emotions", table="emotions", checks=[
        *key_checks("clip_id"),
        in_vocabulary("emotion", EMOTIONS, "emotion"),
        probability("emotion_prob"),
    ]),
    Suite("descriptions", "SELECT * EXCLUDE (omitted, distorted, invented) FROM descriptions",
          table="descriptions", ids=("text_id",), checks=[
        *key_checks("text_id"),
        critical("ExpectColumnValuesToBeInSet", "a description or an instruction", column="kind",
                 value_set=["description", "instruction"]),
        critical("ExpectColumnValuesToBeInSet", "published texts passed the checker", column="passed",
                 value_set=[True], row_condition=PUBLISHED),
        critical("ExpectColumnValuesToNotBeNull", "a published row has its text", column="text",
                 row_condition=PUBLISHED),
        critical("ExpectColumnValuesToBeInSet", "texts in the clip's language", column="language",
                 value_set=sorted(LANGUAGES)),
    ]),
    Suite("published_texts", "SELECT clip_id, kind FROM descriptions WHERE published", table="descriptions",
          ids=("clip_id", "kind"), checks=[*key_checks("clip_id", "kind")]),
    Suite("emphasis", "SELECT * FROM emphasis", table="emphasis", checks=[
        *key_checks("clip_id"),
        probability("score"),
        probability("threshold"),
        critical("ExpectColumnValuesToBeBetween", "a position among the transcript's words",
                 column="word_index", min_value=0),
        critical("ExpectColumnPairValuesAToBeGreaterThanB", "a word's span ends after it starts",
                 column_A="end_s", column_B="start_s", ignore_row_if="either_value_is_missing"),
    ]),
    Suite("stressed_clips", "SELECT * EXCLUDE (words) FROM stressed_clips", table="stressed_clips", checks=[
        *key_checks("clip_id"),
        critical("ExpectColumnValuesToNotBeNull", "a stressed clip knows its parent", column="parent_clip_id"),
        critical("ExpectColumnValuesToNotBeNull", "a stressed clip's label is its keyword", column="keyword"),
        critical("ExpectColumnPairValuesAToBeGreaterThanB", "the keyword's span ends after it starts",
                 column_A="keyword_end_s", column_B="keyword_start_s"),
    ]),
    # Distribution sanity: the largest class of each label within a corpus. Emotions set by rule (read
    # audiobook speech is neutral, as the paper labels it) are left out: they are one class by design.
    Suite("label_shares", f"""
        WITH labelled AS (
            SELECT corpus, attribute, label FROM (
                SELECT a.corpus, 'pitch' AS attribute, a.pitch_label AS label FROM clip_annotations a
                UNION ALL SELECT corpus, 'energy', energy_label FROM clip_annotations
                UNION ALL SELECT corpus, 'speed', speed_label FROM clip_annotations
                UNION ALL SELECT corpus, 'gender', gender FROM clip_annotations
                UNION ALL SELECT corpus, 'age', age_group FROM clip_annotations
                UNION ALL SELECT c.corpus, 'emotion', e.emotion FROM emotions e JOIN clips c USING (clip_id)
                    WHERE e.reason IS NULL)
            WHERE label IS NOT NULL),
        counts AS (SELECT corpus, attribute, label, count(*) AS n FROM labelled GROUP BY ALL)
        SELECT corpus, attribute, arg_max(label, n) AS top_label, sum(n) AS clips, max(n) / sum(n) AS top_share
        FROM counts GROUP BY corpus, attribute HAVING sum(n) >= {MIN_CLIPS_FOR_SHARES}""",
        ids=("corpus", "attribute", "top_label"), checks=[
        warning("ExpectColumnValuesToBeBetween",
                f"no label class above {MAX_CLASS_SHARE:.0%} of a corpus: a skewed or broken annotator",
                column="top_share", min_value=0.0, max_value=MAX_CLASS_SHARE),
    ]),
    Suite("stage_coverage", "WITH ran AS (" + " UNION ALL ".join(
        f"SELECT '{stage}' AS stage, clip_id FROM ({sql})" for stage, sql in STAGES_COVERING_ALL_CLIPS.items())
        + """)
        SELECT s.stage, c.corpus, count(DISTINCT r.clip_id) AS clips_done
        FROM (SELECT DISTINCT stage FROM ran) s CROSS JOIN (SELECT DISTINCT corpus FROM clips) c
        LEFT JOIN (ran JOIN clips USING (clip_id)) r ON r.stage = s.stage AND r.corpus = c.corpus
        GROUP BY s.stage, c.corpus""", ids=("stage", "corpus"), checks=[
        warning("ExpectColumnValuesToBeBetween", "no corpus left with 0 clips by a stage that ran",
                column="clips_done", min_value=1),
    ]),
]

for _suite in SUITES:   # results are keyed by expectation name: two alike in one suite would overwrite
    assert len({c.name for c in _suite.checks}) == len(_suite.checks), f"duplicate expectation in {_suite.name}"


def all_suites() -> list[Suite]:
    """SUITES, then one per attribute stage registered in this process (tasks/attributes/): its key checks
    and the expectations it declares over its own columns."""
    from .attributes import REGISTRY

    return SUITES + [Suite(stage.table, f"SELECT * FROM {stage.table}", table=stage.table,
                           checks=[*key_checks("clip_id"), *stage.checks]) for stage in REGISTRY.values()]
