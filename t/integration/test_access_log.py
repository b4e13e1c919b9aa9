"""The HTTP access log (issue 7): log_format and access_log in nginx's
manner.  Requests of every kind (200, 404, 405 with a body, HEAD,
pipelined keep-alive, a bad request line, a client that goes away) give
exactly the lines expected in the predefined "combined" format, in a
custom one and with escape=json; two workers under concurrent load write
exactly one whole line per request; `access_log off` and a location's own
log; reopening after a rename (SIGUSR1 and `sluice -s reopen`); a buffered
log is complete after a graceful stop; configuration errors name the file
and line."""

import json
import os
import re
import signal
import socket
import threading
import time

import pytest

from conftest import SLOW, INDEX_HTML, wait_for


TIME_LOCAL = r"\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}"
ISO8601 = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d"


# ---------------------------------------------------------------- helpers


class Conn:
    """A client connection that reads responses one at a time and keeps
    the raw bytes, so that $bytes_sent can be checked exactly."""

    def __init__(self, port, timeout=10 * SLOW):
        self.sock = socket.create_connection(("127.0.0.1", port),
                                             timeout=timeout)
        self.buf = b""

    @property
    def port(self):
        return self.sock.getsockname()[1]

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self):
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise EOFError("connection closed by the server")
        self.buf += chunk

    def response(self, head=False):
        """(status, headers, body, raw bytes of the whole response)."""
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        top, _, rest = self.buf.partition(b"\r\n\r\n")
        lines = top.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.lower()] = value.strip()
        n = 0 if head else int(headers.get("content-length", 0))
        self.buf = rest
        while len(self.buf) < n:
            self._fill()
        body, self.buf = self.buf[:n], self.buf[n:]
        return status, headers, body, len(top) + 4, n

    def close(self):
        self.sock.close()


def req(path, method="GET", extra="", body=b""):
    if body:
        extra += f"Content-Length: {len(body)}\r\n"
    return (f"{method} {path} HTTP/1.1\r\nHost: localhost\r\n{extra}\r\n"
            ).encode() + body


def read_lines(path):
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    assert data == b"" or data.endswith(b"\n"), data[-200:]
    return data.decode("utf-8", errors="replace").splitlines()


def wait_lines(path, n, timeout=10 * SLOW):
    """The lines of path once there are at least n of them."""
    return wait_for(lambda: (lambda ls: ls if len(ls) >= n else None)(
        read_lines(path)), timeout, what=f"{n} lines in {path.name}")


def conf_line(text, needle):
    """The 1-based line of the configuration text holding needle."""
    for i, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return i
    raise AssertionError(needle)


CUSTOM = ("log_format  custom  '$remote_addr:$remote_port '\n"
          "    '$request_method $request_uri $uri $args $server_protocol '\n"
          "    '$status $body_bytes_sent $bytes_sent $request_length '\n"
          "    '$request_time $host \"$http_x_test_header\" $connection '\n"
          "    '$connection_requests $pid $msec $time_iso8601 "
          "${status}x';\n")

CUSTOM_RE = re.compile(
    r"^127\.0\.0\.1:(?P<port>\d+) (?P<method>\S+) (?P<request_uri>\S+) "
    r"(?P<uri>\S+) (?P<args>\S+) (?P<proto>\S+) (?P<status>\d{3}) "
    r"(?P<body>\d+) (?P<sent>\d+) (?P<length>\d+) "
    r"(?P<time>\d+\.\d{3}) (?P<host>\S*) \"(?P<hdr>[^\"]*)\" "
    r"(?P<conn>\d+) (?P<creq>\d+) (?P<pid>\d+) (?P<msec>\d+\.\d{3}) "
    r"(?P<iso>" + ISO8601 + r") (?P=status)x$")

JSON_FMT = ("log_format  js  escape=json\n"
            "    '{\"uri\":\"$request_uri\",\"ua\":\"$http_user_agent\",'\n"
            "    '\"ref\":\"$http_referer\",\"status\":$status}';\n")

LOGS = """
    client_header_timeout  1s;
    log_format  plain  escape=none  '$request|$http_user_agent';
    access_log  logs/access.log;
    access_log  logs/custom.log  custom;
    access_log  logs/json.log  js;
    access_log  logs/plain.log  plain;
"""


