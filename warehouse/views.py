"""The documented SQL views over the stored tables: name -> SELECT body. They are the public SQL surface
(docs/tables.md). A table not written yet reads as empty, so every view always exists."""
from __future__ import annotations

from ..vocabulary import CONDITION_LABEL_NAMES, LABEL_NAMES, PARLER_BINS

# A label's place in its attribute's order (low, slow: 0; normal: 1; high, fast: 2; Parler-TTS's seven or
# five in their order), as SQL over the columns `attribute` and `label`; other labels all come last.
_ORDERS = {**LABEL_NAMES, **CONDITION_LABEL_NAMES,
           **{f"{attribute}_parler": labels for attribute, (_, labels) in PARLER_BINS.items()}}
_LABEL_RANK = ("CASE " + " ".join(f"WHEN attribute = '{attribute}' AND label = '{name}' THEN {rank}"
                                  for attribute, names in _ORDERS.items() for rank, name in enumerate(names))
               + f" ELSE {max(len(names) for names in _ORDERS.values())} END")

VIEWS: dict[str, str] = {
    # The effective speaker of every clip: the corpus's speaker id, else its voice cluster (tasks/voices.py:
    # pseudo-speakers of corpora without speaker ids). Everything per speaker reads this one column.
    "clip_speakers": """
        SELECT c.clip_id, c.corpus, coalesce(c.speaker_id, vc.voice_cluster) AS speaker_id,
               CASE WHEN c.speaker_id IS NOT NULL THEN 'corpus'
                    WHEN vc.voice_cluster IS NOT NULL THEN 'voice_cluster:' || vc.clustering_version END
                   AS speaker_source,
               c.speaker_id AS corpus_speaker_id, vc.voice_cluster
        FROM clips c LEFT JOIN voice_clusters vc USING (clip_id)""",
    # One row per clip with a voice vector: what voice search and duplicate finding read. Nearest voices in
    # SQL: ORDER BY array_cosine_similarity(voice_embedding, (SELECT voice_embedding FROM voices WHERE
    # clip_id = '...')) DESC (docs/voices.md).
    "voices": """
        SELECT s.clip_id, s.corpus, s.speaker_id, s.speaker_source, s.voice_cluster, c.duration_s,
               v.voice_embedding
        FROM attr_voice v JOIN clip_speakers s USING (clip_id) JOIN clips c USING (clip_id)
        WHERE v.has_voice""",
    # One row per corpus: what is in the lakehouse at a glance.
    "corpus_summary": """
        SELECT corpus, language, count(*) AS clips, count(DISTINCT s.speaker_id) AS speakers,
               round(sum(duration_s) / 3600, 3) AS hours
        FROM clips JOIN clip_speakers s USING (clip_id, corpus) GROUP BY corpus, language ORDER BY corpus""",
    # One row per clip: what it is and its labels, without the measurements and texts (a narrower join
    # than clip_annotations: what label counts and filters read).
    "clip_labels": """
        SELECT c.clip_id, c.corpus, c.subset, c.split, c.language, sp.speaker_id, sp.speaker_source,
               c.duration_s, coalesce(nullif(trim(c.transcript), ''), t.text) AS transcript,
               CASE WHEN nullif(trim(c.transcript), '') IS NOT NULL THEN 'corpus'
                    WHEN t.text IS NOT NULL THEN t.model END AS transcript_source,
               coalesce(s.gender, l.gender, c.meta_gender) AS gender,
               coalesce(s.gender_source, l.gender_source) AS gender_source, s.gender_prob,
               coalesce(s.age_group, c.meta_age_group) AS age_group,
               coalesce(s.age_source, CASE WHEN c.meta_age_group IS NOT NULL THEN 'corpus' END) AS age_source,
               l.pitch_label, l.energy_label, l.speed_label,
               l.noise_label, l.reverberation_label, l.monotony_label,
               e.emotion, e.emotion_prob, e.emotion_source, e.caption AS emotion_caption,
               coalesce(sc.keyword, em.word) AS emphasis,
               CASE WHEN sc.keyword IS NOT NULL THEN 'regenerated'
                    WHEN em.word IS NOT NULL THEN 'detector:' || em.detector END AS emphasis_source,
               em.score AS emphasis_score, sc.parent_clip_id,
               c.audio_path, c.start_s, c.end_s
        FROM clips c
        JOIN clip_speakers sp USING (clip_id)
        LEFT JOIN labels l USING (clip_id)
        LEFT JOIN speakers s USING (clip_id)
        LEFT JOIN emotions e USING (clip_id)
        LEFT JOIN transcripts t USING (clip_id)
        LEFT JOIN stressed_clips sc USING (clip_id)
        LEFT JOIN emphasis em USING (clip_id)""",
    # One row per clip: what it is, what was measured, its labels and its published texts.
    "clip_annotations": """
        SELECT c.clip_id, c.corpus, c.subset, c.split, c.language, c.speaker_id, c.speaker_source,
               c.duration_s, c.transcript, c.transcript_source, c.gender, c.gender_source, c.gender_prob,
               c.age_group, c.age_source,
               a.f0_mean_hz AS pitch_hz, a.f0_std_hz AS pitch_std_hz, a.voiced_ratio, c.pitch_label,
               a.energy_db, c.energy_label,
               a.speech_rate, a.rate_unit, c.speed_label,
               a.speech_s, a.flags,
               c.noise_label, c.reverberation_label, c.monotony_label,
               c.emotion, c.emotion_prob, c.emotion_source, c.emotion_caption,
               c.emphasis, c.emphasis_source, c.emphasis_score, c.parent_clip_id,
               d.text AS description, i.text AS instruction,
               c.audio_path, c.start_s, c.end_s
        FROM clip_labels c
        LEFT JOIN acoustics a USING (clip_id)
        LEFT JOIN (SELECT clip_id, text FROM descriptions WHERE published AND passed AND kind = 'description') d
            USING (clip_id)
        LEFT JOIN (SELECT clip_id, text FROM descriptions WHERE published AND passed AND kind = 'instruction') i
            USING (clip_id)""",
    # The latest validation of each (attribute, reference, corpus): how right the speaker predictions are.
    "latest_validations": """
        SELECT attribute, reference, corpus, predictor, n_clips, n_speakers, accuracy, per_class, confusion,
               run_id, validated_at
        FROM validations
        QUALIFY row_number() OVER (PARTITION BY attribute, reference, corpus ORDER BY validated_at DESC) = 1
        ORDER BY attribute, reference, corpus = 'all' DESC, corpus""",
    # How the labels spread: one row per (language, attribute, gender for pitch, label).
    "label_distribution": f"""
        SELECT language, attribute, gender, label, count(*) AS clips
        FROM (
            SELECT language, 'pitch' AS attribute, gender, pitch_label AS label FROM clip_annotations
            UNION ALL SELECT language, 'energy', NULL, energy_label FROM clip_annotations
            UNION ALL SELECT language, 'speed', NULL, speed_label FROM clip_annotations
            UNION ALL SELECT language, 'gender', NULL, gender FROM clip_annotations
            UNION ALL SELECT language, 'age', NULL, age_group FROM clip_annotations
            UNION ALL SELECT language, 'emotion', NULL, emotion FROM clip_annotations
            UNION ALL SELECT language, 'noise', NULL, noise_label FROM clip_annotations
            UNION ALL SELECT language, 'reverberation', NULL, reverberation_label FROM clip_annotations
            UNION ALL SELECT language, 'monotony', NULL, monotony_label FROM clip_annotations
        )
        WHERE label IS NOT NULL
        GROUP BY language, attribute, gender, label
        ORDER BY language, attribute, gender NULLS FIRST,
                 {_LABEL_RANK}""",
    # The expectations of the most recent `speechcraft check`: what gates exports (critical failures block).
    "latest_quality": """
        SELECT suite, expectation, severity, success, element_count, unexpected_count, unexpected_percent,
               observed, why, run_id, checked_at, docs_path
        FROM quality_runs
        WHERE run_id = (SELECT arg_max(run_id, checked_at) FROM quality_runs)
        ORDER BY success, severity, suite, expectation""",
}


