"""A parked request gives its header buffer back (issue 7, SSE memory):
an event stream frees the connection's 8 KB header buffer once its
header is out, after moving what the request still points at (request
line, URI, args, headers) into the request's pool.  The access log line
written when the stream ends must still be right (request line, status,
bytes sent, $http_* headers, also a long header set and a request with
pipelined bytes behind it), and 200 parked watchers must not disturb
keep-alive requests on the same workers."""

import json
import re
import select
import socket
import time

import pytest

from conftest import SLOW, wait_for


CLUSTER = "ssemem-cluster"

LOG = """
    log_format  sse  '$request|$request_method|$request_uri|$uri|$args|'
                     '$server_protocol|$status|$bytes_sent|$body_bytes_sent|'
                     '$request_length|$host|$http_user_agent|'
                     '$http_last_event_id|$http_x_h29|$connection_requests';
    access_log  logs/sse.log  sse;
    location /v3/ { rest_proxy on; }
"""

BLOCKS = """
log {
    data_dir  data;
}

kafka {
    listen               127.0.0.1:@PORT_kafka@;
    advertised_listener  127.0.0.1:@PORT_kafka@;
    cluster_id           %s;
    auto_create_topics   off;
    topic one   { partitions 1; }
    topic many  { partitions 1; }
}
""" % CLUSTER


@pytest.fixture
def b(broker_factory):
    b = broker_factory("b")
    b.write_conf(workers=2, http=LOG, blocks=BLOCKS, worker_connections=2048)
    b.start()
    b.log = b.prefix / "logs" / "sse.log"
    return b


def topic_path(topic, what):
    return f"/v3/clusters/{CLUSTER}/topics/{topic}/{what}"


def events_path(topic, query):
    return topic_path(topic, "partitions/0/events") + "?" + query


class Raw:
    """A raw connection that counts every byte the server sends."""

    def __init__(self, port, data):
        self.s = socket.create_connection(("127.0.0.1", port),
                                          timeout=10 * SLOW)
        self.s.sendall(data)
        self.raw = b""
        self.closed = False

    def pump(self, timeout):
        r, _, _ = select.select([self.s], [], [], timeout)
        if not r:
            return False
        data = self.s.recv(1 << 20)
        if not data:
            self.closed = True
            return False
        self.raw += data
        return True

    def wait(self, needle, timeout=15 * SLOW):
        deadline = time.monotonic() + timeout
        while needle not in self.raw and time.monotonic() < deadline:
            if not self.pump(0.1) and self.closed:
                break
        assert needle in self.raw, self.raw[-300:]

    def close(self):
        self.s.close()


def produce(port, topic, value):
    """One record over REST v3 on a keep-alive connection."""
    c = KeepAlive(port)
    body = json.dumps({"value": {"type": "STRING", "data": value}})
    st, data = c.request("POST", topic_path(topic, "records"), body,
                         "Content-Type: application/json\r\n")
    c.close()
    assert st == 200, data
    return json.loads(data)["offset"]


class KeepAlive:
    """Requests one after another on one HTTP/1.1 connection."""

    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port),
                                          timeout=10 * SLOW)
        self.buf = b""
        self.n = 0

    def request(self, method, path, body="", extra=""):
        data = body.encode()
        head = (f"{method} {path} HTTP/1.1\r\nHost: localhost\r\n{extra}"
                + (f"Content-Length: {len(data)}\r\n" if data else "")
                + "\r\n")
        self.s.sendall(head.encode() + data)
        return self.response()

    def response(self):
        while b"\r\n\r\n" not in self.buf:
            chunk = self.s.recv(1 << 16)
            assert chunk, "the server closed a keep-alive connection"
            self.buf += chunk
        top, _, rest = self.buf.partition(b"\r\n\r\n")
        lines = top.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        hdrs = {}
        for ln in lines[1:]:
            k, _, v = ln.partition(":")
            hdrs[k.strip().lower()] = v.strip()
        assert hdrs.get("connection") == "keep-alive", top
        n = int(hdrs["content-length"])
        while len(rest) < n:
            chunk = self.s.recv(1 << 16)
            assert chunk
            rest += chunk
        self.buf = rest[n:]
        self.n += 1
        return status, rest[:n]

    def close(self):
        self.s.close()


def log_lines(b, n):
    def have():
        try:
            lines = b.log.read_text().splitlines()
        except FileNotFoundError:
            return None
        return lines if len(lines) >= n else None
    return wait_for(have, 15 * SLOW, what=f"{n} lines in sse.log")


def find_line(lines, needle):
    hits = [ln for ln in lines if needle in ln]
    assert len(hits) == 1, (needle, lines)
    return hits[0].split("|")


