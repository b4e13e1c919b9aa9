"""The Kafka protocol (issue 4) against real clients: kcat, confluent-kafka
(librdkafka), kafka-python and kafkajs; the framing rules over raw
sockets; long-poll fetches woken across workers; and acks=all records
surviving graceful restarts and kill -9 of every process."""

import json
import os
import pathlib
import random
import shutil
import signal
import socket
import struct
import subprocess
import threading
import time

import pytest

from conftest import ROOT, SLOW, pid_alive, wait_for


KCAT = shutil.which("kcat")
NODE_DIR = ROOT / "t" / "integration"

KAFKA_CONF = """
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


def start_kafka(factory, kafka="", log="", workers=2, name="b"):
    b = factory(name)
    b.write_conf(workers=workers, with_http=False,
                 blocks=KAFKA_CONF.format(kafka=kafka, log=log))
    b.start()
    b.bootstrap = f"127.0.0.1:{b.port('kafka')}"
    return b


@pytest.fixture
def kafka(broker_factory):
    return start_kafka(broker_factory)


def kcat(b, *args, input=None, timeout=120):
    if KCAT is None:
        pytest.skip("kcat is not installed")
    r = subprocess.run([KCAT, "-b", b.bootstrap] + list(args), input=input,
                       capture_output=True, timeout=timeout * SLOW)
    assert r.returncode == 0, (r.stderr.decode(errors="replace")
                               + b.diagnostics())
    return r.stdout


# ------------------------------------------------------------ raw frames


def frame(api_key, version, corr, body, client_id=b"raw", flexible=False):
    hdr = struct.pack(">hhih", api_key, version, corr, len(client_id))
    hdr += client_id
    if flexible:
        hdr += b"\x00"
    msg = hdr + body
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


def closed_by_peer(s, timeout=5):
    s.settimeout(timeout)
    try:
        while True:
            if not s.recv(65536):
                return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def connect(b):
    return socket.create_connection(("127.0.0.1", b.port("kafka")),
                                    timeout=10)


def test_probe_pipelined_api_versions_and_metadata(kafka):
    """kafka-python's probe: ApiVersions v0 and Metadata v0 back to back,
    answered in order; ApiVersions advertises 3.9's ranges from 0."""
    with connect(kafka) as s:
        s.sendall(frame(18, 0, 7, b"") + frame(3, 0, 8, b"\x00\x00\x00\x00"))
        r1 = read_frame(s)
        r2 = read_frame(s)
    corr, err, n = struct.unpack(">ihi", r1[:10])
    assert (corr, err) == (7, 0)
    apis = {}
    for i in range(n):
        k, lo, hi = struct.unpack(">hhh", r1[10 + 6 * i:16 + 6 * i])
        apis[k] = (lo, hi)
    assert apis[0] == (0, 11)          # Produce
    assert apis[1] == (0, 17)          # Fetch
    assert apis[2] == (0, 9)           # ListOffsets
    assert apis[3] == (0, 12)          # Metadata
    assert apis[18][0] == 0 and apis[18][1] >= 3
    assert apis[19] == (0, 7) and apis[20] == (0, 6)
    assert apis[32] == (0, 4) and apis[44] == (0, 1)
    # the group coordinator's APIs, with Kafka 3.9's ranges
    assert apis[8] == (0, 9) and apis[9] == (0, 9)
    assert apis[10] == (0, 4) and apis[11] == (0, 9)
    assert apis[12] == (0, 4) and apis[13] == (0, 5)
    assert apis[14] == (0, 5)
    # transactions are a later issue: not advertised yet
    for k in (22, 24, 25, 26, 28):
        assert k not in apis
    assert struct.unpack(">i", r2[:4])[0] == 8
    # one broker, with the advertised port
    nb, = struct.unpack(">i", r2[4:8])
    assert nb == 1
    node, hl = struct.unpack(">ih", r2[8:14])
    host = r2[14:14 + hl]
    port, = struct.unpack(">i", r2[14 + hl:18 + hl])
    assert host == b"127.0.0.1" and port == kafka.port("kafka")


