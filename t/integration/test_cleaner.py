"""The log cleaner process (issue 3): the master runs "sluice: log
cleaner", as nginx runs its cache manager, with timers only; it does the
log's background work (flushes, checkpoints, retention, compaction) so
that no worker's clients wait for a compaction.  It is respawned when
killed, replaced on reload, stopped on quit, and is not a worker."""

import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import time

import pytest

from conftest import SLOW, children_of, cmdline, http_get, pid_alive, \
    wait_for


KCAT = shutil.which("kcat")

CONF = """
log {{
    data_dir  data;
{log}
}}

kafka {{
    listen               127.0.0.1:@PORT_kafka@;
    advertised_listener  127.0.0.1:@PORT_kafka@;
{kafka}
}}
"""


def start(factory, kafka="", log="", workers=2, name="b"):
    b = factory(name)
    b.write_conf(workers=workers,
                 blocks=CONF.format(kafka=kafka, log=log))
    b.start()
    b.bootstrap = f"127.0.0.1:{b.port('kafka')}"
    return b


def cleaners(b):
    return [p for p in children_of(b.master_pid)
            if "sluice: log cleaner" in cmdline(p)]


def wait_cleaner(b, exclude=()):
    """The one cleaner (not one of exclude), once it is alone."""
    def one():
        c = cleaners(b)
        return c[0] if len(c) == 1 and c[0] not in exclude else None
    pid = wait_for(one, 10 * SLOW, what="one log cleaner")
    b.seen_pids.add(pid)
    return pid


def part_dir(b, topic, part=0):
    return b.prefix / "data" / f"{topic}-{part}"


def segments(b, topic, part=0):
    return sorted(part_dir(b, topic, part).glob("*.log"))


def log_bytes(b, topic, part=0):
    return sum(f.stat().st_size for f in segments(b, topic, part))


def kcat(b, *args, timeout=60):
    if KCAT is None:
        pytest.skip("kcat is not installed")
    r = subprocess.run([KCAT, "-b", b.bootstrap] + list(args),
                       capture_output=True, timeout=timeout * SLOW)
    assert r.returncode == 0, (r.stderr.decode(errors="replace")
                               + b.diagnostics())
    return r.stdout


def produce_keyed(b, topic, n, keys, size=40, batch=2000):
    ck = pytest.importorskip("confluent_kafka")
    p = ck.Producer({"bootstrap.servers": b.bootstrap, "acks": "all",
                     "linger.ms": 20, "batch.num.messages": batch,
                     "queue.buffering.max.messages": 200000})
    pad = b"x" * size
    for i in range(n):
        while True:
            try:
                p.produce(topic, b"%d:" % i + pad, key=b"k%d" % (i % keys),
                          partition=0)
                break
            except BufferError:
                p.poll(0.05)
        if i % 1000 == 0:
            p.poll(0)
    assert p.flush(120 * SLOW) == 0


def compacted_by(b, topic):
    """The pids that logged a compaction of topic-0."""
    rx = re.compile(r"\] (\d+)#\d+: partition \"" + re.escape(topic)
                    + r"-0\": segment \d+ compacted")
    return {int(m.group(1)) for m in rx.finditer(b.error_log())}


def status_workers(b):
    status, _, body = http_get(b.http_port, "/status")
    assert status == 200
    return json.loads(body)["workers"]


# ------------------------------------------------------------ the process


def test_cleaner_process_title_and_not_a_worker(broker_factory):
    b = start(broker_factory, workers=2)
    pid = wait_cleaner(b)
    assert cmdline(pid).startswith("sluice: log cleaner")
    assert len(b.workers()) == 2
    for w in b.workers():
        assert "worker process" in cmdline(w)
    # no listening socket in the cleaner: it takes no clients
    listen = set()
    for tab in ("tcp", "tcp6"):
        with open(f"/proc/net/{tab}") as f:
            for line in f.read().splitlines()[1:]:
                cols = line.split()
                if cols[3] == "0A":
                    listen.add(f"socket:[{cols[9]}]")
    fds = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            fds.add(os.readlink(f"/proc/{pid}/fd/{fd}"))
        except OSError:
            pass
    assert not fds & listen, "the log cleaner holds a listening socket"
    assert status_workers(b) == 2
    b.wait_log(r"start log cleaner %d" % pid)


