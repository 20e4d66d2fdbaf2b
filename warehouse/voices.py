"""Voice search: the clips whose voice vector is nearest (cosine) to one clip's, for `speechcraft voices
similar` and the dashboard. LanceDB answers: exactly (a flat scan) while `attr_voice` has no vector index, and
through its IVF-PQ index once the voice clusters step built one (100,000 vectors and more, where a flat scan
gets slow); the clip's own details come from the `voices` and `clip_labels` views."""
from __future__ import annotations

import pyarrow as pa

from .lake import Lakehouse, sql_literal_list
from .schema import VOICE_TABLE
from .sql import query


# Per corpus: clips with a voice vector, clips clustered, clusters, and duplicates found, by kind.
FIGURES_SQL = """
    SELECT c.corpus, count(v.clip_id) AS with_voice, count(vc.clip_id) AS clustered,
           count(DISTINCT vc.voice_cluster) AS clusters,
           count(d.clip_id) FILTER (WHERE d.kind = 'exact') AS exact_duplicates,
           count(d.clip_id) FILTER (WHERE d.kind = 'near') AS near_duplicates
    FROM clips c LEFT JOIN voices v USING (clip_id) LEFT JOIN voice_clusters vc USING (clip_id)
    LEFT JOIN duplicates d USING (clip_id)
    GROUP BY c.corpus ORDER BY c.corpus"""


def voice_figures(lake_uri: str | None) -> pa.Table:
    return query(FIGURES_SQL, lake_uri)


def clips_with_voice(lake_uri: str | None) -> pa.Table:
    """Every clip with a voice vector: what voice search can start from, by corpus and speaker."""
    return query("""SELECT v.clip_id, v.corpus, v.speaker_id, round(v.duration_s, 2) AS duration_s, l.transcript,
                           l.audio_path, l.start_s, l.end_s
                    FROM voices v JOIN clip_labels l USING (clip_id) ORDER BY v.clip_id""", lake_uri)


class UnknownVoiceError(ValueError):
    """The clip does not exist or has no voice vector (not embedded yet, or too little speech)."""


def similar_voices(lake_uri: str | None, clip_id: str, limit: int = 10) -> pa.Table:
    """The `limit` clips that sound most like `clip_id` (itself excluded), nearest first: clip_id,
    similarity (cosine), corpus, speaker_id (effective), speaker_source, duration_s, transcript, gender,
    audio_path, start_s, end_s."""
    lake = Lakehouse(lake_uri)
    stored = lake.lookup(VOICE_TABLE, [clip_id], ["voice_embedding", "has_voice"])
    if not stored.num_rows or not stored.column("has_voice")[0].as_py():
        raise UnknownVoiceError(f"no voice vector for clip {clip_id!r}: is the id right, and has "
                                f"`speechcraft annotate --stage voice` run? (clips with under 0.5 s of speech "
                                f"have none)")
    vector = stored.column("voice_embedding")[0].as_py()
    found = lake.nearest(VOICE_TABLE, "voice_embedding", vector, limit + 1,
                         where=f"has_voice AND clip_id != {sql_literal_list([clip_id])[1:-1]}")
    if not found.num_rows:
        return pa.table({"clip_id": pa.array([], pa.string()), "similarity": pa.array([], pa.float64())})
    ids = found.column("clip_id").to_pylist()[:limit]
    similarity = [1.0 - d for d in found.column("_distance").to_pylist()[:limit]]
    details = query(f"""SELECT l.clip_id, l.corpus, l.speaker_id, l.speaker_source, l.duration_s, l.transcript,
                               l.gender, l.audio_path, l.start_s, l.end_s
                        FROM clip_labels l WHERE l.clip_id IN {sql_literal_list(ids)}""", lake.uri).to_pylist()
    by_id = {row["clip_id"]: row for row in details}
    rows = [{"clip_id": i, "similarity": round(s, 4), **{k: v for k, v in by_id.get(i, {}).items() if k != "clip_id"}}
            for i, s in zip(ids, similarity)]
    return pa.Table.from_pylist(rows)