def test_api_versions_unknown_version_falls_back_to_v0(kafka):
    """librdkafka's downgrade: a version we do not know gets a v0 body
    with error 35 and our ApiVersions range, header v0, no hang-up."""
    with connect(kafka) as s:
        s.sendall(frame(18, 99, 5, b"\x00\x00\x00", flexible=True))
        r = read_frame(s)
        corr, err, n = struct.unpack(">ihi", r[:10])
        assert (corr, err, n) == (5, 35, 1)
        assert struct.unpack(">hhh", r[10:16])[0] == 18
        # and the connection still works: v3 with the flexible header
        body = b"\x05kcat\x051.71\x00"
        s.sendall(frame(18, 3, 6, body, flexible=True))
        r = read_frame(s)
        corr, err = struct.unpack(">ih", r[:6])
        assert (corr, err) == (6, 0)


def test_unsupported_api_gets_error_35(kafka):
    """InitProducerId (transactions come later) answers
    UNSUPPORTED_VERSION in its own shape; an unknown API key closes just
    that connection."""
    with connect(kafka) as s:
        # transactional_id null, transaction_timeout_ms 60000
        s.sendall(frame(22, 0, 9, b"\xff\xff" + struct.pack(">i", 60000)))
        r = read_frame(s)
        corr, throttle, err = struct.unpack(">iih", r[:10])
        assert (corr, err) == (9, 35)
    with connect(kafka) as s:
        s.sendall(frame(1000, 0, 1, b""))
        assert closed_by_peer(s)
    kafka.wait_log(r"unsupported request: API key 1000")
    assert kcat(kafka, "-L")


def test_oversized_and_malformed_requests_close_one_connection(kafka):
    with connect(kafka) as s:
        s.sendall(struct.pack(">i", 200 * 1024 * 1024) + b"\x00\x03")
        assert closed_by_peer(s)
    kafka.wait_log(r"exceeds max_request_size.*client: 127\.0\.0\.1")
    with connect(kafka) as s:
        # Metadata v1 claiming 5 topics and carrying none
        s.sendall(frame(3, 1, 1, b"\x00\x00\x00\x05"))
        assert closed_by_peer(s)
    kafka.wait_log(r"malformed Metadata v1 request")
    with connect(kafka) as s:
        s.sendall(struct.pack(">i", 3) + b"\x00\x03\x00")
        assert closed_by_peer(s)
    kafka.wait_log(r"truncated request header")
    with connect(kafka) as s:
        s.sendall(struct.pack(">i", -5))
        assert closed_by_peer(s)
    # the workers are fine
    assert b"brokers" in kcat(kafka, "-L")
    assert len(kafka.workers()) == 2


def test_fetch_long_poll_honours_max_wait(kafka):
    kcat(kafka, "-L", "-t", "lp")        # auto-creates it
    body = struct.pack(">iiiib", -1, 700, 1, 1 << 20, 0)
    body += struct.pack(">i", 1) + struct.pack(">h", 2) + b"lp"
    body += struct.pack(">i", 1) + struct.pack(">iqi", 0, 0, 1 << 20)
    with connect(kafka) as s:
        t0 = time.monotonic()
        s.sendall(frame(1, 4, 3, body))
        r = read_frame(s)
        took = time.monotonic() - t0
    assert struct.unpack(">i", r[:4])[0] == 3
    assert 0.5 <= took < 5 * SLOW


# ------------------------------------------------------------ kcat


def test_kcat_metadata(broker_factory):
    b = start_kafka(broker_factory,
                    kafka="topic events { partitions 3; retention 1d; }")
    md = json.loads(kcat(b, "-L", "-J"))
    assert [x["id"] for x in md["brokers"]] == [1]
    assert md["brokers"][0]["name"].endswith(f":{b.port('kafka')}")
    topics = {t["topic"]: t for t in md["topics"]}
    assert len(topics["events"]["partitions"]) == 3
    for p in topics["events"]["partitions"]:
        assert p["leader"] == 1 and p["replicas"] == [{"id": 1}]


