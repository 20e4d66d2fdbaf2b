"""Table schemas of the lakehouse. One Arrow schema per table, with the column that keys its upserts.

`clips` is the storage of record for what was ingested; later stages add one table each, keyed by clip_id.
"""
from __future__ import annotations

import pyarrow as pa

TIMESTAMP = pa.timestamp("us", tz="UTC")

CLIPS = pa.schema([
    ("clip_id", pa.string()),            # "<corpus>/<native_id>": stable across re-ingests
    ("corpus", pa.string()),
    ("subset", pa.string()),
    ("split", pa.string()),
    ("native_id", pa.string()),
    ("language", pa.string()),           # zh / en
    ("speaker_id", pa.string()),
    ("audio_path", pa.string()),         # absolute; audio is referenced, never copied
    ("audio_format", pa.string()),       # WAV, FLAC, MP3, OGG
    ("start_s", pa.float64()),           # span inside the file (GigaSpeech); null = the whole file
    ("end_s", pa.float64()),
    ("sample_rate", pa.int32()),
    ("channels", pa.int32()),
    ("duration_s", pa.float64()),
    ("peak_dbfs", pa.float64()),         # -inf for digital silence: kept here, flagged by quality checks
    ("transcript", pa.string()),         # clean text
    ("transcript_raw", pa.string()),     # the corpus's own text field, verbatim
    ("audio_sha256", pa.string()),       # of the audio file's bytes (shared by the spans of one file)
    ("meta_gender", pa.string()),        # the corpus's own labels, normalised to docs/annotation-contract.md
    ("meta_age_group", pa.string()),
    ("meta_accent", pa.string()),
    ("meta_topic", pa.string()),
    ("extras", pa.string()),             # JSON: the reader's fields without a column (declare_clip_columns)
    ("source_fingerprint", pa.string()), # metadata + file size/mtime: unchanged => a re-run skips the clip
    ("reader", pa.string()),             # the corpus reader that read it: aishell3, folder, ...
    ("speaking_style", pa.string()),     # "read" (audiobooks) or null (not known): the emotion stage's prior
])

REJECTS = pa.schema([
    ("reject_id", pa.string()),          # hash of (corpus, source, stage, reason, clip_id): re-runs don't repeat it
    ("corpus", pa.string()),
    ("source", pa.string()),             # audio path relative to the corpus root, or "<metadata file>:<line>"
    ("stage", pa.string()),
    ("reason", pa.string()),
    ("detail", pa.string()),
    ("clip_id", pa.string()),            # when the input names one
    ("run_id", pa.string()),             # the run that first saw it
    ("rejected_at", TIMESTAMP),
])

RUNS = pa.schema([
    ("run_id", pa.string()),
    ("flow", pa.string()),               # ingest, annotate, ...
    ("corpus", pa.string()),
    ("params", pa.string()),             # JSON of the run's arguments
    ("status", pa.string()),             # running / completed / partial (some batches failed) / failed / interrupted
    ("started_at", TIMESTAMP),
    ("finished_at", TIMESTAMP),
    ("wall_s", pa.float64()),
    ("n_scanned", pa.int64()),           # clips the reader offered
    ("n_new", pa.int64()),
    ("n_updated", pa.int64()),
    ("n_unchanged", pa.int64()),         # skipped: already stored with the same fingerprint
    ("n_rejected", pa.int64()),
    ("audio_hours", pa.float64()),       # audio processed by this run
    ("audio_hours_per_hour", pa.float64()),
    ("error", pa.string()),
    ("host", pa.string()),
    ("pid", pa.int64()),
])

# One row per step of a `speechcraft run` (ingest of one source, each annotation stage, describe, check, each
# export): the per-stage throughput of the pipeline.
RUN_STAGES = pa.schema([
    ("stage_run_id", pa.string()),       # "<pipeline run_id>/<step>"
    ("run_id", pa.string()),             # the pipeline's run
    ("step", pa.string()),               # ingest:<corpus>, emphasize, transcript, acoustics, ..., export:<format>
    ("status", pa.string()),             # completed / partial / failed / skipped / blocked (an export the gate refused)
    ("clips", pa.int64()),               # clips the step worked on (not those already up to date)
    ("up_to_date", pa.int64()),
    ("failed_batches", pa.int64()),
    ("audio_hours", pa.float64()),
    ("wall_s", pa.float64()),
    ("audio_hours_per_hour", pa.float64()),
    ("finished_at", TIMESTAMP),
])