@pytest.fixture
def logged(broker_factory):
    b = broker_factory()
    b.write_conf(http=CUSTOM + JSON_FMT + LOGS)
    b.start()
    b.logs = b.prefix / "logs"
    return b


def combined(request, status, size, referer="-", ua="-"):
    return (r"^127\.0\.0\.1 - - \[" + TIME_LOCAL + r"\] \""
            + re.escape(request) + r"\" " + str(status) + " " + str(size)
            + r" \"" + re.escape(referer) + r"\" \"" + re.escape(ua)
            + r"\"$")


# ---------------------------------------------------------------- formats


def test_combined_custom_and_json_lines(logged):
    b = logged
    port = b.http_port
    index_len = len(INDEX_HTML.encode())

    # 200 with a referer and an agent, then a 404, a 405 whose body is
    # discarded, and a HEAD, all on one keep-alive connection
    c = Conn(port)
    try:
        r1 = req("/?a=1&b=2", extra="Referer: http://ref.example/x\r\n"
                 "User-Agent: curl/8.0 (test)\r\nX-Test-Header: hello\r\n")
        c.send(r1)
        s1, _, body1, hl1, bl1 = c.response()
        assert (s1, body1) == (200, INDEX_HTML.encode())

        r2 = req("/no/such", extra="User-Agent: ua2\r\n")
        c.send(r2)
        s2, _, _, hl2, bl2 = c.response()
        assert s2 == 404

        r3 = req("/index.html", "POST", body=b"x" * 1000)
        c.send(r3)
        s3, _, _, hl3, bl3 = c.response()
        assert s3 == 405

        r4 = req("/", "HEAD")
        c.send(r4)
        s4, h4, _, hl4, bl4 = c.response(head=True)
        assert s4 == 200 and int(h4["content-length"]) == index_len
        assert bl4 == 0
        cport = c.port
    finally:
        c.close()

    lines = wait_lines(b.logs / "access.log", 4)
    assert len(lines) == 4, lines
    assert re.match(combined("GET /?a=1&b=2 HTTP/1.1", 200, index_len,
                             "http://ref.example/x", "curl/8.0 (test)"),
                    lines[0]), lines[0]
    assert re.match(combined("GET /no/such HTTP/1.1", 404, bl2, ua="ua2"),
                    lines[1]), lines[1]
    assert re.match(combined("POST /index.html HTTP/1.1", 405, bl3),
                    lines[2]), lines[2]
    assert re.match(combined("HEAD / HTTP/1.1", 200, 0), lines[3]), lines[3]

    custom = wait_lines(b.logs / "custom.log", 4)
    assert len(custom) == 4
    ms = [CUSTOM_RE.match(line) for line in custom]
    assert all(ms), custom
    m1, m2, m3, m4 = ms
    workers = set(b.workers())
    for m, raw, status, hl, bl, n in ((m1, r1, 200, hl1, bl1, 1),
                                      (m2, r2, 404, hl2, bl2, 2),
                                      (m3, r3, 405, hl3, bl3, 3),
                                      (m4, r4, 200, hl4, bl4, 4)):
        assert int(m["port"]) == cport
        assert int(m["status"]) == status
        assert int(m["body"]) == bl
        assert int(m["sent"]) == hl + bl
        assert int(m["length"]) == len(raw)
        assert int(m["creq"]) == n
        assert m["conn"] == m1["conn"]
        assert int(m["pid"]) in workers
        assert m["host"] == "localhost"
        assert m["proto"] == "HTTP/1.1"
        assert abs(float(m["msec"]) - time.time()) < 60
        assert float(m["time"]) < 60
    assert (m1["method"], m1["request_uri"], m1["uri"], m1["args"],
            m1["hdr"]) == ("GET", "/?a=1&b=2", "/", "a=1&b=2", "hello")
    # no arguments and no such header: "-"
    assert (m2["request_uri"], m2["args"], m2["hdr"]) == \
        ("/no/such", "-", "-")
    assert m3["method"] == "POST" and m4["method"] == "HEAD"

    js = [json.loads(line) for line in wait_lines(b.logs / "json.log", 4)]
    assert js[0] == {"uri": "/?a=1&b=2", "ua": "curl/8.0 (test)",
                     "ref": "http://ref.example/x", "status": 200}
    # a missing value is an empty string in JSON
    assert js[1] == {"uri": "/no/such", "ua": "ua2", "ref": "",
                     "status": 404}


