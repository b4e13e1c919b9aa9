"""REST Proxy v2 consumer instances (issue 7): the documented curl flow
(create, subscribe, fetch, commit, delete) in binary and json, records
from confluent-kafka read back byte-exact, an HTTP instance and a
librdkafka consumer sharing a group's partitions, offsets committed over
HTTP seen by Kafka clients, manual assignment and seeking, idle expiry
handing the partitions back, and the proxy's errors.  Every broker runs
two workers and every request goes over a new connection, so requests of
one instance land in either worker."""

import base64
import json
import os
import socket
import subprocess
import threading
import time

import pytest

from conftest import SANITIZED, SLOW, http_get, wait_for


ck = pytest.importorskip("confluent_kafka")
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402


V2 = "application/vnd.kafka.v2+json"
BINARY = "application/vnd.kafka.binary.v2+json"
JSON = "application/vnd.kafka.json.v2+json"

CONF = """
log {{
    data_dir  data;
}}

kafka {{
    listen                         127.0.0.1:@PORT_kafka@;
    advertised_listener            127.0.0.1:@PORT_kafka@;
    default_partitions             1;
    group_initial_rebalance_delay  200ms;
}}
"""

HTTP = """
    log_format  pids  '$pid $status $request';
    access_log  logs/access.log  pids;

    location /topics {{
        rest_proxy  on;
    }}

    location /consumers {{
        rest_proxy                      on;
        rest_consumer_instance_timeout  {timeout};
    }}
"""


def start(factory, timeout="5m"):
    b = factory("b")
    b.write_conf(workers=2, blocks=CONF.format(),
                 http=HTTP.format(timeout=timeout))
    b.start()
    b.bootstrap = f"127.0.0.1:{b.port('kafka')}"
    return b


def create_topic(b, name, partitions):
    a = AdminClient({"bootstrap.servers": b.bootstrap})
    fs = a.create_topics([NewTopic(name, partitions, 1)])
    for f in fs.values():
        f.result(10 * SLOW)


def produce(b, topic, records):
    """records: (partition, key, value) -> their offsets, in order."""
    p = ck.Producer({"bootstrap.servers": b.bootstrap, "linger.ms": 5})
    out = []

    def done(err, msg):
        assert err is None, err
        out.append((msg.partition(), msg.offset()))

    for part, key, value in records:
        p.produce(topic, key=key, value=value, partition=part,
                  on_delivery=done)
    assert p.flush(10 * SLOW) == 0
    return out


def rest(b, method, path, body=None, accept=None, ctype=V2):
    """One request on a new connection: (status, parsed JSON or None)."""
    headers = {"Content-Type": ctype}
    if accept:
        headers["Accept"] = accept
    data = None if body is None else json.dumps(body).encode()
    status, _, raw = http_get(b.http_port, path, method=method,
                              headers=headers, body=data)
    return status, (json.loads(raw) if raw else None)


def curl(b, method, path, body=None, accept=None, ctype=V2):
    """The documented examples are curl command lines."""
    cmd = ["curl", "-sS", "-X", method, "-H", f"Content-Type: {ctype}",
           "-w", "\n%{http_code}"]
    if accept:
        cmd += ["-H", f"Accept: {accept}"]
    if body is not None:
        cmd += ["--data", json.dumps(body)]
    cmd.append(f"http://127.0.0.1:{b.http_port}{path}")
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    text, _, code = r.stdout.rpartition("\n")
    return int(code), (json.loads(text) if text.strip() else None)


def fetch_all(b, base, n, accept, timeout=20):
    """GET .../records until n records came (or fail)."""
    got = []

    def more():
        st, recs = rest(b, "GET", f"{base}/records?timeout=200",
                        accept=accept)
        assert st == 200, recs
        got.extend(recs)
        return len(got) >= n
    wait_for(more, timeout * SLOW, interval=0.01, what=f"{n} records")
    return got


def committed(b, group, topic, partitions):
    c = ck.Consumer({"bootstrap.servers": b.bootstrap, "group.id": group,
                     "enable.auto.commit": False})
    try:
        tps = c.committed([ck.TopicPartition(topic, p) for p in partitions],
                          timeout=10 * SLOW)
        return {tp.partition: tp.offset for tp in tps}
    finally:
        c.close()


# ------------------------------------------------------------ the flows