# Every stage row says which annotator made it, its version and a hash of its configuration (docs/architecture.md).
STAGE_COLUMNS = [
    ("annotator", pa.string()),
    ("annotator_version", pa.string()),
    ("config_hash", pa.string()),
    ("input_hash", pa.string()),         # of the clip inputs the row was computed from (audio hash, span, text)
    ("run_id", pa.string()),
    ("computed_at", TIMESTAMP),
]

ACOUSTICS = pa.schema([
    ("clip_id", pa.string()),
    ("f0_mean_hz", pa.float64()),        # over voiced frames of the whole clip; null when none is voiced
    ("f0_std_hz", pa.float64()),
    ("voiced_ratio", pa.float64()),      # voiced frames / frames inside speech segments
    ("energy_db", pa.float64()),         # RMS over speech frames, dBFS
    ("speech_s", pa.float64()),          # speech time from voice activity (pauses under 0.3 s count as speech)
    ("speech_start_s", pa.float64()),    # first and last speech, relative to the clip's start
    ("speech_end_s", pa.float64()),
    ("speech_units", pa.int64()),        # syllables (en) or characters (zh) of the transcript
    ("rate_unit", pa.string()),
    ("speech_rate", pa.float64()),       # speech_units / speech_s
    ("flags", pa.list_(pa.string())),    # no_speech, too_short, no_transcript
    *STAGE_COLUMNS,
])

# Edges that turn numbers into labels. A version is frozen once and never edited; labels use, per
# (language, attribute, gender) group, the edges of the version pinned most recently for that group.
BIN_EDGES = pa.schema([
    ("edge_id", pa.string()),            # "<version>/<language>/<attribute>/<gender or all>"
    ("version", pa.string()),
    ("mode", pa.string()),               # percentile / fixed
    ("language", pa.string()),
    ("attribute", pa.string()),          # pitch / energy / speed
    ("gender", pa.string()),             # pitch: male / female; others: null (all speakers)
    ("low_edge", pa.float64()),          # value < low_edge: low (slow); >= high_edge: high (fast)
    ("high_edge", pa.float64()),
    ("percentiles", pa.list_(pa.float64())),   # percentile mode: where the edges were cut
    ("population", pa.int64()),          # clips the edges were computed on (percentile mode)
    ("population_corpora", pa.list_(pa.string())),
    ("unit", pa.string()),               # Hz, dBFS, dB SNR, dB C50, semitones, syllables/s, characters/s
    ("source", pa.string()),             # what computed them: acoustics annotator+config, or the config file
    ("created_at", TIMESTAMP),
    ("pinned_at", TIMESTAMP),            # the latest pin of a group is in force
])

LABELS = pa.schema([
    ("clip_id", pa.string()),
    ("gender", pa.string()),             # the gender the pitch label was binned within
    ("gender_source", pa.string()),      # corpus, classifier:<version> or a model id (the speakers table)
    ("pitch_label", pa.string()),        # low / normal / high
    ("energy_label", pa.string()),       # low / normal / high
    ("speed_label", pa.string()),        # slow / normal / fast
    ("pitch_edges", pa.string()),        # bin_edges version each label was computed against
    ("energy_edges", pa.string()),
    ("speed_edges", pa.string()),
    ("acoustics_hash", pa.string()),     # of the acoustics row the labels came from
    ("labelled_at", TIMESTAMP),
    ("noise_label", pa.string()),        # noisy / moderate_noise / clean (attr_noise.snr_db)
    ("reverberation_label", pa.string()),  # distant / moderate_distance / close (attr_reverberation.c50_db)
    ("monotony_label", pa.string()),     # monotone / moderate_variation / expressive (attr_monotony)
    ("noise_edges", pa.string()),
    ("reverberation_edges", pa.string()),
    ("monotony_edges", pa.string()),
])

