"""The core over real sockets (issue 2): configuration testing, static
files and /status, many keep-alive clients, reload under load, worker
respawn, graceful quit, log reopening, a daemon, a dynamic module, bad
requests, and worker_connections running out."""

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time

import pytest

from conftest import (ROOT, SLOW, build_dynamic_module, http_get,
                      pid_alive, raw_request, wait_for)


# ---------------------------------------------------------------- -t -T -V


def test_t_accepts_the_default_conf(broker_factory):
    b = broker_factory()
    shutil.copy(ROOT / "conf" / "broker.conf", b.prefix / "conf")
    rc, out = b.test_conf(conf=b.prefix / "conf" / "broker.conf")
    assert rc == 0, out
    # -t starts nothing: no pid file, no process left
    assert b.read_pid() is None
    assert not b.session_pids()


def test_T_dumps_the_conf(broker_factory):
    b = broker_factory()
    b.write_conf()
    r = b.run("-T")
    assert r.returncode == 0, r.stderr
    out = r.stdout + r.stderr
    assert "worker_connections" in out
    assert str(b.http_port) in out


def test_V_and_h(sluice_bin):
    r = subprocess.run([str(sluice_bin), "-V"], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    out = r.stdout + r.stderr
    assert re.search(r"sluice", out, re.I), out
    assert "sl_http_module" in out, out
    r = subprocess.run([str(sluice_bin), "-h"], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    out = r.stdout + r.stderr
    for flag in ("-p", "-c", "-t", "-s", "-g"):
        assert flag in out, out


BROKEN = [
    # (name, text, file, line) -- the error must name file:line
    ("unknown directive",
     "worker_processes 1;\nerror_log logs/error.log info;\n"
     "no_such_directive on;\nevents { worker_connections 64; }\n",
     "broken.conf", 3),
    ("directive in the wrong context",
     "worker_processes 1;\nworker_connections 64;\n"
     "events { worker_connections 64; }\n",
     "broken.conf", 2),
    ("invalid number",
     "error_log logs/error.log info;\nworker_processes lots;\n"
     "events { worker_connections 64; }\n",
     "broken.conf", 2),
    ("wrong number of arguments",
     "worker_processes 1;\n\npid;\nevents { worker_connections 64; }\n",
     "broken.conf", 3),
    ("unexpected }",
     "worker_processes 1;\nevents {\n    worker_connections 64;\n}\n}\n",
     "broken.conf", 5),
    ("duplicate block",
     "worker_processes 1;\nevents { worker_connections 64; }\n"
     "events { worker_connections 64; }\n",
     "broken.conf", 3),
    ("error in an included file",
     "worker_processes 1;\ninclude extra.conf;\n"
     "events { worker_connections 64; }\n",
     "extra.conf", 2),
]


@pytest.mark.parametrize("name,text,file,line", BROKEN,
                         ids=[c[0] for c in BROKEN])
def test_t_rejects_broken_conf_naming_file_and_line(broker_factory, name,
                                                    text, file, line):
    b = broker_factory()
    (b.prefix / "conf" / "extra.conf").write_text(
        "# included\nerror_log logs/error.log info bogus;\n")
    conf = b.write_conf(text=text, name="broken.conf")
    rc, out = b.test_conf(conf=conf)
    assert rc != 0, out
    assert re.search(re.escape(file) + ":" + str(line) + r"\b", out), out
    assert b.read_pid() is None


# ---------------------------------------------------------------- static


def fill_html(b):
    html = b.prefix / "html"
    (html / "a.txt").write_text("plain text\n")
    (html / "style.css").write_text("p { color: red; }\n")
    (html / "data.json").write_text('{"a": 1}\n')
    (html / "sub").mkdir(exist_ok=True)
    (html / "sub" / "page.html").write_text("<p>sub</p>\n")
    big = os.urandom(1 << 20)
    (html / "big.bin").write_bytes(big)
    return big


def test_static_files_python(broker):
    big = fill_html(broker)
    index = (broker.prefix / "html" / "index.html").read_bytes()

    status, h, body = broker.get("/")
    assert status == 200
    assert h["content-type"].startswith("text/html")
    assert body == index

    for path, ctype, data in (("/a.txt", "text/plain", b"plain text\n"),
                              ("/style.css", "text/css", None),
                              ("/data.json", "application/json", None),
                              ("/sub/page.html", "text/html", None),
                              ("/big.bin", "application/octet-stream", big)):
        status, h, body = broker.get(path)
        assert status == 200, path
        assert h["content-type"].startswith(ctype), (path, h)
        assert int(h["content-length"]) == len(body)
        if data is not None:
            assert body == data, path

    status, h, body = broker.get("/a.txt", method="HEAD")
    assert status == 200
    assert h["content-length"] == "11"
    assert body == b""

    status, h, body = broker.get("/no/such/file")
    assert status == 404
    assert len(body) < 1024


def test_static_files_curl(broker):
    fill_html(broker)
    url = f"http://127.0.0.1:{broker.http_port}"
    r = subprocess.run(["curl", "-sS", "-i", f"{url}/a.txt"],
                       capture_output=True, timeout=30)
    assert r.returncode == 0, r.stderr
    head, _, body = r.stdout.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    assert re.search(rb"(?im)^content-type: text/plain", head), head
    assert body == b"plain text\n"

    # one connection for three requests: keep-alive
    r = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-o", "/dev/null",
                        "-o", "/dev/null", "-w", "%{http_code} "
                        "%{num_connects}\n", f"{url}/", f"{url}/a.txt",
                        f"{url}/style.css"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.split()
    assert lines == ["200", "1", "200", "0", "200", "0"], r.stdout

    r = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w",
                        "%{http_code}", f"{url}/missing"],
                       capture_output=True, text=True, timeout=30)
    assert r.stdout == "404"


