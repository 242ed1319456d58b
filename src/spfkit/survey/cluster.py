"""Scale-out on dask.distributed (the ``survey`` extra): partitions of domains, one asyncio loop each.

The driver reads the input as it streams, cuts it into partitions of ``partition`` domains
and submits each as one task; at most two tasks per worker are outstanding, so the input is
never held whole. A task (:func:`survey_partition`) builds its own resolver stack from the
picklable :class:`~spfkit.survey.runner.ResolverConfig` inside its own event loop, surveys
its domains exactly as a single-machine run does (same probe, same fields), writes
``part-NNNNN.parquet`` into ``out_dir`` when given (a directory every worker can write: local
disk for ``--dask-local``, a shared filesystem for a real cluster) and returns its rows to the
driver for the summary. A ``--qps`` cap is divided between the workers.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from spfkit.survey.result import from_row
from spfkit.survey.runner import ResolverConfig, RunStats, survey_list
from spfkit.survey.summary import Summary
from spfkit.survey.writers import open_writer

__all__ = ["survey_on_dask", "survey_partition"]


def survey_partition(index: int, domains: list[str], config: ResolverConfig,
                     out_dir: str | None) -> list[dict[str, object]]:
    """One Dask task: survey ``domains`` in a fresh event loop; write part ``index`` if asked."""
    rows = survey_list(domains, config)
    if out_dir is not None:
        writer = open_writer(Path(out_dir) / f"part-{index:05d}.parquet")
        try:
            for row in rows:
                writer.write(from_row(row))
        finally:
            writer.close()
    return rows


def _distributed() -> Any:
    """dask.distributed, typed loosely (its functions carry no annotations)."""
    import importlib

    return importlib.import_module("dask.distributed")


def _client(address: str | None, local_workers: int | None) -> tuple[Any, Any]:
    distributed = _distributed()
    if local_workers:
        cluster = distributed.LocalCluster(n_workers=local_workers, threads_per_worker=1,
                                           processes=True, dashboard_address=None)
        return distributed.Client(cluster), cluster
    return distributed.Client(address), None


def survey_on_dask(domains: Iterator[str], config: ResolverConfig, *, out_dir: str | None,
                   address: str | None, local_workers: int | None,
                   partition: int = 5000) -> tuple[Summary, RunStats]:
    """Survey ``domains`` on a Dask cluster (``address``, or a local one of ``local_workers``)."""
    if out_dir is not None:
        Path(out_dir).mkdir(parents=True, exist_ok=True)
    client, cluster = _client(address, local_workers)
    summary, stats = Summary(), RunStats()
    try:
        workers = max(1, len(client.scheduler_info().get("workers", {})))
        per_worker = replace(config, qps=config.qps / workers if config.qps else None)
        chunks = enumerate(iter(lambda: list(itertools.islice(domains, partition)), []))
        pending = _distributed().as_completed()
        for index, chunk in itertools.islice(chunks, 2 * workers):
            pending.add(client.submit(survey_partition, index, chunk, per_worker, out_dir, pure=False))
        for future in pending:
            for row in future.result():
                result = from_row(row)
                summary.add(result)
                stats.count(result)
            future.release()
            for index, chunk in itertools.islice(chunks, 1):
                pending.add(client.submit(survey_partition, index, chunk, per_worker, out_dir, pure=False))
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    return summary, stats
