"""Speaker clusters: pseudo-speaker ids for the clips whose corpus gives none (GigaSpeech, folders without
speaker sub-folders), from their voice vectors (tasks/attributes/voice.py).

Per corpus, clusters are numbered in the order they open (`<corpus>/voice-0007`) and a clip keeps its cluster
for good: new clips join the nearest existing centroid when it is within THRESHOLD (cosine), and the rest are
clustered among themselves (average linkage, cut at the same THRESHOLD) into new clusters numbered after the
corpus's last. So adding clips never renumbers a cluster, and a re-run with nothing new changes nothing. New
clips are taken in chunks of CHUNK (in clip_id order), each chunk's new clusters becoming centroids for the
next, which keeps the linkage's memory bounded on a large first run.

The clusters are the speaker of their clips wherever a speaker is used: `clip_speakers.speaker_id` (the
corpus's id, else the cluster) feeds the per-speaker pitch of the exports, the held-out speakers of the
speaker classifier and its validation.

THRESHOLD was chosen on synthetic voices only (espeak-ng and flite, `python bench/voices.py calibrate`),
never on the real speech the bench measures purity on (docs/voices.md).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone

import numpy as np
import pyarrow as pa

from ..warehouse import Lakehouse
from ..warehouse.sql import query
from .attributes.voice import VOICE
from .lineage import parent_corpus
from .search_index import VECTOR_INDEX_ROWS

THRESHOLD = 0.81           # cosine; from `python bench/voices.py calibrate` (synthetic voices, docs/voices.md)
METHOD = "centroid+average-linkage/1"
CHUNK = 2_000              # new clips linked at once: a 2,000 x 2,000 distance matrix
_NUMBER = re.compile(r"/voice-(\d+)$")


def clustering_version() -> str:
    """What a cluster assignment depends on: the method, its threshold and the vectors' encoder config."""
    return f"{METHOD} t={THRESHOLD:.2f} voice={VOICE.config_hash}"


def cluster_name(corpus: str, number: int) -> str:
    return f"{corpus}/voice-{number:04d}"


def vectors_of(column: pa.ChunkedArray | pa.Array, dim: int | None = None) -> np.ndarray:
    """A fixed-size-list (or list) column of vectors as an (n, dim) float32 matrix."""
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if len(array) == 0:
        return np.zeros((0, dim or 0), dtype=np.float32)
    flat = array.flatten().to_numpy(zero_copy_only=False).astype(np.float32)
    return flat.reshape(len(array), -1)


def normalise(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms > 0, norms, 1.0)


def link(vectors: np.ndarray, threshold: float = THRESHOLD) -> np.ndarray:
    """Average-linkage clusters of unit vectors cut where the mean cosine between two clusters falls under
    `threshold`; labels 0.. numbered in order of each cluster's first member."""
    if len(vectors) == 0:
        return np.zeros(0, dtype=np.int64)
    if len(vectors) == 1:
        return np.zeros(1, dtype=np.int64)
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import pdist

    distances = np.clip(pdist(vectors.astype(np.float64), "cosine"), 0.0, 2.0)
    raw = fcluster(linkage(distances, "average"), t=1.0 - threshold, criterion="distance")
    order: dict[int, int] = {}
    return np.array([order.setdefault(label, len(order)) for label in raw], dtype=np.int64)