def test_kcat_100k_keyed_records_with_headers(broker_factory):
    b = start_kafka(broker_factory, kafka="topic bulk { partitions 1; }")
    rnd = random.Random(4)
    alphabet = bytes(c for c in range(32, 127) if c not in (9, 10))
    lines = []
    for i in range(100000):
        v = bytes(rnd.choice(alphabet) for _ in range(rnd.randint(0, 40)))
        lines.append(b"key-%d\t%d:%s" % (i, i, v))
    data = b"\n".join(lines) + b"\n"
    kcat(b, "-P", "-t", "bulk", "-K", "\t", "-H", "trace=abc",
         "-H", "h2=", "-X", "linger.ms=20", input=data)
    out = kcat(b, "-C", "-t", "bulk", "-p", "0", "-o", "beginning", "-e",
               "-c", "100000", "-f", "%k\t%s\t%h\n")
    got = out.split(b"\n")[:-1]
    assert len(got) == 100000
    for i in (0, 1, 99999):
        k, v, h = got[i].split(b"\t")
        assert (k, v) == tuple(lines[i].split(b"\t"))
        assert h == b"trace=abc,h2="
    assert [g.rsplit(b"\t", 1)[0] for g in got] == lines


def test_kcat_query_offsets_by_time(kafka):
    ck = pytest.importorskip("confluent_kafka")
    p = ck.Producer({"bootstrap.servers": kafka.bootstrap, "linger.ms": 0})
    t0 = 1700000000000
    for i in range(10):
        p.produce("times", value=b"%d" % i, partition=0,
                  timestamp=t0 + 1000 * i)
        p.flush(10)
    out = kcat(kafka, "-Q", "-t", f"times:0:{t0 + 4500}").decode()
    assert "offset 5" in out, out
    out = kcat(kafka, "-Q", "-t", f"times:0:{t0}").decode()
    assert "offset 0" in out, out
    out = kcat(kafka, "-Q", "-t", f"times:0:{t0 + 99000}").decode()
    assert "offset -1" in out, out


# ------------------------------------------------------------ librdkafka


def consume_all(ck, bootstrap, topic, partitions, expect, **conf):
    c = ck.Consumer(dict({"bootstrap.servers": bootstrap,
                          "group.id": "sluice-test",
                          "enable.auto.commit": False,
                          "fetch.wait.max.ms": 100}, **conf))
    c.assign([ck.TopicPartition(topic, p, ck.OFFSET_BEGINNING)
              for p in partitions])
    got = []
    deadline = time.monotonic() + 30 * SLOW
    while len(got) < expect and time.monotonic() < deadline:
        m = c.poll(0.2)
        if m is None or m.error():
            continue
        got.append(m)
    c.close()
    return got


@pytest.mark.parametrize("codec", ["none", "gzip", "snappy", "lz4", "zstd"])
def test_confluent_produce_consume(kafka, codec):
    ck = pytest.importorskip("confluent_kafka")
    topic = f"c-{codec}"
    p = ck.Producer({"bootstrap.servers": kafka.bootstrap, "acks": "all",
                     "compression.type": codec, "linger.ms": 10})
    t0 = int(time.time() * 1000) - 3600000
    n = 3000
    for i in range(n):
        p.produce(topic, key=b"k%d" % i, value=b"value %d " % i * (i % 7),
                  partition=i % 3, timestamp=t0 + i,
                  headers=[("i", b"%d" % i), ("empty", b"")])
    assert p.flush(30) == 0
    got = consume_all(ck, kafka.bootstrap, topic, [0, 1, 2], n)
    assert len(got) == n
    last = {}
    for m in got:
        i = int(m.key()[1:])
        assert m.partition() == i % 3
        assert m.value() == b"value %d " % i * (i % 7)
        assert m.headers() == [("i", b"%d" % i), ("empty", b"")]
        assert m.timestamp() == (ck.TIMESTAMP_CREATE_TIME, t0 + i)
        assert m.offset() == last.get(m.partition(), -1) + 1
        last[m.partition()] = m.offset()
    if codec != "none":
        # stored as produced: the batches on disk carry the codec
        seg = next((kafka.prefix / "data").glob(f"{topic}-0/*.log"))
        assert seg.stat().st_size < 3 * sum(len(m.value()) for m in got)


