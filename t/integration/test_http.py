"""The HTTP module over raw sockets (issue 2), beyond what test_core.py
covers: byte-exact static files (a 5 MB one by sendfile), HEAD, the error
statuses with their small bodies, Content-Type from mime.types,
keep-alive to keepalive_requests, pipelining, a request trickled one byte
at a time, directory redirects, and /status counters that move by exact
amounts and sum over the workers (also after one is killed)."""

import hashlib
import json
import os
import re
import signal
import socket
import time

import pytest

from conftest import ROOT, SLOW, pid_alive, proc_stat, wait_for


# ---------------------------------------------------------------- helpers


class Conn:
    """One client connection that reads responses one by one."""

    def __init__(self, port, timeout=10 * SLOW):
        self.sock = socket.create_connection(("127.0.0.1", port),
                                             timeout=timeout)
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self):
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise EOFError("connection closed by the server")
        self.buf += chunk

    def response(self, head=False):
        """(status, headers with lower-case names, body)."""
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        top, _, self.buf = self.buf.partition(b"\r\n\r\n")
        lines = top.decode("latin-1").split("\r\n")
        m = re.match(r"HTTP/1\.1 (\d{3}) ", lines[0])
        assert m, lines[0]
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            assert name.lower() not in headers, ("repeated header", line)
            headers[name.lower()] = value.strip()
        n = 0 if head else int(headers.get("content-length", 0))
        while len(self.buf) < n:
            self._fill()
        body, self.buf = self.buf[:n], self.buf[n:]
        return int(m.group(1)), headers, body

    def closed(self):
        """True when the server closed the connection (nothing extra)."""
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return self.buf == b""
                self.buf += chunk
        except ConnectionResetError:
            return self.buf == b""
        except socket.timeout:
            return False

    def close(self):
        self.sock.close()


def req(path, method="GET", extra=""):
    return (f"{method} {path} HTTP/1.1\r\nHost: localhost\r\n{extra}\r\n"
            ).encode()


def one(port, data, head=False):
    c = Conn(port)
    try:
        c.send(data)
        return c.response(head=head)
    finally:
        c.close()


def status_json(port):
    status, h, body = one(port, req("/status", extra="Connection: close\r\n"))
    assert status == 200
    assert h["content-type"].startswith("application/json"), h
    return json.loads(body)


def fill_html(b):
    html = b.prefix / "html"
    files = {
        "a.txt": b"plain text\n",
        "small.bin": os.urandom(1000),
        "big.bin": os.urandom(5 * 1024 * 1024 + 17),
        "sub/index.html": b"<p>sub index</p>\n",
        "noindex/x.txt": b"x\n",
    }
    for name, data in files.items():
        (html / name).parent.mkdir(parents=True, exist_ok=True)
        (html / name).write_bytes(data)
    return files


HTTP_EXTRA = """
    location /small/ {
        root  html;
        client_max_body_size  1k;
    }
"""


@pytest.fixture
def web(broker_factory):
    b = broker_factory()
    b.write_conf(http=HTTP_EXTRA)
    b.start()
    b.files = fill_html(b)
    return b


# ---------------------------------------------------------------- files


def test_static_files_byte_exact(web):
    port = web.http_port
    for name, data in web.files.items():
        status, h, body = one(port, req("/" + name))
        assert status == 200, name
        assert int(h["content-length"]) == len(data), name
        assert len(body) == len(data), name
        assert hashlib.sha256(body).digest() == \
            hashlib.sha256(data).digest(), name


def test_big_file_on_a_keepalive_connection_then_more(web):
    """The 5 MB file goes by sendfile in many writes; the connection is
    still in step for the next request."""
    c = Conn(web.http_port)
    try:
        c.send(req("/big.bin"))
        status, h, body = c.response()
        assert status == 200
        assert body == web.files["big.bin"]
        c.send(req("/a.txt"))
        assert c.response()[2] == b"plain text\n"
    finally:
        c.close()


def test_empty_file_and_not_modified(web):
    (web.prefix / "html" / "empty.txt").write_bytes(b"")
    c = Conn(web.http_port)
    try:
        c.send(req("/empty.txt"))
        status, h, body = c.response()
        assert (status, h["content-length"], body) == (200, "0", b"")

        c.send(req("/a.txt"))
        status, h, _ = c.response()
        lm = h["last-modified"]
        assert lm.endswith(" GMT")

        c.send(req("/a.txt", extra=f"If-Modified-Since: {lm}\r\n"))
        status, h, body = c.response(head=True)
        assert status == 304
        assert "content-length" not in h

        # no body went with the 304: the next reply follows at once
        c.send(req("/a.txt"))
        assert c.response()[2] == b"plain text\n"
    finally:
        c.close()


