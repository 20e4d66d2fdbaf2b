"""The `speechcraft` command. `parser` builds the argparse tree, the `commands_*` modules hold one cmd_*
function per command, `render` prints their results, `preflight` runs before a flow starts. Heavy libraries
(prefect, lancedb, duckdb) are imported inside the commands that use them, so `--help` and usage errors
answer at once."""
from __future__ import annotations

import atexit
import os
import sys

from .parser import build_parser
from .preflight import lake_reachable
from .render import write_result

__all__ = ["build_parser", "command", "lake_reachable", "main", "write_result"]


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "lake", None) and not lake_reachable(args.lake):
        return 2
    return args.func(args)


def command() -> None:
    """The `speechcraft` console script: `main`, then the process ends as soon as the last exit handler has
    run. What the interpreter would do after that, freeing torch's, transformers' and Prefect's modules object
    by object, takes 1-2.5 s after a run and nothing a finished command needs depends on it. Only when this
    handler is the first one registered (so it runs last, after every library's own)."""
    outcome = {"code": 1}           # an exception escaping main: exit status 1, after its traceback
    if getattr(atexit, "_ncallbacks", lambda: 1)() == 0:
        atexit.register(_end_now, outcome)
    try:
        outcome["code"] = main()
    except SystemExit as exc:
        outcome["code"] = exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1
        raise
    except KeyboardInterrupt:
        outcome["code"] = 130
        raise
    except BrokenPipeError:
        # the reader went away (`speechcraft sql ... | head`): not an error worth a traceback; what is still
        # buffered for stdout goes nowhere instead of failing again at exit (Python's documented recipe)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        outcome["code"] = 1
    sys.exit(outcome["code"])


def _end_now(outcome: dict) -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):       # a closed pipe (`speechcraft sql ... | head`)
            pass
    os._exit(outcome["code"])