def test_compaction_and_retention_through_the_cleaner(broker_factory):
    b = start(broker_factory, workers=2, kafka="""
        topic cmp { partitions 1; cleanup_policy compact;
                    segment_bytes 16k; delete_retention 0; }
        topic ret { partitions 1; segment_bytes 4k; retention 1s; }
""")
    cleaner = wait_cleaner(b)

    keys = 20
    produce_keyed(b, "cmp", 4000, keys, batch=100)
    produce_keyed(b, "ret", 500, 500, batch=10)
    full = log_bytes(b, "cmp")
    assert len(segments(b, "ret")) > 3

    # compaction keeps the latest record per key: the log shrinks
    wait_for(lambda: log_bytes(b, "cmp") < full / 3, 40 * SLOW,
             what="the compacted topic to shrink")
    assert compacted_by(b, "cmp") == {cleaner}

    got = kcat(b, "-C", "-t", "cmp", "-p", "0", "-o", "beginning", "-e",
               "-f", "%k=%s\n").decode().split()
    latest = {}
    for kv in got:
        k, v = kv.split("=", 1)
        latest[k] = int(v.split(":")[0])
    want = {f"k{k}": max(i for i in range(4000) if i % keys == k)
            for k in range(keys)}
    assert latest == want
    assert len(got) < 4000 / 3

    # retention deletes the closed segments past 1s
    wait_for(lambda: len(segments(b, "ret")) <= 1, 40 * SLOW,
             what="retention to delete the segments")
    assert re.search(r"\] %d#\d+: partition \"ret-0\": \d+ segments past "
                     r"retention deleted" % cleaner, b.error_log())


def test_cleaner_respawned_after_kill9(broker_factory):
    b = start(broker_factory, workers=2, kafka="""
        topic ret { partitions 1; segment_bytes 4k; retention 1s; }
""")
    old = wait_cleaner(b)
    workers = b.workers()
    time.sleep(1.1)     # past the back-off's "died at once"
    os.kill(old, signal.SIGKILL)
    new = wait_cleaner(b, exclude=(old,))
    assert b.workers() == workers
    b.wait_log(r"respawning log cleaner")

    # the work goes on in the new one
    produce_keyed(b, "ret", 500, 500, batch=10)
    assert len(segments(b, "ret")) > 3
    wait_for(lambda: len(segments(b, "ret")) <= 1, 40 * SLOW,
             what="retention after the respawn")
    assert re.search(r"\] %d#\d+: partition \"ret-0\": \d+ segments past "
                     r"retention deleted" % new, b.error_log())
    assert status_workers(b) == 2


def test_reload_replaces_the_cleaner(broker_factory):
    b = start(broker_factory, workers=2)
    old = wait_cleaner(b)
    old_workers = b.workers()
    assert b.signal("reload").returncode == 0
    b.wait_workers(2, exclude=old_workers)
    new = wait_cleaner(b, exclude=(old,))
    wait_for(lambda: not pid_alive(old), 10 * SLOW,
             what="the old cleaner to exit")
    time.sleep(0.3)
    assert cleaners(b) == [new]
    assert status_workers(b) == 2


def test_quit_stops_everything_and_checkpoints(broker_factory):
    b = start(broker_factory, workers=2, kafka="""
        topic q { partitions 1; segment_bytes 8k; }
""")
    cleaner = wait_cleaner(b)
    produce_keyed(b, "q", 1000, 1000, batch=50)
    procs = b.session_pids()
    assert cleaner in procs
    os.kill(b.master_pid, signal.SIGQUIT)
    assert b.wait_exit(20 * SLOW) == 0
    b.proc = None
    wait_for(lambda: not any(pid_alive(p) for p in procs), 10 * SLOW,
             what="every process to exit")
    assert (b.prefix / "data" / ".clean_shutdown").exists()
    assert len(re.findall(r"log: not shut down cleanly", b.error_log())) == 0

    # the checkpoint was written once, by the master: nothing is scanned
    before = len(b.error_log())
    b.start()
    b.wait_log(r"topics opened after a clean shutdown")
    assert "recovering the end" not in b.error_log()[before:]
    got = kcat(b, "-C", "-t", "q", "-p", "0", "-o", "beginning", "-e",
               "-f", "%s\n").split()
    assert len(got) == 1000