def test_binary_flow_curl(broker_factory):
    b = start(broker_factory)
    create_topic(b, "bin", 1)

    records = [(0, os.urandom(8), os.urandom(200)) for _ in range(4)]
    records.append((0, None, b""))
    records.append((0, b"k", None))
    produce(b, "bin", records)

    st, r = curl(b, "POST", "/consumers/g-bin",
                 {"name": "c1", "format": "binary",
                  "auto.offset.reset": "earliest",
                  "auto.commit.enable": "false"})
    assert st == 200, r
    assert r == {"instance_id": "c1",
                 "base_uri": f"http://127.0.0.1:{b.http_port}"
                             f"/consumers/g-bin/instances/c1"}
    base = "/consumers/g-bin/instances/c1"

    st, r = curl(b, "POST", base + "/subscription", {"topics": ["bin"]})
    assert st == 204, r

    st, r = curl(b, "GET", base + "/subscription")
    assert (st, r) == (200, {"topics": ["bin"]})

    got = fetch_all(b, base, len(records), BINARY)
    assert [g["offset"] for g in got] == list(range(len(records)))
    for g, (_, key, value) in zip(got, records):
        assert g["topic"] == "bin" and g["partition"] == 0
        assert (None if g["key"] is None
                else base64.b64decode(g["key"])) == key
        assert (None if g["value"] is None
                else base64.b64decode(g["value"])) == value

    st, r = curl(b, "GET", base + "/assignments")
    assert (st, r) == (200, {"partitions": [{"topic": "bin",
                                             "partition": 0}]})

    # an empty body commits every position
    st, _ = curl(b, "POST", base + "/offsets")
    assert st in (200, 204)
    assert committed(b, "g-bin", "bin", [0]) == {0: len(records)}

    st, r = curl(b, "GET", base + "/offsets",
                 {"partitions": [{"topic": "bin", "partition": 0}]})
    assert st == 200
    assert r == {"offsets": [{"topic": "bin", "partition": 0,
                              "offset": len(records), "metadata": ""}]}

    st, r = curl(b, "DELETE", base)
    assert st == 204

    st, r = curl(b, "GET", base + "/records", accept=BINARY)
    assert st == 404 and r["error_code"] == 40403


def test_json_flow(broker_factory):
    b = start(broker_factory)
    create_topic(b, "js", 1)

    values = [{"n": i, "s": "é" * i} for i in range(5)]
    produce(b, "js", [(0, json.dumps({"k": i}).encode(),
                       json.dumps(v).encode())
                      for i, v in enumerate(values)])

    st, r = curl(b, "POST", "/consumers/g-js",
                 {"name": "j1", "format": "json",
                  "auto.offset.reset": "earliest",
                  "auto.commit.enable": "false"})
    assert st == 200, r
    base = "/consumers/g-js/instances/j1"

    assert curl(b, "POST", base + "/subscription",
                {"topics": ["js"]})[0] == 204

    # the Accept must match the instance's format
    st, r = rest(b, "GET", base + "/records", accept=BINARY)
    assert st == 406 and r["error_code"] == 40601

    got = fetch_all(b, base, 5, JSON)
    assert [g["value"] for g in got] == values
    assert [g["key"] for g in got] == [{"k": i} for i in range(5)]

    # offsets named are the last consumed ones: offset + 1 is committed
    st, _ = curl(b, "POST", base + "/offsets",
                 {"offsets": [{"topic": "js", "partition": 0,
                               "offset": 2}]})
    assert st in (200, 204)
    assert committed(b, "g-js", "js", [0]) == {0: 3}

    # kafka-python sees the same
    kafka = pytest.importorskip("kafka")
    kc = kafka.KafkaConsumer(bootstrap_servers=b.bootstrap,
                             group_id="g-js", enable_auto_commit=False)
    try:
        assert kc.committed(kafka.TopicPartition("js", 0)) == 3
    finally:
        kc.close()

    assert curl(b, "DELETE", base)[0] == 204


# ------------------------------------------------------------ groups


def kafka_consumer(b, group, strategy="range"):
    return ck.Consumer({"bootstrap.servers": b.bootstrap,
                        "group.id": group,
                        "auto.offset.reset": "earliest",
                        "enable.auto.commit": False,
                        "session.timeout.ms": 6000,
                        "heartbeat.interval.ms": 300,
                        "partition.assignment.strategy": strategy})


def http_assignment(b, base):
    st, r = rest(b, "GET", base + "/assignments")
    assert st == 200, r
    return sorted(p["partition"] for p in r["partitions"])


