"""A real single-node Apache Cassandra 5.0 from Maven Central artifacts, on JDK 17.

There is no Cassandra server on PyPI or in Debian; Maven Central has the server
jar (`cassandra-all`) and its runtime dependencies, which is all a node needs.
They are fetched once with Maven into the user's cache, outside the work tree.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

from storectl import monitoring
from storectl.errors import StoreCtlError
from storectl.instance import Instance, cache_root
from storectl.processes import read_pid, require_free_port, start_daemon, stop_session

CASSANDRA_VERSION = "5.0.9"
HEAP = os.environ.get("CASSANDRA_HEAP", "1G")

_POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.product-store</groupId>
  <artifactId>cassandra-runtime</artifactId>
  <version>{version}</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.cassandra</groupId>
      <artifactId>cassandra-all</artifactId>
      <version>{version}</version>
    </dependency>
  </dependencies>
</project>
"""

# From apache/cassandra conf/jvm-server.options and conf/jvm17-server.options.
_JVM_OPTIONS = [
    "-ea",
    "-Xss256k",
    "-XX:+UseTLAB",
    "-XX:+ResizeTLAB",
    "-XX:+UseNUMA",
    "-XX:+PerfDisableSharedMem",
    "-Djava.net.preferIPv4Stack=true",
    "-XX:+UseG1GC",
    "-XX:+ParallelRefProcEnabled",
    "-XX:MaxTenuringThreshold=1",
    "-XX:G1HeapRegionSize=16m",
    "-XX:G1RSetUpdatingPauseTimePercent=5",
    "-XX:MaxGCPauseMillis=300",
    "-XX:InitiatingHeapOccupancyPercent=70",
    "-Djdk.attach.allowAttachSelf=true",
    "--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED",
    "--add-exports=java.management.rmi/com.sun.jmx.remote.internal.rmi=ALL-UNNAMED",
    "--add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED",
    "--add-exports=java.rmi/sun.rmi.server=ALL-UNNAMED",
    "--add-exports=java.sql/java.sql=ALL-UNNAMED",
    "--add-exports=java.base/java.lang.ref=ALL-UNNAMED",
    "--add-exports=jdk.unsupported/sun.misc=ALL-UNNAMED",
    "--add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED",
    "--add-exports=jdk.attach/sun.tools.attach=ALL-UNNAMED",
    "--add-opens=java.base/java.lang.module=ALL-UNNAMED",
    "--add-opens=java.base/jdk.internal.loader=ALL-UNNAMED",
    "--add-opens=java.base/jdk.internal.ref=ALL-UNNAMED",
    "--add-opens=java.base/jdk.internal.reflect=ALL-UNNAMED",
    "--add-opens=java.base/jdk.internal.math=ALL-UNNAMED",
    "--add-opens=java.base/jdk.internal.module=ALL-UNNAMED",
    "--add-opens=java.base/jdk.internal.util.jar=ALL-UNNAMED",
    "--add-opens=jdk.management/com.sun.management.internal=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
    "--add-opens=jdk.compiler/com.sun.tools.javac=ALL-UNNAMED",
    "--add-opens=java.base/java.lang=ALL-UNNAMED",
    "--add-opens=java.base/java.util=ALL-UNNAMED",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "-Dio.netty.allocator.useCacheForAllThreads=true",
    "-Dio.netty.allocator.maxOrder=11",
]

_LOGBACK = """<configuration scan="false">
  <appender name="FILE" class="ch.qos.logback.core.FileAppender">
    <file>{log_file}</file>
    <encoder><pattern>%-5level [%thread] %date{{ISO8601}} %F:%L - %msg%n</pattern></encoder>
  </appender>
  <logger name="org.apache.cassandra" level="INFO"/>
  <root level="WARN"><appender-ref ref="FILE"/></root>
</configuration>
"""


def jars_dir() -> Path:
    return cache_root() / "cassandra" / CASSANDRA_VERSION / "lib"


