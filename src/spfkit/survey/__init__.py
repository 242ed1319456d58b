"""``spfkit survey``: SPF (RFC 7208) and DMARC (RFC 7489) measured over a population of domains.

* :mod:`~spfkit.survey.inputs` — domain lists, CSV, ``.gz``, zone-file delegations (streamed);
* :mod:`~spfkit.survey.probe` — one domain → :class:`DomainResult` (spfkit's evaluator, tree, lint);
* :mod:`~spfkit.survey.pacing` — query rate and in-flight caps, retries;
* :mod:`~spfkit.survey.runner` — the asyncio loop; :class:`ResolverConfig` builds the resolvers;
* :mod:`~spfkit.survey.writers` — JSONL / CSV / Parquet with the same fields, resumable;
* :mod:`~spfkit.survey.summary` — counts and percentages; :mod:`~spfkit.survey.report` — HTML;
* :mod:`~spfkit.survey.cluster` — dask.distributed scale-out (the ``survey`` extra).
"""

from spfkit.survey.inputs import InputStats, read_domains
from spfkit.survey.probe import authorised_addresses, probe_domain
from spfkit.survey.result import FIELDS, DomainResult, SpfStatus, from_row
from spfkit.survey.runner import ResolverConfig, RunStats, run_survey, survey
from spfkit.survey.summary import Summary, summarise

__all__ = [
    "FIELDS",
    "DomainResult",
    "InputStats",
    "ResolverConfig",
    "RunStats",
    "SpfStatus",
    "Summary",
    "authorised_addresses",
    "from_row",
    "probe_domain",
    "read_domains",
    "run_survey",
    "summarise",
    "survey",
]
