"""The REST proxy's v2 API without consumers (issue 7): topics, partitions,
offsets and brokers; producing JSON and binary records.  curl replays the
Confluent REST Proxy's documented examples against a real broker;
confluent-kafka (librdkafka) reads what HTTP produced byte for byte and
writes what HTTP then counts; keys land where Java's murmur2 (and
librdkafka's murmur2_random, its twin) puts them; bad bodies get the
proxy's 4xx JSON errors and the broker keeps serving; a zstd topic
stores what HTTP produced compressed."""

import base64
import json
import random
import shutil
import socket
import struct
import subprocess
import threading
import time

import pytest

from conftest import SLOW, http_get


CURL = shutil.which("curl")

HTTP = """
    location /topics { rest_proxy on; client_max_body_size 2m; }
    location /brokers { rest_proxy on; }
"""

CONF = """
log {{
    data_dir  data;
}}

kafka {{
    listen               127.0.0.1:@PORT_kafka@;
    advertised_listener  127.0.0.1:@PORT_kafka@;
    auto_create_topics   {auto};
    default_partitions   2;
    topic test  {{ partitions 3; }}
    topic keyed {{ partitions 5; }}
    topic zt    {{ partitions 2; compression zstd; }}
    topic small {{ partitions 1; max_record_batch_bytes 64k; }}
{extra}
}}
"""

BINARY = "application/vnd.kafka.binary.v2+json"
JSON = "application/vnd.kafka.json.v2+json"
V2 = "application/vnd.kafka.v2+json"


def start(factory, auto="off", extra=""):
    b = factory("b")
    b.write_conf(workers=2, http=HTTP,
                 blocks=CONF.format(auto=auto, extra=extra))
    b.start()
    b.bootstrap = f"127.0.0.1:{b.port('kafka')}"
    return b


def curl(b, path, data=None, ctype=None, accept=V2, method=None):
    """curl as the proxy's documentation runs it: (status, JSON body,
    Content-Type)."""
    if CURL is None:
        pytest.skip("curl is not installed")
    cmd = [CURL, "-s", "-S", "-o", "-", "-w", "\n%{http_code} %{content_type}",
           "-H", f"Accept: {accept}"]
    if ctype is not None:
        # "": no Content-Type at all (curl's -d would send a form's)
        cmd += ["-H", f"Content-Type: {ctype}" if ctype else "Content-Type:"]
    if method:
        cmd += ["-X", method]
    if data is not None:
        cmd += ["--data-binary", "@-"]
    r = subprocess.run(cmd + [f"http://127.0.0.1:{b.http_port}{path}"],
                       input=data.encode() if isinstance(data, str) else data,
                       capture_output=True, timeout=60 * SLOW)
    assert r.returncode == 0, r.stderr
    body, _, tail = r.stdout.rpartition(b"\n")
    status, _, ctype = tail.decode().partition(" ")
    return int(status), json.loads(body) if body else None, ctype


def murmur2(data):
    """Kafka's Utils.murmur2 (the Java client's default partitioner)."""
    m = 0x5bd1e995
    n = len(data)
    h = (0x9747b28c ^ n) & 0xffffffff
    for i in range(0, n - n % 4, 4):
        k = int.from_bytes(data[i:i + 4], "little")
        k = (k * m) & 0xffffffff
        k ^= k >> 24
        k = (k * m) & 0xffffffff
        h = ((h * m) & 0xffffffff) ^ k
    tail = data[n - n % 4:]
    if len(tail) >= 3:
        h ^= tail[2] << 16
    if len(tail) >= 2:
        h ^= tail[1] << 8
    if len(tail) >= 1:
        h ^= tail[0]
        h = (h * m) & 0xffffffff
    h ^= h >> 13
    h = (h * m) & 0xffffffff
    h ^= h >> 15
    return h - (1 << 32) if h & 0x80000000 else h


def java_partition(key, n):
    return (murmur2(key) & 0x7fffffff) % n


