"""Reading records over HTTP (issue 7): the browse endpoint
GET /v3/clusters/{c}/topics/{t}/partitions/{p}/records and Server-Sent
Events of a partition or a whole topic.  Records come from real Kafka
clients (confluent-kafka with lz4 and zstd batches, kcat); streams are
read by raw sockets that decode the chunked coding and the event format
themselves, and by curl -N.  A stream sees what was produced after it
connected, in order; Last-Event-ID resumes it without gaps or repeats;
200 idle watchers all get a new record; a client that goes away or stops
reading disturbs nobody."""

import base64
import json
import os
import select
import shutil
import socket
import struct
import subprocess
import time

import pytest

from conftest import SANITIZED, SLOW, http_get, wait_for


KCAT = shutil.which("kcat")
CURL = shutil.which("curl")
CLUSTER = "sse-test-cluster"

HTTP = """
    location /v3/ { rest_proxy on; }
"""

CONF = """
log {
    data_dir  data;
}

kafka {
    listen               127.0.0.1:@PORT_kafka@;
    advertised_listener  127.0.0.1:@PORT_kafka@;
    cluster_id           %s;
    auto_create_topics   off;
    topic one    { partitions 1; }
    topic three  { partitions 3; }
    topic browse { partitions 1; }
    topic many   { partitions 1; }
    topic big    { partitions 1; }
}
""" % CLUSTER


def start(factory, workers=2):
    b = factory("b")
    b.write_conf(workers=workers, http=HTTP, blocks=CONF,
                 worker_connections=2048)
    b.start()
    b.bootstrap = f"127.0.0.1:{b.port('kafka')}"
    return b


@pytest.fixture
def b(broker_factory):
    # stopped, and checked for sanitizer reports, by the factory
    return start(broker_factory)


def path(topic, partition=None, what="events", query=""):
    p = f"/v3/clusters/{CLUSTER}/topics/{topic}"
    if partition is not None:
        p += f"/partitions/{partition}"
    p += "/" + what
    return p + ("?" + query if query else "")


# ------------------------------------------------------------ clients


def produce(b, topic, recs, codec="none", partition=None):
    """confluent-kafka: recs of (key, value, headers, timestamp);
    batches of many records (linger) so compressed ones hold several."""
    ck = pytest.importorskip("confluent_kafka")
    p = ck.Producer({"bootstrap.servers": b.bootstrap, "acks": "all",
                     "compression.type": codec, "linger.ms": 50,
                     "batch.num.messages": 1000})
    errors = []

    def done(err, msg):
        if err is not None:
            errors.append(err)

    for key, value, headers, ts in recs:
        kw = {}
        if partition is not None:
            kw["partition"] = partition
        if ts is not None:
            kw["timestamp"] = ts
        p.produce(topic, key=key, value=value, headers=headers or None,
                  on_delivery=done, **kw)
    assert p.flush(30 * SLOW) == 0
    assert errors == []


def kcat_produce(b, topic, lines, partition=0):
    if KCAT is None:
        pytest.skip("kcat is not installed")
    r = subprocess.run([KCAT, "-P", "-b", b.bootstrap, "-t", topic,
                        "-p", str(partition)],
                       input=b"".join(x + b"\n" for x in lines),
                       capture_output=True, timeout=30 * SLOW)
    assert r.returncode == 0, r.stderr


