"""Which clips an export takes: every clip of the lakehouse (or of one corpus) with the reason it is left out,
counted per reason, and the rest streamed in Arrow batches.

A clip is exported when it was measured by the acoustic stage, has no hard acoustic flag (`no_speech`,
`too_short`), a transcript, gender and the pitch/energy/speed labels, and a published passing description
and instruction written from the labels the clip has now, and is not the copy of a recording exported under
another clip (`duplicates`: each group is exported once). Every excluded clip is counted under the first
rule it fails (`EXCLUSIONS`, in order); the counts go to the result, the `runs` row and `export.json`.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from ...warehouse.lake import sql_literal_list
from ...warehouse.sql import check_read_only
from ...vocabulary import UNUSABLE_FLAGS, Flag
from ..attributes import exported_columns
from ..descriptions import CONDITION_COLUMNS, LABEL_COLUMNS
from .gate import read_rows

HARD_FLAGS = UNUSABLE_FLAGS          # flagged clips are never exported
# reason -> why; checked in this order, a clip is counted under the first that applies
EXCLUSIONS = {
    "duplicate": "the same recording as another clip, which is exported instead (the duplicates table)",
    "not_measured": "no acoustics row yet (run `speechcraft annotate`)",
    Flag.NO_SPEECH: "the acoustic stage found no voiced speech",
    Flag.TOO_SHORT: "shorter than the acoustic stage's minimum",
    Flag.NO_TRANSCRIPT: "no transcript: a TTS trainer needs the text",
    "unlabelled": "gender or a pitch, energy or speed label is missing",
    "low_snr": "SNR under the export's min_snr, or not measured (the noise stage)",
    "low_quality": "DNSMOS OVRL under the export's min_quality, or not measured (`annotate --stage quality`)",
    "no_description": "no published description that passed the checker (run `speechcraft describe`)",
    "no_instruction": "no published instruction that passed the checker (run `speechcraft describe`)",
    "stale_texts": "the published texts were written from other labels than the clip has now "
                   "(run `speechcraft describe`)",
    # counted while writing, not here: the file is opened only then
    "audio_unreadable": "the audio file could not be opened at export time (moved or deleted since ingest?)",
}
# A corpus's split name -> the Hugging Face split it is published as (`hf_split`; no split: train)
HF_SPLITS = {"train": "train", "dev": "validation", "valid": "validation", "validation": "validation",
             "test": "test"}


class NothingToExportError(ValueError):
    """Every clip was excluded: nothing is written and the previous export stays."""


# The value a description's `labels` JSON holds for each key, as clip_annotations gives it now.
_CURRENT_LABEL = {"topic": "c.meta_topic",
                  "emphasis": "CASE WHEN a.emphasis_source = 'regenerated' THEN a.emphasis END"}


def stale_texts_sql(alias: str) -> str:
    """SQL: the published text under `alias` was written from labels other than the clip's current ones. The
    recording conditions count only in a text that states them (written with describe's `conditions` option):
    one written without them is not stale for them."""
    def differs(column: str, key: str) -> str:
        return (f"json_extract_string({alias}.labels, '$.{key}') IS DISTINCT FROM "
                f"nullif(CAST({_CURRENT_LABEL.get(column, 'a.' + column)} AS VARCHAR), '')")

    stated = [f"(json_extract_string({alias}.labels, '$.{key}') IS NOT NULL AND {differs(column, key)})"
              for column, key in CONDITION_COLUMNS.items()]
    checks = [differs(column, key) for column, key in LABEL_COLUMNS.items()] + stated
    return f"({alias}.labels IS NOT NULL AND ({' OR '.join(checks)}))"


AUDIO_SOURCES = ("original", "enhanced")


@dataclass(frozen=True)
class Filters:
    """What an export takes beside its fixed rules: optional floors (`export --min-snr/--min-quality`,
    [pipeline] min_snr, min_quality) and the audio (`--audio-source`: the original, or the enhancement stage's
    copy where it kept one)."""
    min_snr: float | None = None          # dB (attr_noise.snr_db)
    min_quality: float | None = None      # DNSMOS OVRL, 1-5 (attr_quality.dnsmos_ovrl)
    audio_source: str = "original"

    def __post_init__(self):
        if self.audio_source not in AUDIO_SOURCES:
            raise ValueError(f"unknown audio source {self.audio_source!r}; choose from {', '.join(AUDIO_SOURCES)}")

    def audio_sql(self) -> str:
        """The audio columns: the clip's own, or its enhanced copy (a whole file: no span) where it has one."""
        if self.audio_source == "original":
            return "a.audio_path, a.start_s, a.end_s, c.sample_rate, c.channels"
        enhanced = "a.enhanced_path IS NOT NULL"
        return (f"coalesce(a.enhanced_path, a.audio_path) AS audio_path, "
                f"CASE WHEN {enhanced} THEN NULL ELSE a.start_s END AS start_s, "
                f"CASE WHEN {enhanced} THEN NULL ELSE a.end_s END AS end_s, c.sample_rate, "
                f"CASE WHEN {enhanced} THEN 1 ELSE c.channels END AS channels")

    def recorded(self) -> dict:
        """What export.json and the runs row record: the choices that differ from the defaults."""
        return {k: v for k, v in asdict(self).items() if v != getattr(Filters, k)}

    def sql(self) -> str:
        """The WHEN clauses of the filters set (a clip with no value fails the filter: it cannot show it passes)."""
        floors = (("low_snr", "snr_db", self.min_snr), ("low_quality", "dnsmos_ovrl", self.min_quality))
        return " ".join(f"WHEN a.{column} IS NULL OR a.{column} < {float(floor)!r} THEN '{reason}'"
                        for reason, column, floor in floors if floor is not None)


def clips_sql(corpus: str | None = None, filters: Filters = Filters()) -> str:
    """Every clip (of `corpus`) with what the exports write and `excluded`: the reason it is left out, or null."""
    where = f"WHERE a.corpus = {sql_literal_list([corpus])[1:-1]}" if corpus else ""
    hard = " ".join(f"WHEN list_contains(a.flags, '{flag}') THEN '{flag}'" for flag in HARD_FLAGS)
    split = " ".join(f"WHEN '{name}' THEN '{hf}'" for name, hf in HF_SPLITS.items())
    attribute_columns = "".join(f"a.{column}, " for column in exported_columns())   # tasks/attributes/
    return f"""
        SELECT a.clip_id, a.corpus, a.subset, a.split,
               CASE lower(trim(coalesce(a.split, ''))) {split} WHEN '' THEN 'train'
                    ELSE regexp_replace(lower(trim(a.split)), '[^a-z0-9_]', '_', 'g') END AS hf_split,
               a.language, a.speaker_id, a.duration_s, a.transcript, a.transcript_source,
               a.gender, a.gender_source, a.age_group, a.age_source,
               a.pitch_hz, a.pitch_std_hz, a.voiced_ratio, a.pitch_label, a.energy_db, a.energy_label,
               a.speech_rate, a.rate_unit, a.speed_label, a.speech_s, a.flags,
               -- Parler-TTS bins a speaker's mean pitch (its clips of measured pitch), not a clip's
               CASE WHEN a.speaker_id IS NULL THEN a.pitch_hz
                    ELSE avg(a.pitch_hz) OVER (PARTITION BY a.corpus, a.speaker_id) END AS speaker_pitch_hz,
               a.noise_label, a.reverberation_label, a.monotony_label,
               a.emotion, a.emotion_source, a.emotion_caption,
               CASE WHEN a.emphasis_source = 'regenerated' THEN a.emphasis END AS emphasis,
               CASE WHEN a.emphasis_source LIKE 'detector:%' THEN a.emphasis END AS detected_emphasis,
               CASE WHEN a.emphasis_source LIKE 'detector:%' THEN a.emphasis_score END AS detected_emphasis_score,
               a.parent_clip_id, c.meta_topic AS topic, a.description, a.instruction,
               {filters.audio_sql()}, {attribute_columns}
               CASE WHEN dup.clip_id IS NOT NULL THEN 'duplicate'
                    WHEN m.measured_id IS NULL THEN 'not_measured'
                    {hard}
                    WHEN nullif(trim(a.transcript), '') IS NULL THEN 'no_transcript'
                    WHEN a.gender IS NULL OR a.pitch_label IS NULL OR a.energy_label IS NULL
                         OR a.speed_label IS NULL THEN 'unlabelled'
                    {filters.sql()}
                    WHEN a.description IS NULL THEN 'no_description'
                    WHEN a.instruction IS NULL THEN 'no_instruction'
                    WHEN {stale_texts_sql('dl')} OR {stale_texts_sql('il')} THEN 'stale_texts'
               END AS excluded
        FROM clip_annotations a
        JOIN clips c USING (clip_id)
        LEFT JOIN (SELECT clip_id AS measured_id FROM acoustics) m ON m.measured_id = a.clip_id
        LEFT JOIN (SELECT clip_id FROM duplicates) dup USING (clip_id)
        LEFT JOIN (SELECT clip_id, labels FROM descriptions
                   WHERE published AND passed AND kind = 'description') dl USING (clip_id)
        LEFT JOIN (SELECT clip_id, labels FROM descriptions
                   WHERE published AND passed AND kind = 'instruction') il USING (clip_id)
        {where}"""


@dataclass
class Selection:
    """What an export takes (clips, hours, per split and corpus, languages) and leaves out (per reason)."""
    considered: int = 0
    exported: int = 0
    audio_hours: float = 0.0
    excluded: dict[str, int] = field(default_factory=dict)
    splits: dict[str, int] = field(default_factory=dict)
    corpora: dict[str, int] = field(default_factory=dict)
    languages: list[str] = field(default_factory=list)


def select_clips(con, corpus: str | None = None, filters: Filters = Filters()) -> Selection:
    """How many clips an export takes, per split and corpus, and how many it leaves out, per reason."""
    rows = read_rows(con, f"""SELECT excluded, hf_split, corpus, language, count(*) AS clips,
                                     sum(duration_s) AS seconds
                              FROM ({clips_sql(corpus, filters)}) GROUP BY ALL""")
    selection = Selection()
    languages = set()
    for r in rows:
        selection.considered += r["clips"]
        if r["excluded"]:
            selection.excluded[r["excluded"]] = selection.excluded.get(r["excluded"], 0) + r["clips"]
            continue
        selection.exported += r["clips"]
        selection.audio_hours += (r["seconds"] or 0.0) / 3600
        selection.splits[r["hf_split"]] = selection.splits.get(r["hf_split"], 0) + r["clips"]
        selection.corpora[r["corpus"]] = selection.corpora.get(r["corpus"], 0) + r["clips"]
        languages.add(r["language"])
    selection.languages = sorted(lang for lang in languages if lang)
    selection.excluded = {k: selection.excluded[k] for k in EXCLUSIONS if k in selection.excluded}
    return selection


def publishable_batches(con, first_order: str = "", corpus: str | None = None, batch_rows: int = 4_096,
                        filters: Filters = Filters()):
    """The exported clips as Arrow record batches, sorted by `first_order` (a column of clips_sql: the order
    the format writes them in, such as parler's `hf_split` or speechcraft's `corpus`; "" for by file), then
    by file, so the spans of one long file come next to each other (ClipAudio keeps that file open)."""
    order = f"{first_order}, " if first_order else ""
    sql = (f"SELECT * EXCLUDE (excluded, flags) FROM ({clips_sql(corpus, filters)}) WHERE excluded IS NULL "
           f"ORDER BY {order}audio_path, start_s NULLS FIRST, clip_id")
    check_read_only(con, sql)
    return con.sql(sql).to_arrow_reader(batch_rows)