def test_escaping(logged):
    b = logged
    ua = 'say "hi" \\ back\tnow \xe9t\xe9'
    c = Conn(b.http_port)
    try:
        c.send(b'GET /q?x="y" HTTP/1.1\r\nHost: a\r\nUser-Agent: '
               + ua.encode("utf-8") + b"\r\n\r\n")
        assert c.response()[0] == 404
    finally:
        c.close()

    line = wait_lines(b.logs / "access.log", 1)[0]
    # nginx's default escaping: '"', '\' and bytes outside 0x20-0x7e
    assert line.endswith(
        r'"GET /q?x=\x22y\x22 HTTP/1.1" 404 '
        + line.split(" 404 ")[1].split(" ")[0]
        + r' "-" "say \x22hi\x22 \x5C back\x09now \xC3\xA9t\xC3\xA9"'), line

    js = json.loads(wait_lines(b.logs / "json.log", 1)[0])
    assert js["ua"] == ua and js["uri"] == '/q?x="y"'

    raw = (b.logs / "plain.log").read_bytes()
    assert raw == ('GET /q?x="y" HTTP/1.1|' + ua + "\n").encode("utf-8")


def test_pipelined_keepalive_and_connection_counters(logged):
    b = logged
    c = Conn(b.http_port)
    try:
        c.send(req("/p1") + req("/p2") + req("/?p3")
               + req("/p4", extra="Connection: close\r\n"))
        statuses = [c.response()[0] for _ in range(4)]
    finally:
        c.close()
    assert statuses == [404, 404, 200, 404]

    ms = [CUSTOM_RE.match(line)
          for line in wait_lines(b.logs / "custom.log", 4)]
    assert all(ms)
    assert [m["request_uri"] for m in ms] == ["/p1", "/p2", "/?p3", "/p4"]
    assert [int(m["creq"]) for m in ms] == [1, 2, 3, 4]
    assert len({m["conn"] for m in ms}) == 1


def test_bad_and_abandoned_requests_are_logged(logged):
    """Requests that end without a normal response still get a line."""
    b = logged
    port = b.http_port

    # an invalid request line: 400 and close
    c = Conn(port)
    try:
        c.send(b"GARBAGE\r\n\r\n")
        assert c.response()[0] == 400
    finally:
        c.close()
    wait_lines(b.logs / "access.log", 1)

    # a client that goes away in the middle of its header: 400, as nginx
    c = Conn(port)
    c.send(b"GET /half HTTP/1.1\r\nHost: x\r\n")
    time.sleep(0.2)
    c.close()
    wait_lines(b.logs / "access.log", 2)

    # a client that goes away in the middle of its body
    c = Conn(port)
    c.send(b"POST /index.html HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n"
           b"\r\nonly some")
    time.sleep(0.2)
    c.close()

    wait_lines(b.logs / "access.log", 3)

    # a client too slow with its header: 408 (client_header_timeout 1s)
    c = Conn(port)
    try:
        c.send(b"GET /slow HTTP/1.1\r\nHost: x\r\n")
        lines = wait_lines(b.logs / "access.log", 4)
    finally:
        c.close()

    assert len(lines) == 4, lines
    assert re.search(r'\] "-" 400 \d+ "-" "-"$', lines[0]), lines[0]
    assert re.search(r'\] "GET /half HTTP/1.1" 400 0 "-" "-"$', lines[1]), \
        lines[1]
    assert re.search(r'\] "POST /index.html HTTP/1.1" \d{3} \d+ ', lines[2]), \
        lines[2]
    assert re.search(r'\] "GET /slow HTTP/1.1" 408 0 "-" "-"$', lines[3]), \
        lines[3]

    # and the workers are fine
    c = Conn(port)
    try:
        c.send(req("/"))
        assert c.response()[0] == 200
    finally:
        c.close()
    assert len(wait_lines(b.logs / "access.log", 5)) == 5


