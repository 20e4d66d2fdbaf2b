"""The `speechcraft` command. `parser` builds the argparse tree, the `commands_*` modules hold one cmd_*
function per command, `render` prints their results, `preflight` runs before a flow starts. Heavy libraries
(prefect, lancedb, duckdb) are imported inside the commands that use them, so `--help` and usage errors
answer at once."""
from __future__ import annotations

from .parser import build_parser
from .preflight import lake_reachable
from .render import write_result

__all__ = ["build_parser", "lake_reachable", "main", "write_result"]


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "lake", None) and not lake_reachable(args.lake):
        return 2
    return args.func(args)