def assign(vectors: np.ndarray, centroids: np.ndarray, threshold: float = THRESHOLD,
           chunk: int = CHUNK) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cluster `vectors` (unit rows, in a fixed order) against existing `centroids`: (labels, similarity to the
    centroid joined, final centroids). Labels below len(centroids) are existing clusters; the rest are new,
    numbered on from len(centroids) in order of opening. Existing labels never change meaning."""
    centroids = centroids.reshape(-1, vectors.shape[1] if vectors.ndim == 2 else 0).astype(np.float32)
    sums = centroids.copy()
    labels = np.full(len(vectors), -1, dtype=np.int64)
    for start in range(0, len(vectors), chunk):
        part = vectors[start:start + chunk]
        if len(sums):
            similarity = part @ normalise(sums).T
            best = similarity.argmax(axis=1)
            near = similarity[np.arange(len(part)), best] >= threshold
            labels[start:start + chunk][near] = best[near]
        else:
            near = np.zeros(len(part), dtype=bool)
        rest = np.flatnonzero(~near)
        if len(rest):
            new = link(part[rest], threshold) + len(sums)
            labels[start + rest] = new
            grown = np.zeros((int(new.max()) + 1 - len(sums), part.shape[1]), dtype=np.float32)
            sums = np.vstack([sums, grown])
        np.add.at(sums, labels[start:start + chunk], part)
    final = normalise(sums)
    similarity = np.einsum("ij,ij->i", vectors, final[labels]) if len(vectors) else np.zeros(0)
    return labels, similarity, final


@dataclass
class ClusterStats:
    version: str = ""
    clustered: int = 0                                      # clips given a cluster now
    new_clusters: int = 0
    clusters: dict[str, int] = field(default_factory=dict)  # corpus -> clusters in all
    indexed: bool = False                                   # the voice vectors have an ANN index


def _unclustered(lake: Lakehouse) -> pa.Table:
    """Clips without a corpus speaker id, with a voice vector and no cluster yet, in clip_id order."""
    return query("""SELECT c.clip_id, c.corpus, v.voice_embedding FROM clips c JOIN attr_voice v USING (clip_id)
                    LEFT JOIN voice_clusters vc USING (clip_id)
                    WHERE c.speaker_id IS NULL AND v.has_voice AND vc.clip_id IS NULL
                    ORDER BY c.clip_id""", lake.uri)


def update(lake: Lakehouse, run_id: str) -> ClusterStats:
    """Give every clip without a speaker id and with a voice vector its cluster; refresh the centroids of the
    corpora that grew; index the voice vectors once there are enough of them."""
    stats = ClusterStats(version=clustering_version())
    todo = _unclustered(lake)
    corpora = [parent_corpus(c) for c in todo.column("corpus").to_pylist()]
    now = datetime.now(timezone.utc)
    for corpus in sorted(set(corpora)):
        rows = [i for i, c in enumerate(corpora) if c == corpus]
        ids = todo.column("clip_id").take(rows).to_pylist()
        vectors = normalise(vectors_of(todo.column("voice_embedding").take(rows)))
        stored = lake.read("voice_centroids", ["voice_cluster", "centroid"],
                           where=f"corpus = '{corpus.replace(chr(39), chr(39) * 2)}'").sort_by("voice_cluster")
        names = stored.column("voice_cluster").to_pylist()
        first_new = 1 + max((int(_NUMBER.search(n).group(1)) for n in names), default=0)
        labels, similarity, final = assign(vectors, vectors_of(stored.column("centroid"), vectors.shape[1]))
        names += [cluster_name(corpus, first_new + k) for k in range(len(final) - len(names))]
        lake.insert_missing("voice_clusters", [
            {"clip_id": clip_id, "corpus": corpus, "voice_cluster": names[label], "similarity": float(sim),
             "clustering_version": stats.version, "run_id": run_id, "assigned_at": now}
            for clip_id, label, sim in zip(ids, labels, similarity)])
        stats.clustered += len(ids)
        stats.new_clusters += len(final) - stored.num_rows
        _refresh_centroids(lake, corpus, stats.version, now)
    if stats.clustered:
        lake.compact("voice_clusters")
        lake.compact("voice_centroids")
    counts = query("SELECT corpus, count(*) AS n FROM voice_centroids GROUP BY corpus ORDER BY corpus", lake.uri)
    stats.clusters = dict(zip(counts.column("corpus").to_pylist(), counts.column("n").to_pylist()))
    if stats.clustered and lake.count(VOICE.table) >= VECTOR_INDEX_ROWS:
        lake.build_vector_index(VOICE.table, "voice_embedding")
        stats.indexed = True
    return stats


def _refresh_centroids(lake: Lakehouse, corpus: str, version: str, now: datetime) -> None:
    """Each cluster's centroid from all its clips' vectors: exact, whatever order they joined in."""
    members = query(f"""SELECT vc.voice_cluster, v.voice_embedding FROM voice_clusters vc
                        JOIN attr_voice v USING (clip_id)
                        WHERE vc.corpus = '{corpus.replace("'", "''")}' AND v.has_voice
                        ORDER BY vc.voice_cluster""", lake.uri)
    names = np.array(members.column("voice_cluster").to_pylist())
    vectors = normalise(vectors_of(members.column("voice_embedding")))
    rows = []
    for name in sorted(set(names.tolist())):
        mine = vectors[names == name]
        rows.append({"voice_cluster": name, "corpus": corpus,
                     "centroid": normalise(mine.sum(axis=0, keepdims=True))[0].tolist(), "n_clips": len(mine),
                     "clustering_version": version, "updated_at": now})
    lake.upsert("voice_centroids", rows)