class SSE:
    """A raw HTTP/1.1 client of one event stream: decodes the chunked
    coding and the events (id, event, data) as a browser would."""

    def __init__(self, port, path, last_id=None, http10=False, rcvbuf=None):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            # before connect, so the window scale agrees with it
            self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.s.settimeout(10)
        self.s.connect(("127.0.0.1", port))
        hdr = f"Last-Event-ID: {last_id}\r\n" if last_id is not None else ""
        ver = "HTTP/1.0" if http10 else "HTTP/1.1"
        self.s.sendall(f"GET {path} {ver}\r\nHost: x\r\n"
                       f"Accept: text/event-stream\r\n{hdr}\r\n".encode())
        self.raw = b""
        self.status = None
        self.headers = {}
        self.body = b""          # de-chunked
        self.text = ""
        self.events = []
        self.comments = []
        self.closed = False

    def fileno(self):
        return self.s.fileno()

    def close(self):
        self.s.close()

    def pump(self, timeout):
        """Read what arrives within timeout (at least one recv)."""
        r, _, _ = select.select([self.s], [], [], timeout)
        if not r:
            return False
        try:
            data = self.s.recv(1 << 20)
        except (ConnectionResetError, socket.timeout):
            data = b""
        if not data:
            self.closed = True
            return False
        self.raw += data
        self._parse()
        return True

    def _parse(self):
        if self.status is None:
            head, sep, rest = self.raw.partition(b"\r\n\r\n")
            if not sep:
                return
            lines = head.decode().split("\r\n")
            self.status = int(lines[0].split()[1])
            for ln in lines[1:]:
                k, _, v = ln.partition(":")
                self.headers[k.strip().lower()] = v.strip()
            self.raw = rest
        if self.headers.get("transfer-encoding") == "chunked":
            while True:
                line, sep, rest = self.raw.partition(b"\r\n")
                if not sep:
                    break
                size = int(line, 16)
                if len(rest) < size + 2:
                    break
                assert rest[size:size + 2] == b"\r\n"
                self.body += rest[:size]
                self.raw = rest[size + 2:]
                if size == 0:
                    self.closed = True
        else:
            self.body += self.raw
            self.raw = b""
        if self.status != 200:
            return
        text = self.body.decode()
        while "\n\n" in text:
            block, _, text = text.partition("\n\n")
            ev = {}
            for ln in block.split("\n"):
                if ln.startswith(":"):
                    self.comments.append(ln)
                    continue
                k, _, v = ln.partition(":")
                v = v[1:] if v.startswith(" ") else v
                ev[k] = ev[k] + "\n" + v if k in ev else v
            if "data" in ev:
                ev["json"] = json.loads(ev["data"])
                self.events.append(ev)
        self.body = text.encode()

    def wait_status(self, timeout=10 * SLOW):
        wait_for(lambda: self.pump(0.05) or self.status is not None
                 or self.closed, timeout, what="the response header")
        assert self.status is not None, "closed without a response"
        return self.status

    def wait_events(self, n, timeout=15 * SLOW):
        deadline = time.monotonic() + timeout
        while len(self.events) < n and time.monotonic() < deadline:
            if not self.pump(0.1) and self.closed:
                break
        assert len(self.events) >= n, \
            f"{len(self.events)} of {n} events (closed: {self.closed})"
        return self.events

    def quiet(self, t=0.3):
        """Nothing more arrives for t seconds."""
        n = len(self.events)
        end = time.monotonic() + t
        while time.monotonic() < end:
            self.pump(0.05)
        return len(self.events) == n


def records(tag, n, t0=1700000000000):
    out = []
    for i in range(n):
        key = None if i % 5 == 0 else b"%s-k%d" % (tag, i)
        value = (b"" if i % 7 == 3
                 else b"%s value %d " % (tag, i) * (1 + i % 6))
        headers = ([("i", b"%d" % i), ("bin", bytes([0, 255, i % 256]))]
                   if i % 2 else [])
        out.append((key, value, headers, t0 + i))
    return out


def b64(x):
    return None if x is None else base64.b64encode(x).decode()


def check_binary(ev_json, rec, offset):
    key, value, headers, ts = rec
    assert ev_json["offset"] == offset
    assert ev_json["key"] == b64(key)
    assert ev_json["value"] == b64(value)
    assert ev_json["timestamp"] == ts
    assert [(h["key"], h["value"]) for h in ev_json["headers"]] == \
        [(k, b64(v)) for k, v in headers]


def disk_batches(b, topic, partition=0):
    """(codec, records_count) of every batch on disk."""
    out = []
    for seg in sorted((b.prefix / "data").glob(f"{topic}-{partition}/*.log")):
        data = seg.read_bytes()
        pos = 0
        while pos + 61 <= len(data):
            length, = struct.unpack_from(">i", data, pos + 8)
            if length <= 0 or pos + 12 + length > len(data):
                break
            attributes, = struct.unpack_from(">h", data, pos + 21)
            count, = struct.unpack_from(">i", data, pos + 57)
            out.append((attributes & 7, count))
            pos += 12 + length
    return out