def require_tool(name: str, fix: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise StoreCtlError(f"`{name}` is not on PATH, and the local Cassandra needs it", fix)
    return path


def check_java() -> str:
    java = require_tool(
        "java",
        "install a JDK 17 (Debian: `apt-get install openjdk-17-jdk-headless`) "
        "or point CASSANDRA_HOSTS at an existing cluster",
    )
    out = subprocess.run([java, "-version"], capture_output=True, text=True, check=False).stderr
    match = re.search(r'version "(\d+)', out)
    if match is None or int(match.group(1)) < 17:
        raise StoreCtlError(
            f"Cassandra {CASSANDRA_VERSION} needs Java 17 or newer; `java -version` says: "
            f"{out.splitlines()[0] if out else 'nothing'}",
            "install a JDK 17 and put it first on PATH (or set JAVA_HOME/bin first)",
        )
    return java


def ensure_jars() -> Path:
    """Fetch cassandra-all and its runtime dependencies once; later calls are free."""
    target = jars_dir()
    marker = target / ".complete"
    if marker.exists():
        return target
    mvn = require_tool(
        "mvn",
        "install Maven (Debian: `apt-get install maven`); it fetches Cassandra from Maven Central once",
    )
    work = target.parent
    work.mkdir(parents=True, exist_ok=True)
    (work / "pom.xml").write_text(_POM.format(version=CASSANDRA_VERSION))
    partial = work / "lib.partial"
    shutil.rmtree(partial, ignore_errors=True)
    result = subprocess.run(
        [
            mvn,
            "-B",
            "-q",
            "-f",
            str(work / "pom.xml"),
            "dependency:copy-dependencies",
            "-DincludeScope=runtime",
            f"-DoutputDirectory={partial}",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise StoreCtlError(
            f"Maven could not fetch Cassandra {CASSANDRA_VERSION}:\n{result.stdout[-2000:]}{result.stderr[-2000:]}",
            "check that Maven Central is reachable (proxy settings in ~/.m2/settings.xml), then retry",
        )
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)
    marker.touch()
    return target


def _write_config(instance: Instance) -> Path:
    base = instance.cassandra_dir
    conf = base / "conf"
    for sub in ("conf", "data", "commitlog", "saved_caches", "hints", "cdc_raw", "logs", "tmp"):
        (base / sub).mkdir(parents=True, exist_ok=True)
    (conf / "cassandra.yaml").write_text(
        f"""# Written by storectl for a single local node; rewritten on every start.
cluster_name: product-store-{instance.name}
num_tokens: 16
partitioner: org.apache.cassandra.dht.Murmur3Partitioner
endpoint_snitch: SimpleSnitch
seed_provider:
  - class_name: org.apache.cassandra.locator.SimpleSeedProvider
    parameters:
      - seeds: "127.0.0.1:{instance.cassandra_storage_port}"
listen_address: 127.0.0.1
rpc_address: 127.0.0.1
storage_port: {instance.cassandra_storage_port}
native_transport_port: {instance.cassandra_port}
start_native_transport: true
data_file_directories:
  - {base / "data"}
commitlog_directory: {base / "commitlog"}
saved_caches_directory: {base / "saved_caches"}
hints_directory: {base / "hints"}
cdc_raw_directory: {base / "cdc_raw"}
commitlog_sync: periodic
commitlog_sync_period: 10000ms
auto_snapshot: false
authenticator: AllowAllAuthenticator
authorizer: AllowAllAuthorizer
"""
    )
    (conf / "logback.xml").write_text(_LOGBACK.format(log_file=base / "logs" / "system.log"))
    return conf


def start(instance: Instance) -> int:
    """Start the node in the background; returns its pid. Idempotent."""
    pid_file = instance.cassandra_dir / "cassandra.pid"
    running = read_pid(pid_file)
    if running is not None:
        return running
    java = check_java()
    lib = ensure_jars()
    require_free_port(instance.cassandra_port, "Cassandra", "CASSANDRA_PORT")
    require_free_port(instance.cassandra_storage_port, "Cassandra", "CASSANDRA_STORAGE_PORT")
    conf = _write_config(instance)
    base = instance.cassandra_dir
    jamm = next(lib.glob("jamm-*.jar"))
    require_free_port(instance.jmx_exporter_port, "Cassandra's JMX exporter", "STORE_JMX_EXPORTER_PORT")
    jmx_exporter = monitoring.jmx_agent_option(instance)
    command = [
        java,
        f"-Xms{HEAP}",
        f"-Xmx{HEAP}",
        *_JVM_OPTIONS,
        f"-javaagent:{jamm}",
        jmx_exporter,
        "-Dcassandra-foreground=yes",
        f"-Dcassandra.config=file://{conf / 'cassandra.yaml'}",
        f"-Dcassandra.storagedir={base}",
        f"-Dcassandra.logdir={base / 'logs'}",
        f"-Dlogback.configurationFile=file://{conf / 'logback.xml'}",
        "-Dcassandra.skip_wait_for_gossip_to_settle=0",
        # A lone seed node has nobody to wait for: skip the 30 s ring delay.
        "-Dcassandra.ring_delay_ms=100",
        f"-Djava.io.tmpdir={base / 'tmp'}",
        "-cp",
        f"{conf}:{lib}/*",
        "org.apache.cassandra.service.CassandraDaemon",
    ]
    if instance.name == "test":
        # A throwaway node: skip fsyncs of the system keyspaces.
        command.insert(1, "-Dcassandra.unsafesystem=true")
    return start_daemon(command, env=os.environ, log_file=base / "logs" / "stdout.log", pid_file=pid_file)


def wait_ready(instance: Instance, timeout: float = 180.0) -> float:
    """Block until the node answers a real query; returns the seconds waited."""
    from cassandra.cluster import Cluster, NoHostAvailable  # noqa: PLC0415 - slow import

    started = time.monotonic()
    pid_file = instance.cassandra_dir / "cassandra.pid"
    last_error: Exception | None = None
    while time.monotonic() - started < timeout:
        if not instance.external_cassandra_hosts and read_pid(pid_file) is None:
            log = instance.cassandra_dir / "logs" / "stdout.log"
            tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
            raise StoreCtlError(f"Cassandra exited while starting; the end of {log}:\n{tail}")
        cluster = Cluster(
            instance.cassandra_hosts.split(","),
            port=instance.cassandra_port,
            connect_timeout=2,
            protocol_version=5,
        )
        try:
            session = cluster.connect()
            session.execute("SELECT release_version FROM system.local")
            return time.monotonic() - started
        except (NoHostAvailable, OSError) as error:
            last_error = error
        finally:
            cluster.shutdown()
        time.sleep(1)
    raise StoreCtlError(
        f"Cassandra did not answer a query within {timeout:.0f} s ({last_error})",
        f"look at {instance.cassandra_dir / 'logs'}",
    )


def stop(instance: Instance) -> bool:
    return stop_session(instance.cassandra_dir / "cassandra.pid", grace_seconds=30)
