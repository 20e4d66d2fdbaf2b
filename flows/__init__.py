"""Prefect flows: orchestration only (which stage runs on which clips, in which batches)."""