def worker_rss(b):
    total = 0
    for pid in b.workers():
        with open(f"/proc/{pid}/status") as f:
            for ln in f:
                if ln.startswith("RssAnon:"):
                    total += int(ln.split()[1])
    return total


# ------------------------------------------------------------ tests


@pytest.mark.parametrize("codec", ["lz4", "zstd"])
def test_live_partition_stream_in_order(b, codec):
    """A stream opened at the end sees records produced after it, by
    confluent-kafka in compressed batches and by kcat, in order; format
    string gives UTF-8 text, binary bytes as base64."""
    ck = pytest.importorskip("confluent_kafka")
    produce(b, "one", records(b"old", 5))

    s = SSE(b.http_port, path("one", 0, query="format=binary"))
    assert s.wait_status() == 200
    assert s.headers["content-type"].startswith("text/event-stream")
    assert s.headers["cache-control"] == "no-cache"
    assert "content-length" not in s.headers
    assert s.headers["transfer-encoding"] == "chunked"

    txt = SSE(b.http_port, path("one", 0))
    assert txt.wait_status() == 200
    assert s.quiet(0.2) and s.events == []

    recs = records(codec.encode(), 60)
    produce(b, "one", recs, codec=codec)
    kcat_produce(b, "one", [b"kcat line %d" % i for i in range(10)])

    evs = s.wait_events(70)
    assert [int(e["id"]) for e in evs] == list(range(5, 75))
    assert all(e["event"] == "record" for e in evs)
    for i, rec in enumerate(recs):
        check_binary(evs[i]["json"], rec, 5 + i)
    for i in range(10):
        assert base64.b64decode(evs[60 + i]["json"]["value"]) == \
            b"kcat line %d" % i
    assert evs[0]["json"]["topic"] == "one"
    assert evs[0]["json"]["partition"] == 0

    tev = txt.wait_events(70)
    for i, rec in enumerate(recs):
        j = tev[i]["json"]
        assert j["value"] == rec[1].decode()
        assert j["key"] == (None if rec[0] is None else rec[0].decode())
        if rec[2]:
            hs = {h["key"]: h for h in j["headers"]}
            assert hs["i"]["value"] == rec[2][0][1].decode()
            # not UTF-8: base64, and said so
            assert hs["bin"]["encoding"] == "base64"
            assert base64.b64decode(hs["bin"]["value"]) == rec[2][1][1]
    assert tev[65]["json"]["value"] == "kcat line 5"

    # the stored batches really were compressed, several records each
    codec_id = {"lz4": 3, "zstd": 4}[codec]
    assert any(c == codec_id and n > 1 for c, n in disk_batches(b, "one"))
    assert s.quiet(0.2)
    s.close()
    txt.close()
    assert ck is not None


def test_resume_partition_with_last_event_id(b):
    """Reconnecting with the last id seen resumes right after it: no gap,
    no repeat, and new records keep coming."""
    recs = records(b"r", 40)
    produce(b, "one", recs, codec="zstd")

    q = "offset=earliest&format=binary"
    s = SSE(b.http_port, path("one", 0, query=q))
    evs = s.wait_events(15)
    s.close()
    seen = [int(e["id"]) for e in evs]
    assert seen == list(range(len(seen)))

    # the browser sends the same URL again, with the last id seen
    s2 = SSE(b.http_port, path("one", 0, query=q), last_id=seen[-1])
    more = records(b"s", 10)
    evs2 = s2.wait_events(40 - len(seen))
    produce(b, "one", more)
    evs2 = s2.wait_events(50 - len(seen))
    ids = seen + [int(e["id"]) for e in evs2]
    assert ids == list(range(50))
    for i, rec in enumerate(recs + more):
        j = (evs + evs2)[i]["json"]
        check_binary(j, rec, i)
    assert s2.quiet(0.3)
    s2.close()

    # offset=N and latest
    s3 = SSE(b.http_port, path("one", 0, query="offset=45"))
    assert [int(e["id"]) for e in s3.wait_events(5)] == list(range(45, 50))
    s3.close()