def share(b, c, base, seen_kafka, expect_http, expect_kafka, timeout=40):
    """Poll both until their assignments are as expected."""
    def ok():
        m = c.poll(0.05)
        if m is not None and not m.error():
            seen_kafka.append((m.partition(), m.offset()))
        a = sorted(p.partition for p in c.assignment())
        h = http_assignment(b, base)
        return a == expect_kafka and h == expect_http
    wait_for(ok, timeout * SLOW, interval=0.01,
             what=f"http {expect_http} and kafka {expect_kafka}")


# the instance's member id sorts first ("a-http-..." < "rdkafka-..."):
# range gives it the first half, roundrobin every other partition
@pytest.mark.parametrize("strategy,mine,theirs", [
    ("range", [0, 1], [2, 3]),
    ("roundrobin", [0, 2], [1, 3])])
def test_shared_group(broker_factory, strategy, mine, theirs):
    b = start(broker_factory)
    create_topic(b, "shared", 4)

    st, r = rest(b, "POST", "/consumers/g-sh",
                 {"name": "a-http", "format": "binary",
                  "auto.offset.reset": "earliest"})
    assert st == 200, r
    base = "/consumers/g-sh/instances/a-http"
    assert rest(b, "POST", base + "/subscription",
                {"topics": ["shared"]})[0] == 204

    # alone, the instance gets every partition
    wait_for(lambda: http_assignment(b, base) == [0, 1, 2, 3], 20 * SLOW,
             what="the instance's assignment")

    c = kafka_consumer(b, "g-sh", strategy)
    seen_kafka = []
    try:
        c.subscribe(["shared"])
        share(b, c, base, seen_kafka, mine, theirs)

        produce(b, "shared", [(p, b"k%d" % p, b"v%d-%d" % (p, i))
                              for p in range(4) for i in range(10)])

        seen_http = []

        def all_seen():
            m = c.poll(0.05)
            if m is not None and not m.error():
                seen_kafka.append((m.partition(), m.offset()))
            st, recs = rest(b, "GET", base + "/records?timeout=50",
                            accept=BINARY)
            assert st == 200, recs
            for g in recs:
                assert base64.b64decode(g["value"]) == \
                    b"v%d-%d" % (g["partition"], g["offset"])
                seen_http.append((g["partition"], g["offset"]))
            return len(seen_http) + len(seen_kafka) >= 40
        wait_for(all_seen, 30 * SLOW, interval=0.01, what="40 records")

        assert sorted(seen_http) == [(p, o) for p in mine
                                     for o in range(10)]
        assert sorted(seen_kafka) == [(p, o) for p in theirs
                                      for o in range(10)]

        # deleting the instance hands its partitions over
        assert rest(b, "DELETE", base)[0] == 204

        def kafka_has_all():
            c.poll(0.05)
            return sorted(p.partition for p in c.assignment()) == \
                [0, 1, 2, 3]
        wait_for(kafka_has_all, 30 * SLOW, interval=0.01,
                 what="the kafka consumer to get every partition")

        # auto commit on delete: the instance's positions were committed
        assert committed(b, "g-sh", "shared", mine) == \
            {p: 10 for p in mine}
    finally:
        c.close()


def test_expiry_returns_partitions(broker_factory):
    b = start(broker_factory, timeout="2s")
    create_topic(b, "exp", 4)

    # the Kafka consumer first: it leads the group and assigns for the
    # instance, from the instance's subscription metadata
    c = kafka_consumer(b, "g-exp")
    try:
        c.subscribe(["exp"])

        def kafka_has_all():
            c.poll(0.05)
            return sorted(p.partition for p in c.assignment()) == \
                [0, 1, 2, 3]
        wait_for(kafka_has_all, 30 * SLOW, interval=0.01,
                 what="the kafka consumer to get every partition")

        st, r = rest(b, "POST", "/consumers/g-exp",
                     {"name": "a-idle", "auto.offset.reset": "earliest"})
        assert st == 200, r
        base = "/consumers/g-exp/instances/a-idle"
        assert rest(b, "POST", base + "/subscription",
                    {"topics": ["exp"]})[0] == 204

        share(b, c, base, [], [0, 1], [2, 3])

        # idle from now on: it expires, leaves, and the group rebalances
        wait_for(kafka_has_all, 30 * SLOW, interval=0.01,
                 what="the kafka consumer to get every partition back")
    finally:
        c.close()

    st, r = rest(b, "GET", base + "/records", accept=BINARY)
    assert st == 404 and r["error_code"] == 40403
    b.wait_log(r"consumer \"a-idle\" of group \"g-exp\" expired")


