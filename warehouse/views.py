"""The documented SQL views over the stored tables: name -> (tables it needs, SELECT body).
A view is created only when every table it reads exists, so a young lakehouse still answers."""
from __future__ import annotations

VIEWS: dict[str, tuple[set[str], str]] = {
    # One row per corpus: what is in the lakehouse at a glance.
    "corpus_summary": ({"clips"}, """
        SELECT corpus, language, count(*) AS clips, count(DISTINCT speaker_id) AS speakers,
               round(sum(duration_s) / 3600, 3) AS hours
        FROM clips GROUP BY corpus, language ORDER BY corpus"""),
}