LABEL_SUFFIX = "_parler"      # an attribute column of this name is a label, counted in label_distribution
VECTOR_SUFFIX = "_embedding"  # a vector column stays in its attr_ table: 256 floats would swamp the one-row view


def with_attributes(attribute_columns: dict[str, list[str]]) -> dict[str, str]:
    """VIEWS with clip_annotations carrying each attribute table's own columns after its documented ones
    (table -> columns, in table order): a new attribute is in the public view without editing it."""
    attribute_columns = {table: [c for c in columns if not c.endswith(VECTOR_SUFFIX)]
                         for table, columns in attribute_columns.items()}
    attribute_columns = {table: columns for table, columns in attribute_columns.items() if columns}
    if not attribute_columns:
        return VIEWS
    body = VIEWS["clip_annotations"]
    select, joins = [], []
    for number, (table, columns) in enumerate(sorted(attribute_columns.items())):
        alias = f"attr{number}"
        select += [f"{alias}.{column}" for column in columns]
        joins.append(f"LEFT JOIN {table} {alias} USING (clip_id)")
    head, tail = body.split("\n        FROM clip_labels c", 1)
    extended = f"{head}, {', '.join(select)}\n        FROM clip_labels c{tail}\n        " + "\n        ".join(joins)
    # an attribute's label columns (named *_parler: Parler-TTS's words) join the label distribution
    labels = [column for columns in attribute_columns.values() for column in columns if column.endswith(LABEL_SUFFIX)]
    distribution = VIEWS["label_distribution"]
    for column in labels:
        distribution = distribution.replace(
            "\n        )\n        WHERE label IS NOT NULL",
            f"\n            UNION ALL SELECT language, '{column}', NULL, {column} FROM clip_annotations"
            "\n        )\n        WHERE label IS NOT NULL")
    return {**VIEWS, "clip_annotations": extended, "label_distribution": distribution}