def status_json(b):
    status, h, body = b.get("/status")
    assert status == 200
    assert h["content-type"].startswith("application/json"), h
    return json.loads(body)


def test_status_json(broker_factory):
    b = broker_factory()
    b.write_conf(workers=3)
    b.start()
    s = status_json(b)
    for key in ("workers", "connections", "accepted", "handled",
                "requests"):
        assert isinstance(s[key], int), (key, s)
    assert s["workers"] == 3

    for _ in range(10):
        assert b.get("/")[0] == 200
    t = status_json(b)
    assert t["requests"] >= s["requests"] + 11
    assert t["accepted"] >= s["accepted"] + 11
    assert t["handled"] >= s["handled"] + 11

    r = subprocess.run(["curl", "-sS", f"http://127.0.0.1:{b.http_port}"
                        "/status"], capture_output=True, timeout=30)
    assert json.loads(r.stdout)["workers"] == 3


# ---------------------------------------------------------------- load


def test_200_concurrent_keepalive_clients(broker):
    n, per = 200, 5
    barrier = threading.Barrier(n)
    errors = []
    served = []

    def client():
        try:
            c = http.client.HTTPConnection("127.0.0.1", broker.http_port,
                                           timeout=30 * SLOW)
            c.connect()
            sock = c.sock
            barrier.wait(timeout=30 * SLOW)
            for _ in range(per):
                c.request("GET", "/")
                r = c.getresponse()
                r.read()
                if r.status != 200:
                    errors.append(f"status {r.status}")
                if r.will_close or c.sock is not sock:
                    errors.append("connection not kept alive")
                    break
            served.append(per)
            c.close()
        except Exception as e:  # noqa: BLE001 -- every failure counts
            errors.append(repr(e))

    threads = [threading.Thread(target=client) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60 * SLOW)
    assert not errors, errors[:10]
    assert sum(served) == n * per
    assert status_json(broker)["accepted"] >= n