def test_confluent_offsets_for_times(kafka):
    ck = pytest.importorskip("confluent_kafka")
    p = ck.Producer({"bootstrap.servers": kafka.bootstrap})
    t0 = 1600000000000
    for i in range(100):
        p.produce("oft", value=b"x", partition=1, timestamp=t0 + 10 * i)
    p.flush(10)
    c = ck.Consumer({"bootstrap.servers": kafka.bootstrap, "group.id": "o"})
    r = c.offsets_for_times([ck.TopicPartition("oft", 1, t0 + 555)],
                            timeout=10)
    assert r[0].error is None and r[0].offset == 56
    lo, hi = c.get_watermark_offsets(ck.TopicPartition("oft", 1),
                                     timeout=10)
    assert (lo, hi) == (0, 100)
    c.close()


def test_confluent_admin(kafka):
    ck = pytest.importorskip("confluent_kafka")
    from confluent_kafka.admin import (AdminClient, NewTopic, NewPartitions,
                                       ConfigResource)
    a = AdminClient({"bootstrap.servers": kafka.bootstrap})

    fs = a.create_topics([NewTopic("adm", 2, 1,
                                   config={"retention.ms": "3600000",
                                           "cleanup.policy": "delete"}),
                          NewTopic("adm-bad", 2, 3)], request_timeout=10)
    assert fs["adm"].result(10) is None
    with pytest.raises(ck.KafkaException) as e:
        fs["adm-bad"].result(10)
    assert e.value.args[0].code() == \
        ck.KafkaError.INVALID_REPLICATION_FACTOR

    fs = a.create_topics([NewTopic("adm", 2, 1)], request_timeout=10)
    with pytest.raises(ck.KafkaException) as e:
        fs["adm"].result(10)
    assert e.value.args[0].code() == ck.KafkaError.TOPIC_ALREADY_EXISTS

    # validate_only creates nothing
    fs = a.create_topics([NewTopic("adm-v", 1, 1)], validate_only=True)
    assert fs["adm-v"].result(10) is None
    assert "adm-v" not in a.list_topics(timeout=10).topics

    res = ConfigResource(ConfigResource.Type.TOPIC, "adm")
    cfg = a.describe_configs([res])[res].result(10)
    assert cfg["retention.ms"].value == "3600000"
    assert not cfg["retention.ms"].is_default
    assert cfg["segment.bytes"].is_default

    res = ConfigResource(ConfigResource.Type.TOPIC, "adm",
                         set_config={"retention.ms": "7200000"})
    a.alter_configs([res])[res].result(10)
    res = ConfigResource(ConfigResource.Type.TOPIC, "adm")
    assert a.describe_configs([res])[res].result(10)[
        "retention.ms"].value == "7200000"

    res = ConfigResource(ConfigResource.Type.TOPIC, "adm",
                         set_config={"retention.ms": "banana"})
    with pytest.raises(ck.KafkaException):
        a.alter_configs([res])[res].result(10)

    broker = ConfigResource(ConfigResource.Type.BROKER, "1")
    bcfg = a.describe_configs([broker])[broker].result(10)
    assert bcfg["num.partitions"].value == "4"

    p = ck.Producer({"bootstrap.servers": kafka.bootstrap})
    for i in range(50):
        p.produce("adm", value=b"%d" % i, partition=0)
    p.flush(10)

    if hasattr(a, "delete_records"):
        fs = a.delete_records([ck.TopicPartition("adm", 0, 20)])
        list(fs.values())[0].result(10)
    else:
        # confluent-kafka 1.7 has no delete_records: kafka-python's
        # DeleteRecords is not there either; raw v0 it is
        body = struct.pack(">i", 1) + struct.pack(">h", 3) + b"adm"
        body += struct.pack(">i", 1) + struct.pack(">iq", 0, 20)
        body += struct.pack(">i", 5000)
        with connect(kafka) as s:
            s.sendall(frame(21, 0, 1, body))
            r = read_frame(s)
        # corr, throttle, 1 topic "adm", 1 partition: index, low, error
        tail = r[4 + 4 + 4 + 2 + 3 + 4:]
        idx, low, err = struct.unpack(">iqh", tail)
        assert (idx, low, err) == (0, 20, 0)
    c = ck.Consumer({"bootstrap.servers": kafka.bootstrap, "group.id": "x"})
    lo, hi = c.get_watermark_offsets(ck.TopicPartition("adm", 0),
                                     timeout=10)
    c.close()
    assert (lo, hi) == (20, 50)

    fs = a.delete_topics(["adm"], request_timeout=10)
    assert fs["adm"].result(10) is None
    wait_for(lambda: "adm" not in a.list_topics(timeout=10).topics, 10,
             what="adm to go")

    assert a.create_topics([NewTopic("adm2", 2, 1)])["adm2"].result(
        10) is None
    fs = a.create_partitions([NewPartitions("adm2", 5)],
                             request_timeout=10)
    assert fs["adm2"].result(15) is None
    md = a.list_topics(timeout=10)
    assert len(md.topics["adm2"].partitions) == 5
    fs = a.create_partitions([NewPartitions("adm2", 3)],
                             request_timeout=10)
    with pytest.raises(ck.KafkaException) as e:
        fs["adm2"].result(15)
    assert e.value.args[0].code() == ck.KafkaError.INVALID_PARTITIONS


