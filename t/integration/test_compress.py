"""The compress module (issue 6): topics with `compression CODEC` receive
uncompressed and differently compressed batches from confluent-kafka
(librdkafka), a raw-socket producer writing xerial-framed snappy (as Java
and kafka-python do), store them recompressed (the attributes of the
batches in the .log files say so), and every client reads back the same
records; `compression producer` keeps what was sent; corrupt compressed
data under a valid CRC is refused with CORRUPT_MESSAGE and the partition
stays consistent."""

import json
import shutil
import socket
import struct
import subprocess
import time

import pytest

from conftest import SLOW


KCAT = shutil.which("kcat")
CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]
CODEC_ID = {name: i for i, name in enumerate(CODECS)}

CONF = """
log {{
    data_dir  data;
}}

kafka {{
    listen               127.0.0.1:@PORT_kafka@;
    advertised_listener  127.0.0.1:@PORT_kafka@;
    default_partitions   1;
{topics}
}}
"""


def start(factory, topics, workers=2, main=""):
    b = factory("b")
    b.write_conf(workers=workers, with_http=False, main=main,
                 blocks=CONF.format(topics=topics))
    b.start()
    b.bootstrap = f"127.0.0.1:{b.port('kafka')}"
    return b


# ------------------------------------------------------------ on disk


def disk_batches(b, topic, partition=0):
    """(base_offset, codec, records_count) of every batch on disk."""
    out = []
    for seg in sorted((b.prefix / "data").glob(f"{topic}-{partition}/*.log")):
        data = seg.read_bytes()
        pos = 0
        while pos + 61 <= len(data):
            base, length = struct.unpack_from(">qi", data, pos)
            if length <= 0 or pos + 12 + length > len(data):
                break
            attributes, = struct.unpack_from(">h", data, pos + 21)
            count, = struct.unpack_from(">i", data, pos + 57)
            out.append((base, attributes & 7, count))
            pos += 12 + length
    return out


# ------------------------------------------------------------ records


def records(tag, n):
    """(key, value, headers, timestamp) with null and empty keys, values
    that compress, headers."""
    t0 = 1700000000000
    out = []
    for i in range(n):
        key = None if i % 5 == 0 else (b"" if i % 5 == 1
                                       else b"%s-%d" % (tag, i))
        value = b"" if i % 7 == 3 else b"%s value %d " % (tag, i) * (i % 9)
        headers = [("i", b"%d" % i), ("empty", b"")] if i % 2 else []
        out.append((key, value, headers, t0 + i * 3))
    return out


def produce_confluent(b, topic, codec, recs, partition=0):
    ck = pytest.importorskip("confluent_kafka")
    p = ck.Producer({"bootstrap.servers": b.bootstrap, "acks": "all",
                     "compression.type": codec, "linger.ms": 20,
                     "batch.num.messages": 100})
    errors = []

    def done(err, msg):
        if err is not None:
            errors.append(err)

    for key, value, headers, ts in recs:
        p.produce(topic, key=key, value=value, partition=partition,
                  timestamp=ts, headers=headers or None, on_delivery=done)
    assert p.flush(30 * SLOW) == 0
    assert errors == []


def consume_confluent(b, topic, n, partition=0):
    ck = pytest.importorskip("confluent_kafka")
    c = ck.Consumer({"bootstrap.servers": b.bootstrap, "group.id": "cmp",
                     "enable.auto.commit": False,
                     "fetch.wait.max.ms": 100})
    c.assign([ck.TopicPartition(topic, partition, ck.OFFSET_BEGINNING)])
    got = []
    deadline = time.monotonic() + 30 * SLOW
    while len(got) < n and time.monotonic() < deadline:
        m = c.poll(0.2)
        if m is None:
            continue
        assert not m.error(), m.error()
        got.append(m)
    c.close()
    assert [m.offset() for m in got] == list(range(n))
    return [(m.key(), m.value(), m.headers() or [], m.timestamp()[1])
            for m in got]


def consume_kcat(b, topic, n, partition=0):
    if KCAT is None:
        pytest.skip("kcat is not installed")
    r = subprocess.run([KCAT, "-b", b.bootstrap, "-C", "-t", topic, "-p",
                        str(partition), "-o", "beginning", "-e", "-J",
                        "-c", str(n)],
                       capture_output=True, timeout=60 * SLOW)
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    out = []
    for line in r.stdout.decode().splitlines():
        j = json.loads(line)
        h = j.get("headers") or []
        headers = [(h[i], h[i + 1].encode()) for i in range(0, len(h), 2)]
        key = None if j["key"] is None else j["key"].encode()
        value = None if j["payload"] is None else j["payload"].encode()
        out.append((key, value, headers, j["ts"]))
    assert [json.loads(x)["offset"]
            for x in r.stdout.decode().splitlines()] == list(range(n))
    return out