def test_head_has_the_get_headers_and_no_body(web):
    port = web.http_port
    for name in ("a.txt", "big.bin"):
        _, get_h, _ = one(port, req("/" + name))
        status, h, body = one(port, req("/" + name, "HEAD"), head=True)
        assert status == 200
        assert h["content-length"] == get_h["content-length"]
        assert h["content-type"] == get_h["content-type"]
        assert body == b""

    # nothing after the HEAD's header: the next reply starts right there
    c = Conn(port)
    try:
        c.send(req("/big.bin", "HEAD") + req("/a.txt"))
        assert c.response(head=True)[0] == 200
        assert c.response()[2] == b"plain text\n"
    finally:
        c.close()


def test_content_type_from_mime_types(web):
    types = {}
    text = (ROOT / "conf" / "mime.types").read_text()
    for m in re.finditer(r"^\s*([\w.+-]+/[\w.+-]+)\s+([^;]+);", text, re.M):
        for ext in m.group(2).split():
            types.setdefault(ext, m.group(1))
    assert len(types) > 20

    html = web.prefix / "html"
    for ext in ("html", "css", "txt", "js", "json", "png", "svg", "pdf",
                "wasm", "csv"):
        assert ext in types, ext
        (html / f"f.{ext}").write_bytes(b"x")
        status, h, _ = one(web.http_port, req(f"/f.{ext}"))
        assert status == 200
        assert h["content-type"].split(";")[0] == types[ext], ext

    # unknown: default_type of the generated conf
    (html / "f.unknownext").write_bytes(b"x")
    _, h, _ = one(web.http_port, req("/f.unknownext"))
    assert h["content-type"] == "application/octet-stream"


# ---------------------------------------------------------------- errors


def small_error(status, h, body, code):
    assert status == code, (status, body)
    assert int(h["content-length"]) == len(body)
    assert 0 < len(body) < 1024
    assert str(code).encode() in body


def test_404_405(web):
    port = web.http_port
    status, h, body = one(port, req("/no/such/file"))
    small_error(status, h, body, 404)

    for method in ("POST", "DELETE", "PUT"):
        status, h, body = one(port, req("/a.txt", method,
                                        "Content-Length: 0\r\n"))
        small_error(status, h, body, 405)
        assert "GET" in h["allow"]

    # 404 and 405 keep the connection
    c = Conn(port)
    try:
        c.send(req("/missing") + req("/a.txt", "DELETE") + req("/a.txt"))
        assert c.response()[0] == 404
        assert c.response()[0] == 405
        assert c.response()[2] == b"plain text\n"
    finally:
        c.close()


@pytest.mark.parametrize("name,data,code", [
    ("bad-line", b"GARBAGE\r\n\r\n", 400),
    ("bad-header", b"GET / HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n",
     400),
    ("two-hosts", b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
    ("bad-length", b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: x\r\n\r\n",
     400),
    ("too-large-body", b"POST /small/a HTTP/1.1\r\nHost: a\r\n"
     b"Content-Length: 2048\r\n\r\n", 413),
    ("too-long-uri", b"GET /" + b"u" * 9000 + b" HTTP/1.1\r\nHost: a\r\n\r\n",
     414),
    ("too-large-header", b"GET / HTTP/1.1\r\nHost: a\r\n"
     + b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 100) for i in range(100))
     + b"\r\n", 431),
])
def test_errors_have_small_bodies_and_close(web, name, data, code):
    c = Conn(web.http_port)
    try:
        c.send(data)
        status, h, body = c.response()
        small_error(status, h, body, code)
        assert h.get("connection", "").lower() == "close", h
        assert c.closed()
    finally:
        c.close()

    # the worker is fine
    assert one(web.http_port, req("/a.txt"))[2] == b"plain text\n"


