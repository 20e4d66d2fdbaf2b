"""Duplicates: the same recording in two places (two corpora, or twice in one), flagged in `duplicates` so that
the exports publish it once.

- exact: the same audio bytes (clips.audio_sha256, which ingest stores) and the same span;
- near: a copy re-encoded, resampled or re-levelled: voice vectors at cosine >= NEAR_COSINE, durations within
  DURATION_TOLERANCE, and transcripts that agree (normalised, similarity >= TEXT_AGREEMENT). Where either
  clip has no text, only a vector at cosine >= NEAR_COSINE_NO_TEXT counts.

Clips linked by either kind form a group; one is kept (one with a corpus speaker id where there is one, then
the smallest clip_id) and every other member is a row (clip_id, duplicate_of = the one kept, kind, score =
cosine of their voice vectors, 1.0 for exact). The table is recomputed
whole on each annotate run (a sweep over clips sorted by duration, comparing only clips of close durations);
rows that no longer hold are deleted, so a re-run with nothing new changes nothing.

Thresholds were set on the fixtures (a clip copied into a second corpus as MP3 at another rate scores
above 0.99; two takes of one espeak voice saying different sentences of one length stay under 0.97). On the
demo corpora, the same espeak voice saying the same sentence at another pitch (prosody) or with a word
stressed (a stressed regeneration) reaches 0.988, while the planted copies score 0.998 and 0.999: hence 0.995.
"""
from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np

from ..warehouse import Lakehouse
from ..warehouse.lake import sql_literal_list
from ..warehouse.sql import query
from .voices import normalise, vectors_of

NEAR_COSINE = 0.995
NEAR_COSINE_NO_TEXT = 0.997
DURATION_TOLERANCE = (0.15, 0.02)     # seconds, share of the longer: a codec's padding, a resampled length
TEXT_AGREEMENT = 0.9
METHOD_VERSION = f"1 cos>={NEAR_COSINE}/{NEAR_COSINE_NO_TEXT} dur<={DURATION_TOLERANCE} text>={TEXT_AGREEMENT}"


@dataclass
class DuplicateStats:
    exact: int = 0
    near: int = 0
    changed: int = 0
    removed: int = 0


def normalised_text(text: str | None) -> str:
    text = unicodedata.normalize("NFKC", text or "").lower()
    return re.sub(r"[\W_]+", "", text)


def texts_agree(a: str, b: str) -> bool:
    return a == b or difflib.SequenceMatcher(None, a, b, autojunk=False).ratio() >= TEXT_AGREEMENT


def _clips(lake: Lakehouse):
    return query("""SELECT c.clip_id, c.speaker_id, c.audio_sha256, c.start_s, c.end_s, c.duration_s, a.transcript,
                           v.voice_embedding, coalesce(v.has_voice, false) AS has_voice
                    FROM clips c JOIN clip_labels a USING (clip_id) LEFT JOIN attr_voice v USING (clip_id)
                    ORDER BY c.duration_s, c.clip_id""", lake.uri)


def find_pairs(ids, hashes, spans, durations, texts, vectors, has_vector) -> list[tuple[int, int, str, float]]:
    """(i, j, kind, score) of every linked pair; rows sorted by duration."""
    pairs = []
    exact: dict[tuple, int] = {}
    for i, key in enumerate(zip(hashes, spans)):
        if key in exact:
            pairs.append((exact[key], i, "exact", 1.0))
        else:
            exact[key] = i
    n = len(ids)
    for i in range(n):
        if not has_vector[i]:
            continue
        j = i + 1
        while j < n and durations[j] - durations[i] <= max(DURATION_TOLERANCE[0], DURATION_TOLERANCE[1] * durations[j]):
            if has_vector[j] and (hashes[i], spans[i]) != (hashes[j], spans[j]):
                score = float(vectors[i] @ vectors[j])
                with_text = bool(texts[i]) and bool(texts[j])
                if (score >= NEAR_COSINE and with_text and texts_agree(texts[i], texts[j])) or \
                        (score >= NEAR_COSINE_NO_TEXT and not with_text):
                    pairs.append((i, j, "near", score))
            j += 1
    return pairs


def groups(n: int, pairs) -> list[int]:
    """Each row's group, as the smallest row index in it (union-find over the pairs)."""
    parent = list(range(n))

    def root(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x
    for i, j, _, _ in pairs:
        a, b = root(i), root(j)
        if a != b:
            parent[max(a, b)] = min(a, b)
    return [root(i) for i in range(n)]


def update(lake: Lakehouse) -> DuplicateStats:
    """Recompute the duplicates table; write only what changed."""
    table = _clips(lake)
    ids = table.column("clip_id").to_pylist()
    speakers = table.column("speaker_id").to_pylist()
    embeddings = table.column("voice_embedding")
    has_vector = np.array(table.column("has_voice").to_pylist(), dtype=bool)
    vectors = np.zeros((len(ids), 1), np.float32)
    if has_vector.any():
        filled = embeddings.filter(has_vector)
        vectors = np.zeros((len(ids), filled.type.list_size), np.float32)
        vectors[has_vector] = normalise(vectors_of(filled))
    spans = list(zip(table.column("start_s").to_pylist(), table.column("end_s").to_pylist()))
    texts = [normalised_text(t) for t in table.column("transcript").to_pylist()]
    hashes = table.column("audio_sha256").to_pylist()
    pairs = find_pairs(ids, hashes, spans,
                       [d or 0.0 for d in table.column("duration_s").to_pylist()], texts, vectors, has_vector)
    roots = groups(len(ids), pairs)
    members: dict[int, list[int]] = {}
    for i, r in enumerate(roots):
        members.setdefault(r, []).append(i)
    kinds = {frozenset((i, j)): kind for i, j, kind, _ in pairs}
    now = datetime.now(timezone.utc)
    rows = []
    for group in (g for g in members.values() if len(g) > 1):
        kept = min(group, key=lambda i: (speakers[i] is None, ids[i]))
        for i in group:
            if i == kept:
                continue
            exact = (hashes[i], spans[i]) == (hashes[kept], spans[kept])
            kind = "exact" if exact else kinds.get(frozenset((i, kept)), "near")
            score = 1.0 if exact else float(vectors[i] @ vectors[kept])
            rows.append({"clip_id": ids[i], "duplicate_of": ids[kept], "kind": kind, "score": round(score, 6),
                         "method_version": METHOD_VERSION, "found_at": now})
    stats = DuplicateStats(exact=sum(r["kind"] == "exact" for r in rows), near=sum(r["kind"] == "near" for r in rows))
    stored = {r["clip_id"]: r for r in lake.read("duplicates").to_pylist()}
    changed = [r for r in rows if {k: stored.get(r["clip_id"], {}).get(k) for k in ("duplicate_of", "kind", "score",
                                   "method_version")} != {k: r[k] for k in ("duplicate_of", "kind", "score",
                                                                            "method_version")}]
    gone = sorted(set(stored) - {r["clip_id"] for r in rows})
    if changed:
        lake.upsert("duplicates", changed)
    if gone:
        lake.delete_where("duplicates", f"clip_id IN {sql_literal_list(gone)}")
    stats.changed, stats.removed = len(changed), len(gone)
    return stats
