"""Where a flow's batches run: its own thread pool on this machine (the default), or a Ray cluster.

    flow = on_runner(annotate_flow, {"kind": "ray", "address": "auto"})
    with batch_resources(runner, "speaker"):   # around .submit(): the Ray resources one batch asks for
        task.submit(...)

Batches stay large (hundreds of clips): a task costs about 0.1 s on Ray against milliseconds on threads.
On a cluster the stage caches (SPEECHCRAFT_CACHE) and the corpus audio must be on storage every node sees.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext

from prefect import Flow

RUNNERS = ("thread", "ray")
THREAD_IN_FLIGHT = 2           # batches submitted ahead: the worker pool always has the next one queued


class RunnerError(ValueError):
    pass


def runner_kind(runner: dict | None) -> str:
    kind = (runner or {}).get("kind", "thread")
    if kind not in RUNNERS:
        raise RunnerError(f"unknown runner {kind!r}; runners: {', '.join(RUNNERS)}")
    return kind


def on_runner(flow: Flow, runner: dict | None) -> Flow:
    """`flow` with the configured task runner (unchanged for threads)."""
    if runner_kind(runner) == "thread":
        return flow
    try:
        from prefect_ray import RayTaskRunner
    except ImportError:
        raise RunnerError("the Ray runner needs prefect-ray: pip install 'speechcraft-lakehouse[ray]'") from None
    import warnings

    # Starting Ray forks helper processes (fork + exec) after lance is loaded: lance warns about fork safety,
    # which does not apply to a process that execs at once.
    warnings.filterwarnings("ignore", message="lancedb fork support is experimental")
    warnings.filterwarnings("ignore", message="lance is not fork-safe")
    address = runner.get("address") or None       # None: a local Ray, started for this run
    init_kwargs = {"log_to_driver": False}
    if address is None and runner.get("num_cpus"):
        init_kwargs["num_cpus"] = runner["num_cpus"]
    return flow.with_options(task_runner=RayTaskRunner(address=address, init_kwargs=init_kwargs))


@contextmanager
def shared_cluster(runner: dict | None) -> Iterator[None]:
    """Around several flows that run on `runner` (the pipeline's steps): on Ray, one cluster for all of them —
    connected to (`address`) or started here, and stopped here if it was started here — instead of one per
    step flow (each flow's task runner reuses a Ray already initialised in the process)."""
    if runner_kind(runner) == "thread":
        yield
        return
    import ray

    started = not ray.is_initialized()
    if started:
        init_kwargs = {"log_to_driver": False}
        if not runner.get("address") and runner.get("num_cpus"):
            init_kwargs["num_cpus"] = runner["num_cpus"]
        ray.init(runner.get("address") or None, **init_kwargs)
    try:
        yield
    finally:
        if started:
            ray.shutdown()


def in_flight(runner: dict | None, threads: int = THREAD_IN_FLIGHT) -> int:
    """How many batches to keep submitted: enough to fill a Ray cluster, `threads` on the local thread pool."""
    if runner_kind(runner) == "thread":
        return (runner or {}).get("in_flight", threads)
    if runner.get("in_flight"):
        return runner["in_flight"]
    import ray

    cpus = ray.cluster_resources().get("CPU", 1) if ray.is_initialized() else 1
    return max(THREAD_IN_FLIGHT, 2 * int(cpus))


def batch_resources(runner: dict | None, stage: str, default_cpus: float = 1) -> AbstractContextManager:
    """Around `.submit()`: the resources one batch of `stage` asks Ray for ([runner.resources.STAGE])."""
    if runner_kind(runner) == "thread":
        return nullcontext()
    from prefect_ray.context import remote_options

    resources = {"num_cpus": default_cpus, **(runner.get("resources") or {}).get(stage, {})}
    return remote_options(**resources)
