"""Prefect tasks: the work of each stage over a batch of clips; corpus readers in tasks/corpora/."""