def consume(b, topic, partitions, expect):
    ck = pytest.importorskip("confluent_kafka")
    c = ck.Consumer({"bootstrap.servers": b.bootstrap,
                     "group.id": "rest-v2-test",
                     "enable.auto.commit": False,
                     "fetch.wait.max.ms": 100})
    c.assign([ck.TopicPartition(topic, p, ck.OFFSET_BEGINNING)
              for p in partitions])
    got = []
    deadline = time.monotonic() + 30 * SLOW
    while len(got) < expect and time.monotonic() < deadline:
        m = c.poll(0.2)
        if m is None or m.error():
            continue
        got.append(m)
    # nothing more than expected
    m = c.poll(0.3)
    while m is not None:
        if not m.error():
            got.append(m)
        m = c.poll(0.1)
    c.close()
    return got


def disk_batches(b, topic, partition):
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


def ok_offsets(body):
    assert body["key_schema_id"] is None and body["value_schema_id"] is None
    for o in body["offsets"]:
        assert o["error_code"] is None and o["error"] is None, o
    return [(o["partition"], o["offset"]) for o in body["offsets"]]


# ------------------------------------------------------------ the docs


def test_documented_examples(broker_factory):
    """The REST Proxy's API reference and quick start, as curl sends
    them; the records read back by librdkafka as the proxy stores them
    (JSON values as their compact text, binary values decoded)."""
    b = start(broker_factory)

    # produce binary: POST /topics/test (API reference)
    s, body, ctype = curl(b, "/topics/test", ctype=BINARY, data="""{
      "records": [
        {"key": "a2V5", "value": "Y29uZmx1ZW50"},
        {"value": "a2Fma2E=", "partition": 1},
        {"value": "bG9ncw=="}
      ]
    }""")
    assert s == 200 and ctype == V2
    offs = ok_offsets(body)
    assert offs[0] == (java_partition(b"key", 3), 0)
    assert offs[1][0] == 1
    assert len(offs) == 3

    # produce JSON (API reference)
    s, body, _ = curl(b, "/topics/test", ctype=JSON, data="""{
      "records": [
        {"key": "somekey", "value": {"foo": "bar"}},
        {"value": ["foo", "bar"], "partition": 1},
        {"value": 53.5}
      ]
    }""")
    assert s == 200
    offs += ok_offsets(body)
    # a JSON key is hashed as the Java proxy serializes it: "somekey"
    assert offs[3][0] == java_partition(b'"somekey"', 3)
    assert offs[4][0] == 1

    # produce to one partition (POST /topics/test/partitions/1)
    s, body, _ = curl(b, "/topics/test/partitions/1", ctype=BINARY,
                      data='{"records":[{"key":"a2V5","value":'
                           '"Y29uZmx1ZW50"},{"value":"bG9ncw=="}]}')
    assert s == 200
    p1 = ok_offsets(body)
    assert [p for p, _ in p1] == [1, 1]
    assert p1[1][1] == p1[0][1] + 1
    offs += p1

    # quick start: JSON without a key
    s, body, _ = curl(b, "/topics/test", ctype=JSON,
                      data='{"records":[{"value":{"foo":"bar"}}]}')
    assert s == 200
    offs += ok_offsets(body)

    # offsets within each partition: 0, 1, 2 ... with no gap or repeat
    per = {}
    for p, o in offs:
        per.setdefault(p, []).append(o)
    for p, os_ in per.items():
        assert sorted(os_) == list(range(len(os_))), (p, os_)

    # what librdkafka reads back
    got = consume(b, "test", [0, 1, 2], len(offs))
    stored = {(m.partition(), m.offset()): (m.key(), m.value())
              for m in got}
    assert len(stored) == len(offs) == 9
    expect = [(b"key", b"confluent"), (None, b"kafka"), (None, b"logs"),
              (b'"somekey"', b'{"foo":"bar"}'), (None, b'["foo","bar"]'),
              (None, b"53.5"), (b"key", b"confluent"), (None, b"logs"),
              (None, b'{"foo":"bar"}')]
    assert [stored[po] for po in offs] == expect

    # list topics, topic metadata, partitions, offsets, brokers
    s, topics, _ = curl(b, "/topics")
    assert s == 200 and sorted(topics) == ["keyed", "small", "test", "zt"]

    s, t, _ = curl(b, "/topics/test")
    assert s == 200 and t["name"] == "test"
    assert t["configs"]["cleanup.policy"] == "delete"
    assert all(isinstance(v, str) for v in t["configs"].values())
    assert [p["partition"] for p in t["partitions"]] == [0, 1, 2]
    for p in t["partitions"]:
        assert p["leader"] == p["replicas"][0]["broker"]
        assert p["replicas"] == [{"broker": p["leader"], "leader": True,
                                  "in_sync": True}]

    s, parts, _ = curl(b, "/topics/test/partitions")
    assert s == 200 and parts == t["partitions"]

    s, p, _ = curl(b, "/topics/test/partitions/1")
    assert s == 200 and p == t["partitions"][1]

    s, o, _ = curl(b, "/topics/test/partitions/1/offsets")
    assert s == 200
    assert o == {"beginning_offset": 0, "end_offset": len(per[1])}

    s, br, _ = curl(b, "/brokers")
    assert s == 200 and br == {"brokers": [t["partitions"][0]["leader"]]}

    # the same from Python's http.client, keep-alive aside
    status, hdrs, data = http_get(b.http_port, "/topics/test/partitions")
    assert status == 200 and json.loads(data) == parts
    assert hdrs["content-type"] == V2

    # not found: topic 40401, partition 40402, as JSON
    for path, code in (("/topics/nope", 40401),
                       ("/topics/nope/partitions", 40401),
                       ("/topics/test/partitions/3", 40402),
                       ("/topics/test/partitions/-1/offsets", 40402),
                       ("/topics/nope/partitions/0/offsets", 40401)):
        s, e, _ = curl(b, path)
        assert s == 404 and e["error_code"] == code, (path, e)
        assert e["message"]