def kafka_python_reads(codec):
    try:
        import kafka.codec as kc
    except ImportError:
        return False
    return {"none": True, "gzip": True,
            "snappy": kc.has_snappy(), "lz4": kc.has_lz4(),
            "zstd": kc.has_zstd()}[codec]


def consume_kafka_python(b, topic, n, partition=0):
    kp = pytest.importorskip("kafka")
    c = kp.KafkaConsumer(bootstrap_servers=b.bootstrap, group_id=None,
                         enable_auto_commit=False,
                         consumer_timeout_ms=3000 * SLOW)
    tp = kp.TopicPartition(topic, partition)
    c.assign([tp])
    c.seek_to_beginning()
    got = list(c)
    c.close()
    assert [m.offset for m in got] == list(range(n))
    return [(m.key, m.value, list(m.headers), m.timestamp) for m in got]


def normalized(recs):
    """librdkafka hands an empty key or value back as None: compare the
    null/empty distinction only where a client keeps it."""
    return [(k or None, v or None, [(hk, hv) for hk, hv in h], ts)
            for k, v, h, ts in recs]


# ------------------------------------------------------------ raw produce


def _crc32c_table():
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        t.append(c)
    return t


CRC32C_TABLE = _crc32c_table()


def crc32c(data):
    c = 0xFFFFFFFF
    for x in data:
        c = CRC32C_TABLE[(c ^ x) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def varint(n):
    n = (n << 1) ^ (n >> 63)
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def encode_records(recs, t0):
    out = b""
    for i, (key, value, headers, ts) in enumerate(recs):
        body = b"\x00" + varint(ts - t0) + varint(i)
        body += varint(-1) if key is None else varint(len(key)) + key
        body += varint(-1) if value is None else varint(len(value)) + value
        body += varint(len(headers))
        for hk, hv in headers:
            hk = hk.encode()
            body += varint(len(hk)) + hk + varint(len(hv)) + hv
        out += varint(len(body)) + body
    return out


def make_batch(attributes, payload, count, t0, tmax):
    after_crc = struct.pack(">hiqqqhii", attributes, count - 1, t0, tmax,
                            -1, -1, -1, count) + payload
    head = struct.pack(">ib", -1, 2)
    body = head + struct.pack(">I", crc32c(after_crc)) + after_crc
    return struct.pack(">qi", 0, len(body)) + body


def snappy_literals(data):
    """A valid raw snappy block made of literals only."""
    out = b""
    n = len(data)
    while True:
        b = n & 0x7F
        n >>= 7
        out += bytes([b | 0x80]) if n else bytes([b])
        if not n:
            break
    pos = 0
    while pos < len(data):
        chunk = data[pos:pos + 65536]
        m = len(chunk) - 1
        if m < 60:
            out += bytes([m << 2])
        elif m < 256:
            out += bytes([60 << 2, m])
        else:
            out += bytes([61 << 2]) + struct.pack("<H", m)
        out += chunk
        pos += len(chunk)
    return out


def xerial(data, block=32 * 1024):
    out = b"\x82SNAPPY\x00" + struct.pack(">ii", 1, 1)
    for i in range(0, len(data), block):
        s = snappy_literals(data[i:i + block])
        out += struct.pack(">i", len(s)) + s
    return out


def compress_payload(codec, data):
    """Compressed by other tools than the broker's: Python's gzip, the
    literal snappy encoder above, the lz4 and zstd command-line tools."""
    if codec == "none":
        return data
    if codec == "gzip":
        import gzip
        return gzip.compress(data)
    if codec == "snappy":
        return snappy_literals(data)
    tool = {"lz4": ["lz4", "-q", "-c"], "zstd": ["zstd", "-q", "-c"]}[codec]
    if shutil.which(tool[0]) is None:
        pytest.skip(f"{tool[0]} is not installed")
    return subprocess.run(tool, input=data, capture_output=True,
                          check=True).stdout


def raw_batch(codec, recs):
    t0 = recs[0][3]
    return make_batch(CODEC_ID[codec],
                      compress_payload(codec, encode_records(recs, t0)),
                      len(recs), t0, max(r[3] for r in recs))


def produce_raw(b, topic, batch, partition=0):
    """Produce v7 with one batch: (error_code, base_offset)."""
    t = topic.encode()
    body = struct.pack(">hhi", -1, -1, 10000)            # txn id, acks, ms
    body += struct.pack(">ih", 1, len(t)) + t
    body += struct.pack(">iii", 1, partition, len(batch)) + batch
    hdr = struct.pack(">hhih", 0, 7, 42, 3) + b"raw"
    msg = hdr + body
    with socket.create_connection(("127.0.0.1", b.port("kafka")),
                                  timeout=10 * SLOW) as s:
        s.sendall(struct.pack(">i", len(msg)) + msg)

        def exact(n):
            buf = b""
            while len(buf) < n:
                chunk = s.recv(n - len(buf))
                assert chunk, "the broker closed the connection"
                buf += chunk
            return buf

        size, = struct.unpack(">i", exact(4))
        r = exact(size)
    corr, ntopics, tlen = struct.unpack_from(">iih", r, 0)
    assert corr == 42 and ntopics == 1
    pos = 10 + tlen
    nparts, part, err, base = struct.unpack_from(">iihq", r, pos)
    assert nparts == 1 and part == partition
    return err, base


def metadata_ready(b, topic):
    ck = pytest.importorskip("confluent_kafka")
    from confluent_kafka.admin import AdminClient
    a = AdminClient({"bootstrap.servers": b.bootstrap})
    md = a.list_topics(topic, timeout=10)
    assert md.topics[topic].error is None


# ------------------------------------------------------------ tests


@pytest.mark.parametrize("target", ["zstd", "gzip", "snappy", "lz4",
                                    "none"])
def test_recompressed_on_disk_and_read_by_every_client(broker_factory,
                                                       target):
    """A topic with `compression TARGET` gets batches in every codec from
    librdkafka and xerial snappy from a raw producer: all stored under
    TARGET, all read back identical by confluent-kafka, kcat and (for the
    codecs it has) kafka-python."""
    topic = f"to-{target}"
    b = start(broker_factory, f"    topic {topic} {{ compression {target};"
                              f" }}")

    expect = []
    for codec in CODECS:
        recs = records(codec.encode(), 150)
        produce_confluent(b, topic, codec, recs)
        expect += recs

    # every codec as other tools write it (librdkafka 2.0.2 sends lz4
    # only when the broker advertises FindCoordinator v0)
    for codec in CODECS:
        recs = records(b"raw-" + codec.encode(), 80)
        err, base = produce_raw(b, topic, raw_batch(codec, recs))
        assert err == 0 and base == len(expect)
        expect += recs

    # xerial-framed snappy, as Java and kafka-python write it
    recs = records(b"xerial", 120)
    t0 = recs[0][3]
    batch = make_batch(CODEC_ID["snappy"],
                       xerial(encode_records(recs, t0), block=1000),
                       len(recs), t0, recs[-1][3])
    err, base = produce_raw(b, topic, batch)
    assert err == 0 and base == len(expect)
    expect += recs

    on_disk = disk_batches(b, topic)
    assert on_disk, "no batches on disk"
    assert {c for _, c, _ in on_disk} == {CODEC_ID[target]}
    assert sum(n for _, _, n in on_disk) == len(expect)
    assert [o for o, _, _ in on_disk] == sorted(o for o, _, _ in on_disk)

    n = len(expect)
    got = consume_confluent(b, topic, n)
    assert normalized(got) == normalized(expect)

    got = consume_kcat(b, topic, n)
    assert normalized(got) == normalized(expect)

    if kafka_python_reads(target):
        got = consume_kafka_python(b, topic, n)
        assert got == [(k, v, h, ts) for k, v, h, ts in expect]


def test_producer_keeps_what_was_sent(broker_factory):
    """`compression producer` (the default) stores each batch as sent,
    without looking inside."""
    b = start(broker_factory, "    topic keep { compression producer; }")
    expect = []
    for codec in CODECS:
        recs = records(codec.encode(), 100)
        err, base = produce_raw(b, "keep", raw_batch(codec, recs))
        assert (err, base) == (0, len(expect))
        expect += recs
    assert [c for _, c, _ in disk_batches(b, "keep")] == list(range(5))
    got = consume_confluent(b, "keep", len(expect))
    assert normalized(got) == normalized(expect)


def test_compression_level_and_null_values(broker_factory):
    """compression_level is taken; null keys and values (tombstones) and
    empty ones stay distinct through recompression (kafka-python keeps
    the difference)."""
    b = start(broker_factory,
              "    topic lvl { compression gzip; compression_level 9; }")
    recs = [(None, None, [], 1000), (b"", b"", [], 1001),
            (b"k", None, [("h", b"")], 1002), (None, b"v", [], 1003)]
    batch = make_batch(0, encode_records(recs, 1000), len(recs), 1000, 1003)
    err, base = produce_raw(b, "lvl", batch)
    assert (err, base) == (0, 0)
    assert [c for _, c, _ in disk_batches(b, "lvl")] == [CODEC_ID["gzip"]]
    got = consume_kafka_python(b, "lvl", len(recs))
    assert got == recs


@pytest.mark.parametrize("codec", ["gzip", "snappy", "lz4", "zstd"])
def test_corrupt_compressed_data_is_refused(broker_factory, codec):
    """A batch with a valid CRC but garbage compressed records: refused
    with CORRUPT_MESSAGE (2) where the broker must look inside (the topic
    recompresses); the partition stays consistent for what follows."""
    other = "lz4" if codec != "lz4" else "zstd"
    b = start(broker_factory, f"    topic bad {{ compression {other}; }}")

    good = records(b"good", 10)
    produce_confluent(b, "bad", "none", good)

    garbage = bytes((i * 97 + 13) & 0xFF for i in range(300))
    batch = make_batch(CODEC_ID[codec], garbage, 5, 1000, 1004)
    err, _ = produce_raw(b, "bad", batch)
    assert err == 2

    # compressed right, but the records inside are cut short
    inner = encode_records(records(b"cut", 5), 1700000000000)[:-3]
    payload = compress_payload(codec, inner)
    batch = make_batch(CODEC_ID[codec], payload, 5, 1000, 1004)
    err, _ = produce_raw(b, "bad", batch)
    assert err == 2

    more = records(b"more", 10)
    produce_confluent(b, "bad", codec, more)

    got = consume_confluent(b, "bad", 20)
    assert normalized(got) == normalized(good + more)
    assert sum(n for _, _, n in disk_batches(b, "bad")) == 20
    assert "batch refused" in b.error_log()


def test_decompression_bomb_is_capped(broker_factory):
    """max_decompressed_batch_bytes: a small batch that inflates past it
    is refused, the broker keeps serving."""
    import gzip
    b = start(broker_factory, "    topic bomb { compression zstd; }",
              main="max_decompressed_batch_bytes  1m;")
    value = b"\x00" * (4 * 1024 * 1024)
    inner = encode_records([(None, value, [], 1000)], 1000)
    payload = gzip.compress(inner)
    assert len(payload) < 64 * 1024
    batch = make_batch(CODEC_ID["gzip"], payload, 1, 1000, 1000)
    err, _ = produce_raw(b, "bomb", batch)
    assert err in (2, 10)                   # CORRUPT, MESSAGE_TOO_LARGE

    recs = records(b"after", 20)
    produce_confluent(b, "bomb", "gzip", recs)
    got = consume_confluent(b, "bomb", 20)
    assert normalized(got) == normalized(recs)


def test_compression_type_by_admin(broker_factory):
    """compression.type through CreateTopics, DescribeConfigs and
    AlterConfigs (Kafka's names) changes what is stored."""
    ck = pytest.importorskip("confluent_kafka")
    from confluent_kafka.admin import AdminClient, NewTopic, ConfigResource
    b = start(broker_factory, "")
    a = AdminClient({"bootstrap.servers": b.bootstrap})
    fs = a.create_topics([NewTopic("adm", 1, 1,
                                   config={"compression.type": "snappy"})])
    fs["adm"].result(10)
    time.sleep(0.2)

    res = ConfigResource("topic", "adm")
    desc = a.describe_configs([res])[res].result(10)
    assert desc["compression.type"].value == "snappy"

    produce_confluent(b, "adm", "gzip", records(b"a", 30))
    assert {c for _, c, _ in disk_batches(b, "adm")} == {CODEC_ID["snappy"]}

    res = ConfigResource("topic", "adm",
                         set_config={"compression.type": "zstd"})
    a.alter_configs([res])[res].result(10)
    produce_confluent(b, "adm", "lz4", records(b"b", 30))
    codecs = [c for _, c, _ in disk_batches(b, "adm")]
    assert codecs[0] == CODEC_ID["snappy"] and codecs[-1] == CODEC_ID["zstd"]

    res = ConfigResource("topic", "adm",
                         set_config={"compression.type": "brotli"})
    with pytest.raises(ck.KafkaException):
        a.alter_configs([res])[res].result(10)

    # kept across a restart (the topic's file on disk)
    b.stop()
    b.proc = None
    b.start()
    produce_confluent(b, "adm", "none", records(b"c", 30))
    codecs = [c for _, c, _ in disk_batches(b, "adm")]
    assert codecs[-1] == CODEC_ID["zstd"]

    got = consume_confluent(b, "adm", 90)
    assert len(got) == 90