# ------------------------------------------------------------ kafka-python


def test_kafka_python(kafka):
    kp = pytest.importorskip("kafka")
    from kafka.admin import (KafkaAdminClient, NewTopic, ConfigResource,
                             ConfigResourceType)
    adm = KafkaAdminClient(bootstrap_servers=kafka.bootstrap)
    r = adm.create_topics([NewTopic("kp", 3, 1,
                                    topic_configs={"retention.ms": "60000"})])
    assert r.topic_errors[0][1] == 0
    d = adm.describe_configs([ConfigResource(ConfigResourceType.TOPIC,
                                             "kp")])
    entries = {e[0]: e[1] for e in d[0].resources[0][4]}
    assert entries["retention.ms"] == "60000"

    p = kp.KafkaProducer(bootstrap_servers=kafka.bootstrap, acks="all",
                         linger_ms=5)
    futs = [p.send("kp", key=b"k%d" % i, value=b"v%d" % i,
                   partition=i % 3, headers=[("h", b"%d" % i)])
            for i in range(600)]
    p.flush()
    offs = [f.get(timeout=10).offset for f in futs]
    assert offs[:3] == [0, 0, 0] and offs[-1] == 199

    c = kp.KafkaConsumer(bootstrap_servers=kafka.bootstrap, group_id=None,
                         enable_auto_commit=False,
                         consumer_timeout_ms=3000)
    tps = [kp.TopicPartition("kp", i) for i in range(3)]
    c.assign(tps)
    c.seek_to_beginning()
    got = list(c)
    assert len(got) == 600
    for m in got:
        i = int(m.key[1:])
        assert m.value == b"v%d" % i and m.partition == i % 3
        assert m.headers == [("h", b"%d" % i)]
    ts = c.offsets_for_times({tps[0]: 0})
    assert ts[tps[0]].offset == 0
    c.close()

    r = adm.delete_topics(["kp"])
    assert r.topic_error_codes[0][1] == 0
    adm.close()


# ------------------------------------------------------------ kafkajs