def test_internal_topics_hidden(broker_factory):
    """__consumer_offsets exists once a group commits; GET /topics hides
    it as the proxy does (Kafka clients still list it)."""
    ck = pytest.importorskip("confluent_kafka")
    from confluent_kafka.admin import AdminClient
    b = start(broker_factory)

    p = ck.Producer({"bootstrap.servers": b.bootstrap})
    p.produce("test", value=b"v", partition=0)
    assert p.flush(30) == 0
    c = ck.Consumer({"bootstrap.servers": b.bootstrap, "group.id": "g",
                     "enable.auto.commit": False})
    c.assign([ck.TopicPartition("test", 0, 0)])
    deadline = time.monotonic() + 30 * SLOW
    m = None
    while m is None and time.monotonic() < deadline:
        m = c.poll(0.2)
    c.commit(message=m, asynchronous=False)
    c.close()

    md = AdminClient({"bootstrap.servers": b.bootstrap}).list_topics(
        timeout=10 * SLOW)
    assert "__consumer_offsets" in md.topics
    s, topics, _ = curl(b, "/topics")
    assert s == 200 and "__consumer_offsets" not in topics
    assert sorted(topics) == ["keyed", "small", "test", "zt"]


# ------------------------------------------------------------ both ways


def test_binary_byte_exact_and_keys_like_java(broker_factory):
    """Arbitrary bytes (null, empty, every byte value) survive HTTP ->
    librdkafka; keyed records go where Java's murmur2 sends them, and
    where librdkafka's murmur2_random producer sends the same keys."""
    ck = pytest.importorskip("confluent_kafka")
    b = start(broker_factory)

    # Kafka's own test vectors (UtilsTest.testMurmur2) for our murmur2
    for data, h in ((b"21", -973932308), (b"foobar", -790332482),
                    (b"a-little-bit-long-string", -985981536),
                    (b"a-little-bit-longer-string", -1486304829),
                    (b"abc", 479470107)):
        assert murmur2(data) == h

    rnd = random.Random(7)
    recs = []
    for i in range(300):
        key = None if i % 10 == 0 else (b"" if i % 10 == 1 else
                                        b"key-%d" % i)
        if i % 17 == 0:
            value = None
        elif i % 17 == 1:
            value = b""
        else:
            value = bytes(rnd.randrange(256) for _ in range(i % 50 + 1))
        recs.append((key, value))
    recs.append((bytes(range(256)), bytes(range(256)) * 4))

    def b64(x):
        return None if x is None else base64.b64encode(x).decode()

    offsets = []
    for lo in range(0, len(recs), 100):
        chunk = recs[lo:lo + 100]
        body = {"records": [{"key": b64(k), "value": b64(v)}
                            for k, v in chunk]}
        s, res, _ = curl(b, "/topics/keyed", ctype=BINARY,
                         data=json.dumps(body))
        assert s == 200, res
        offsets += ok_offsets(res)

    assert len(offsets) == len(recs)
    keyless = set()
    for (k, _), (p, _) in zip(recs, offsets):
        if k is None:
            keyless.add(p)
        else:
            assert p == java_partition(k, 5), k
    # key-less records of one request share a partition (sticky)
    assert len(keyless) <= 4

    got = consume(b, "keyed", range(5), len(recs))
    stored = {(m.partition(), m.offset()): (m.key(), m.value())
              for m in got}
    assert len(stored) == len(recs)
    assert [stored[po] for po in offsets] == recs

    # librdkafka's Java-compatible partitioner agrees on every key
    parts = {}

    def on_delivery(err, msg):
        assert err is None
        parts[msg.key()] = msg.partition()

    p = ck.Producer({"bootstrap.servers": b.bootstrap,
                     "partitioner": "murmur2_random"})
    keyed = [(k, po[0]) for (k, _), po in zip(recs, offsets) if k]
    for k, _ in keyed:
        p.produce("keyed", key=k, value=b"x", on_delivery=on_delivery)
    assert p.flush(30) == 0
    assert all(parts[k] == part for k, part in keyed)