def test_last_event_id_at_the_offset_limit(b):
    """A Last-Event-ID of the largest offset is past the end: the stream
    starts at the end (its + 1 overflowed: undefined, and in practice a
    replay from the log start)."""
    produce(b, "one", records(b"x", 3))
    s = SSE(b.http_port, path("one", 0, query="format=binary"),
            last_id=2 ** 63 - 1)
    assert s.wait_status() == 200
    produce(b, "one", records(b"y", 1))
    assert [int(e["id"]) for e in s.wait_events(1)] == [3]
    s.close()


def test_resume_topic_stream(b):
    """The whole topic's stream: id is every partition's next offset;
    resuming from any id gives exactly the records not yet seen."""
    ck = pytest.importorskip("confluent_kafka")
    recs = [(b"key-%d" % i, b"v%d" % i, [], None) for i in range(90)]
    produce(b, "three", recs, codec="lz4")

    s = SSE(b.http_port, path("three", query="offset=earliest"))
    evs = s.wait_events(30)
    s.close()
    last = evs[-1]["id"]
    nexts = [int(x) for x in last.split(",")]
    assert len(nexts) == 3

    s2 = SSE(b.http_port, path("three"), last_id=last)
    rest = s2.wait_events(90 - len(evs))
    assert s2.quiet(0.3)

    got = [(e["json"]["partition"], e["json"]["offset"], e["json"]["value"])
           for e in evs + rest]
    assert len(got) == len(set(got)) == 90
    assert sorted(v for _, _, v in got) == sorted("v%d" % i
                                                    for i in range(90))
    # per partition in order, ids consistent with what was delivered
    for p in range(3):
        offs = [o for q, o, _ in got if q == p]
        assert offs == list(range(len(offs)))
    for e in evs + rest:
        j = e["json"]
        assert int(e["id"].split(",")[j["partition"]]) == j["offset"] + 1

    # new records on every partition reach a live topic stream
    produce(b, "three", [(b"new-%d" % i, b"n%d" % i, [], None)
                         for i in range(9)])
    new = s2.wait_events(90 - len(evs) + 9)[-9:]
    assert sorted(e["json"]["value"] for e in new) == \
        sorted("n%d" % i for i in range(9))
    s2.close()
    assert ck is not None


def test_browse_by_offset_and_time(b):
    """Browse returns byte-exact keys, values and headers of what
    confluent-kafka produced (compressed), by offset and by timestamp,
    with next_offset for the next page."""
    t0 = 1710000000000
    recs = records(b"br", 30, t0=t0)
    produce(b, "browse", recs, codec="zstd")

    st, hd, body = http_get(b.http_port, path("browse", 0, "records",
                                              "offset=0&limit=10"
                                              "&format=binary"))
    assert st == 200, body
    assert hd["content-type"].startswith("application/json")
    j = json.loads(body)
    assert j["kind"] == "KafkaRecordList"
    assert len(j["data"]) == 10 and j["next_offset"] == 10
    for i, r in enumerate(j["data"]):
        check_binary(r, recs[i], i)

    # the next page, then past the end
    j = json.loads(http_get(b.http_port, path(
        "browse", 0, "records", "offset=10&limit=1000&format=binary"))[2])
    assert [r["offset"] for r in j["data"]] == list(range(10, 30))
    assert j["next_offset"] == 30
    for r in j["data"]:
        check_binary(r, recs[r["offset"]], r["offset"])
    j = json.loads(http_get(b.http_port, path(
        "browse", 0, "records", "offset=30"))[2])
    assert j["data"] == [] and j["next_offset"] == 30

    # by time: the first record at or after the timestamp
    j = json.loads(http_get(b.http_port, path(
        "browse", 0, "records", f"timestamp={t0 + 17}&limit=3"))[2])
    assert [r["offset"] for r in j["data"]] == [17, 18, 19]
    assert [r["timestamp"] for r in j["data"]] == [t0 + 17, t0 + 18, t0 + 19]
    assert j["data"][0]["value"] == recs[17][1].decode()
    assert j["data"][0]["key"] == recs[17][0].decode()
    assert [h["value"] for h in j["data"][0]["headers"]
            if h["key"] == "i"] == ["17"]

    # format json: JSON values parsed, others as strings
    produce(b, "browse", [(b'{"a":1}', b'[1,"x",{"b":null}]', [], None),
                          (None, b"not json", [], None)])
    j = json.loads(http_get(b.http_port, path(
        "browse", 0, "records", "offset=30&format=json"))[2])
    assert j["data"][0]["key"] == {"a": 1}
    assert j["data"][0]["value"] == [1, "x", {"b": None}]
    assert j["data"][1]["key"] is None
    assert j["data"][1]["value"] == "not json"

    # the default: from the log start, 100 at most
    j = json.loads(http_get(b.http_port, path("browse", 0, "records"))[2])
    assert [r["offset"] for r in j["data"]] == list(range(32))