class Hammer:
    """Clients requesting / in a loop until stopped; keep-alive ones retry
    once on a fresh connection when the server closed an idle one before
    answering (what every HTTP client does), anything else is a failure."""

    def __init__(self, port, keepalive=4, fresh=4):
        self.port = port
        self.stop = threading.Event()
        self.ok = 0
        self.retries = 0
        self.failures = []
        self.lock = threading.Lock()
        self.threads = ([threading.Thread(target=self.keepalive)
                         for _ in range(keepalive)]
                        + [threading.Thread(target=self.fresh)
                           for _ in range(fresh)])

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(30)

    def count(self, status):
        with self.lock:
            if status == 200:
                self.ok += 1
            else:
                self.failures.append(f"status {status}")

    def fresh(self):
        while not self.stop.is_set():
            try:
                self.count(http_get(self.port, "/", timeout=10)[0])
            except Exception as e:  # noqa: BLE001
                self.failures.append(f"fresh: {e!r}")

    def keepalive(self):
        c = None
        while not self.stop.is_set():
            reused = c is not None
            if c is None:
                c = http.client.HTTPConnection("127.0.0.1", self.port,
                                               timeout=10)
            try:
                c.request("GET", "/")
                r = c.getresponse()
                r.read()
                self.count(r.status)
                if r.will_close:
                    c.close()
                    c = None
            except (http.client.RemoteDisconnected, ConnectionResetError,
                    BrokenPipeError) as e:
                c.close()
                c = None
                if reused:
                    with self.lock:
                        self.retries += 1
                else:
                    self.failures.append(f"keepalive: {e!r}")
            except Exception as e:  # noqa: BLE001
                self.failures.append(f"keepalive: {e!r}")
                c.close()
                c = None
        if c is not None:
            c.close()


def test_reload_under_load_loses_nothing(broker):
    old = set(broker.wait_workers(2))
    master = broker.master_pid

    with Hammer(broker.http_port) as h:
        time.sleep(0.5)
        r = broker.signal("reload")
        assert r.returncode == 0, r.stderr
        time.sleep(1.0)
        r = broker.signal("reload")
        assert r.returncode == 0, r.stderr
        time.sleep(1.0)

    assert not h.failures, h.failures[:10]
    assert h.ok > 100, h.ok
    new = broker.wait_workers(2, exclude=old)
    assert not old & set(new)
    assert broker.master_pid == master and pid_alive(master)
    assert broker.get("/")[0] == 200


def test_reload_with_broken_conf_keeps_running(broker):
    old = broker.wait_workers(2)
    text = broker.conf.read_text() + "\nno_such_directive;\n"
    broker.conf.write_text(text)
    line = text.splitlines().index("no_such_directive;") + 1
    # sluice -s reload would refuse to signal with a broken file (it
    # parses it first, as nginx does): the master must refuse it too
    r = broker.signal("reload")
    assert r.returncode != 0 and "broker.conf:%d" % line in r.stderr, r
    broker.kill(signal.SIGHUP)
    broker.wait_log(r"broker\.conf:%d" % line)
    time.sleep(0.3)
    assert broker.workers() == old
    assert broker.get("/")[0] == 200


# ---------------------------------------------------------------- signals


def test_kill9_worker_is_respawned(broker):
    old = broker.wait_workers(2)
    victim = old[0]
    os.kill(victim, signal.SIGKILL)
    t0 = time.monotonic()
    broker.wait_workers(2, exclude=[victim], timeout=2 * SLOW)
    assert time.monotonic() - t0 < 2 * SLOW
    broker.wait_log(r"%d.*(signal 9|SIGKILL|killed)" % victim)
    for _ in range(20):
        assert broker.get("/")[0] == 200


def test_quit_exits_cleanly(broker):
    workers = broker.workers()
    r = broker.signal("quit")
    assert r.returncode == 0, r.stderr
    assert broker.wait_exit(10 * SLOW) == 0
    wait_for(lambda: not any(pid_alive(p) for p in workers), 5 * SLOW,
             what="the workers to exit")
    assert not broker.session_pids()
    assert not (broker.prefix / "logs" / "sluice.pid").exists()
    assert not re.search(r"\[(alert|crit|emerg)\]", broker.error_log()), \
        broker.error_log()


def test_stop_exits(broker):
    r = broker.signal("stop")
    assert r.returncode == 0, r.stderr
    assert broker.wait_exit(10 * SLOW) == 0
    wait_for(lambda: not broker.session_pids(), 5 * SLOW,
             what="every process to exit")