def test_kafka_produce_shows_in_offsets(broker_factory):
    """Records written by librdkafka move /partitions/{p}/offsets; HTTP
    appends follow them with the next offsets."""
    ck = pytest.importorskip("confluent_kafka")
    b = start(broker_factory)

    s, o, _ = curl(b, "/topics/test/partitions/2/offsets")
    assert s == 200 and o == {"beginning_offset": 0, "end_offset": 0}

    p = ck.Producer({"bootstrap.servers": b.bootstrap, "linger.ms": 5})
    for i in range(250):
        p.produce("test", value=b"kafka %d" % i, partition=2)
    assert p.flush(30) == 0

    s, o, _ = curl(b, "/topics/test/partitions/2/offsets")
    assert s == 200 and o == {"beginning_offset": 0, "end_offset": 250}

    s, res, _ = curl(b, "/topics/test/partitions/2", ctype=JSON,
                     data='{"records":[{"value":1},'
                          '{"key":"a\\u0000b","value":"\\u0000"}]}')
    assert s == 200 and ok_offsets(res) == [(2, 250), (2, 251)]
    s, o, _ = curl(b, "/topics/test/partitions/2/offsets")
    assert o["end_offset"] == 252
    got = consume(b, "test", [2], 252)
    assert [(m.key(), m.value()) for m in got[-2:]] == \
        [(None, b"1"), (b'"a\\u0000b"', b'"\\u0000"')]

    # one request, one batch per partition
    batches = disk_batches(b, "test", 2)
    assert batches[-1] == (250, 0, 2)


# ------------------------------------------------------------ bad input


BAD = [
    # (what, content type, body, status, error_code)
    ("malformed JSON", BINARY, '{"records":[{"value":"eA=="}', 400, 400),
    ("not JSON at all", JSON, "records=1", 400, 400),
    ("invalid UTF-8", JSON, b'{"records":[{"value":"\xff\xfe"}]}', 400, 400),
    ("deep nesting", JSON, '{"records":[{"value":' + "[" * 5000
     + "]" * 5000 + "}]}", 400, 400),
    ("an array body", BINARY, '[{"value":"eA=="}]', 400, 400),
    ("records a string", BINARY, '{"records":"eA=="}', 400, 400),
    ("a record a number", JSON, '{"records":[1]}', 400, 400),
    ("partition a string", JSON,
     '{"records":[{"value":1,"partition":"x"}]}', 400, 400),
    ("binary value a number", BINARY, '{"records":[{"value":5}]}', 400, 400),
    ("missing records", BINARY, "{}", 422, 422),
    ("null records", JSON, '{"records":null}', 422, 422),
    ("empty records", JSON, '{"records":[]}', 422, 422),
    ("empty body", JSON, "", 422, 422),
    ("unknown field", JSON, '{"records":[{"value":1}],"topic":"x"}', 422, 422),
    ("unknown record field", JSON,
     '{"records":[{"value":1,"headers":[]}]}', 422, 422),
    ("negative partition", JSON,
     '{"records":[{"value":1,"partition":-1}]}', 422, 422),
    ("base64 garbage", BINARY, '{"records":[{"value":"!!not base64!!"}]}',
     422, 422),
    ("base64 key garbage", BINARY,
     '{"records":[{"key":"a2V5=x","value":"eA=="}]}', 422, 422),
    ("base64 bad length", BINARY, '{"records":[{"value":"eAx=="}]}',
     422, 422),
    ("application/json", "application/json",
     '{"records":[{"value":"eA=="}]}', 415, 415),
    ("the v2 envelope type", V2, '{"records":[{"value":"eA=="}]}', 415, 415),
    ("avro without a registry", "application/vnd.kafka.avro.v2+json",
     '{"records":[{"value":1}]}', 415, 415),
    ("text/plain", "text/plain", '{"records":[{"value":"eA=="}]}', 415, 415),
]