# The speaker, emotion and transcript stages: one row per clip each, saying which backend and model made it.
# `*_source` says where a value came from: "corpus" (metadata), "classifier:<version>" (the embedded
# classifier trained in this lakehouse), or a model id.
SPEAKERS = pa.schema([
    ("clip_id", pa.string()),
    ("gender", pa.string()),             # male / female
    ("gender_prob", pa.float64()),       # 1.0 for metadata
    ("gender_source", pa.string()),
    ("age_group", pa.string()),          # child / teenager / young_adult / middle_aged / elderly
    ("age_years", pa.float64()),         # when a model regresses age
    ("age_prob", pa.float64()),
    ("age_source", pa.string()),
    # what the backend itself predicted, used or not (metadata wins): validations compare these
    ("predicted_gender", pa.string()),
    ("predicted_gender_prob", pa.float64()),
    ("predicted_age_group", pa.string()),
    ("predicted_age_prob", pa.float64()),
    ("backend", pa.string()),            # embedded / model / a plug-in's module:Class
    ("model", pa.string()),              # model id or local folder; the classifier versions for embedded
    *STAGE_COLUMNS,
])

EMOTIONS = pa.schema([
    ("clip_id", pa.string()),
    ("emotion", pa.string()),            # angry, disgusted, fearful, happy, neutral, sad, surprised; null: none
    ("emotion_prob", pa.float64()),
    ("emotion_scores", pa.string()),     # JSON {emotion: probability} over the seven
    ("caption", pa.string()),            # free-text description of the emotion, from captioning backends
    ("emotion_source", pa.string()),
    ("reason", pa.string()),             # why emotion is null, or why it was set without a model
    ("backend", pa.string()),
    ("model", pa.string()),
    *STAGE_COLUMNS,
])

WORD = pa.struct([("word", pa.string()), ("start_s", pa.float64()), ("end_s", pa.float64())])

TRANSCRIPTS = pa.schema([              # ASR output, for clips whose corpus has no transcript
    ("clip_id", pa.string()),
    ("text", pa.string()),
    ("language", pa.string()),           # detected (or forced) language code
    ("words", pa.list_(WORD)),           # word timestamps relative to the clip's start
    ("backend", pa.string()),
    ("model", pa.string()),
    *STAGE_COLUMNS,
])

# Per-clip features the embedded speaker classifier trains on and predicts from.
SPEAKER_FEATURES = pa.schema([
    ("clip_id", pa.string()),
    ("features", pa.list_(pa.float32())),
    ("feature_set", pa.string()),
    *STAGE_COLUMNS,
])

# One pass over each clip's signal (models/signal.py), written by the acoustic stage: the contours the speaker
# and emphasis features and later attributes read instead of analysing the audio again. input_hash: of the
# audio and span only. Every time is seconds from the clip's start; contours are float32, NaN where unvoiced.
SEGMENT = pa.struct([("start_s", pa.float64()), ("end_s", pa.float64())])
SIGNAL_CONTOURS = pa.schema([
    ("clip_id", pa.string()),
    ("f0_hz", pa.list_(pa.float32())),           # Praat's frames, the i-th at f0_start_s + i * f0_step_s
    ("f0_start_s", pa.float64()),
    ("f0_step_s", pa.float64()),
    ("energy_db", pa.list_(pa.float32())),       # every 10 ms, of the 16 kHz signal, dBFS
    ("speech_segments", pa.list_(SEGMENT)),      # the energy VAD over those frames
    ("window_energy_db", pa.list_(pa.float32())),  # 25 ms Hann windows every 10 ms, the first centred at 12.5 ms
    ("tilt_db", pa.list_(pa.float32())),         # same windows: dB of 50-1000 Hz over 1-4 kHz
    ("spectral_envelope", pa.list_(pa.float64())),  # 32 log-mel means over speech (the speaker cepstra's source)
    *STAGE_COLUMNS,
])

# Trained embedded classifiers: immutable, one row per (attribute, version); the newest is in force.
CLASSIFIERS = pa.schema([
    ("classifier_id", pa.string()),      # "<attribute>/<version>"
    ("attribute", pa.string()),          # gender / age_group / emphasis
    ("version", pa.string()),            # hash of the training clips, their inputs and the parameters
    ("feature_set", pa.string()),
    ("classes", pa.list_(pa.string())),
    ("n_train", pa.int64()),
    ("train_speakers", pa.int64()),
    ("train_corpora", pa.list_(pa.string())),
    ("held_out_speakers", pa.list_(pa.string())),   # "<corpus>/<speaker>": never trained on, validated on
    ("params", pa.string()),             # JSON
    ("blob", pa.binary()),               # the fitted scikit-learn pipeline (pickle)
    ("created_at", TIMESTAMP),
])

