"""The search index: every published description and instruction embedded once, vectors kept in LanceDB
(`text_vectors`, one row per clip and kind) so the dashboard finds clips by a description in plain words.
A text re-published with other words, or a new embedding model, is embedded again; others are skipped."""
from __future__ import annotations

import hashlib
import threading
from datetime import datetime, timezone

from prefect import task

from ..models.text_embedder import embedder_name, import_library, load_embedder
from ..warehouse import Lakehouse
from ..warehouse.lake import sql_literal_list
from ..warehouse.sql import query

BATCH = 512                  # texts per embedding call and per write
VECTOR_INDEX_ROWS = 100_000  # past this, an IVF-PQ index answers in ~15 ms where a flat scan takes ~150 ms


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def pending_texts(lake: Lakehouse, model: str) -> list[dict]:
    """Published texts whose current wording is not embedded with `model` yet."""
    # compared in DuckDB (its sha256 is text_hash's): a run with nothing new reads no text into Python
    return query(f"""SELECT d.text_id, d.clip_id, d.kind, d.language, d.text
                     FROM descriptions d LEFT JOIN text_vectors v ON v.vector_id = d.clip_id || '/' || d.kind
                     WHERE d.published AND d.text IS NOT NULL
                       AND (v.model IS DISTINCT FROM {sql_literal_list([model])[1:-1]}
                            OR v.text_hash IS DISTINCT FROM left(sha256(d.text), 16))
                     ORDER BY d.text_id""", lake.uri).to_pylist()


@task(name="search-index")
def index_texts(lake_uri: str, model: str | None = None) -> dict:
    """Embed what is pending; returns {"model", "embedded", "indexed"}: texts embedded now, rows in the index."""
    lake = Lakehouse(lake_uri)
    name = embedder_name(model)
    todo = pending_texts(lake, name) if lake.exists("descriptions") else []
    # importing sentence-transformers and loading the model take seconds: only when there is work
    embedder = load_embedder(model) if todo else None
    for start in range(0, len(todo), BATCH):
        batch = todo[start:start + BATCH]
        # a wording shared by several clips (the same labels, the same sentence read twice) is embedded once
        unique = list(dict.fromkeys(r["text"] for r in batch))
        by_text = dict(zip(unique, embedder.embed(unique)))
        vectors = [by_text[r["text"]] for r in batch]
        now = datetime.now(timezone.utc)
        lake.upsert("text_vectors", [
            {"vector_id": f"{r['clip_id']}/{r['kind']}", "text_id": r["text_id"], "clip_id": r["clip_id"],
             "kind": r["kind"], "language": r["language"], "text": r["text"], "vector": vector.tolist(),
             "model": name, "text_hash": text_hash(r["text"]), "computed_at": now}
            for r, vector in zip(batch, vectors)])
    indexed = lake.count("text_vectors")
    if todo:
        lake.compact("text_vectors")
        if indexed >= VECTOR_INDEX_ROWS:
            lake.build_vector_index("text_vectors", "vector")
    return {"model": name, "embedded": len(todo), "indexed": indexed}


def preload_embedder(model: str | None = None) -> threading.Thread | None:
    """Import the embedder's libraries in this thread (see `import_library`: call it from the main thread,
    where it can wait), then load the model in a background thread; None where it is not installed."""
    if not import_library():
        return None

    def load() -> None:
        try:
            load_embedder(model)
        except Exception:  # noqa: BLE001 - the index step loads it again and reports what is wrong
            pass

    thread = threading.Thread(target=load, name="embedder-preload", daemon=True)
    thread.start()
    return thread