def test_bad_bodies_get_json_errors(broker_factory):
    """Every bad request gets the proxy's status and a JSON error; none
    is appended, no worker dies, and the next good request works."""
    b = start(broker_factory)
    workers = b.workers()

    for what, ctype, body, status, code in BAD:
        s, e, rtype = curl(b, "/topics/test", ctype=ctype, data=body)
        assert (s, e["error_code"]) == (status, code), (what, e)
        assert rtype == V2 and isinstance(e["message"], str), what

    # a record naming a partition the topic lacks: its own error only
    s, res, _ = curl(b, "/topics/test", ctype=JSON,
                     data='{"records":[{"value":1,"partition":9},'
                          '{"value":2,"partition":0}]}')
    assert s == 200
    bad, good = res["offsets"]
    assert bad["partition"] is None and bad["offset"] is None
    assert bad["error_code"] == 50002 and "9" in bad["error"]
    assert (good["partition"], good["offset"]) == (0, 0)

    # records naming a partition on the partition's own path: 422
    s, e, _ = curl(b, "/topics/test/partitions/0", ctype=JSON,
                   data='{"records":[{"value":1,"partition":0}]}')
    assert (s, e["error_code"]) == (422, 422)

    # a path or method no route takes: the v2 error shape and type
    # (review fix: these were answered as application/json)
    s, e, rtype = curl(b, "/topics/test/partitions/0/nothing")
    assert (s, e["error_code"], rtype) == (404, 404, V2)
    s, e, rtype = curl(b, "/topics/test", method="DELETE")
    assert (s, e["error_code"], rtype) == (405, 405, V2)

    # unknown topic and partition when producing
    s, e, _ = curl(b, "/topics/nope", ctype=JSON,
                   data='{"records":[{"value":1}]}')
    assert (s, e["error_code"]) == (404, 40401)
    s, e, _ = curl(b, "/topics/test/partitions/7", ctype=JSON,
                   data='{"records":[{"value":1}]}')
    assert (s, e["error_code"]) == (404, 40402)

    # missing Content-Type: binary, the proxy's default
    s, res, _ = curl(b, "/topics/test/partitions/1", ctype="",
                     data='{"records":[{"value":"eA=="}]}')
    assert s == 200 and ok_offsets(res) == [(1, 0)]
    s, res, _ = curl(b, "/topics/test/partitions/1", ctype="*/*",
                     data='{"records":[{"value":"eA=="}]}')
    assert s == 200 and ok_offsets(res) == [(1, 1)]
    # parameters of the media type are ignored
    s, res, _ = curl(b, "/topics/test/partitions/1",
                     ctype=JSON + "; charset=UTF-8",
                     data='{"records":[{"value":"\\u00e9"}]}')
    assert s == 200 and ok_offsets(res) == [(1, 2)]

    # 10 MB: over client_max_body_size (2m), with a length and chunked
    big = json.dumps({"records": [{"value": "eHh4" * 2700}] * 1000})
    assert len(big) > 10 * 1024 * 1024
    s, _, _ = big_post(b, big, chunked=False)
    assert s == 413
    s, _, _ = big_post(b, big, chunked=True)
    assert s == 413

    # nothing bad was appended; the broker still serves both protocols
    for p, n in ((0, 1), (1, 3), (2, 0)):
        s, o, _ = curl(b, f"/topics/test/partitions/{p}/offsets")
        assert o["end_offset"] == n, (p, o)
    assert b.workers() == workers
    got = consume(b, "test", [0, 1, 2], 4)
    assert sorted(m.value() for m in got) == [b'"\xc3\xa9"', b"2", b"x",
                                              b"x"]