# Predictions against a reference, per run: corpus metadata on held-out speakers, or a reference file.
VALIDATIONS = pa.schema([
    ("validation_id", pa.string()),      # "<run_id>/<attribute>/<reference>/<corpus>"
    ("run_id", pa.string()),
    ("attribute", pa.string()),          # gender / age_group / emphasis (sentence level, none included)
    ("corpus", pa.string()),             # a corpus, a language ("language:zh"), or "all"
    ("reference", pa.string()),          # metadata:held_out_speakers|all_speakers, regenerated:held_out, file:<name>
    ("predictor", pa.string()),          # backend and model that made the predictions
    ("n_clips", pa.int64()),
    ("n_speakers", pa.int64()),
    ("accuracy", pa.float64()),
    ("per_class", pa.string()),          # JSON {class: {precision, recall, support}}
    ("confusion", pa.string()),          # JSON {true class: {predicted class: clips}}
    ("validated_at", TIMESTAMP),
])

# Generated texts: every attempt of every generator, checked; one published text per (clip, kind).
DESCRIPTIONS = pa.schema([
    ("text_id", pa.string()),            # "<clip_id>/<kind>/<attempt>"
    ("clip_id", pa.string()),
    ("kind", pa.string()),               # description / instruction
    ("text", pa.string()),               # null when none could be written (see reason)
    ("language", pa.string()),
    ("generator", pa.string()),          # embedded / transformers / vllm / a plug-in
    ("model", pa.string()),
    ("attempt", pa.int64()),             # 1, 2, ... across generators, for this clip and kind
    ("attempts", pa.int64()),            # on the published row: attempts it took in all
    ("omissions", pa.int64()),           # attributes given but not expressed
    ("distortions", pa.int64()),         # attributes expressed with another value
    ("omitted", pa.list_(pa.string())),
    ("distorted", pa.list_(pa.string())),
    ("transcript_problem", pa.string()), # instructions: missing / altered
    ("invented", pa.list_(pa.string())), # body language, inner life, story
    ("passed", pa.bool_()),              # the checker's verdict
    ("published", pa.bool_()),           # the text clip_annotations shows
    ("reason", pa.string()),             # why no text (no labels, empty transcript) or why an attempt failed
    ("labels", pa.string()),             # JSON of the labels the generator was given
    *STAGE_COLUMNS,
])

# Regenerated clips with one word stressed (emphasize): each is also a `clips` row of corpus "<parent's>-stressed",
# its audio written under the lakehouse's audio/ folder.
STRESSED_CLIPS = pa.schema([
    ("clip_id", pa.string()),            # "<corpus>-stressed/<parent native id>"
    ("parent_clip_id", pa.string()),
    ("keyword", pa.string()),            # the stressed word: the clip's known emphasis label
    ("keyword_index", pa.int64()),       # its position among the transcript's words
    ("keyword_start_s", pa.float64()),   # its span in the stressed clip
    ("keyword_end_s", pa.float64()),
    ("keyword_score", pa.float64()),     # how informative the word is in its corpus
    ("words", pa.list_(WORD)),           # every word's span in the stressed clip
    ("timing", pa.string()),             # where the parent's word times came from: embedded aligner or whisper
    ("synthesizer", pa.string()),        # world / tts
    ("settings", pa.string()),           # JSON: pitch_scale, energy_db, duration_scale, ramp_s
    *STAGE_COLUMNS,                      # input_hash: of the parent's inputs
])

# Word spans and prosodic features per clip: what the emphasis detector trains on and predicts from.
EMPHASIS_FEATURES = pa.schema([
    ("clip_id", pa.string()),
    ("words", pa.list_(WORD)),
    ("features", pa.list_(pa.list_(pa.float32()))),   # one row of models.emphasis_detector.FEATURE_NAMES per word
    ("feature_set", pa.string()),
    ("timing", pa.string()),
    *STAGE_COLUMNS,
])

# The detector's answer per clip: the stressed word, or none (word null) when no word scores above threshold.
EMPHASIS = pa.schema([
    ("clip_id", pa.string()),
    ("word", pa.string()),               # null: no word stressed
    ("word_index", pa.int64()),
    ("start_s", pa.float64()),
    ("end_s", pa.float64()),
    ("score", pa.float64()),             # the top word's score (also when below threshold)
    ("top_word", pa.string()),           # the top-scoring word, stressed or not
    ("threshold", pa.float64()),
    ("detector", pa.string()),           # classifier version
    *STAGE_COLUMNS,
])