def test_access_log_of_streams(b):
    """Status, bytes sent, request line and request headers of streams
    that ended after their header buffer went back."""
    port = b.http_port
    produce(port, "one", "first")
    produce(port, "one", "second")

    # 1: a plain stream from the start, with a decoded URI and args
    q1 = "offset=earliest&format=string&keepalive=3600"
    p1 = events_path("one", q1)
    raw1 = p1.replace("/events?", "/%65vents?")
    ua = "Mozilla/5.0 (X11; Linux x86_64) sse-mem-test"
    r1 = Raw(port, (f"GET {raw1} HTTP/1.1\r\nHost: watch.example\r\n"
                    f"User-Agent: {ua}\r\nAccept: text/event-stream\r\n"
                    f"\r\n").encode())

    # 2: thirty long headers (the header buffer is more than half full)
    # and a resume point
    hdrs = "".join(f"X-H{i}: {'v%d-' % i * 40}end\r\n" for i in range(30))
    p2 = events_path("one", "format=string&keepalive=3600")
    r2 = Raw(port, (f"GET {p2} HTTP/1.1\r\nHost: h2\r\n{hdrs}"
                    f"Last-Event-ID: 0\r\n\r\n").encode())

    # 3: a stream with a pipelined request behind it in the same packet
    # (the buffer is kept: those bytes are not the stream's)
    p3 = events_path("one", "offset=1&format=string&keepalive=3600")
    r3 = Raw(port, (f"GET {p3} HTTP/1.1\r\nHost: h3\r\n\r\n"
                    f"GET /v3/clusters HTTP/1.1\r\nHost: h3\r\n\r\n"
                    ).encode())

    for r in (r1, r2, r3):
        r.wait(b'"second"')

    # a record while they are parked reaches all three
    produce(port, "one", "third")
    for r in (r1, r2, r3):
        r.wait(b'"third"')
        # nothing more is coming: everything sent is counted
        while r.pump(0.3):
            pass

    for r in (r1, r2, r3):
        r.close()

    lines = log_lines(b, 6)

    f1 = find_line(lines, "|watch.example|")
    assert f1[0] == f"GET {raw1} HTTP/1.1"
    assert f1[1] == "GET"
    assert f1[2] == raw1
    assert f1[3] == p1.split("?")[0]
    assert f1[4] == q1
    assert f1[5] == "HTTP/1.1"
    assert f1[6] == "200"
    assert int(f1[7]) == len(r1.raw), (f1, len(r1.raw))
    head1 = r1.raw.index(b"\r\n\r\n") + 4
    assert int(f1[8]) == len(r1.raw) - head1
    assert r1.raw.count(b"event: record") == 3
    assert f1[11] == ua
    assert f1[12] == "-"
    assert f1[14] == "1"

    f2 = find_line(lines, "|h2|")
    assert f2[0] == f"GET {p2} HTTP/1.1"
    assert f2[6] == "200"
    assert int(f2[7]) == len(r2.raw)
    assert r2.raw.count(b"event: record") == 2
    assert f2[12] == "0"
    assert f2[13] == "v29-" * 40 + "end"
    assert int(f2[9]) > 30 * 160

    f3 = find_line(lines, "|h3|")
    assert f3[0] == f"GET {p3} HTTP/1.1"
    assert f3[6] == "200"
    assert int(f3[7]) == len(r3.raw)
    assert r3.raw.count(b"event: record") == 2
    # the stream ends the connection: the pipelined request never runs
    assert b"KafkaClusterList" not in r3.raw


def test_parked_watchers_and_keepalive(b):
    """200 watchers parked over two workers while keep-alive connections
    go on with their requests (GETs, POSTs with bodies) before, during
    and after a record that reaches every watcher."""
    port = b.http_port
    produce(port, "many", "before")

    kas = [KeepAlive(port) for _ in range(4)]

    def keepalive_round(tag):
        for i, c in enumerate(kas):
            st, data = c.request("GET", f"/v3/clusters/{CLUSTER}"
                                 f"/topics/many/partitions/0/records"
                                 f"?offset=0&limit=1&format=string&t={tag}")
            assert st == 200, data
            assert json.loads(data)["data"][0]["value"] == "before"
            body = json.dumps({"value": {"type": "STRING",
                                         "data": f"ka-{tag}-{i}"}})
            st, data = c.request("POST", topic_path("one", "records"),
                                 body,
                                 "Content-Type: application/json\r\n")
            assert st == 200, data

    keepalive_round("a")

    q = "offset=latest&format=string&keepalive=3600"
    n = 200
    ws = [Raw(port, (f"GET {events_path('many', q)} HTTP/1.1\r\n"
                     f"Host: w{i}\r\n\r\n").encode()) for i in range(n)]
    for w in ws:
        w.wait(b"\r\n\r\n")
        assert w.raw.startswith(b"HTTP/1.1 200 "), w.raw[:100]

    keepalive_round("b")

    produce(port, "many", "hello all")
    pending = set(range(n))
    deadline = time.monotonic() + 20 * SLOW
    while pending and time.monotonic() < deadline:
        r, _, _ = select.select([ws[i].s for i in pending], [], [], 0.5)
        for s in r:
            i = next(i for i in pending if ws[i].s is s)
            ws[i].pump(0)
            if b'"hello all"' in ws[i].raw:
                pending.discard(i)
    assert not pending, f"{len(pending)} watchers got nothing"

    keepalive_round("c")

    for w in ws:
        assert w.raw.count(b"event: record") == 1
        w.close()

    keepalive_round("d")
    for c in kas:
        assert c.n == 8
        c.close()

    # every watcher is logged once with its status when it goes
    lines = log_lines(b, 1 + 4 * 8 + n + 1)
    watchers = [ln.split("|") for ln in lines
                if re.search(r"\|w\d+\|", ln)]
    assert len(watchers) == n
    assert {f[10] for f in watchers} == {f"w{i}" for i in range(n)}
    assert all(f[6] == "200" and int(f[7]) > 0 for f in watchers)
    kept = [ln.split("|") for ln in lines if "|localhost|" in ln]
    assert sorted(int(f[14]) for f in kept
                  if "/records?offset=0" in f[0]) == sorted(
        [1, 3, 5, 7] * 4)
