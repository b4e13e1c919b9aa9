"""Prometheus metrics (issue 7): `location /metrics { metrics prometheus; }`
parsed by the real parser (Debian python3-prometheus-client), and its
counters moved by exactly the known traffic of confluent-kafka producers
and a consumer group, summed over 2 workers, never going backwards when a
worker is killed with kill -9."""

import os
import signal
import socket
import struct
import threading
import time

import pytest

from conftest import SLOW, http_get, wait_for

parser = pytest.importorskip("prometheus_client.parser")
ck = pytest.importorskip("confluent_kafka")


TOPIC = "mtopic"
PARTITIONS = 2

METRICS_HTTP = """
    location /metrics {
        metrics  prometheus;
    }
"""

METRICS_CONF = """
log {
    data_dir  data;
}

kafka {
    listen                         127.0.0.1:@PORT_kafka@;
    advertised_listener            127.0.0.1:@PORT_kafka@;
    group_initial_rebalance_delay  100ms;

    topic %s {
        partitions  %d;
    }
}
""" % (TOPIC, PARTITIONS)


@pytest.fixture
def mb(broker_factory):
    b = broker_factory("m")
    b.write_conf(workers=2, http=METRICS_HTTP, blocks=METRICS_CONF)
    b.start()
    b.bootstrap = f"127.0.0.1:{b.port('kafka')}"
    return b


def scrape(b):
    """{(sample name, frozenset of labels): value} of one GET /metrics."""
    status, headers, body = http_get(b.http_port, "/metrics")
    assert status == 200, body
    text = body.decode()
    out = {}
    for fam in parser.text_string_to_metric_families(text):
        for s in fam.samples:
            key = (s.name, frozenset(s.labels.items()))
            assert key not in out, f"duplicate sample {key}"
            out[key] = s.value
    return out


def scrape_until(b, predicate, what):
    """The first scrape for which predicate(metrics) holds."""
    def ok():
        m = scrape(b)
        return m if predicate(m) else None
    return wait_for(ok, 10 * SLOW, what=what)


def val(m, name, **labels):
    return m.get((name, frozenset(labels.items())), 0)


def total(m, name, **labels):
    """The sum of the samples of name whose labels include labels."""
    want = set(labels.items())
    return sum(v for (n, ls), v in m.items() if n == name and want <= ls)


def connection_owners(b):
    """{client port: worker pid} of the established Kafka connections."""
    port = b.port("kafka")
    clients = {}
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if int(fields[1].split(":")[1], 16) == port and fields[3] == "01":
                clients[fields[9]] = int(fields[2].split(":")[1], 16)
    owners = {}
    for pid in b.workers():
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if link.startswith("socket:[") and link[8:-1] in clients:
                owners[clients[link[8:-1]]] = pid
    return owners


def serving_workers(b):
    """The workers that hold an established Kafka connection now."""
    return set(connection_owners(b).values())