# One row per expectation per `speechcraft check` run (tasks/quality_suites.py defines them).
QUALITY_RUNS = pa.schema([
    ("result_id", pa.string()),          # "<run_id>/<suite>/<expectation name>"
    ("run_id", pa.string()),
    ("suite", pa.string()),              # a table (clips, acoustics, ...) or a derived check (label_shares, ...)
    ("expectation", pa.string()),        # readable name: "<expectation type>(<columns>)"
    ("expectation_type", pa.string()),   # great-expectations' name, e.g. expect_column_values_to_be_between
    ("kwargs", pa.string()),             # JSON of its arguments (column, value_set, min_value, ...)
    ("severity", pa.string()),           # critical (blocks exports, fails the command) / warning
    ("why", pa.string()),                # what the expectation protects
    ("success", pa.bool_()),
    ("element_count", pa.int64()),       # rows the expectation looked at
    ("unexpected_count", pa.int64()),
    ("unexpected_percent", pa.float64()),
    ("observed", pa.string()),           # JSON: observed value or a sample of the unexpected values
    ("exception", pa.string()),          # when the expectation could not be evaluated
    ("docs_path", pa.string()),          # the Data Docs index written by this run
    ("checked_at", TIMESTAMP),
])

EMBEDDING_DIM = 384                      # all-MiniLM-L6-v2 (models/text_embedder.py)

# Published descriptions and instructions embedded for search in plain words (the dashboard's search page).
TEXT_VECTORS = pa.schema([
    ("vector_id", pa.string()),          # "<clip_id>/<kind>": a re-published text replaces its vector
    ("text_id", pa.string()),            # the descriptions row
    ("clip_id", pa.string()),
    ("kind", pa.string()),
    ("language", pa.string()),
    ("text", pa.string()),
    ("vector", pa.list_(pa.float32(), EMBEDDING_DIM)),   # L2-normalised: cosine = dot product
    ("model", pa.string()),
    ("text_hash", pa.string()),          # a changed text is embedded again
    ("computed_at", TIMESTAMP),
])

# A cache the pending-work query keeps (warehouse/pending.py): the stages' input hash of a clip's inputs is
# computed in Python once; DuckDB's own hash of the same inputs finds it again, so the anti-join stays in SQL.
CLIP_INPUTS = pa.schema([
    ("inputs_digest", pa.uint64()),      # DuckDB hash(audio_sha256, start_s, end_s, transcript, language)
    ("input_hash", pa.string()),         # the stage rows' input_hash of those inputs (tasks: ClipJob.input_hash)
])

VOICE_DIM = 256                          # the voice stage's vectors (models/voice_encoder.py DIM)

# Pseudo-speakers of the clips whose corpus gives no speaker id (tasks/voices.py): a clip, once assigned,
# keeps its cluster; new clips join the nearest centroid within the threshold or open a new cluster.
VOICE_CLUSTERS = pa.schema([
    ("clip_id", pa.string()),
    ("corpus", pa.string()),             # the corpus the cluster belongs to (a regenerated clip: its parent's)
    ("voice_cluster", pa.string()),      # "<corpus>/voice-0007": numbered in order of opening, never renumbered
    ("similarity", pa.float64()),        # cosine to the cluster's centroid when it was assigned
    ("clustering_version", pa.string()), # method, threshold and the voice stage's config hash
    ("run_id", pa.string()),
    ("assigned_at", TIMESTAMP),
])

VOICE_CENTROIDS = pa.schema([
    ("voice_cluster", pa.string()),
    ("corpus", pa.string()),
    ("centroid", pa.list_(pa.float32(), VOICE_DIM)),   # mean of its clips' vectors, L2-normalised
    ("n_clips", pa.int64()),
    ("clustering_version", pa.string()),
    ("updated_at", TIMESTAMP),
])

# The same recording in two places (tasks/duplicates.py): every clip of a group but one points at the one kept.
DUPLICATES = pa.schema([
    ("clip_id", pa.string()),            # the copy the exports skip
    ("duplicate_of", pa.string()),       # the clip of its group that is kept (with a speaker id, else the first)
    ("kind", pa.string()),               # exact (same audio bytes and span) / near (voice, duration, transcript)
    ("score", pa.float64()),             # cosine of the two voice vectors (1.0 for exact)
    ("method_version", pa.string()),
    ("found_at", TIMESTAMP),
])