def test_errors(b):
    """Unknown topics, partitions and clusters get the JSON 404; bad
    arguments a 400; the broker goes on serving."""
    cases = [
        (path("nosuch", 0, "records"), 404, 40403),
        (path("nosuch", 0), 404, 40403),
        (path("nosuch"), 404, 40403),
        (path("one", 7, "records"), 404, 404),
        (path("one", 7), 404, 404),
        (path("one", "x"), 404, 404),
        (path("one", 0, "records").replace(CLUSTER, "other"), 404, 404),
        (path("one").replace(CLUSTER, "other"), 404, 404),
        (path("one", 0, "records", "limit=0"), 400, 400),
        (path("one", 0, "records", "offset=abc"), 400, 400),
        (path("one", 0, "records", "format=avro"), 400, 400),
        (path("one", 0, query="offset=soon"), 400, 400),
    ]
    for p, status, code in cases:
        st, hd, body = http_get(b.http_port, p)
        assert st == status, (p, body)
        assert hd["content-type"].startswith("application/json")
        assert json.loads(body)["error_code"] == code, (p, body)
    st, _, body = http_get(b.http_port, path("one", 0),
                           headers={"Last-Event-ID": "x"})
    assert st == 400
    st, _, _ = http_get(b.http_port, path("one", 0, "records"))
    assert st == 200


def test_many_idle_watchers(b):
    """200 idle watchers over two workers; one new record reaches every
    one of them.  Reports the workers' memory per watcher."""
    produce(b, "many", [(None, b"before", [], None)])
    rss0 = worker_rss(b)
    n = 200
    ws = [SSE(b.http_port, path("many", 0)) for _ in range(n)]
    for w in ws:
        assert w.wait_status() == 200
    rss1 = worker_rss(b)
    per = (rss1 - rss0) * 1024 / n
    print(f"\nworkers' RSS per idle watcher: {per:.0f} bytes")

    produce(b, "many", [(b"k", b"hello all", [], None)])
    t = time.monotonic()
    pending = set(range(n))
    deadline = time.monotonic() + 20 * SLOW
    while pending and time.monotonic() < deadline:
        r, _, _ = select.select([ws[i] for i in pending], [], [], 0.5)
        for w in r:
            w.pump(0)
            if w.events:
                pending.discard(ws.index(w))
    print(f"one record reached {n} watchers "
          f"{(time.monotonic() - t) * 1000:.0f} ms after its ack")
    assert not pending, f"{len(pending)} watchers got nothing"
    for w in ws:
        assert len(w.events) == 1
        assert w.events[0]["json"]["value"] == "hello all"
        assert w.events[0]["id"] == "1"
    for w in ws:
        w.close()

    # every stream was freed: nothing is left parked
    st, _, body = http_get(b.http_port, "/status")
    assert st == 200


def test_disconnect_and_slow_reader(b):
    """A client closing mid-stream, and one that stops reading while
    megabytes are produced, disturb neither the other clients nor the
    broker; the stalled one is not buffered without bound."""
    ck = pytest.importorskip("confluent_kafka")
    a = SSE(b.http_port, path("big", 0, query="format=binary"))
    gone = SSE(b.http_port, path("big", 0))
    # a receive buffer that fills soon
    stalled = SSE(b.http_port, path("big", 0), rcvbuf=8192)
    for s in (a, gone, stalled):
        assert s.wait_status() == 200

    value = os.urandom(20000)
    produce(b, "big", [(None, value, [], None)] * 5)
    gone.wait_events(2)
    gone.close()

    rss0 = worker_rss(b)
    n = 300
    produce(b, "big", [(b"%d" % i, value, [], None) for i in range(n)],
            codec="lz4")
    evs = a.wait_events(5 + n)
    assert [int(e["id"]) for e in evs] == list(range(5 + n))
    assert all(base64.b64decode(e["json"]["value"]) == value for e in evs)
    rss1 = worker_rss(b)
    # ~8 MB of events went by; the stalled stream holds a chunk, not them
    if not SANITIZED:
        assert rss1 - rss0 < 6 * 1024, (rss0, rss1)

    # the stalled one gets everything once it reads again
    evs = stalled.wait_events(5 + n, timeout=30 * SLOW)
    assert [int(e["id"]) for e in evs] == list(range(5 + n))
    stalled.close()
    a.close()

    # curl -N, HTTP/1.0 (close-delimited)
    if CURL:
        r = subprocess.run([CURL, "-s", "-N", "-m", "2", "--http1.0",
                            f"http://127.0.0.1:{b.http_port}"
                            + path("big", 0, query="offset=304")],
                           capture_output=True, timeout=30)
        assert r.returncode == 28      # stopped by -m
        assert r.stdout.startswith(b"id: 304\nevent: record\ndata: {")
    assert ck is not None


