"""CloudWatch Logs delivery over real botocore to moto's server, with faults injected by a
local proxy in front of it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from support.fault_proxy import FaultProxy, aws_json_error, fault_proxy
from support.moto import MotoServer, moto_server

from routewatch.exporters.cloudwatch_logs import (
    BufferFullError,
    DeliveryError,
    LogBuffer,
    LogsClient,
    RetryPolicy,
    new_logs_client,
)
from routewatch.exporters.cloudwatch_logs.buffer import DROPPED_EVENTS
from routewatch.exporters.cloudwatch_logs.client import (
    EMF_FORMAT_HEADER,
    REJECTED_EVENTS,
    RETRIES,
)

NOW_MS = int(time.time() * 1000)


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    with moto_server() as server:
        yield server


@pytest.fixture
def proxy(moto: MotoServer) -> Iterator[FaultProxy]:
    with fault_proxy(moto.endpoint_url) as p:
        yield p


class Recorder:
    """Counts, sleeps and PutLogEvents calls as the client reports them."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str], int] = {}
        self.sleeps: list[float] = []
        self.puts = 0
        self.headers: list[dict[str, str]] = []

    def count(self, counter: str, reason: str, n: int) -> None:
        self.counts[(counter, reason)] = self.counts.get((counter, reason), 0) + n

    def on_send(self, request: Any, **_: Any) -> None:
        self.puts += 1
        self.headers.append(dict(request.headers))


def make(
    endpoint: str, rec: Recorder, retention: int = 0, tags: dict[str, str] | None = None
) -> LogBuffer:
    client = new_logs_client("us-east-1", endpoint)
    client.meta.events.register("before-send.cloudwatch-logs.PutLogEvents", rec.on_send)
    logs = LogsClient(
        client,
        retention_days=retention,
        tags=tags or {},
        policy=RetryPolicy(initial_interval=0.1, max_interval=1.0, max_attempts=4),
        count=rec.count,
        sleep=rec.sleeps.append,
        random=lambda: 1.0,
    )
    return LogBuffer(logs, count=rec.count, max_buffered_bytes=8 * 1024 * 1024)


def read_back(moto: MotoServer, group: str, stream: str) -> list[str]:
    client = moto.client("logs")
    out: list[str] = []
    token = None
    while True:
        kw: dict[str, Any] = {"nextToken": token} if token else {}
        resp = client.get_log_events(
            logGroupName=group, logStreamName=stream, startFromHead=True, **kw
        )
        out.extend(e["message"] for e in resp["events"])
        if not resp["events"] or resp["nextForwardToken"] == token:
            return out
        token = resp["nextForwardToken"]


