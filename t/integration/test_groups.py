"""Consumer groups (issue 5) against real clients: confluent-kafka
(librdkafka) consumers as subprocesses that are closed or killed -9,
cooperative-sticky and static membership, committed offsets across broker
restarts (graceful and kill -9), kafka-python and kafkajs groups, the
admin APIs, and hand-built requests with bad input."""

import json
import os
import pathlib
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

import pytest

from conftest import ROOT, SLOW, pid_alive, wait_for


NODE_DIR = ROOT / "t" / "integration"

SESSION_MS = 6000
HEARTBEAT_MS = 500

GROUPS_CONF = """
log {{
    data_dir  data;
}}

kafka {{
    listen                         127.0.0.1:@PORT_kafka@;
    advertised_listener            127.0.0.1:@PORT_kafka@;
    default_partitions             3;
    group_initial_rebalance_delay  200ms;
{kafka}
}}
"""


def start(factory, kafka="", workers=2, name="b"):
    b = factory(name)
    b.write_conf(workers=workers, with_http=False,
                 blocks=GROUPS_CONF.format(kafka=kafka))
    b.start()
    b.bootstrap = f"127.0.0.1:{b.port('kafka')}"
    return b


# ------------------------------------------------------------ consumers


CONSUMER = r"""
import json, signal, sys
import confluent_kafka as ck

bs, group, topic, strategy, instance = sys.argv[1:6]
conf = {"bootstrap.servers": bs, "group.id": group,
        "session.timeout.ms": %(session)d,
        "heartbeat.interval.ms": %(heartbeat)d,
        "partition.assignment.strategy": strategy,
        "auto.offset.reset": "earliest", "enable.auto.commit": False}
if instance != "-":
    conf["group.instance.id"] = instance
c = ck.Consumer(conf)
stop = []
signal.signal(signal.SIGTERM, lambda *a: stop.append(1))

def say(ev, parts=None):
    d = {"ev": ev}
    if parts is not None:
        d["p"] = sorted(p.partition for p in parts)
    print(json.dumps(d), flush=True)

c.subscribe([topic], on_assign=lambda c_, p: say("assign", p),
            on_revoke=lambda c_, p: say("revoke", p))
last = None
while not stop:
    c.poll(0.05)
    a = sorted(p.partition for p in c.assignment())
    if a != last:
        print(json.dumps({"ev": "now", "p": a}), flush=True)
        last = a
c.close()
say("closed")
""" % {"session": SESSION_MS, "heartbeat": HEARTBEAT_MS}