def big_post(b, body, chunked):
    """POST a large body from a thread while reading the answer (the
    server may answer before the body is all sent): (status, head,
    rest)."""
    data = body.encode()
    head = (f"POST /topics/test HTTP/1.1\r\nHost: x\r\n"
            f"Content-Type: {BINARY}\r\n")
    if chunked:
        head += "Transfer-Encoding: chunked\r\n\r\n"
        step = 65536
        data = b"".join(b"%x\r\n%s\r\n" % (len(data[i:i + step]),
                                             data[i:i + step])
                        for i in range(0, len(data), step)) + b"0\r\n\r\n"
    else:
        head += f"Content-Length: {len(data)}\r\n\r\n"

    s = socket.create_connection(("127.0.0.1", b.http_port),
                                 timeout=30 * SLOW)

    def send():
        try:
            s.sendall(head.encode() + data)
        except OSError:
            pass

    t = threading.Thread(target=send)
    t.start()
    resp = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            resp += chunk
            h, sep, rest = resp.partition(b"\r\n\r\n")
            n = [int(line.split(b":")[1]) for line in h.split(b"\r\n")
                 if line.lower().startswith(b"content-length:")]
            if sep and n and len(rest) >= n[0]:
                break
    except (ConnectionResetError, socket.timeout):
        pass
    s.shutdown(socket.SHUT_RDWR)
    t.join()
    s.close()
    assert resp.startswith(b"HTTP/1.1 "), resp[:200]
    h, _, rest = resp.partition(b"\r\n\r\n")
    return int(h.split()[1]), h, rest


def test_auto_create_follows_kafka_setting(broker_factory):
    """With the kafka module's auto_create_topics on, a produce creates
    the topic (default_partitions) as a Java producer's metadata request
    would; GETs never create."""
    b = start(broker_factory, auto="on")
    s, e, _ = curl(b, "/topics/fresh")
    assert (s, e["error_code"]) == (404, 40401)
    s, res, _ = curl(b, "/topics/fresh", ctype=JSON,
                     data='{"records":[{"key":1,"value":{"a":1}}]}')
    assert s == 200
    assert ok_offsets(res) == [(java_partition(b"1", 2), 0)]
    s, t, _ = curl(b, "/topics/fresh")
    assert s == 200 and len(t["partitions"]) == 2
    # an invalid name is not created
    s, e, _ = curl(b, "/topics/" + "x" * 300, ctype=JSON,
                   data='{"records":[{"value":1}]}')
    assert s in (400, 404) and e["error_code"] in (40002, 40401)


# ------------------------------------------------------------ compression


def test_zstd_topic_stores_compressed_batches(broker_factory):
    """A topic with `compression zstd` gets one zstd batch per partition
    per request from HTTP; librdkafka reads the records back."""
    b = start(broker_factory)
    n = 0
    offsets = []
    for r in range(4):
        recs = [{"key": "k%d" % (i % 7), "value": {"i": i, "r": r,
                                                 "pad": "z" * 200}}
                for i in range(50)]
        s, res, _ = curl(b, "/topics/zt", ctype=JSON,
                         data=json.dumps({"records": recs}))
        assert s == 200
        offsets += ok_offsets(res)
        n += len(recs)

    raw = 0
    for p in (0, 1):
        batches = disk_batches(b, "zt", p)
        assert batches, p
        assert {c for _, c, _ in batches} == {4}       # zstd
        assert len(batches) <= 4
    raw = sum(seg.stat().st_size
              for seg in (b.prefix / "data").glob("zt-*/*.log"))
    assert raw < n * 200 / 4

    got = consume(b, "zt", [0, 1], n)
    assert len(got) == n
    by = {(m.partition(), m.offset()): m for m in got}
    for r in range(4):
        for i in range(50):
            m = by[offsets[r * 50 + i]]
            assert m.key() == b'"k%d"' % (i % 7)
            assert json.loads(m.value()) == {"i": i, "r": r,
                                             "pad": "z" * 200}
            assert m.partition() == java_partition(m.key(), 2)