def test_single_process_does_the_background_work(broker_factory):
    b = broker_factory()
    b.write_conf(main="master_process  off;", blocks=CONF.format(
        log="", kafka="""
        topic ret { partitions 1; segment_bytes 4k; retention 1s; }
"""))
    b.start(wait=False)
    b.wait_port(b.port("kafka"))
    b.bootstrap = f"127.0.0.1:{b.port('kafka')}"
    assert children_of(b.master_pid) == []

    produce_keyed(b, "ret", 500, 500, batch=10)
    assert len(segments(b, "ret")) > 3
    wait_for(lambda: len(segments(b, "ret")) <= 1, 40 * SLOW,
             what="retention in the one process")
    assert re.search(r"\] %d#\d+: partition \"ret-0\": \d+ segments past "
                     r"retention deleted" % b.master_pid, b.error_log())

    os.kill(b.master_pid, signal.SIGQUIT)
    assert b.wait_exit(20 * SLOW) == 0
    b.proc = None
    assert (b.prefix / "data" / ".clean_shutdown").exists()


# ------------------------------------------------------------ latency


def metadata_rtt(s, corr):
    """One Metadata v0 request for no topic: its round trip in seconds."""
    body = struct.pack(">i", 0)
    hdr = struct.pack(">hhih", 3, 0, corr, 3) + b"lat"
    msg = hdr + body
    t0 = time.perf_counter()
    s.sendall(struct.pack(">i", len(msg)) + msg)
    n = struct.unpack(">i", recv_exact(s, 4))[0]
    recv_exact(s, n)
    return time.perf_counter() - t0


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        assert chunk, "connection closed"
        buf += chunk
    return buf


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_worker_serves_while_a_large_compaction_runs(broker_factory):
    admin = pytest.importorskip("confluent_kafka.admin")
    # one worker: it serves every client, and it used to compact too
    b = start(broker_factory, workers=1, kafka="""
        topic big { partitions 1; segment_bytes 1m; }
""")
    cleaner = wait_cleaner(b)

    s = socket.create_connection(("127.0.0.1", b.port("kafka")))
    s.settimeout(60 * SLOW)
    # the baseline: back-to-back round trips for a while, with nothing
    # to flush or clean yet, on the same machine with its noise
    base = []
    t0 = time.monotonic()
    while time.monotonic() - t0 < 3:
        base.append(metadata_rtt(s, len(base)))
    base.sort()

    # written with the delete policy: nothing to compact yet
    n = 300000
    t0 = time.monotonic()
    produce_keyed(b, "big", n, n // 2, size=400)
    produced = time.monotonic() - t0
    full = log_bytes(b, "big")

    cpu0 = cpu_seconds(cleaner)
    a = admin.AdminClient({"bootstrap.servers": b.bootstrap})
    res = admin.ConfigResource(admin.ConfigResource.Type.TOPIC, "big",
                               set_config={"cleanup.policy": "compact"})
    a.alter_configs([res])[res].result(10 * SLOW)

    # round trips one after another until the pass is over, in this
    # thread only, so that nothing of ours delays them
    rtts = []
    deadline = time.monotonic() + 60 * SLOW
    done = None
    check = 0
    while done is None or time.monotonic() < done:
        rtts.append(metadata_rtt(s, len(rtts)))
        if time.monotonic() >= check:
            check = time.monotonic() + 0.2
            if done is None and compacted_by(b, "big") \
                    and log_bytes(b, "big") < full * 0.7:
                # the rest of the pass, to its last segment
                done = time.monotonic() + 0.5
            assert time.monotonic() < deadline, "no compaction"
    s.close()

    spent = cpu_seconds(cleaner) - cpu0
    worst = max(rtts)
    print(f"metadata rtt: baseline max {base[-1] * 1000:.2f} ms "
          f"({len(base)} requests), "
          f"worst during compaction {worst * 1000:.2f} ms "
          f"({len(rtts)} requests); "
          f"the cleaner worked {spent * 1000:.0f} ms of CPU; "
          f"producing took {produced * 1000:.0f} ms; "
          f"top {[round(r * 1000, 1) for r in sorted(rtts)[-5:]]}")
    assert compacted_by(b, "big") == {cleaner}
    assert len(rtts) > 20
    # the worker never waited for the compaction (it used to, for all of
    # it): its worst round trip stays near the baseline's worst
    assert worst < 10 * base[-1]
