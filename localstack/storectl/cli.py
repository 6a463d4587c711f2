"""`storectl`: run the Product Store locally.

storectl up                 start everything and print the API URL
storectl down               stop everything (no process is left behind)
storectl status             what runs, where
storectl deploy             rebuild and redeploy after a code change
storectl url                print only the API base URL
storectl warm               start workers of every HTTP function now
storectl openapi            rebuild the one API description (layers/store/store/schemas/openapi.json)
storectl logs FUNCTION      a function's logs (CloudWatch Logs on the emulator)
storectl executions [ORDER] order lifecycle executions; one order's states with times
storectl alerts             the alerts that fire now (Alertmanager)
storectl rotate-jwt-key     a new token signing key; the old one works until its tokens expire
"""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

import typer
from rich.console import Console
from rich.progress import MofNCompleteColumn, Progress
from rich.text import Text

from store.aws import execution_arn
from storectl import cassandra, deploy, docs, emulator, keys, monitoring, profiles, recovery, stack, traces
from storectl import executions as lifecycle
from storectl import openapi as store_openapi
from storectl import seed as seed_data
from storectl.errors import StoreCtlError
from storectl.instance import PROJECT_ROOT, Instance, dev_instance
from storectl.processes import read_pid

app = typer.Typer(help=__doc__, no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
# soft_wrap: never break a URL or a log line across lines, whatever the width.
console = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

FUNCTIONS = {
    "catalog": "CatalogFunctionName",
    "cart": "CartFunctionName",
    "orders": "OrdersFunctionName",
    "users": "UsersFunctionName",
    "notifications": "NotificationsFunctionName",
    "order_workflow": "OrderWorkflowFunctionName",
    "order_starter": "OrderStarterFunctionName",
    "outbox_relay": "OutboxRelayFunctionName",
}


def _instance() -> Instance:
    return dev_instance()


@app.command()
def up() -> None:
    """Start Cassandra and the AWS emulator, build, migrate, deploy; print the URL."""
    instance = _instance()
    result = stack.up(instance, report=lambda line: console.print(f"[dim]-[/dim] {line}"))
    console.print(f"\n[bold green]The store is up[/bold green] in {result.timings['total']:.0f} s.")
    console.print(f"  API base URL:  [bold]{result.api_url}[/bold]   (also: `storectl url`)")
    console.print(f"  Health:        curl {result.api_url}/api/health")
    console.print(f"  API docs:      {result.api_url}/api/docs   (Swagger UI of the whole API; Authorize to try it)")
    console.print(f"  Docs site:     {instance.docs_url}")
    if instance.runs_local_cassandra:
        console.print("  Demo accounts (local only; log in at POST /user-api/login):")
        for account in deploy.DEMO_ACCOUNTS:
            console.print(f"                 {account.username} / {account.password}   ({account.role})", markup=False)
    else:
        console.print("  Demo accounts: none (CASSANDRA_HOSTS names a cluster storectl does not run)")
    console.print("  Logs:          storectl logs catalog --follow   (functions: " + ", ".join(FUNCTIONS) + ")")
    console.print(f"  Dashboards:    {instance.prometheus_url}/consoles/index.html")
    console.print(f"  Prometheus:    {instance.prometheus_url}   (alerts: {instance.prometheus_url}/alerts)")
    console.print(f"  Alertmanager:  {instance.alertmanager_url}/api/v2/alerts   (also: `storectl alerts`)")
    console.print(f"  Metrics:       {instance.bridge_url}/metrics   (the metrics bridge)")
    console.print(f"  Traces:        {traces.ui_url(instance)}   (Zipkin; also: `storectl trace ORDER_ID`)")
    console.print("  Stop:          make down")


@app.command()
def down() -> None:
    """Stop the emulator, its Lambda workers and the local Cassandra node."""
    stopped = stack.down(_instance())
    console.print(f"stopped: {', '.join(stopped)}" if stopped else "nothing was running")


@app.command()
def status() -> None:
    """Show what runs and where."""
    instance = _instance()
    if instance.external_cassandra_hosts:
        console.print(f"cassandra  external cluster {instance.cassandra_hosts}:{instance.cassandra_port}")
    else:
        pid = read_pid(instance.cassandra_dir / "cassandra.pid")
        state = f"running (pid {pid}) on 127.0.0.1:{instance.cassandra_port}" if pid else "stopped"
        console.print(f"cassandra  {state}")
    pids = monitoring.running(instance)
    urls = {
        "bridge": f"{instance.bridge_url}/metrics",
        "prometheus": f"{instance.prometheus_url}   (dashboards: {instance.prometheus_url}/consoles/index.html)",
        "alertmanager": instance.alertmanager_url,
    }
    for name, url in urls.items():
        pid = pids[name]
        console.print(f"{name:<10} {f'running (pid {pid}) on {url}' if pid else 'stopped'}")
    pid = traces.running(instance)
    console.print(f"{'traces':<10} {f'running (pid {pid}) on {traces.ui_url(instance)}' if pid else 'stopped'}")
    pid = read_pid(instance.emulator_dir / "emulator.pid")
    up_now = emulator.is_up(instance)
    whose = "yours" if instance.external_emulator_url else f"pid {pid}"
    console.print(f"emulator   {f'running ({whose}) on {instance.endpoint_url}' if up_now else 'stopped'}")
    console.print(f"docs       {f'served on {instance.docs_url}' if docs.is_up(instance) else 'stopped'}")
    if up_now:
        try:
            outputs = deploy.stack_outputs(instance)
        except StoreCtlError:
            console.print(f"stack      {instance.stack_name} not deployed")
        else:
            console.print(f"stack      {instance.stack_name} at {deploy.api_url(instance, outputs)}")


@app.command(name="deploy")
def deploy_command() -> None:
    """Rebuild and redeploy the template to the running emulator (updates in place)."""
    instance = _instance()
    if not emulator.is_up(instance):
        raise StoreCtlError(f"the AWS emulator is not running on {instance.endpoint_url}", "run `make up`")
    cassandra.wait_ready(instance, timeout=30)
    built = deploy.build(instance)
    docs_build = docs.start_build(instance)
    deploy.migrate(instance)
    deploy.seed_accounts(instance, demo=instance.runs_local_cassandra)
    outputs = deploy.deploy(instance, built)
    api = deploy.api_url(instance, outputs)
    # A deploy replaces the code, so the emulator starts new workers: warm them again.
    plan = deploy.warm_plan(instance)
    if any(plan.values()):
        console.print(f"started workers ({deploy.describe_plan(plan)}) in {deploy.warm(instance, outputs, plan):.0f} s")
    docs.finish_build(docs_build)
    docs.serve(instance)
    console.print(f"deployed: {api}   docs: {instance.docs_url}")


@app.command()
def migrate() -> None:
    """Apply pending schema migrations to Cassandra (CASSANDRA_HOSTS / CASSANDRA_PORT), and create
    the bootstrap admin when BOOTSTRAP_ADMIN_USERNAME and BOOTSTRAP_ADMIN_PASSWORD are set."""
    instance = _instance()
    applied = deploy.migrate(instance)
    console.print(f"applied: {', '.join(applied)}" if applied else "schema is up to date")
    created = deploy.seed_accounts(instance, demo=False)
    if created:
        console.print(f"bootstrap admin created: {', '.join(created)}")


@app.command()
def seed(
    products: Annotated[int, typer.Option("--products", min=1, max=1_000_000, help="how many products")] = 20_000,
    username: Annotated[str | None, typer.Option(help="an admin's username [default: the demo admin]")] = None,
    password: Annotated[str | None, typer.Option(help="that admin's password")] = None,
) -> None:
    """Load realistic demo products through the bulk import API, with a progress bar."""
    if username is None:
        username, password = deploy.demo_admin().username, deploy.demo_admin().password
    if password is None:
        raise typer.BadParameter("--password is required with --username")
    instance = _instance()
    if not emulator.is_up(instance):
        raise StoreCtlError(f"the AWS emulator is not running on {instance.endpoint_url}", "run `make up`")
    api = deploy.api_url(instance, deploy.stack_outputs(instance))
    token = seed_data.admin_token(api, username, password)
    started = time.monotonic()
    with Progress(*Progress.get_default_columns(), MofNCompleteColumn(), console=console) as progress:
        task = progress.add_task("importing products", total=products)
        created = len(
            seed_data.load_products(
                api, token, list(seed_data.generate_products(products)), on_progress=lambda n: progress.advance(task, n)
            )
        )
    elapsed = time.monotonic() - started
    console.print(f"created {created} products in {elapsed:.1f} s ({created / elapsed:.0f} products/s)")


@app.command(name="openapi")
def openapi_command() -> None:
    """Merge the HTTP functions' API descriptions into the one the API serves (up and deploy do it too)."""
    changed = store_openapi.write()
    console.print(f"{'wrote' if changed else 'up to date:'} {store_openapi.DOCUMENT.relative_to(PROJECT_ROOT)}")


@app.command()
def warm(
    workers: Annotated[
        str | None, typer.Option("--workers", help="a number per function, or catalog=8,cart=8,... [default: as up]")
    ] = None,
) -> None:
    """Start workers of every HTTP function now (`up` and `deploy` do it too): the emulator
    stops extra workers idle for 5 minutes, so warm again before a load run on an idle stack."""
    instance = _instance()
    if not emulator.is_up(instance):
        raise StoreCtlError(f"the AWS emulator is not running on {instance.endpoint_url}", "run `make up`")
    plan = deploy.warm_plan(instance, workers)
    took = deploy.warm(instance, deploy.stack_outputs(instance), plan)
    console.print(f"started workers ({deploy.describe_plan(plan)}) in {took:.0f} s")


@app.command()
def url() -> None:
    """Print only the API base URL."""
    instance = _instance()
    if not emulator.is_up(instance):
        raise StoreCtlError(f"the AWS emulator is not running on {instance.endpoint_url}", "run `make up`")
    typer.echo(deploy.api_url(instance, deploy.stack_outputs(instance)))


@app.command(name="rotate-jwt-key")
def rotate_jwt_key() -> None:
    """A new token signing key; tokens of the old one keep working until they expire."""
    instance = _instance()
    if not emulator.is_up(instance):
        raise StoreCtlError(f"the AWS emulator is not running on {instance.endpoint_url}", "run `make up`")
    ring = keys.rotate_jwt_key(instance)
    retired = ", ".join(key.kid for key in ring.keys[1:]) or "none"
    console.print(f"new signing key {ring.current.kid}; still accepted until their tokens expire: {retired}")


@app.command()
def alerts() -> None:
    """The alerts that fire now, from Alertmanager (severity, name, summary, since when)."""
    firing = [alert for alert in monitoring.firing_alerts(_instance()) if alert["status"]["state"] == "active"]
    if not firing:
        console.print("[dim]no alert fires[/dim]")
    for alert in sorted(firing, key=lambda a: (a["labels"].get("severity", ""), a["labels"]["alertname"])):
        labels = alert["labels"]
        console.print(
            f"{labels.get('severity', '-'):<8}  {labels['alertname']:<22}  since {alert['startsAt'][:19]}  "
            f"{alert['annotations'].get('summary', '')}",
            markup=False,
        )


@app.command()
def trace(order_id: Annotated[str, typer.Argument(help="the order whose trace to print")]) -> None:
    """The order's spans as a tree, from the trace server: function, span, duration, status."""
    instance = _instance()
    spans = traces.order_spans(instance, order_id)
    if not spans:
        raise StoreCtlError(
            f"the trace server holds no span of order {order_id}",
            "check the id; spans arrive when each invocation ends, and the oldest go after 50,000 spans",
        )
    roots = traces.span_tree(spans)
    ids = sorted({span["traceId"] for span in spans})
    console.print(
        f"trace {', '.join(ids)}: {len(spans)} spans   ({traces.ui_url(instance)}traces/{ids[0]})", markup=False
    )
    for line in traces.render(roots):
        console.print(line, markup=False, highlight=False)


@app.command(name="profiles")
def profiles_command(
    function: Annotated[str | None, typer.Argument(help="a function's service name, e.g. catalog")] = None,
    to: Annotated[Path | None, typer.Option(help="where to download (default: the stack's state dir)")] = None,
) -> None:
    """List the profiles (.prof, pstats) of profiled functions and download them (`snakeviz FILE` opens one)."""
    instance = _instance()
    found = profiles.listing(instance, function)
    if not found:
        console.print(
            "[dim]no profiles; profile a function with ProfiledFunctions (e.g. "
            "`PROFILED_FUNCTIONS=catalog make up`)[/dim]"
        )
        return
    paths = profiles.download(instance, found, to or instance.state_dir / "profiles")
    for profile, path in zip(found, paths, strict=True):
        console.print(f"{profile.modified:%Y-%m-%d %H:%M:%S}  {profile.size:>9} B  {path}", markup=False)
    console.print(f"open one with: snakeviz {paths[-1]}", markup=False)


def parse_since(value: str) -> int:
    """'10m', '2h', '30s', '1d' -> epoch milliseconds that long ago."""
    match = re.fullmatch(r"(\d+)([smhd])", value.strip())
    if match is None:
        raise typer.BadParameter("use a number and a unit: 30s, 10m, 2h or 1d")
    seconds = int(match.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]
    return int((time.time() - seconds) * 1000)


def _time(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%H:%M:%S.%f")[:-3] if moment else "-"


@app.command()
def executions(
    order_id: Annotated[str | None, typer.Argument(help="an order id: its states with enter/exit times")] = None,
    limit: Annotated[int, typer.Option(help="how many recent executions to list")] = 20,
) -> None:
    """Order lifecycle executions (Step Functions): recent ones, or one order's states."""
    instance = _instance()
    if not emulator.is_up(instance):
        raise StoreCtlError(f"the AWS emulator is not running on {instance.endpoint_url}", "run `make up`")
    machine = deploy.stack_outputs(instance)["OrderLifecycleStateMachineArn"]
    client = emulator.aws_client(instance, "stepfunctions")
    if order_id is None:
        listed = client.list_executions(stateMachineArn=machine, maxResults=limit)["executions"]
        if not listed:
            console.print("[dim]no executions yet: place an order[/dim]")
        for item in listed:
            console.print(
                f"{item['name']}  {item['status']:<9}  started {_time(item['startDate'])}"
                f"  stopped {_time(item.get('stopDate'))}",
                markup=False,
            )
        return
    arn = execution_arn(machine, order_id)
    try:
        description = client.describe_execution(executionArn=arn)
    except client.exceptions.ExecutionDoesNotExist as error:
        raise StoreCtlError(f"no execution for order {order_id}", "list them with `storectl executions`") from error
    spans = lifecycle.timeline(lifecycle.history(client, arn))
    current = lifecycle.current_state(spans)
    console.print(f"order {order_id}: {description['status']}" + (f", in {current}" if current else ""), markup=False)
    for span in spans:
        took = f"{span.seconds:.3f} s" if span.seconds is not None else "(current)"
        console.print(
            f"  {span.name:<20} entered {_time(span.entered)}  exited {_time(span.exited)}  {took}", markup=False
        )


@app.command()
def dlq(
    redrive_messages: Annotated[bool, typer.Option("--redrive", help="move every message back to its queue")] = False,
) -> None:
    """Dead-letter queues: list their messages, or send them back to be consumed again."""
    instance = _instance()
    if not emulator.is_up(instance):
        raise StoreCtlError(f"the AWS emulator is not running on {instance.endpoint_url}", "run `make up`")
    outputs = deploy.stack_outputs(instance)
    sqs = emulator.aws_client(instance, "sqs")
    for name, (dead_letters, source) in recovery.DEAD_LETTER_QUEUES.items():
        if redrive_messages:
            moved = recovery.redrive(sqs, outputs[dead_letters], outputs[source])
            console.print(f"{name}: {moved} message(s) sent back to the queue", markup=False)
            continue
        letters = recovery.peek(sqs, outputs[dead_letters])
        console.print(f"{name}: {len(letters)} message(s)", markup=False)
        for letter in letters:
            console.print(
                f"  {letter.message_id}  {letter.event_type:<18}  order {letter.order_id}"
                f"  receives {letter.receives}  {letter.body[:80]}",
                markup=False,
            )


@app.command()
def redrive(order_id: Annotated[str, typer.Argument(help="the order whose lifecycle execution failed")]) -> None:
    """Start a failed order lifecycle again, from the status the order is in."""
    instance = _instance()
    if not emulator.is_up(instance):
        raise StoreCtlError(f"the AWS emulator is not running on {instance.endpoint_url}", "run `make up`")
    try:
        order = UUID(order_id)
    except ValueError as error:
        raise typer.BadParameter(f"{order_id!r} is not an order id (a UUID)") from error
    machine = deploy.stack_outputs(instance)["OrderLifecycleStateMachineArn"]
    sfn = emulator.aws_client(instance, "stepfunctions")
    names = [item["name"] for item in sfn.list_executions(stateMachineArn=machine, maxResults=1000)["executions"]]
    mine = [name for name in names if name == order_id or name.startswith(f"{order_id}-redrive-")]
    if not mine:
        raise StoreCtlError(f"order {order_id} has no lifecycle execution", "list them with `storectl executions`")
    latest = sfn.describe_execution(executionArn=execution_arn(machine, mine[0]))
    if latest["status"] not in ("FAILED", "TIMED_OUT"):
        raise StoreCtlError(
            f"the lifecycle of order {order_id} is {latest['status']}, not failed", "only failed ones are redriven"
        )
    status = deploy.order_status(instance, order)
    if status is None or status == "CANCELLED":
        raise StoreCtlError(f"order {order_id} is {status or 'gone'}: there is nothing to resume", "nothing to do")
    scale = float(json.loads(latest["input"])["timings"]["scale"])
    name = recovery.redrive_name(order, names)
    sfn.start_execution(
        stateMachineArn=machine, name=name, input=json.dumps(recovery.redrive_input(order, status, scale))
    )
    console.print(f"order {order_id} resumes from {status} as execution {name}", markup=False)


@app.command()
def logs(
    function: Annotated[str, typer.Argument(help="one of: " + ", ".join(FUNCTIONS))],
    follow: Annotated[bool, typer.Option("--follow", "-f", help="keep printing new lines")] = False,
    since: Annotated[str, typer.Option(help="how far back: 30s, 10m, 2h, 1d")] = "10m",
) -> None:
    """Print a function's logs from the emulator's CloudWatch Logs."""
    if function not in FUNCTIONS:
        raise typer.BadParameter(f"unknown function {function!r}; choose one of: {', '.join(FUNCTIONS)}")
    instance = _instance()
    if not emulator.is_up(instance):
        raise StoreCtlError(f"the AWS emulator is not running on {instance.endpoint_url}", "run `make up`")
    group = f"/aws/lambda/{deploy.stack_outputs(instance)[FUNCTIONS[function]]}"
    client = emulator.aws_client(instance, "logs")
    start = parse_since(since)
    seen: set[str] = set()
    while True:
        try:
            events = _log_events(client, group, start)
        except client.exceptions.ResourceNotFoundException:
            events = []
            if not follow:
                console.print(f"[dim]no logs yet for {function} ({group}): call it first[/dim]")
        for event in events:
            # Not every emulator sets eventId; the stream, time and text identify a line.
            key = event.get("eventId") or f"{event.get('logStreamName')}|{event['timestamp']}|{event['message']}"
            if key in seen:
                continue
            seen.add(key)
            stamp = datetime.fromtimestamp(event["timestamp"] / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")
            console.print(Text.assemble((stamp, "dim"), " ", event["message"].rstrip()))
            start = max(start, event["timestamp"])
        if not follow:
            return
        time.sleep(1)


FILTER_LIMIT = 10_000  # the most events FilterLogEvents returns per call


def _log_events(client: Any, group: str, start: int) -> list[dict[str, Any]]:
    """Every event of `group` since `start`, oldest first. Follows nextToken and,
    where an implementation returns a full page without one (the emulator does),
    continues from the last timestamp seen; callers drop the repeated lines."""
    events: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"logGroupName": group, "startTime": start, "limit": FILTER_LIMIT}
    while True:
        page = client.filter_log_events(**kwargs)
        batch = page["events"]
        events.extend(batch)
        if page.get("nextToken"):
            kwargs["nextToken"] = page["nextToken"]
        elif len(batch) >= FILTER_LIMIT and batch[-1]["timestamp"] > kwargs["startTime"]:
            kwargs["startTime"] = batch[-1]["timestamp"]
        else:
            break
    events.sort(key=lambda event: event["timestamp"])
    return events


def main() -> None:
    try:
        app()
    except StoreCtlError as error:
        err.print("[bold red]error:[/bold red]", end=" ")
        err.print(error.problem, markup=False)
        if error.fix:
            err.print("[bold]fix:[/bold]", end=" ")
            err.print(error.fix, markup=False)
        raise SystemExit(1) from None