def test_reopen_logs(broker):
    log = broker.prefix / "logs" / "error.log"
    log.rename(broker.prefix / "logs" / "error.log.1")
    r = broker.signal("reopen")
    assert r.returncode == 0, r.stderr
    wait_for(log.exists, 5 * SLOW, what="a new error.log")
    assert broker.get("/")[0] == 200


def test_daemon_writes_pid_and_quits(broker_factory):
    b = broker_factory()
    b.write_conf(daemon=True)
    b.start()
    pid = b.read_pid()
    assert pid == b.master_pid and pid_alive(pid)
    assert pid != b.proc.pid
    assert b.get("/")[0] == 200
    r = b.signal("quit")
    assert r.returncode == 0, r.stderr
    b.wait_exit(10 * SLOW)
    wait_for(lambda: not b.session_pids(), 5 * SLOW,
             what="every process to exit")


# ---------------------------------------------------------------- modules


@pytest.fixture(scope="session")
def example_module(tmp_path_factory, sluice_bin):
    if not (ROOT / "modules" / "example" / "config").exists():
        pytest.fail("modules/example is missing")
    sos = build_dynamic_module("modules/example",
                               tmp_path_factory.mktemp("objs-dyn"))
    assert sos, "no .so was built"
    return sos[0]


def test_dynamic_module_loads(broker_factory, example_module):
    b = broker_factory()
    b.write_conf(main=f"load_module {example_module};\n"
                      'example_greeting "hello from the test";\n')
    rc, out = b.test_conf()
    assert rc == 0, out
    b.start()
    b.wait_log(r"\[notice\].*hello from the test")
    assert b.get("/")[0] == 200


def test_dynamic_module_of_another_core_is_refused(broker_factory,
                                                   example_module):
    data = example_module.read_bytes()
    m = re.search(rb"sl1:\d+\.\d+\.\d+:", data)
    assert m, "no module signature found in the .so"
    bad = data.replace(m.group(0), b"sl1:9.9.9:"[:len(m.group(0))]
                       .ljust(len(m.group(0)), b"9"))
    b = broker_factory()
    so = b.prefix / "sl_other_core_module.so"
    so.write_bytes(bad)
    b.write_conf(main=f"load_module {so};\n")
    rc, out = b.test_conf()
    assert rc != 0, out
    assert re.search(r"binary compatible|version|signature", out), out
    assert re.search(r"broker\.conf:\d+", out), out


# ---------------------------------------------------------------- HTTP


def test_malformed_request_gets_400_and_next_is_served(broker):
    workers = broker.workers()
    resp = raw_request(broker.http_port, b"GARBAGE\x01\x02 / HTTP/9\r\n\r\n")
    assert re.match(rb"HTTP/1\.[01] 400", resp), resp[:200]

    resp = raw_request(broker.http_port, b"GET /" + b"a" * 20000
                       + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert re.match(rb"HTTP/1\.[01] 414", resp), resp[:200]

    status, _, _ = broker.get("/", method="POST", body=b"x")
    assert status == 405

    assert broker.get("/")[0] == 200
    assert broker.workers() == workers, "a worker died"


def test_worker_connections_exhaustion_is_logged(broker_factory):
    b = broker_factory()
    b.write_conf(workers=1, worker_connections=32)
    b.start()
    held = []
    try:
        for _ in range(80):
            s = socket.socket()
            s.settimeout(5)
            try:
                s.connect(("127.0.0.1", b.http_port))
                # a request begun and not finished: busy, not an idle
                # connection the worker may reuse
                s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
                time.sleep(0.01 * SLOW)
            except OSError:
                s.close()
                continue
            held.append(s)
        b.wait_log(r"worker_connections")
    finally:
        for s in held:
            s.close()
    wait_for(lambda: _get_ok(b), 10 * SLOW, what="service after the flood")
    assert len(b.workers()) == 1


def _get_ok(b):
    try:
        return b.get("/", timeout=2)[0] == 200
    except OSError:
        return False