def test_large_request_cut_into_batches(broker_factory):
    """Records overflowing the topic's max_record_batch_bytes (64k here)
    go as several batches, as a Java producer would send them; a record
    too large by itself fails alone (50002), the others are stored."""
    b = start(broker_factory)
    recs = [{"value": base64.b64encode(b"%04d" % i * 250).decode()}
            for i in range(300)]
    recs.insert(150, {"value": base64.b64encode(b"L" * 100000).decode()})
    s, res, _ = curl(b, "/topics/small", ctype=BINARY,
                     data=json.dumps({"records": recs}))
    assert s == 200
    offs = res["offsets"]
    big = offs.pop(150)
    assert big["error_code"] == 50002 and big["offset"] is None
    assert [(o["partition"], o["offset"]) for o in offs] == \
        [(0, i) for i in range(300)]
    batches = disk_batches(b, "small", 0)
    assert 300 * 1000 // 65536 < len(batches) < 20
    assert all(n > 1 for _, _, n in batches)
    got = consume(b, "small", [0], 300)
    assert [m.value() for m in got] == [b"%04d" % i * 250
                                        for i in range(300)]


LUA = """
    topic filtered {
        partitions  1;
        produce_by_lua_block {
            local rec = ...
            if rec.value == "bad" then
                error("record refused: bad")
            end
            return rec
        }
    }
"""


def test_refused_by_produce_filter(broker_factory):
    """A produce filter (Lua) refusing a batch: its records get the
    proxy's per-record error 50002 with the filter's words, the request
    is still a 200, the next one is stored."""
    b = broker_factory("probe")
    b.write_conf(http=HTTP, blocks=CONF.format(auto="off", extra=LUA))
    rc, out = b.test_conf()
    if rc != 0:
        pytest.skip("no Lua produce filters in this build: " + out[-200:])
    b = start(broker_factory, extra=LUA)

    def post(*values):
        recs = [{"value": base64.b64encode(v).decode()} for v in values]
        s, res, _ = curl(b, "/topics/filtered", ctype=BINARY,
                         data=json.dumps({"records": recs}))
        assert s == 200, res
        return res["offsets"]

    assert [(o["partition"], o["offset"]) for o in post(b"one")] == [(0, 0)]
    for o in post(b"two", b"bad"):
        assert o["partition"] is None and o["offset"] is None
        assert o["error_code"] == 50002 and "refused" in o["error"], o
    assert [(o["partition"], o["offset"]) for o in post(b"three")] == \
        [(0, 1)]
    got = consume(b, "filtered", [0], 2)
    assert [m.value() for m in got] == [b"one", b"three"]


def test_keepalive_connections_are_served_fairly(broker_factory):
    """Eight keep-alive connections POST bodies larger than the header
    buffer back to back to one worker: each gets its share.  A connection
    whose next request was already there used to be re-posted within the
    same pass of posted events, so a few connections kept the worker and
    the others waited seconds for the poll."""
    b = broker_factory("b")
    b.write_conf(workers=1,
                 http=HTTP.replace("client_max_body_size 2m;",
                                   "keepalive_requests 1000000;"),
                 blocks=CONF.format(auto="off", extra=""))
    b.start()

    value = base64.b64encode(b"x" * 1000).decode()
    body = json.dumps({"records": [{"value": value}] * 10}).encode()
    assert len(body) > 8192
    request = (b"POST /topics/test/partitions/0 HTTP/1.1\r\n"
               b"Host: t\r\nContent-Type: " + BINARY.encode() + b"\r\n"
               b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n"
               + body)

    counts = [0] * 8
    stop = threading.Event()
    errors = []

    def response(f):
        status = f.readline()
        length = 0
        while True:
            line = f.readline()
            if line in (b"\r\n", b""):
                break
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        f.read(length)
        return status

    def client(i):
        # three requests in flight, so the next one is always there
        # when the worker finishes one
        try:
            while not stop.is_set():
                s = socket.create_connection(("127.0.0.1", b.http_port),
                                             timeout=30)
                f = s.makefile("rb")
                s.sendall(request * 3)
                while not stop.is_set():
                    status = response(f)
                    if status == b"":
                        errors.append("closed")
                        return
                    if b" 200 " not in status:
                        errors.append(status)
                        return
                    counts[i] += 1
                    s.sendall(request)
                s.close()
        except OSError as e:
            errors.append(e)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    time.sleep(3)
    stop.set()
    for t in threads:
        t.join(60)

    assert not errors, errors
    mean = sum(counts) / len(counts)
    assert mean > 10, counts
    # a fair share each, whatever the machine's speed
    assert min(counts) >= mean / 4, counts