def test_manual_assignment_and_positions(broker_factory):
    b = start(broker_factory)
    create_topic(b, "man", 2)
    produce(b, "man", [(1, None, b"m%d" % i) for i in range(6)])

    st, r = rest(b, "POST", "/consumers/g-man",
                 {"name": "m", "auto.offset.reset": "latest",
                  "auto.commit.enable": "false"})
    assert st == 200, r
    base = "/consumers/g-man/instances/m"

    st, r = rest(b, "POST", base + "/assignments",
                 {"partitions": [{"topic": "man", "partition": 1}]})
    assert st == 204, r
    assert http_assignment(b, base) == [1]

    # subscribing now is refused: the two are exclusive
    st, r = rest(b, "POST", base + "/subscription", {"topics": ["man"]})
    assert st == 409 and r["error_code"] == 40903

    # latest: nothing yet
    st, recs = rest(b, "GET", base + "/records?timeout=0", accept=BINARY)
    assert (st, recs) == (200, [])

    st, r = rest(b, "POST", base + "/positions",
                 {"offsets": [{"topic": "man", "partition": 1,
                               "offset": 3}]})
    assert st == 204, r
    got = fetch_all(b, base, 3, BINARY)
    assert [(g["offset"], base64.b64decode(g["value"])) for g in got] == \
        [(i, b"m%d" % i) for i in range(3, 6)]

    body = {"partitions": [{"topic": "man", "partition": 1}]}
    assert rest(b, "POST", base + "/positions/beginning", body)[0] == 204
    got = fetch_all(b, base, 6, BINARY)
    assert [g["offset"] for g in got] == list(range(6))

    assert rest(b, "POST", base + "/positions/end", body)[0] == 204
    st, recs = rest(b, "GET", base + "/records?timeout=100", accept=BINARY)
    assert (st, recs) == (200, [])

    # a partition not assigned
    st, r = rest(b, "POST", base + "/positions",
                 {"offsets": [{"topic": "man", "partition": 0,
                               "offset": 0}]})
    assert st == 409 and r["error_code"] == 40903

    # a long poll answered by a record produced while it waits
    t0 = time.monotonic()
    th = threading.Timer(0.3, produce, (b, "man", [(1, None, b"late")]))
    th.start()
    st, recs = rest(b, "GET", base + "/records?timeout=10000",
                    accept=BINARY)
    th.join()
    assert st == 200
    assert [base64.b64decode(g["value"]) for g in recs] == [b"late"]
    assert time.monotonic() - t0 < 8 * SLOW

    # clients that go away in the middle of long polls: their requests
    # end at once
    def connections():
        return json.loads(http_get(b.http_port, "/status")[2])[
            "connections"]

    before = connections()
    for _ in range(3):
        with socket.create_connection(("127.0.0.1", b.http_port)) as sk:
            sk.sendall(("GET %s/records?timeout=20000 HTTP/1.1\r\n"
                        "Host: x\r\nAccept: %s\r\n\r\n"
                        % (base, BINARY)).encode())
            time.sleep(0.1)
    wait_for(lambda: connections() <= before, 5 * SLOW,
             what="the long polls to end with their connections")
    st, recs = rest(b, "GET", base + "/records?timeout=0", accept=BINARY)
    assert (st, recs) == (200, [])

    # commit a manual instance's positions: a group without members
    st, _ = rest(b, "POST", base + "/offsets")
    assert st in (200, 204)
    assert committed(b, "g-man", "man", [1]) == {1: 7}

    assert rest(b, "DELETE", base)[0] == 204