def kafkajs_ready():
    if shutil.which("node") is None:
        return False
    if (NODE_DIR / "node_modules" / "kafkajs").is_dir():
        return True
    if shutil.which("npm") is None:
        return False
    r = subprocess.run(["npm", "install", "--no-audit", "--no-fund",
                        "--prefix", str(NODE_DIR), "kafkajs@2.2.4"],
                       capture_output=True, timeout=300)
    return r.returncode == 0


KAFKAJS_SCRIPT = r"""
const { Kafka, logLevel } = require('kafkajs')
const kafka = new Kafka({ clientId: 'kjs', brokers: [process.argv[2]],
                          logLevel: logLevel.ERROR })
async function main() {
  const admin = kafka.admin()
  await admin.connect()
  const created = await admin.createTopics({
      topics: [{ topic: 'kjs', numPartitions: 3 }], waitForLeaders: true })
  const cluster = await admin.describeCluster()
  const p = kafka.producer()
  await p.connect()
  const msgs = []
  for (let i = 0; i < 300; i++)
    msgs.push({ key: 'k' + i, value: 'v' + i, headers: { h: 'x' + i } })
  const sent = await p.send({ topic: 'kjs', messages: msgs })
  const offsets = await admin.fetchTopicOffsets('kjs')
  await p.disconnect()
  const topics = await admin.listTopics()
  await admin.deleteTopics({ topics: ['kjs'] })
  await admin.disconnect()
  console.log(JSON.stringify({ created, cluster, sent, offsets, topics }))
}
main().catch(e => { console.error(e); process.exit(1) })
"""


def test_kafkajs_producer_and_admin(kafka):
    if not kafkajs_ready():
        pytest.skip("node or kafkajs 2.2.4 unavailable")
    script = NODE_DIR / "node_modules" / ".sluice_kafkajs_test.js"
    script.write_text(KAFKAJS_SCRIPT)
    env = dict(os.environ, KAFKAJS_NO_PARTITIONER_WARNING="1")
    r = subprocess.run(["node", str(script), kafka.bootstrap],
                       capture_output=True, text=True, timeout=60 * SLOW,
                       env=env, cwd=NODE_DIR)
    assert r.returncode == 0, r.stderr + kafka.diagnostics()
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["created"] is True
    assert out["cluster"]["clusterId"]
    assert out["cluster"]["controller"] == 1
    assert all(s["errorCode"] == 0 for s in out["sent"])
    assert sum(int(o["high"]) for o in out["offsets"]) == 300
    assert "kjs" in out["topics"]


# ------------------------------------------------------------ long poll


def test_long_poll_woken_by_append_in_any_worker(kafka):
    ck = pytest.importorskip("confluent_kafka")
    kcat(kafka, "-L", "-t", "wake")
    c = ck.Consumer({"bootstrap.servers": kafka.bootstrap, "group.id": "w",
                     "fetch.wait.max.ms": 8000, "fetch.min.bytes": 1})
    c.assign([ck.TopicPartition("wake", 0, ck.OFFSET_END)])
    c.poll(1.0)
    # fresh producers land on either worker (EPOLLEXCLUSIVE)
    for i in range(6):
        p = ck.Producer({"bootstrap.servers": kafka.bootstrap,
                         "linger.ms": 0})
        p.list_topics(timeout=10)
        time.sleep(0.3)
        t0 = time.monotonic()
        p.produce("wake", value=b"%d" % i, partition=0)
        p.flush(10)
        m = None
        while m is None and time.monotonic() - t0 < 6:
            m = c.poll(0.05)
        took = time.monotonic() - t0
        assert m is not None and m.value() == b"%d" % i
        assert took < 2.0 * SLOW, f"woken after {took:.2f}s"
    c.close()


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