TABLES: dict[str, tuple[pa.Schema, str]] = {
    "clips": (CLIPS, "clip_id"),
    "rejects": (REJECTS, "reject_id"),
    "runs": (RUNS, "run_id"),
    "run_stages": (RUN_STAGES, "stage_run_id"),
    "acoustics": (ACOUSTICS, "clip_id"),
    "bin_edges": (BIN_EDGES, "edge_id"),
    "labels": (LABELS, "clip_id"),
    "speakers": (SPEAKERS, "clip_id"),
    "emotions": (EMOTIONS, "clip_id"),
    "transcripts": (TRANSCRIPTS, "clip_id"),
    "speaker_features": (SPEAKER_FEATURES, "clip_id"),
    "signal_contours": (SIGNAL_CONTOURS, "clip_id"),
    "classifiers": (CLASSIFIERS, "classifier_id"),
    "validations": (VALIDATIONS, "validation_id"),
    "descriptions": (DESCRIPTIONS, "text_id"),
    "stressed_clips": (STRESSED_CLIPS, "clip_id"),
    "emphasis_features": (EMPHASIS_FEATURES, "clip_id"),
    "emphasis": (EMPHASIS, "clip_id"),
    "quality_runs": (QUALITY_RUNS, "result_id"),
    "text_vectors": (TEXT_VECTORS, "vector_id"),
    "clip_inputs": (CLIP_INPUTS, "inputs_digest"),
    "voice_clusters": (VOICE_CLUSTERS, "clip_id"),
    "voice_centroids": (VOICE_CENTROIDS, "voice_cluster"),
    "duplicates": (DUPLICATES, "clip_id"),
}

# Attribute stages (tasks/attributes/) each write one table named `attr_<stage>`: clip_id, the columns the
# stage declares, and the provenance every stage row carries. clip_annotations carries their columns
# (warehouse/views.py), whether or not the process that reads them imported the stage.
ATTRIBUTE_PREFIX = "attr_"


def attribute_table(stage: str) -> str:
    return f"{ATTRIBUTE_PREFIX}{stage}"


def attribute_schema(columns: dict[str, pa.DataType]) -> pa.Schema:
    return pa.schema([("clip_id", pa.string()), *columns.items(), *STAGE_COLUMNS])


def register_table(name: str, schema: pa.Schema, key: str) -> None:
    """Add a table a stage outside this module declares; the same declaration again is a no-op."""
    if name in TABLES and TABLES[name] != (schema, key):
        raise ValueError(f"table {name!r} is already declared with another schema or key")
    TABLES[name] = (schema, key)


def declare_clip_columns(columns: dict[str, str]) -> pa.Schema:
    """`clips` with the readers' own columns (name -> Arrow type name, e.g. "string", "double") before
    `extras`. The readers declare them (tasks/corpora); the ingest task declares them here, so that storage
    knows no corpus. A lakehouse written before a column was declared gets it, null, on its next write."""
    base = [field for field in CLIPS if field.name not in columns]
    at = [field.name for field in base].index("extras")
    declared = [pa.field(name, pa.type_for_alias(kind)) for name, kind in columns.items()]
    schema = pa.schema(base[:at] + declared + base[at:])
    TABLES["clips"] = (schema, "clip_id")
    return schema


def forget_table(name: str) -> None:
    """Drop a declaration register_table made (a test's toy stage); the stored data, if any, stays."""
    TABLES.pop(name, None)


def declared_columns(names: list[str]) -> list[str]:
    """An attribute table's own columns: neither its key nor the provenance every stage row carries."""
    provenance = {name for name, _ in STAGE_COLUMNS}
    return [name for name in names if name != "clip_id" and name not in provenance]



# The voice stage's table (tasks/attributes/voice.py declares the same), declared here too so that the views
# over it (voices, clip_speakers) exist in a process that never imported the stage.
VOICE_TABLE = attribute_table("voice")
TABLES[VOICE_TABLE] = (attribute_schema({"voice_embedding": pa.list_(pa.float32(), VOICE_DIM),
                                         "has_voice": pa.bool_()}), "clip_id")