def events(n: int, prefix: str = "e", size: int = 0) -> list[tuple[int, bytes]]:
    pad = "x" * size
    return [(NOW_MS + i // 100, f'{{"i":"{prefix}{i}","p":"{pad}"}}'.encode()) for i in range(n)]


def test_events_land_in_group_and_stream_created_with_retention_and_tags(
    moto: MotoServer,
) -> None:
    rec = Recorder()
    buffer = make(moto.endpoint_url, rec, retention=7, tags={"team": "routing"})
    buffer.put("/hybrid-routing/test", "direct", events(3, "d"))
    buffer.put("/hybrid-routing/test", "mcp", events(2, "m"))
    buffer.flush()
    assert read_back(moto, "/hybrid-routing/test", "direct") == [
        m.decode() for _, m in events(3, "d")
    ]
    assert len(read_back(moto, "/hybrid-routing/test", "mcp")) == 2
    client = moto.client("logs")
    (group,) = client.describe_log_groups(logGroupNamePrefix="/hybrid-routing/test")["logGroups"]
    assert group["retentionInDays"] == 7
    assert client.list_tags_log_group(logGroupName="/hybrid-routing/test")["tags"] == {
        "team": "routing"
    }
    assert rec.headers and all(h[EMF_FORMAT_HEADER] == b"json/emf" for h in rec.headers)
    assert buffer.buffered_bytes == 0


def test_more_than_10000_events_and_1_mib_split(moto: MotoServer) -> None:
    rec = Recorder()
    buffer = make(moto.endpoint_url, rec)
    many = events(12_000, "n")
    buffer.put("/split", "count", many)
    buffer.flush()
    got = read_back(moto, "/split", "count")
    assert got == [m.decode() for _, m in many]
    puts_for_count = rec.puts
    # 3 x 400 KB: the batch byte limit splits them into two calls
    big = events(3, "b", size=400_000)
    buffer.put("/split", "bytes", big)
    buffer.flush()
    assert read_back(moto, "/split", "bytes") == [m.decode() for _, m in big]
    # count: the first call hit ResourceNotFound and was repeated after creating
    assert puts_for_count == 3
    assert rec.puts - puts_for_count == 3


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (400, "ThrottlingException"),
        (500, "InternalFailure"),
        (503, "ServiceUnavailableException"),
        (502, "BadGateway"),
    ],
)
def test_faults_are_retried_nothing_lost_or_duplicated(
    moto: MotoServer, proxy: FaultProxy, status: int, code: str
) -> None:
    rec = Recorder()
    buffer = make(proxy.url, rec)
    group = f"/faults/{code}"
    buffer.put(group, "s", events(1, "warm"))
    buffer.flush()
    proxy.inject(status, aws_json_error(code), times=3, match="PutLogEvents")
    batch = events(50, "f")
    buffer.put(group, "s", batch)
    buffer.flush()
    got = read_back(moto, group, "s")
    assert got == [m.decode() for _, m in events(1, "warm") + batch]
    assert rec.counts[(RETRIES, code)] == 3
    assert rec.sleeps == [0.1, 0.2, 0.4]  # exponential; jitter fixed at its maximum here


def test_gave_up_batch_stays_buffered_and_is_sent_later(
    moto: MotoServer, proxy: FaultProxy
) -> None:
    rec = Recorder()
    buffer = make(proxy.url, rec)
    buffer.put("/later", "s", events(1, "warm"))
    buffer.flush()
    proxy.inject(503, aws_json_error("ServiceUnavailableException"), times=4, match="PutLogEvents")
    batch = events(20, "l")
    buffer.put("/later", "s", batch)
    with pytest.raises(DeliveryError) as info:
        buffer.flush()
    assert info.value.retryable
    assert buffer.buffered_bytes > 0
    buffer.flush()
    assert buffer.buffered_bytes == 0
    assert read_back(moto, "/later", "s") == [m.decode() for _, m in events(1, "warm") + batch]


def test_throttled_group_creation_is_retried(moto: MotoServer, proxy: FaultProxy) -> None:
    rec = Recorder()
    buffer = make(proxy.url, rec, retention=30)
    proxy.inject(400, aws_json_error("ThrottlingException"), times=1, match="CreateLogGroup")
    proxy.inject(500, aws_json_error("InternalFailure"), times=1, match="PutRetentionPolicy")
    buffer.put("/create-faults", "s", events(5, "c"))
    buffer.flush()
    assert len(read_back(moto, "/create-faults", "s")) == 5
    client = moto.client("logs")
    (group,) = client.describe_log_groups(logGroupNamePrefix="/create-faults")["logGroups"]
    assert group["retentionInDays"] == 30


def test_permanent_error_drops_and_counts(moto: MotoServer, proxy: FaultProxy) -> None:
    rec = Recorder()
    buffer = make(proxy.url, rec)
    proxy.inject(400, aws_json_error("InvalidParameterException", "bad"), match="PutLogEvents")
    buffer.put("/perm", "s", events(4))
    buffer.flush()
    assert rec.counts[(DROPPED_EVENTS, "permanent_error")] == 4
    assert buffer.buffered_bytes == 0