def test_acks_all_survives_restarts_and_kill9(broker_factory):
    ck = pytest.importorskip("confluent_kafka")
    b = start_kafka(broker_factory, log="    flush  always;",
                    kafka="topic durable { partitions 1; }")
    acked = []
    failed = []
    stop = threading.Event()

    def on_delivery(err, msg):
        (failed if err else acked).append(int(msg.value()))

    def produce():
        p = ck.Producer({"bootstrap.servers": b.bootstrap, "acks": "all",
                         "linger.ms": 1, "message.send.max.retries": 0,
                         "max.in.flight.requests.per.connection": 1,
                         "message.timeout.ms": 4000,
                         "reconnect.backoff.ms": 50,
                         "reconnect.backoff.max.ms": 200})
        i = 0
        while not stop.is_set():
            try:
                p.produce("durable", value=b"%d" % i, partition=0,
                          on_delivery=on_delivery)
                i += 1
            except BufferError:
                pass
            p.poll(0.001)
        p.flush(15)

    t = threading.Thread(target=produce)
    t.start()
    try:
        for cycle in ("kill9", "graceful", "kill9"):
            n = len(acked)
            wait_for(lambda: len(acked) >= n + 300, 30 * SLOW,
                     what="records acknowledged")
            if cycle == "kill9":
                kill9_all(b)
            else:
                graceful_stop(b)
            time.sleep(0.3)
            b.start()
        n = len(acked)
        wait_for(lambda: len(acked) >= n + 300, 30 * SLOW,
                 what="records acknowledged after the last restart")
    finally:
        stop.set()
        t.join(30)

    got = [int(m.value()) for m in consume_all(
        ck, b.bootstrap, "durable", [0], len(acked) + len(failed))]
    # every acknowledged record is there once; nothing is there twice;
    # the log is in production order
    assert len(got) == len(set(got))
    assert got == sorted(got)
    missing = set(acked) - set(got)
    assert not missing, f"{len(missing)} acknowledged records lost"


# ------------------------------------------------------------ configuration


def test_topics_from_conf_admin_and_auto_creation_persist(broker_factory):
    ck = pytest.importorskip("confluent_kafka")
    from confluent_kafka.admin import AdminClient, NewTopic, ConfigResource
    b = start_kafka(broker_factory, kafka="""
    auto_create_topics  on;
    default_partitions  2;
    topic conf-t { partitions 3; retention 2h; segment_bytes 64m; }
""")
    a = AdminClient({"bootstrap.servers": b.bootstrap})
    assert a.create_topics([NewTopic("admin-t", 5, 1)])["admin-t"].result(
        10) is None
    kcat(b, "-L", "-t", "auto-t")
    p = ck.Producer({"bootstrap.servers": b.bootstrap})
    for t in ("conf-t", "admin-t", "auto-t"):
        p.produce(t, value=t.encode(), partition=1)
    p.flush(10)

    def check():
        md = a.list_topics(timeout=10).topics
        assert len(md["conf-t"].partitions) == 3
        assert len(md["admin-t"].partitions) == 5
        assert len(md["auto-t"].partitions) == 2
        res = ConfigResource(ConfigResource.Type.TOPIC, "conf-t")
        cfg = a.describe_configs([res])[res].result(10)
        assert cfg["retention.ms"].value == str(2 * 3600 * 1000)
        assert cfg["segment.bytes"].value == str(64 * 1024 * 1024)
        for t in ("conf-t", "admin-t", "auto-t"):
            got = consume_all(ck, b.bootstrap, t, [1], 1)
            assert [m.value() for m in got] == [t.encode()]

    check()
    graceful_stop(b)
    b.start()
    a = AdminClient({"bootstrap.servers": b.bootstrap})
    check()
    # a reload keeps serving on the same listener
    b.signal("reload")
    time.sleep(1)
    check()


def test_auto_create_off_and_max_request_size(broker_factory):
    b = start_kafka(broker_factory, kafka="""
    auto_create_topics  off;
    max_request_size    4k;
""")
    out = kcat(b, "-L", "-t", "nope", "-J")
    md = json.loads(out)
    assert md["topics"][0]["topic"] == "nope"
    assert md["topics"][0].get("error")
    with connect(b) as s:
        s.sendall(struct.pack(">i", 5000) + b"\x00" * 100)
        assert closed_by_peer(s)
    b.wait_log(r"request of 5000 bytes exceeds max_request_size 4096")
