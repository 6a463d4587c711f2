"""Bring a whole local stack up or down: Cassandra, the emulator, the deployed app."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from storectl import cassandra, deploy, docs, emulator, monitoring, openapi, traces
from storectl.instance import Instance

Report = Callable[[str], None]


@dataclass
class UpResult:
    outputs: dict[str, str]
    api_url: str
    timings: dict[str, float] = field(default_factory=dict)


def up(
    instance: Instance,
    *,
    parameters: dict[str, str] | None = None,
    report: Report = print,
    warm_workers: dict[str, int] | None = None,
) -> UpResult:
    """Start what is not running, then build, migrate and deploy. Idempotent:
    on a running stack it only redeploys what changed."""
    timings: dict[str, float] = {}
    started = time.monotonic()
    # Both servers start in the background while SAM builds in the foreground.
    if not instance.external_cassandra_hosts:
        cassandra.start(instance)
    emulator.start(instance)
    traces.start(instance)  # a JVM that takes its time: started early, awaited last
    # The bridge waits for the stack by itself; Prometheus scrapes what answers.
    mark = time.monotonic()
    monitoring.start(instance)
    timings["monitoring_start"] = time.monotonic() - mark

    mark = time.monotonic()
    report("building functions and the store layer (sam build) and the docs site (mkdocs)")
    openapi.write()  # the API description, which both builds read
    docs_build = docs.start_build(instance)
    built = deploy.build(instance)
    timings["build"] = time.monotonic() - mark

    # Both were started before the build: report their time to ready from then.
    cassandra.wait_ready(instance)
    timings["cassandra_ready"] = time.monotonic() - started
    emulator.wait_ready(instance)
    timings["emulator_ready"] = time.monotonic() - started
    report(f"Cassandra answers on {instance.cassandra_hosts}:{instance.cassandra_port}")

    mark = time.monotonic()
    applied = deploy.migrate(instance)
    timings["migrate"] = time.monotonic() - mark
    report(f"schema migrations applied: {', '.join(applied) if applied else 'none pending'}")

    # The demo accounts (well-known passwords) only in the node storectl runs,
    # never in a cluster that CASSANDRA_HOSTS names.
    mark = time.monotonic()
    created = deploy.seed_accounts(instance, demo=instance.runs_local_cassandra)
    timings["accounts"] = time.monotonic() - mark
    report(f"accounts created: {', '.join(created) if created else 'none (they exist)'}")

    mark = time.monotonic()
    report(f"deploying stack {instance.stack_name} to {instance.endpoint_url}")
    outputs = deploy.deploy(instance, built, parameters)
    timings["deploy"] = time.monotonic() - mark

    api_url = deploy.api_url(instance, outputs)
    plan = deploy.warm_plan(instance) if warm_workers is None else warm_workers
    if any(plan.values()):
        report(f"starting workers (STORE_WARM_WORKERS): {deploy.describe_plan(plan)}")
        timings["warm"] = deploy.warm(instance, outputs, plan)
    mark = time.monotonic()
    monitoring.wait_ready(instance)
    timings["monitoring_wait"] = time.monotonic() - mark
    timings["trace_server_ready"] = traces.wait_ready(instance)
    docs.finish_build(docs_build)
    timings["docs_built"] = time.monotonic() - started
    docs.serve(instance)
    report(f"docs site served on {instance.docs_url}")
    timings["total"] = time.monotonic() - started
    return UpResult(outputs=outputs, api_url=api_url, timings=timings)


def down(instance: Instance) -> list[str]:
    """Stop the docs server, monitoring, the emulator (with every Lambda worker) and
    the local Cassandra node; an emulator or cluster the user runs is left alone."""
    stopped = []
    if docs.stop(instance):
        stopped.append("docs")
    stopped += monitoring.stop(instance)
    if traces.stop(instance):
        stopped.append("trace server")
    if emulator.stop(instance):
        stopped.append("emulator")
    if not instance.external_cassandra_hosts and cassandra.stop(instance):
        stopped.append("cassandra")
    return stopped
