"""The whole pipeline: `speechcraft run` once, `speechcraft serve` on the config's schedules, and
`speechcraft demo` on corpora it synthesises."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .preflight import PrefectServerError, lake_reachable, quiet_services, start_prefect_server_early
from .render import print_pipeline


def cmd_run(args: argparse.Namespace) -> int:
    from ..settings import ConfigError, load_project_config

    try:
        config = load_project_config(args.config)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    lake = args.lake or os.environ.get("SPEECHCRAFT_LAKE") or config.get("pipeline", {}).get("lake")
    inputs = None
    if not args.step:       # the whole pipeline: answered here, before Prefect, when nothing is new
        from ..nothing_new import nothing_new, run_request

        uri, export_root, inputs = run_request(config, lake, args.export_dir)
        answer = None if args.force else nothing_new(uri, export_root, inputs)
        if answer:
            print(answer)
            return 0
    quiet_services()
    server_ready = start_prefect_server_early()
    if "describe" in (args.step or ["describe"]):
        from ..tasks.search_index import preload_embedder

        # the embedder's libraries (seconds of imports holding the GIL) imported now, while Prefect's server
        # starts, not beside a step's own Python; its model then loads in the background
        preload_embedder()
    from ..flows.annotate import NothingIngestedError
    from ..flows.pipeline import pipeline_arguments, pipeline_flow
    from ..tasks.corpora import CorpusLayoutError

    try:
        arguments = pipeline_arguments(config)
        if args.step:
            arguments["steps"] = args.step
        if args.export_dir:
            arguments["export_dir"] = args.export_dir
        if args.runner or args.ray_address:
            arguments["runner"] = {**(arguments["runner"] or {}), "kind": args.runner or "ray",
                                   **({"address": args.ray_address} if args.ray_address else {})}
        if lake and not lake_reachable(lake):
            return 2
        with server_ready():
            result = pipeline_flow(lake, fingerprint=inputs, **arguments)
    except (NothingIngestedError, ConfigError, CorpusLayoutError, ImportError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except PrefectServerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return print_pipeline(result, lake)


def cmd_serve(args: argparse.Namespace) -> int:
    quiet_services(foreground=False)
    from ..settings import ConfigError, load_project_config

    try:
        config = load_project_config(args.config)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from ..warehouse.lake import resolve_lake_uri

    lake = resolve_lake_uri(args.lake or os.environ.get("SPEECHCRAFT_LAKE") or config.get("pipeline", {}).get("lake"))
    server = None
    if not os.environ.get("PREFECT_API_URL") and not args.api_url:
        from ..flows.schedules import ScheduleError, start_local_server

        try:
            server = start_local_server("127.0.0.1", args.server_port, str(Path(lake).parent / "prefect-server.log")
                                        if "://" not in lake else "prefect-server.log")
        except ScheduleError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        os.environ["PREFECT_API_URL"] = server.url
        print(f"started a local Prefect server (SQLite in {os.environ.get('PREFECT_HOME', '~/.prefect')}); "
              f"its UI: {server.url.removesuffix('/api')}")
    elif args.api_url:
        os.environ["PREFECT_API_URL"] = args.api_url
    from ..flows.schedules import ScheduleError, register_with_pool, scheduled_deployments, serve

    try:
        deployments = scheduled_deployments(config, lake)
        verb = f"registered with work pool {args.work_pool!r}" if args.work_pool else "serving"
        for deployment in deployments:
            when = ", ".join(str(s.schedule) for s in deployment.schedules)
            print(f"{verb} {deployment.name}: {when}")
        if args.work_pool:
            register_with_pool(deployments, args.work_pool)
            print(f"start workers where the runs should go: PREFECT_API_URL={os.environ['PREFECT_API_URL']} "
                  f"prefect worker start --pool {args.work_pool}")
            if server is None or server.process is None:
                return 0
            print("keeping the local server up for them; Ctrl-C stops it")
            server.process.wait()
            return 0
        print(f"lakehouse: {lake}; Ctrl-C stops")
        serve(deployments)
    except (ScheduleError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    finally:
        if server:
            server.stop()
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    quiet_services()
    from ..flows.demo import demo_flow

    result = demo_flow(str(args.workdir), lake_uri=args.lake)
    lake = f" --lake {args.lake}" if args.lake else ""
    print(f"the demo is `speechcraft run --config {result['config']}{lake}`:")
    return print_pipeline(result, args.lake, examples=3)