def test_parked_reads_do_not_grow(broker_factory):
    """A parked GET .../records looks again after every append to any
    partition: each look's memory goes with it (it went to the request's
    pool: 100 parked reads grew the workers by ~10 MB per 2000 appends
    elsewhere)."""
    b = start(broker_factory)
    create_topic(b, "idle", 1)
    create_topic(b, "busy", 1)
    base = "/consumers/g-park/instances/p"
    assert rest(b, "POST", "/consumers/g-park", {"name": "p"})[0] == 200
    assert rest(b, "POST", base + "/assignments",
                {"partitions": [{"topic": "idle", "partition": 0}]})[0] \
        == 204

    def rss():
        total = 0
        for pid in b.workers():
            with open(f"/proc/{pid}/status") as f:
                for ln in f:
                    if ln.startswith("RssAnon:"):
                        total += int(ln.split()[1])
        return total

    socks = []
    try:
        for _ in range(100):
            sk = socket.create_connection(("127.0.0.1", b.http_port))
            sk.sendall(("GET %s/records?timeout=60000 HTTP/1.1\r\n"
                        "Host: x\r\nAccept: %s\r\n\r\n"
                        % (base, BINARY)).encode())
            socks.append(sk)
        # every one parked: a look with nothing to read answers nothing
        assert rest(b, "GET", base + "/records?timeout=0",
                    accept=BINARY) == (200, [])
        before = rss()

        # one append at a time: each wakes every parked read
        p = ck.Producer({"bootstrap.servers": b.bootstrap, "linger.ms": 0})
        for _ in range(2000):
            p.produce("busy", value=b"x")
            assert p.flush(10 * SLOW) == 0
        assert rest(b, "GET", base + "/records?timeout=0",
                    accept=BINARY) == (200, [])
        grown = rss() - before
        if not SANITIZED:       # ASan's quarantine holds what is freed
            assert grown < 2 * 1024, f"{grown} KB"
    finally:
        for sk in socks:
            sk.close()


def test_errors(broker_factory):
    b = start(broker_factory)
    create_topic(b, "err", 1)

    for method, path, body in [
            ("GET", "/records", None),
            ("POST", "/subscription", {"topics": ["err"]}),
            ("GET", "/subscription", None),
            ("DELETE", "/subscription", None),
            ("GET", "/assignments", None),
            ("POST", "/positions/end",
             {"partitions": [{"topic": "err", "partition": 0}]}),
            ("POST", "/offsets", None),
            ("DELETE", "", None)]:
        st, r = rest(b, method, "/consumers/nog/instances/nobody" + path,
                     body)
        assert st == 404, (method, path, r)
        assert r["error_code"] == 40403, (method, path, r)

    st, r = rest(b, "POST", "/consumers/g-err", {"name": "x"})
    assert st == 200
    st, r = rest(b, "POST", "/consumers/g-err", {"name": "x"})
    assert st == 409 and r["error_code"] == 40902

    st, r = rest(b, "POST", "/consumers/g-err", {"format": "avro"})
    assert st == 422 and r["error_code"] == 42204

    st, r = rest(b, "POST", "/consumers/g-err",
                 {"auto.offset.reset": "sometimes"})
    assert st == 422 and r["error_code"] == 42204

    # without a name: a generated one, and its base URI
    st, r = rest(b, "POST", "/consumers/g-err", {})
    assert st == 200
    assert r["base_uri"].endswith("/consumers/g-err/instances/"
                                  + r["instance_id"])

    st, r = rest(b, "POST", "/consumers/g-err/instances/x/subscription",
                 {"topics": []})
    assert st == 422

    st, r = rest(b, "POST", "/consumers/g-err/instances/x/subscription",
                 ["not", "an", "object"])
    assert st == 422

    st, r = http_get(b.http_port, "/consumers/g-err/instances/x/offsets",
                     method="POST", headers={"Content-Type": V2},
                     body=b"{not json")[:2]
    assert st == 400

    # the offset named is the last consumed: committing it + 1 must not
    # overflow (it did, and stored a negative offset)
    for off in (2 ** 63 - 1, str(2 ** 63 - 1), -2):
        st, r = rest(b, "POST", "/consumers/g-err/instances/x/offsets",
                     {"offsets": [{"topic": "err", "partition": 0,
                                   "offset": off}]})
        assert st == 422 and r["error_code"] == 42201, (off, st, r)
    assert committed(b, "g-err", "err", [0])[0] < 0

    # a topic pattern
    st, r = rest(b, "POST", "/consumers/g-err/instances/x/subscription",
                 {"topic_pattern": "er+"})
    assert st == 204
    wait_for(lambda: rest(b, "GET",
                          "/consumers/g-err/instances/x/subscription")[1]
             == {"topics": ["err"]}, 10 * SLOW, what="the pattern's topics")

    assert rest(b, "DELETE", "/consumers/g-err/instances/x")[0] == 204