def test_keepalive_comment(b):
    """An idle stream gets a ': keepalive' comment (every 15 s; the
    keepalive argument shortens it for this test)."""
    s = SSE(b.http_port, path("one", 0, query="keepalive=1"))
    assert s.wait_status() == 200
    wait_for(lambda: s.pump(0.1) or s.comments, 5 * SLOW,
             what="a keepalive comment")
    assert s.comments[0] == ": keepalive"
    s.close()


def test_same_worker_appends_wake_streams(broker_factory):
    """With one worker every append (Kafka or REST produce) happens in
    the process where the streams wait: they are woken all the same, and
    a stream ends when its topic is deleted."""
    b = start(broker_factory, workers=1)
    s = SSE(b.http_port, path("one", 0))
    t = SSE(b.http_port, path("three"))
    assert s.wait_status() == 200 and t.wait_status() == 200

    kcat_produce(b, "one", [b"first"])
    assert s.wait_events(1)[0]["json"]["value"] == "first"

    # over HTTP (v3 produce: sl_rest_produce), once that route exists
    st, _, body = http_get(b.http_port, "/v3/clusters/%s/topics/three/"
                           "records" % CLUSTER, method="POST",
                           headers={"Content-Type": "application/json"},
                           body=json.dumps({"partition_id": 1, "value": {
                               "type": "STRING", "data": "over http"}}))
    if st == 200:
        ev = t.wait_events(1)[0]
        assert ev["json"]["value"] == "over http"
        assert ev["json"]["partition"] == 1
        assert ev["id"] == "0,1,0"

    kcat_produce(b, "three", [b"k2"], partition=2)
    assert t.wait_events(1 + (st == 200))[-1]["json"]["value"] == "k2"

    ck = pytest.importorskip("confluent_kafka.admin")
    admin = ck.AdminClient({"bootstrap.servers": b.bootstrap})
    admin.delete_topics(["three"])["three"].result(timeout=30 * SLOW)
    kcat_produce(b, "one", [b"second"])     # a wake-up for the check
    wait_for(lambda: t.pump(0.1) or t.closed, 10 * SLOW,
             what="the deleted topic's stream to end")
    assert s.wait_events(2)[1]["json"]["value"] == "second"
    s.close()
    t.close()


def test_reload_ends_streams_and_they_resume(b):
    """A reload retires the workers: their streams end at once (no
    waiting for clients that never leave), and reconnecting with
    Last-Event-ID to the new workers misses nothing."""
    kcat_produce(b, "one", [b"a%d" % i for i in range(3)])
    s = SSE(b.http_port, path("one", 0, query="offset=earliest"))
    evs = s.wait_events(3)
    b.signal("reload")
    wait_for(lambda: s.pump(0.1) or s.closed, 10 * SLOW,
             what="the stream of a retired worker to end")
    kcat_produce(b, "one", [b"b%d" % i for i in range(3)])
    s2 = SSE(b.http_port, path("one", 0, query="offset=earliest"),
             last_id=evs[-1]["id"])
    evs2 = s2.wait_events(3)
    assert [e["json"]["value"] for e in evs2] == ["b0", "b1", "b2"]
    assert [int(e["id"]) for e in evs2] == [3, 4, 5]
    assert s2.quiet(0.2)
    s2.close()