# ---------------------------------------------------------------- load


def test_two_workers_concurrent_load_whole_lines(broker_factory):
    """2000 requests from 8 threads over both workers: exactly one whole
    line per request, in an unbuffered and a buffered log; long lines make
    any interleaving visible."""
    b = broker_factory()
    b.write_conf(workers=2, http="""
    log_format  load  '$pid $args $request_length $status $http_x_pad';
    access_log  logs/load.log  load;
    access_log  logs/buffered.log  load  buffer=16k  flush=1h;
""")
    b.start()
    port = b.http_port
    total, nthreads = 2000, 8
    pad = "p" * 1500
    errors = []

    def client(k):
        try:
            for i in range(k, total, nthreads):
                # a new connection each time, so both workers take some
                c = Conn(port)
                try:
                    c.send(req(f"/?id={i:05d}",
                               extra=f"X-Pad: {pad}{i}\r\n"
                               "Connection: close\r\n"))
                    assert c.response()[0] == 200
                finally:
                    c.close()
        except Exception as e:  # noqa: BLE001 -- reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=client, args=(k,))
               for k in range(nthreads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:5]

    line_re = re.compile(r"^(\d+) id=(\d{5}) (\d+) 200 " + pad
                         + r"(\d+)$")
    workers = set(b.workers())

    def check(lines):
        ids = []
        for line in lines:
            m = line_re.match(line)
            assert m, line[:300]
            assert int(m[1]) in workers
            assert m[2] == "%05d" % int(m[4])
            ids.append(int(m[4]))
        assert sorted(ids) == list(range(total))
        return {int(line.split()[0]) for line in lines}

    lines = wait_lines(b.prefix / "logs" / "load.log", total)
    assert len(lines) == total
    pids = check(lines)
    print("lines per worker:",
          {p: sum(1 for x in lines if x.startswith(f"{p} ")) for p in pids})

    # the buffered log: whole buffers, written at the latest on exit
    b.stop()
    buffered = read_lines(b.prefix / "logs" / "buffered.log")
    assert len(buffered) == total
    check(buffered)


def test_buffered_log_flushed_by_its_timer(broker_factory):
    """A buffer far from full still reaches the file after flush=."""
    b = broker_factory()
    b.write_conf(workers=1, http="    access_log  logs/access.log  combined"
                 "  buffer=64k  flush=300ms;\n")
    b.start()
    c = Conn(b.http_port)
    try:
        c.send(req("/one") + req("/two"))
        assert [c.response()[0] for _ in range(2)] == [404, 404]
        lines = wait_lines(b.prefix / "logs" / "access.log", 2)
    finally:
        c.close()
    assert [line.split('"')[1] for line in lines] == \
        ["GET /one HTTP/1.1", "GET /two HTTP/1.1"]


# ---------------------------------------------------------------- off


def test_off_and_a_location_own_log(broker_factory):
    b = broker_factory()
    b.write_conf(http="""
    access_log  logs/access.log;

    location /quiet/ {
        root  html;
        access_log  off;
    }

    location /own/ {
        root  html;
        access_log  logs/own.log  combined;
    }
""")
    b.start()
    logs = b.prefix / "logs"
    port = b.http_port
    c = Conn(port)
    try:
        for path in ("/quiet/x", "/own/y", "/z", "/quiet/", "/status"):
            c.send(req(path))
            c.response()
    finally:
        c.close()

    # on one connection a request is logged before the next one is read,
    # so once the last line is there every other is too
    lines = wait_lines(logs / "access.log", 2)
    assert [line.split('"')[1] for line in lines] == \
        ["GET /z HTTP/1.1", "GET /status HTTP/1.1"]
    assert [line.split('"')[1] for line in read_lines(logs / "own.log")] \
        == ["GET /own/y HTTP/1.1"]


# ---------------------------------------------------------------- reopen