def test_topic_created_after_subscribe(broker_factory):
    b = start(broker_factory)

    st, r = rest(b, "POST", "/consumers/g-late",
                 {"name": "l", "format": "binary",
                  "auto.offset.reset": "earliest"})
    assert st == 200, r
    base = "/consumers/g-late/instances/l"
    assert rest(b, "POST", base + "/subscription",
                {"topics": ["later"]})[0] == 204

    st, recs = rest(b, "GET", base + "/records?timeout=300", accept=BINARY)
    assert (st, recs) == (200, [])

    # the instance notices the new topic and rejoins to be assigned it
    create_topic(b, "later", 2)
    produce(b, "later", [(p, None, b"x%d" % p) for p in range(2)])

    got = fetch_all(b, base, 2, BINARY)
    assert sorted((g["partition"], base64.b64decode(g["value"]))
                  for g in got) == [(0, b"x0"), (1, b"x1")]
    assert http_assignment(b, base) == [0, 1]

    assert rest(b, "DELETE", base)[0] == 204


def test_concurrent_reads_across_workers(broker_factory):
    """Many connections read one instance at once: the requests spread
    over both workers, and every record comes exactly once."""
    b = start(broker_factory)
    create_topic(b, "conc", 2)
    n = 300
    produce(b, "conc", [(i % 2, None, b"c%03d" % i) for i in range(n)])

    st, r = rest(b, "POST", "/consumers/g-conc",
                 {"name": "cc", "auto.offset.reset": "earliest",
                  "auto.commit.enable": "false"})
    assert st == 200, r
    base = "/consumers/g-conc/instances/cc"
    assert rest(b, "POST", base + "/subscription",
                {"topics": ["conc"]})[0] == 204
    wait_for(lambda: http_assignment(b, base) == [0, 1], 20 * SLOW,
             what="the instance's assignment")

    got = []
    lock = threading.Lock()
    deadline = time.monotonic() + 30 * SLOW

    def reader():
        while time.monotonic() < deadline:
            with lock:
                if len(got) >= n:
                    return
            st, recs = rest(b, "GET",
                            base + "/records?timeout=50&max_bytes=24",
                            accept=BINARY)
            assert st == 200, recs
            with lock:
                got.extend((g["partition"], g["offset"],
                            base64.b64decode(g["value"])) for g in recs)

    threads = [threading.Thread(target=reader) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    want = sorted((i % 2, i // 2, b"c%03d" % i) for i in range(n))
    assert sorted(got) == want

    pids = set()
    for line in (b.prefix / "logs" / "access.log").read_text().splitlines():
        pid, status, req = line.split(" ", 2)
        if "/consumers/g-conc/" in req:
            pids.add(pid)
    assert len(pids) == 2, pids


def test_instances_survive_reload(broker_factory):
    b = start(broker_factory)
    create_topic(b, "rl", 1)
    produce(b, "rl", [(0, None, b"r%d" % i) for i in range(4)])

    st, r = rest(b, "POST", "/consumers/g-rl",
                 {"name": "r", "auto.offset.reset": "earliest",
                  "auto.commit.enable": "false"})
    assert st == 200, r
    base = "/consumers/g-rl/instances/r"
    assert rest(b, "POST", base + "/subscription",
                {"topics": ["rl"]})[0] == 204
    got = fetch_all(b, base, 4, BINARY)
    assert [g["offset"] for g in got] == [0, 1, 2, 3]

    # a long poll parked in an old worker is answered when it retires
    polled = []
    t = threading.Thread(target=lambda: polled.append(
        rest(b, "GET", base + "/records?timeout=60000", accept=BINARY)))
    t.start()
    time.sleep(0.3)

    old = b.workers()
    t0 = time.monotonic()
    assert b.signal("reload").returncode == 0
    b.wait_workers(2, exclude=old)
    t.join(30 * SLOW)
    assert polled == [(200, [])]
    assert time.monotonic() - t0 < 20 * SLOW

    # the same instance, membership and position, in the new workers
    produce(b, "rl", [(0, None, b"r4")])
    got = fetch_all(b, base, 1, BINARY)
    assert [(g["offset"], base64.b64decode(g["value"])) for g in got] == \
        [(4, b"r4")]
    assert http_assignment(b, base) == [0]

    st, r = rest(b, "DELETE", base + "/subscription")
    assert st == 204
    assert rest(b, "GET", base + "/subscription") == (200, {"topics": []})
    assert http_assignment(b, base) == []
    assert rest(b, "DELETE", base)[0] == 204
