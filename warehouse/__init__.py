"""The lakehouse: schemas, LanceDB storage, DuckDB SQL. The only package that knows how data is stored."""
from .lake import Lakehouse, MergeStats, resolve_lake_uri

__all__ = ["Lakehouse", "MergeStats", "resolve_lake_uri"]