@pytest.mark.parametrize("how", ["signal", "sluice -s reopen"])
def test_reopen_after_rename(broker_factory, how):
    b = broker_factory()
    b.write_conf(workers=2, http="    access_log  logs/access.log;\n")
    b.start()
    logs = b.prefix / "logs"
    port = b.http_port

    def get(path):
        c = Conn(port)
        try:
            c.send(req(path, extra="Connection: close\r\n"))
            c.response()
        finally:
            c.close()

    for i in range(4):
        get(f"/before{i}")
    wait_lines(logs / "access.log", 4)

    os.rename(logs / "access.log", logs / "access.log.1")
    reopened = len(re.findall("reopening logs", b.error_log()))

    if how == "signal":
        b.kill(signal.SIGUSR1)
    else:
        r = b.signal("reopen")
        assert r.returncode == 0, r.stdout + r.stderr

    # the master and both workers reopen
    wait_for(lambda: len(re.findall("reopening logs", b.error_log()))
             >= reopened + 3, 10 * SLOW, what="three reopens")
    assert (logs / "access.log").exists()

    for i in range(6):
        get(f"/after{i}")

    new = wait_lines(logs / "access.log", 6)
    old = read_lines(logs / "access.log.1")
    # two workers: the order of lines is the order of their writes
    assert sorted(line.split('"')[1] for line in old) == \
        [f"GET /before{i} HTTP/1.1" for i in range(4)]
    assert sorted(line.split('"')[1] for line in new) == \
        [f"GET /after{i} HTTP/1.1" for i in range(6)]


def test_reload_changes_the_format(broker_factory):
    """A reload opens the log again in the new cycle; the new workers
    write the new format to the same file."""
    b = broker_factory()
    conf = "    log_format  f  'one $request_uri';\n" \
           "    access_log  logs/access.log  f;\n"
    b.write_conf(workers=1, http=conf)
    b.start()
    logs = b.prefix / "logs"

    def get(path):
        c = Conn(b.http_port)
        try:
            c.send(req(path, extra="Connection: close\r\n"))
            c.response()
        finally:
            c.close()

    get("/a")
    wait_lines(logs / "access.log", 1)
    old = b.workers()

    b.write_conf(workers=1, http=conf.replace("one", "two"))
    r = b.signal("reload")
    assert r.returncode == 0, r.stdout + r.stderr
    b.wait_workers(1, exclude=old)

    get("/b")
    assert wait_lines(logs / "access.log", 2) == ["one /a", "two /b"]


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize("snippet,needle,message", [
    ("    log_format  bad  '$remote_addr $no_such_var';\n",
     "log_format  bad", 'unknown "no_such_var" variable'),
    ("    log_format  bad  '${status';\n",
     "log_format  bad", 'the closing bracket in "status" variable is '
     'missing'),
    ("    log_format  bad  'a $ b';\n",
     "log_format  bad", "invalid variable name"),
    ("    log_format  bad  escape=xml  '$status';\n",
     "log_format  bad", 'unknown log format escaping "xml"'),
    ("    log_format  combined  '$status';\n",
     "log_format  combined", 'duplicate "log_format" name "combined"'),
    ("    access_log  logs/a.log  nosuch;\n",
     "access_log  logs/a.log", 'unknown log format "nosuch"'),
    ("    access_log  logs/a.log  combined  buffer=zz;\n",
     "access_log  logs/a.log", 'invalid buffer size "zz"'),
    ("    access_log  logs/a.log  combined  flush=1s;\n",
     "access_log  logs/a.log", '"flush" needs "buffer"'),
    ("    access_log  logs/a.log  combined  gzip;\n",
     "access_log  logs/a.log", 'invalid parameter "gzip"'),
])
def test_config_errors_name_file_and_line(broker_factory, snippet, needle,
                                           message):
    b = broker_factory()
    path = b.write_conf(http=snippet)
    line = conf_line(path.read_text(), needle)
    rc, out = b.test_conf()
    assert rc != 0, out
    assert f"{message}" in out, out
    assert f"in {path}:{line}" in out, out


def test_default_conf_has_an_access_log(broker_factory):
    """conf/broker.conf logs HTTP requests in the combined format."""
    from conftest import ROOT
    text = (ROOT / "conf" / "broker.conf").read_text()
    http = text[text.index("\nhttp {"):]
    assert re.search(r"^\s*access_log\s+logs/access\.log\s+combined;",
                     http, re.M), http[:600]
