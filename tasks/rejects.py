"""Rows of the `rejects` table: what a stage could not take, and why. Keyed so a re-run never repeats one."""
from __future__ import annotations

import hashlib
from datetime import datetime

from .corpora.base import Reject


def reject_row(stage: str, reject: Reject, run_id: str, now: datetime) -> dict:
    key = "\x1f".join([reject.corpus, reject.source, stage, str(reject.reason), reject.clip_id or ""])
    return {"reject_id": hashlib.sha256(key.encode()).hexdigest()[:32], "corpus": reject.corpus,
            "source": reject.source, "stage": stage, "reason": str(reject.reason),
            "detail": reject.detail, "clip_id": reject.clip_id, "run_id": run_id, "rejected_at": now}