def test_refused_body_is_discarded_and_the_connection_kept(web):
    big = b"y" * 100000
    chunked = b"5\r\nhello\r\n400\r\n" + b"z" * 1024 + b"\r\n0\r\n\r\n"
    c = Conn(web.http_port)
    try:
        c.send(b"POST /a.txt HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n"
               b"\r\n" % len(big) + big + req("/a.txt"))
        assert c.response()[0] == 405
        assert c.response()[2] == b"plain text\n"

        c.send(b"POST /a.txt HTTP/1.1\r\nHost: a\r\n"
               b"Transfer-Encoding: chunked\r\n\r\n" + chunked
               + req("/a.txt"))
        assert c.response()[0] == 405
        assert c.response()[2] == b"plain text\n"
    finally:
        c.close()


def test_413_by_content_length_only_where_limited(web):
    body = b"y" * 2048
    head = (b"POST /a.txt HTTP/1.1\r\nHost: a\r\nContent-Length: 2048\r\n"
            b"\r\n")
    # the default limit (1m) lets it through to the 405 of static files
    status, _, _ = one(web.http_port, head + body)
    assert status == 405


# ---------------------------------------------------------------- keep-alive


def test_1000_requests_on_one_connection(web):
    """keepalive_requests is 1000 by default: the last one says close."""
    c = Conn(web.http_port)
    try:
        for i in range(1000):
            c.send(req("/a.txt"))
            status, h, body = c.response()
            assert (status, body) == (200, b"plain text\n"), i
            if i < 999:
                assert h.get("connection", "keep-alive").lower() \
                    != "close", i
        assert h["connection"].lower() == "close"
        assert c.closed()
    finally:
        c.close()


def test_pipelining(web):
    names = ["a.txt", "small.bin", "sub/index.html", "missing", "a.txt"] * 20
    data = b"".join(req("/" + n) for n in names)
    data += req("/a.txt", "HEAD") + req("/small.bin")
    c = Conn(web.http_port)
    try:
        c.send(data)
        for n in names:
            status, _, body = c.response()
            if n == "missing":
                assert status == 404
            else:
                assert (status, body) == (200, web.files[n]), n
        assert c.response(head=True)[0] == 200
        assert c.response()[2] == web.files["small.bin"]
    finally:
        c.close()


def test_pipelined_requests_across_the_buffer_end(web):
    """Requests that straddle the end of the header buffer (8k) are moved
    to its start, never taken for a too long one."""
    pad = "x" * 700
    data = b"".join(req(f"/a.txt?{pad}{i}") for i in range(40))
    c = Conn(web.http_port)
    try:
        c.send(data)
        for i in range(40):
            assert c.response()[0] == 200, i
    finally:
        c.close()


def test_request_trickled_one_byte_at_a_time(web):
    c = Conn(web.http_port)
    try:
        c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for byte in req("/a.txt", extra="X-Slow: yes\r\n"):
            c.send(bytes([byte]))
            time.sleep(0.002)
        assert c.response()[2] == b"plain text\n"

        # and again on the same connection
        for byte in req("/small.bin"):
            c.send(bytes([byte]))
        assert c.response()[2] == web.files["small.bin"]
    finally:
        c.close()


def test_directory_redirects(web):
    status, h, body = one(web.http_port, req("/sub"))
    assert status == 301
    assert h["location"].endswith("/sub/"), h
    assert len(body) < 1024

    status, h, _ = one(web.http_port, req("/sub?x=1&y=2"))
    assert status == 301
    assert h["location"].endswith("/sub/?x=1&y=2"), h

    status, _, body = one(web.http_port, req("/sub/"))
    assert (status, body) == (200, web.files["sub/index.html"])

    # a directory without an index is not listed
    status, _, _ = one(web.http_port, req("/noindex/"))
    assert status in (403, 404)


def test_no_way_out_of_root(web):
    (web.prefix / "secret.txt").write_bytes(b"secret\n")
    for uri in ("/../secret.txt", "/%2e%2e/secret.txt", "/..%2fsecret.txt",
                "/sub/../../secret.txt", "/sub/%2E%2E/%2e%2e/secret.txt",
                "/a.txt%00.html", "\\..\\secret.txt", "/.."):
        status, _, body = one(web.http_port, req(uri))
        assert status in (400, 403, 404), uri
        assert b"secret" not in body, uri

    # what normalises to a path inside the root is served
    for uri in ("/./a.txt", "//a.txt", "/sub/../a.txt", "/%61.txt"):
        status, _, body = one(web.http_port, req(uri))
        assert (status, body) == (200, b"plain text\n"), uri


# ---------------------------------------------------------------- /status