def test_rejected_events_counted(moto: MotoServer) -> None:
    rec = Recorder()
    buffer = make(moto.endpoint_url, rec)
    old = NOW_MS - 15 * 24 * 3600 * 1000
    buffer.put("/rejected", "s", [(old, b'{"old":1}'), (NOW_MS, b'{"ok":1}')])
    buffer.flush()
    assert rec.counts[(REJECTED_EVENTS, "too_old")] == 1
    assert read_back(moto, "/rejected", "s") == ['{"ok":1}']


def test_buffer_full_refuses_all_or_nothing(moto: MotoServer) -> None:
    rec = Recorder()
    client = LogsClient(new_logs_client("us-east-1", moto.endpoint_url), count=rec.count)
    buffer = LogBuffer(client, max_buffered_bytes=1_100_000)
    buffer.put("/full", "a", events(1, size=900_000))
    with pytest.raises(BufferFullError):
        buffer.put_many({("/full", "a"): events(1), ("/full", "b"): events(1, size=200_000)})
    buffer.flush()
    assert len(read_back(moto, "/full", "a")) == 1
    with pytest.raises(Exception, match=r"ResourceNotFound|does not exist"):
        read_back(moto, "/full", "b")


def test_flush_on_timer_with_injected_clock(moto: MotoServer) -> None:
    now = [0.0]
    client = LogsClient(new_logs_client("us-east-1", moto.endpoint_url))
    buffer = LogBuffer(client, flush_interval=5.0, clock=lambda: now[0])
    buffer.put("/timer", "s", events(2))
    now[0] = 4.9
    buffer.maybe_flush()
    assert buffer.buffered_bytes > 0
    now[0] = 5.0
    buffer.maybe_flush()
    assert buffer.buffered_bytes == 0
    assert len(read_back(moto, "/timer", "s")) == 2


def test_flush_on_shutdown_and_concurrent_puts(moto: MotoServer) -> None:
    client = LogsClient(new_logs_client("us-east-1", moto.endpoint_url))
    buffer = LogBuffer(client, flush_interval=3600)
    buffer.start()

    def producer(k: int) -> None:
        for i in range(50):
            buffer.put("/threads", "s", [(NOW_MS, f'{{"p":{k},"i":{i}}}'.encode())])

    threads = [threading.Thread(target=producer, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    buffer.shutdown()
    buffer.shutdown()  # idempotent
    got = read_back(moto, "/threads", "s")
    assert sorted(got) == sorted(f'{{"p":{k},"i":{i}}}' for k in range(4) for i in range(50))


def test_not_found_right_after_creation_is_retried(moto: MotoServer, proxy: FaultProxy) -> None:
    rec = Recorder()
    buffer = make(proxy.url, rec)
    # the first call finds nothing (real), the one after creating answers not found once more
    proxy.inject(
        400,
        aws_json_error("ResourceNotFoundException", "The specified log stream does not exist."),
        times=2,
        match="PutLogEvents",
    )
    buffer.put("/eventual", "s", events(3))
    buffer.flush()
    assert len(read_back(moto, "/eventual", "s")) == 3
    assert rec.counts[(RETRIES, "ResourceNotFoundException")] == 1


def test_full_batch_is_flushed_without_waiting_for_the_timer(moto: MotoServer) -> None:
    now = [0.0]
    client = LogsClient(new_logs_client("us-east-1", moto.endpoint_url))
    buffer = LogBuffer(client, flush_interval=60.0, clock=lambda: now[0])
    buffer.put("/full-batch", "s", events(1, size=500_000))
    buffer.maybe_flush()
    assert buffer.buffered_bytes > 0  # neither due nor a full batch
    buffer.put("/full-batch", "s", events(2, "b", size=300_000))
    buffer.maybe_flush()  # over 1 MiB waiting: sent, though no time passed
    assert buffer.buffered_bytes == 0
    assert len(read_back(moto, "/full-batch", "s")) == 3
