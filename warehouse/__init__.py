"""The lakehouse: schemas, LanceDB storage, DuckDB SQL. The only package that knows how data is stored."""
from .lake import Lakehouse, MergeStats, resolve_lake_uri
from .storage import LakeStorageError

__all__ = ["LakeStorageError", "Lakehouse", "MergeStats", "resolve_lake_uri"]