def established_by_pid(port, pids):
    """Established server-side sockets of port, per pid (from /proc)."""
    inodes = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = open(table).read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            f = line.split()
            local_port = int(f[1].rsplit(":", 1)[1], 16)
            if local_port == port and f[3] == "01":
                inodes[f[9]] = True
    out = {}
    for pid in pids:
        n = 0
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                try:
                    link = os.readlink(f"/proc/{pid}/fd/{fd}")
                except OSError:
                    continue
                m = re.match(r"socket:\[(\d+)\]", link)
                if m and m.group(1) in inodes:
                    n += 1
        except OSError:
            pass
        out[pid] = n
    return out


def test_status_counters_move_by_exact_amounts(web):
    port = web.http_port
    s1 = status_json(port)

    # 7 connections with 3 requests each, then the second /status
    for _ in range(7):
        c = Conn(port)
        for _ in range(3):
            c.send(req("/a.txt"))
            assert c.response()[0] == 200
        c.close()

    calls = []

    def settled():
        calls.append(1)
        s = status_json(port)
        return s if s["connections"] == 1 else None
    s2 = wait_for(settled, 5 * SLOW, what="closed connections counted")

    # every /status call is a connection and a request of its own
    calls = len(calls)
    assert s2["accepted"] - s1["accepted"] == 7 + calls
    assert s2["handled"] - s1["handled"] == 7 + calls
    assert s2["requests"] - s1["requests"] == 21 + calls
    assert s2["workers"] == 2


def open_spread(port, pids, per_worker=3, limit=100):
    """Connections held open until every worker has per_worker of them.
    An idle worker first in line would take them all (EPOLLEXCLUSIVE
    wakes one waiter), so a worker that has its share is stopped
    meanwhile: a stopped worker waits in no epoll_wait and is passed
    over (once it is stopped: the signal alone does not take it off)."""
    conns = []
    stopped = []
    try:
        while len(conns) < limit:
            counts = established_by_pid(port, pids)
            if min(counts.values()) >= per_worker:
                return conns, counts
            for pid, n in counts.items():
                if n >= per_worker and pid not in stopped:
                    os.kill(pid, signal.SIGSTOP)
                    stopped.append(pid)
                    # off its epoll_wait only once it is really stopped
                    wait_for(lambda: proc_stat(pid)[3] == "T", 5 * SLOW,
                             what=f"worker {pid} to stop")
            c = Conn(port)
            conns.append(c)
            c.send(req("/a.txt"))
            assert c.response()[0] == 200
    finally:
        for pid in stopped:
            os.kill(pid, signal.SIGCONT)
    for c in conns:
        c.close()
    raise AssertionError(f"connections not spread: {counts}")


def test_status_sums_connections_over_two_workers(web):
    port = web.http_port
    workers = web.workers()
    assert len(workers) == 2
    conns, _ = open_spread(port, workers)
    try:
        counts = established_by_pid(port, workers)
        s = status_json(port)
        # the /status connection itself is open while it is answered
        assert s["connections"] == sum(counts.values()) + 1
        assert s["connections"] == len(conns) + 1
        assert s["workers"] == 2
    finally:
        for c in conns:
            c.close()

    wait_for(lambda: status_json(port)["connections"] == 1, 5 * SLOW,
             what="the connections to be closed")


def test_status_connections_after_a_worker_is_killed(web):
    """A worker killed with connections open does not leave them counted
    (the master zeroes its slot)."""
    port = web.http_port
    workers = web.workers()
    conns, counts = open_spread(port, workers)
    try:
        victim = workers[0]
        survivor_count = counts[workers[1]]
        os.kill(victim, signal.SIGKILL)
        wait_for(lambda: not pid_alive(victim), 5 * SLOW, what="the kill")
        web.wait_workers(2, exclude=[victim])

        def settled():
            s = status_json(port)
            return s if s["connections"] == survivor_count + 1 else None
        s = wait_for(settled, 5 * SLOW, what="the dead worker's slot reset")
        assert s["workers"] == 2
    finally:
        for c in conns:
            c.close()

    wait_for(lambda: status_json(port)["connections"] == 1, 5 * SLOW,
             what="the connections to be closed")


def test_process_titles(web):
    def title(pid):
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().split(b"\0")[0].decode()

    master = title(web.master_pid)
    assert master.startswith("sluice: master process "), master
    assert str(web.prefix) in master
    for w in web.workers():
        assert title(w) == "sluice: worker process"