class Traffic:
    """Records produced by confluent-kafka, one Produce request each, by
    several connections; which workers served them is noted."""

    def __init__(self, b):
        self.b = b
        self.records = 0
        self.per_partition = [0] * PARTITIONS
        self.workers = set()

    def producers(self, n):
        """n producers connected at once, from threads: the kernel spreads
        simultaneous connections over the workers (EPOLLEXCLUSIVE)."""
        prs = [None] * n

        def make(i):
            prs[i] = ck.Producer({"bootstrap.servers": self.b.bootstrap,
                                  "linger.ms": 0, "acks": "all",
                                  "enable.idempotence": False,
                                  "compression.type": "none"})
            prs[i].list_topics(TOPIC, timeout=30 * SLOW)

        threads = [threading.Thread(target=make, args=(i,))
                   for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert None not in prs
        return prs

    def produce(self, n, size, producers=4):
        prs = self.producers(producers)
        for i in range(n):
            part = self.records % PARTITIONS
            errs = []
            pr = prs[i % producers]
            pr.produce(TOPIC, value=b"v" * size, key=b"k%d" % self.records,
                       partition=part,
                       on_delivery=lambda e, m: errs.append(e))
            pr.flush(30 * SLOW)
            assert errs == [None]
            self.records += 1
            self.per_partition[part] += 1
        self.workers |= serving_workers(self.b)
        del prs

    def produce_on_every_worker(self, size):
        """More records from more connections until both workers have
        served some Produce requests."""
        for _ in range(50):
            if len(self.workers) == 2:
                return
            self.produce(8, size, producers=8)
        assert len(self.workers) == 2, "one worker took every connection"


def raw_api_versions_v99(b):
    """An ApiVersions with a version nobody knows: answered with v0 and
    UNSUPPORTED_VERSION (35)."""
    client = b"raw"
    msg = struct.pack(">hhih", 18, 99, 7, len(client)) + client
    with socket.create_connection(("127.0.0.1", b.port("kafka")),
                                  timeout=10) as s:
        s.sendall(struct.pack(">i", len(msg)) + msg)
        size = struct.unpack(">i", s.recv(4, socket.MSG_WAITALL))[0]
        body = s.recv(size, socket.MSG_WAITALL)
    corr, err = struct.unpack(">ih", body[:6])
    assert (corr, err) == (7, 35)


# ------------------------------------------------------------------ tests


def test_format(mb):
    status, headers, body = http_get(mb.http_port, "/metrics")
    assert status == 200
    ctype = headers["content-type"]
    assert ctype.startswith("text/plain; version=0.0.4")

    fams = {f.name: f for f in
            parser.text_string_to_metric_families(body.decode())}
    for name, kind in [("sluice_workers", "gauge"),
                       ("sluice_connections", "gauge"),
                       ("sluice_connections_accepted", "counter"),
                       ("sluice_requests", "counter"),
                       ("sluice_kafka_requests", "counter"),
                       ("sluice_kafka_request_duration_seconds",
                        "histogram"),
                       ("sluice_kafka_fetch_waits", "counter"),
                       ("sluice_kafka_connections", "gauge"),
                       ("sluice_topic_bytes_in", "counter"),
                       ("sluice_topic_records_out", "counter"),
                       ("sluice_partition_log_end_offset", "gauge"),
                       ("sluice_partition_segments", "gauge"),
                       ("sluice_partition_size_bytes", "gauge"),
                       ("sluice_group_members", "gauge"),
                       ("sluice_group_lag", "gauge"),
                       ("sluice_http_requests", "counter"),
                       ("sluice_http_request_duration_seconds",
                        "histogram")]:
        assert name in fams, name
        assert fams[name].type == kind, name

    m = scrape(mb)
    assert val(m, "sluice_workers") == 2
    for p in range(PARTITIONS):
        labels = {"topic": TOPIC, "partition": str(p)}
        assert val(m, "sluice_partition_log_end_offset", **labels) == 0
        assert ("sluice_partition_segments",
                frozenset(labels.items())) in m

    status, _, _ = http_get(mb.http_port, "/metrics", method="HEAD")
    assert status == 200
    status, _, _ = http_get(mb.http_port, "/metrics", method="POST",
                            body=b"x")
    assert status == 405


def test_http_requests(mb):
    a = scrape(mb)
    for _ in range(3):
        assert http_get(mb.http_port, "/status")[0] == 200
    assert http_get(mb.http_port, "/no/such/file")[0] == 404

    def settled():
        """A request is counted in its log phase, just after its response:
        the other worker may answer the next scrape a moment before."""
        m = scrape(mb)
        four = (val(m, "sluice_http_requests_total", code="4xx")
                - val(a, "sluice_http_requests_total", code="4xx"))
        n = total(m, "sluice_http_requests_total")
        if (four == 1
                and val(m, "sluice_http_request_duration_seconds_count") == n
                and val(m, "sluice_http_request_duration_seconds_bucket",
                        le="+Inf") == n):
            return m
        assert four <= 1
        return None

    b = wait_for(settled, 10 * SLOW, what="the 404 counted")

    # the three /status and the first scrape at least
    assert (val(b, "sluice_http_requests_total", code="2xx")
            - val(a, "sluice_http_requests_total", code="2xx")) >= 4
    assert val(b, "sluice_http_requests_total", code="5xx") == 0

    prev = 0
    for le in ["0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025",
               "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10",
               "+Inf"]:
        v = val(b, "sluice_http_request_duration_seconds_bucket", le=le)
        assert v >= prev, le
        prev = v


def test_traffic(mb):
    size = 100
    before = scrape(mb)
    assert total(before, "sluice_topic_records_in_total", topic=TOPIC) == 0

    # the counters below sum what both workers counted
    t = Traffic(mb)
    t.produce(40, size)
    t.produce_on_every_worker(size)
    n = t.records
    raw_api_versions_v99(mb)

    m = scrape(mb)
    produced = (val(m, "sluice_kafka_requests_total", api="Produce",
                    error="0")
                - val(before, "sluice_kafka_requests_total",
                      api="Produce", error="0"))
    assert produced == n
    assert val(m, "sluice_kafka_requests_total", api="ApiVersions",
               error="35") == 1
    assert val(m, "sluice_kafka_request_duration_seconds_count",
               api="Produce") == total(m, "sluice_kafka_requests_total",
                                       api="Produce")

    assert val(m, "sluice_topic_records_in_total", topic=TOPIC) == n
    bytes_in = val(m, "sluice_topic_bytes_in_total", topic=TOPIC)
    # one record per batch: at least the values, at most 200 bytes more
    assert n * size < bytes_in < n * (size + 200)
    assert total(m, "sluice_partition_size_bytes", topic=TOPIC) == bytes_in
    for p in range(PARTITIONS):
        labels = {"topic": TOPIC, "partition": str(p)}
        end = t.per_partition[p]
        assert val(m, "sluice_partition_log_end_offset", **labels) == end
        assert val(m, "sluice_partition_high_watermark", **labels) == end
        assert val(m, "sluice_partition_log_start_offset", **labels) == 0
        assert val(m, "sluice_partition_segments", **labels) >= 1
    assert val(m, "sluice_topic_records_out_total", topic=TOPIC) == 0

    # a consumer group reads everything, then commits

    group = 'm"group\\1'          # label values are escaped
    c = ck.Consumer({"bootstrap.servers": mb.bootstrap, "group.id": group,
                     "auto.offset.reset": "earliest",
                     "enable.auto.commit": False,
                     "fetch.wait.max.ms": 200})
    try:
        c.subscribe([TOPIC])
        got = 0
        deadline = time.time() + 60 * SLOW
        while got < n and time.time() < deadline:
            msg = c.poll(0.5)
            if msg is not None and msg.error() is None:
                got += 1
        assert got == n

        m = scrape(mb)
        assert val(m, "sluice_topic_records_out_total", topic=TOPIC) == n
        assert val(m, "sluice_topic_bytes_out_total", topic=TOPIC) == bytes_in
        assert val(m, "sluice_group_members", group=group) == 1
        assert val(m, "sluice_group_state", group=group, state="Stable") == 1
        assert total(m, "sluice_group_state", group=group) == 1
        # nothing committed yet: no lag reported
        assert total(m, "sluice_group_lag", group=group) == 0

        c.commit(asynchronous=False)

        m = scrape(mb)
        for p in range(PARTITIONS):
            labels = {"group": group, "topic": TOPIC, "partition": str(p)}
            assert (val(m, "sluice_group_committed_offset", **labels)
                    == t.per_partition[p])
            assert ("sluice_group_lag", frozenset(labels.items())) in m
            assert val(m, "sluice_group_lag", **labels) == 0

        # the consumer, caught up, long-polls: fetches park
        waits = val(m, "sluice_kafka_fetch_waits_total")
        wait_for(lambda: c.poll(0.1) is None and
                 val(scrape(mb), "sluice_kafka_fetch_waits_total") > waits,
                 10 * SLOW, what="a parked fetch")

        # more records: the lag grows by them until the next commit
        t.produce(6, size, producers=1)
        m = scrape(mb)
        assert total(m, "sluice_group_lag", group=group) == 6
    finally:
        c.close()

    m = scrape(mb)
    assert val(m, "sluice_group_members", group=group) == 0
    assert val(m, "sluice_group_state", group=group, state="Empty") == 1
    assert val(m, "sluice_kafka_requests_total", api="OffsetCommit",
               error="0") >= 1

    # a fetch past the end: the partition's OFFSET_OUT_OF_RANGE (1) is
    # the request's error; the client then starts over from the earliest
    c = ck.Consumer({"bootstrap.servers": mb.bootstrap, "group.id": "oor",
                     "auto.offset.reset": "earliest",
                     "enable.auto.commit": False})
    try:
        c.assign([ck.TopicPartition(TOPIC, 0, 10 ** 6)])
        msg = None
        deadline = time.time() + 30 * SLOW
        while msg is None and time.time() < deadline:
            msg = c.poll(0.2)
            if msg is not None and msg.error() is not None:
                msg = None
        assert msg is not None and msg.offset() == 0
    finally:
        c.close()
    m = scrape(mb)
    assert val(m, "sluice_kafka_requests_total", api="Fetch", error="1") >= 1


def test_kill_worker(mb):
    t = Traffic(mb)
    t.produce(8, 50)
    http_get(mb.http_port, "/status")

    # idle Kafka connections, opened together so both workers hold some
    socks = []

    def accepted():
        owners = connection_owners(mb)
        return owners if len(owners) == len(socks) else None

    for _ in range(20):
        batch = [None] * 8

        def connect(i):
            batch[i] = socket.create_connection(
                ("127.0.0.1", mb.port("kafka")), timeout=10)

        threads = [threading.Thread(target=connect, args=(i,))
                   for i in range(8)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        socks += batch
        owners = wait_for(accepted, 10 * SLOW, what="connections accepted")
        if len(set(owners.values())) == 2:
            break
    assert len(set(owners.values())) == 2, owners
    wait_for(lambda: val(scrape(mb), "sluice_kafka_connections")
             == len(socks), 10 * SLOW, what="the connections counted")
    a = scrape(mb)

    # kill -9 a worker that holds connections and served produces
    victim = sorted(t.workers)[0]
    if victim not in owners.values():
        victim = sorted(owners.values())[0]
    mine = [s for s in socks if owners[s.getsockname()[1]] == victim]
    os.kill(victim, signal.SIGKILL)
    mb.wait_workers(2, exclude=(victim,))

    b = scrape(mb)
    for key, v in a.items():
        name = key[0]
        if name.endswith("_total") or name.endswith("_count") \
           or name.endswith("_bucket") or name.endswith("_sum"):
            assert b.get(key, 0) >= v, (key, v, b.get(key))
    assert val(b, "sluice_topic_records_in_total", topic=TOPIC) == 8
    wait_for(lambda: val(scrape(mb), "sluice_workers") == 2, 10 * SLOW,
             what="2 live workers counted")

    # the dead worker's connections are not counted any more
    wait_for(lambda: val(scrape(mb), "sluice_kafka_connections")
             == len(socks) - len(mine), 10 * SLOW,
             what="the dead worker's connections forgotten")

    # the new worker counts on top
    t.produce(2, 50, producers=1)
    c = scrape(mb)
    assert (val(c, "sluice_kafka_requests_total", api="Produce", error="0")
            - val(b, "sluice_kafka_requests_total", api="Produce",
                  error="0")) == 2
    assert val(c, "sluice_topic_records_in_total", topic=TOPIC) == 10

    for s in socks:
        s.close()
    wait_for(lambda: val(scrape(mb), "sluice_kafka_connections") == 0,
             10 * SLOW, what="no Kafka connection counted")
    # the scrapes' own connections close just after their responses
    wait_for(lambda: val(scrape(mb), "sluice_connections") == 1,
             10 * SLOW, what="only the scrape's connection counted")


def test_reload_keeps_counting(mb):
    t = Traffic(mb)
    t.produce(4, 50, producers=2)
    http_get(mb.http_port, "/status")
    a = scrape_until(mb, lambda m: val(m, "sluice_http_requests_total",
                                       code="2xx"), "a request counted")
    old = mb.wait_workers(2)

    r = mb.signal("reload")
    assert r.returncode == 0, r
    mb.wait_workers(2, exclude=old)

    # the zones carry over: the new workers add to the same totals
    b = scrape(mb)
    for name, labels in [("sluice_kafka_requests_total",
                          {"api": "Produce", "error": "0"}),
                         ("sluice_kafka_connections_accepted_total", {}),
                         ("sluice_http_requests_total", {"code": "2xx"}),
                         ("sluice_topic_records_in_total",
                          {"topic": TOPIC})]:
        assert val(b, name, **labels) >= val(a, name, **labels) > 0, name

    t.produce(1, 50, producers=1)
    c = scrape(mb)
    assert (val(c, "sluice_kafka_requests_total", api="Produce", error="0")
            - val(b, "sluice_kafka_requests_total", api="Produce",
                  error="0")) == 1
    assert val(c, "sluice_topic_records_in_total", topic=TOPIC) == 5