class ConsumerProc:
    """A librdkafka consumer in its own process, reporting its
    assignment as JSON lines."""

    def __init__(self, b, group, topic, strategy="range", instance="-"):
        self.events = []
        self.proc = subprocess.Popen(
            [sys.executable, "-c", CONSUMER, b.bootstrap, group, topic,
             strategy, instance],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            try:
                self.events.append((time.monotonic(), json.loads(line)))
            except ValueError:
                pass

    @property
    def assignment(self):
        for _, e in reversed(self.events):
            if e["ev"] == "now":
                return e["p"]
        return []

    def count(self, ev):
        return sum(1 for _, e in self.events if e["ev"] == ev)

    def close(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()

    def kill9(self):
        self.proc.kill()
        self.proc.wait(timeout=5)


def covered(consumers, n):
    """The consumers' assignments are disjoint and cover 0..n-1."""
    parts = [p for c in consumers for p in c.assignment]
    return sorted(parts) == list(range(n))


def create_topic(b, name, partitions):
    ck = pytest.importorskip("confluent_kafka")
    from confluent_kafka.admin import AdminClient, NewTopic
    a = AdminClient({"bootstrap.servers": b.bootstrap})
    for f in a.create_topics([NewTopic(name, partitions, 1)]).values():
        f.result(10)
    return ck


@pytest.fixture
def consumers():
    made = []
    yield made
    for c in made:
        c.kill9() if c.proc.poll() is None else None


@pytest.mark.parametrize("strategy", ["range", "cooperative-sticky"])
def test_three_consumers_crash_and_close(broker_factory, consumers,
                                         strategy):
    """Three consumers share six partitions disjointly; a kill -9 moves
    the dead one's partitions within the session timeout, a close() at
    once."""
    b = start(broker_factory)
    create_topic(b, "six", 6)
    group = "g-" + strategy
    for _ in range(3):
        consumers.append(ConsumerProc(b, group, "six", strategy))
    wait_for(lambda: covered(consumers, 6)
             and all(len(c.assignment) == 2 for c in consumers),
             30 * SLOW, what="three consumers with two partitions each")

    victim = consumers.pop(0)
    t0 = time.monotonic()
    victim.kill9()
    wait_for(lambda: covered(consumers, 6), 30 * SLOW,
             what="partitions of the killed consumer to move")
    took = time.monotonic() - t0
    assert took < (SESSION_MS + 3 * HEARTBEAT_MS) / 1000 + 2, took

    leaving = consumers.pop(0)
    t0 = time.monotonic()
    leaving.close()
    wait_for(lambda: covered(consumers, 6), 10 * SLOW,
             what="partitions of the closed consumer to move")
    took = time.monotonic() - t0
    assert took < 3 * HEARTBEAT_MS / 1000 + 1.5, took
    assert consumers[0].assignment == list(range(6))


def test_static_member_restart_keeps_partitions(broker_factory, consumers):
    """A member with group.instance.id that restarts within its session
    gets its partitions back and the others do not rebalance."""
    b = start(broker_factory)
    create_topic(b, "stat", 6)
    for i in range(3):
        consumers.append(ConsumerProc(b, "gs", "stat", "range", f"inst-{i}"))
    wait_for(lambda: covered(consumers, 6)
             and all(len(c.assignment) == 2 for c in consumers),
             30 * SLOW, what="three static members assigned")
    time.sleep(1)
    before = {i: c.assignment for i, c in enumerate(consumers)}
    revokes = [c.count("revoke") for c in consumers]

    old = consumers.pop(1)
    old.close()          # a static member leaves no LeaveGroup behind
    time.sleep(0.5)
    new = ConsumerProc(b, "gs", "stat", "range", "inst-1")
    consumers.insert(1, new)
    wait_for(lambda: new.assignment == before[1], 20 * SLOW,
             what="the restarted static member's partitions")
    time.sleep(2 * HEARTBEAT_MS / 1000)
    assert consumers[0].assignment == before[0]
    assert consumers[2].assignment == before[2]
    assert consumers[0].count("revoke") == revokes[0]
    assert consumers[2].count("revoke") == revokes[2]


# ------------------------------------------------------------ restarts


def kill9_all(b):
    pids = b.session_pids()
    for p in pids:
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass
    wait_for(lambda: not any(pid_alive(p) for p in pids), 10,
             what="every process to die")
    b.proc.wait(timeout=5)
    b.proc = None


def graceful_stop(b):
    os.kill(b.master_pid, signal.SIGQUIT)
    b.wait_exit(20 * SLOW)
    b.proc = None


def consume_committing(ck, b, group, n, timeout=30):
    """Consume n records, committing each synchronously; their values."""
    c = ck.Consumer({"bootstrap.servers": b.bootstrap, "group.id": group,
                     "auto.offset.reset": "earliest",
                     "enable.auto.commit": False,
                     "session.timeout.ms": SESSION_MS,
                     "heartbeat.interval.ms": HEARTBEAT_MS})
    c.subscribe(["durable"])
    got = []
    deadline = time.monotonic() + timeout * SLOW
    while len(got) < n and time.monotonic() < deadline:
        m = c.poll(0.2)
        if m is None or m.error():
            continue
        got.append(int(m.value()))
        c.commit(message=m, asynchronous=False)
    c.close()
    return got


def test_committed_offsets_survive_restarts(broker_factory):
    """Commit, stop the broker gracefully and with kill -9, restart:
    consumption resumes at the committed offsets, nothing lost, nothing
    twice."""
    b = start(broker_factory, kafka="topic durable { partitions 3; }")
    ck = pytest.importorskip("confluent_kafka")
    p = ck.Producer({"bootstrap.servers": b.bootstrap})
    for i in range(300):
        p.produce("durable", value=b"%d" % i, partition=i % 3)
    p.flush(10)

    seen = []
    for stop in (graceful_stop, kill9_all):
        seen += consume_committing(ck, b, "dur", 100)
        stop(b)
        time.sleep(0.2)
        b.start()
    seen += consume_committing(ck, b, "dur", 100)

    assert len(seen) == 300
    assert sorted(seen) == list(range(300)), "lost or duplicated records"

    from confluent_kafka import TopicPartition
    c = ck.Consumer({"bootstrap.servers": b.bootstrap, "group.id": "dur"})
    committed = c.committed([TopicPartition("durable", i) for i in range(3)],
                            timeout=10)
    c.close()
    assert [tp.offset for tp in committed] == [100, 100, 100]


# ------------------------------------------------------------ other clients


def test_kafka_python_group(broker_factory):
    kafka = pytest.importorskip("kafka")
    b = start(broker_factory, kafka="topic kp { partitions 2; }")
    prod = kafka.KafkaProducer(bootstrap_servers=b.bootstrap)
    for i in range(40):
        prod.send("kp", value=b"%d" % i, partition=i % 2)
    prod.flush()
    prod.close()

    def consume(n):
        c = kafka.KafkaConsumer(bootstrap_servers=b.bootstrap,
                                group_id="kpg", auto_offset_reset="earliest",
                                enable_auto_commit=False,
                                session_timeout_ms=SESSION_MS,
                                heartbeat_interval_ms=HEARTBEAT_MS,
                                consumer_timeout_ms=10000 * SLOW)
        c.subscribe(["kp"])
        got = []
        for m in c:
            got.append(int(m.value))
            if len(got) == n:
                break
        c.commit()
        c.close()
        return got

    first = consume(20)
    second = consume(20)
    assert sorted(first + second) == list(range(40))


KAFKAJS_SCRIPT = r"""
const { Kafka, logLevel } = require('kafkajs')
const kafka = new Kafka({ clientId: 'kjs', brokers: [process.argv[2]],
                          logLevel: logLevel.ERROR })
async function run(n) {
  const c = kafka.consumer({ groupId: 'kjsg', sessionTimeout: 6000,
                             heartbeatInterval: 500 })
  await c.connect()
  await c.subscribe({ topic: 'kjs', fromBeginning: true })
  const got = []
  await new Promise(resolve => {
    c.run({ eachMessage: async ({ message }) => {
      if (got.length < n) got.push(Number(message.value.toString()))
      if (got.length === n) resolve()
    } })
  })
  await c.disconnect()
  return got
}
async function main() {
  const p = kafka.producer()
  await p.connect()
  const msgs = []
  for (let i = 0; i < 40; i++) msgs.push({ value: String(i), partition: i % 2 })
  await p.send({ topic: 'kjs', messages: msgs })
  await p.disconnect()
  const first = await run(40)
  const admin = kafka.admin()
  await admin.connect()
  const offsets = await admin.fetchOffsets({ groupId: 'kjsg', topics: ['kjs'] })
  const groups = await admin.listGroups()
  const desc = await admin.describeGroups(['kjsg'])
  await admin.disconnect()
  console.log(JSON.stringify({ first, offsets, groups, desc }))
}
main().catch(e => { console.error(e); process.exit(1) })
"""


def test_kafkajs_group(broker_factory):
    if shutil.which("node") is None \
            or not (NODE_DIR / "node_modules" / "kafkajs").is_dir():
        pytest.skip("node or t/integration/node_modules/kafkajs missing")
    b = start(broker_factory, kafka="topic kjs { partitions 2; }")
    script = NODE_DIR / "node_modules" / ".sluice_kafkajs_groups.js"
    script.write_text(KAFKAJS_SCRIPT)
    env = dict(os.environ, KAFKAJS_NO_PARTITIONER_WARNING="1")
    r = subprocess.run(["node", str(script), b.bootstrap],
                       capture_output=True, text=True, timeout=90 * SLOW,
                       env=env, cwd=NODE_DIR)
    assert r.returncode == 0, r.stderr + b.diagnostics()
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert sorted(out["first"]) == list(range(40))
    parts = out["offsets"][0]["partitions"]
    assert sorted(int(p["offset"]) for p in parts) == [20, 20]
    assert any(g["groupId"] == "kjsg" for g in out["groups"]["groups"])
    assert out["desc"]["groups"][0]["state"] == "Empty"


# ------------------------------------------------------------ admin


def test_admin_list_describe_delete(broker_factory):
    kafka = pytest.importorskip("kafka")
    from kafka.admin import KafkaAdminClient
    from kafka.structs import TopicPartition, OffsetAndMetadata
    b = start(broker_factory, kafka="topic adm { partitions 2; }")
    ck = pytest.importorskip("confluent_kafka")

    # a live group and an offsets-only group
    live = ck.Consumer({"bootstrap.servers": b.bootstrap,
                        "group.id": "live", "session.timeout.ms": SESSION_MS})
    live.subscribe(["adm"])
    wait_for(lambda: live.poll(0.1) is None and live.assignment(), 20,
             what="the live consumer's assignment")
    store = ck.Consumer({"bootstrap.servers": b.bootstrap,
                         "group.id": "store"})
    store.commit(offsets=[ck.TopicPartition("adm", 0, 5),
                          ck.TopicPartition("adm", 1, 7)],
                 asynchronous=False)
    store.close()

    a = KafkaAdminClient(bootstrap_servers=b.bootstrap)
    groups = dict(a.list_consumer_groups())
    assert groups.get("live") == "consumer"
    assert "store" in groups
    d = {g.group: g for g in a.describe_consumer_groups(["live", "store"])}
    assert d["live"].state == "Stable" and len(d["live"].members) == 1
    assert d["store"].state == "Empty"
    offs = a.list_consumer_group_offsets("store")
    assert offs[TopicPartition("adm", 0)].offset == 5
    assert offs[TopicPartition("adm", 1)].offset == 7

    # OffsetDelete: refused for a topic the live group consumes
    assert offset_delete(b, "live", "adm", [0]) == (0, [(0, 86)])
    assert offset_delete(b, "store", "adm", [1]) == (0, [(1, 0)])
    assert offset_delete(b, "nosuch", "adm", [0])[0] == 69
    offs = a.list_consumer_group_offsets("store")
    assert TopicPartition("adm", 1) not in offs

    res = dict(a.delete_consumer_groups(["store", "live", "nosuch"]))
    assert res["store"] is None or res["store"].errno == 0
    assert res["live"].errno == 68
    assert res["nosuch"].errno == 69
    assert "store" not in dict(a.list_consumer_groups())
    live.close()
    a.close()

    # librdkafka's legacy group list (ListGroups/DescribeGroups v0)
    ad = ck.admin.AdminClient({"bootstrap.servers": b.bootstrap})
    names = [g.id for g in ad.list_groups(timeout=10)]
    assert "live" in names


# ------------------------------------------------------------ raw requests


def frame(api_key, version, corr, body, client_id=b"raw"):
    hdr = struct.pack(">hhih", api_key, version, corr, len(client_id))
    msg = hdr + client_id + body
    return struct.pack(">i", len(msg)) + msg


def read_frame(s):
    def exact(n):
        buf = b""
        while len(buf) < n:
            chunk = s.recv(n - len(buf))
            if not chunk:
                raise EOFError("closed")
            buf += chunk
        return buf
    size, = struct.unpack(">i", exact(4))
    return exact(size)


def s16(v):
    v = v.encode() if isinstance(v, str) else v
    return struct.pack(">h", len(v)) + v


def b32(v):
    return struct.pack(">i", len(v)) + v


def call(b, api_key, version, body):
    with socket.create_connection(("127.0.0.1", b.port("kafka")),
                                  timeout=20) as s:
        s.sendall(frame(api_key, version, 7, body))
        r = read_frame(s)
    assert struct.unpack(">i", r[:4])[0] == 7
    return r[4:]


def subscription(topic):
    return struct.pack(">h", 0) + struct.pack(">i", 1) + s16(topic) + b32(b"")


def join_v2(b, group, member, ptype="consumer", protocol="range",
            topic="adm"):
    body = (s16(group) + struct.pack(">ii", SESSION_MS, 10000) + s16(member)
            + s16(ptype) + struct.pack(">i", 1) + s16(protocol)
            + b32(subscription(topic)))
    r = call(b, 11, 2, body)
    err, gen = struct.unpack(">hi", r[4:10])
    return err, gen


def heartbeat_v1(b, group, gen, member):
    r = call(b, 12, 1, s16(group) + struct.pack(">i", gen) + s16(member))
    return struct.unpack(">h", r[4:6])[0]


def offset_delete(b, group, topic, parts):
    body = (s16(group) + struct.pack(">i", 1) + s16(topic)
            + struct.pack(">i", len(parts))
            + b"".join(struct.pack(">i", p) for p in parts))
    r = call(b, 47, 0, body)
    err, = struct.unpack(">h", r[:2])
    if err:
        return err, []
    pos = 6
    nt, = struct.unpack(">i", r[pos:pos + 4])
    pos += 4
    out = []
    for _ in range(nt):
        ln, = struct.unpack(">h", r[pos:pos + 2])
        pos += 2 + ln
        np_, = struct.unpack(">i", r[pos:pos + 4])
        pos += 4
        for _ in range(np_):
            out.append(struct.unpack(">ih", r[pos:pos + 6]))
            pos += 6
    return err, out


def test_bad_join_heartbeat_keep_the_group_serving(broker_factory,
                                                   consumers):
    """An unknown protocol type, a stale generation, an unknown member id:
    Kafka's errors, while the group's members keep their partitions."""
    b = start(broker_factory, kafka="topic adm { partitions 4; }")
    for _ in range(2):
        consumers.append(ConsumerProc(b, "bad", "adm"))
    wait_for(lambda: covered(consumers, 4)
             and all(len(c.assignment) == 2 for c in consumers),
             30 * SLOW, what="two consumers assigned")
    revokes = [c.count("revoke") for c in consumers]

    assert join_v2(b, "bad", "", ptype="connect")[0] == 23
    assert join_v2(b, "bad", "", protocol="nosuch")[0] == 23
    assert join_v2(b, "bad", "nobody-1234")[0] == 25
    assert heartbeat_v1(b, "bad", 1, "nobody-1234") == 25
    assert heartbeat_v1(b, "nosuch-group", 1, "x") == 25
    assert join_v2(b, "", "")[0] == 24

    # a real member id at a stale generation
    from kafka.admin import KafkaAdminClient
    pytest.importorskip("kafka")
    a = KafkaAdminClient(bootstrap_servers=b.bootstrap)
    d = a.describe_consumer_groups(["bad"])[0]
    a.close()
    member = d.members[0].member_id
    assert heartbeat_v1(b, "bad", 0, member) == 22
    assert heartbeat_v1(b, "bad", 999, member) == 22

    # a session timeout out of range
    body = (s16("bad2") + struct.pack(">ii", 10, 10000) + s16("")
            + s16("consumer") + struct.pack(">i", 1) + s16("range")
            + b32(subscription("adm")))
    r = call(b, 11, 2, body)
    assert struct.unpack(">h", r[4:6])[0] == 26

    time.sleep(3 * HEARTBEAT_MS / 1000)
    assert covered(consumers, 4)
    assert [c.count("revoke") for c in consumers] == revokes


def test_member_id_required_v4(broker_factory):
    """JoinGroup v4+ without a member id: MEMBER_ID_REQUIRED (79) with
    the id to use."""
    b = start(broker_factory, kafka="topic adm { partitions 1; }")
    body = (s16("m4") + struct.pack(">ii", SESSION_MS, 10000) + s16("")
            + s16("consumer") + struct.pack(">i", 1) + s16("range")
            + b32(subscription("adm")))
    r = call(b, 11, 4, body)
    err, gen = struct.unpack(">hi", r[4:10])
    assert err == 79 and gen == -1
    pos = 10
    for _ in range(2):          # protocol name, leader
        ln, = struct.unpack(">h", r[pos:pos + 2])
        pos += 2 + ln
    ln, = struct.unpack(">h", r[pos:pos + 2])
    member = r[pos + 2:pos + 2 + ln].decode()
    assert member.startswith("raw-")

    body = (s16("m4") + struct.pack(">ii", SESSION_MS, 10000) + s16(member)
            + s16("consumer") + struct.pack(">i", 1) + s16("range")
            + b32(subscription("adm")))
    r = call(b, 11, 4, body)
    err, gen = struct.unpack(">hi", r[4:10])
    assert err == 0 and gen == 1
