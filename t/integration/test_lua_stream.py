"""Lua stream processors (modules/lua/sl_lua_stream.c) with real clients.

A processor is a member of its consumer group as a Kafka consumer is:
it shares the input topic's partitions with confluent-kafka-python
consumers of the same group (range assignor, either side leading),
takes over their partitions when they leave, and commits its input
offsets only after its output is on disk, so that a processor killed
and restarted mid-stream loses no record.
"""

import os
import signal
import struct
import time

import pytest

from conftest import SLOW, pid_alive, wait_for


KAFKA_CONF = """
log {{
    data_dir  data;
}}

kafka {{
    listen               127.0.0.1:@PORT_kafka@;
    advertised_listener  127.0.0.1:@PORT_kafka@;
{kafka}
}}
"""


def ck():
    try:
        import confluent_kafka
        import confluent_kafka.admin  # noqa: F401
    except ImportError:
        pytest.skip("confluent-kafka-python is not installed")
    return confluent_kafka


def start_kafka_lua(factory, kafka, main, workers=2):
    b = factory("k")
    b.write_conf(workers=workers, with_http=False, main=main,
                 blocks=KAFKA_CONF.format(kafka=kafka))
    b.start()
    b.bootstrap = f"127.0.0.1:{b.port('kafka')}"
    return b


def kill_all(b):
    pids = b.session_pids()
    for p in pids:
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass
    wait_for(lambda: not any(pid_alive(p) for p in pids), 10 * SLOW,
             what="every process to die")
    b.proc.wait(timeout=5 * SLOW)
    b.proc = None


def produce_fast(b, topic, values):
    k = ck()
    p = k.Producer({"bootstrap.servers": b.bootstrap, "linger.ms": 5,
                    "acks": "all"})
    errors = []

    def cb(err, msg):
        if err:
            errors.append(err)

    for i, v in enumerate(values):
        p.produce(topic, v, key=b"%d" % i, on_delivery=cb)
        p.poll(0)
    assert p.flush(60 * SLOW) == 0
    assert errors == []


def produce_to(b, topic, by_partition):
    """by_partition: {partition: [values]}, each to its partition."""
    k = ck()
    p = k.Producer({"bootstrap.servers": b.bootstrap, "linger.ms": 5,
                    "acks": "all"})
    errors = []

    def cb(err, msg):
        if err:
            errors.append(err)

    for part, values in by_partition.items():
        for v in values:
            p.produce(topic, v, partition=part, on_delivery=cb)
            p.poll(0)
    assert p.flush(60 * SLOW) == 0
    assert errors == []


def consume_all(b, topic, want, timeout=60):
    """Every record of every partition until want (a set) is seen."""
    k = ck()
    c = k.Consumer({"bootstrap.servers": b.bootstrap, "group.id": "check",
                    "enable.auto.commit": False,
                    "auto.offset.reset": "earliest"})
    try:
        c.subscribe([topic])
        seen = []
        deadline = time.monotonic() + timeout * SLOW
        while not want <= set(seen) and time.monotonic() < deadline:
            m = c.poll(0.5)
            if m is None or m.error():
                continue
            seen.append(m.value())
        return seen
    finally:
        c.close()


def read_partition(b, topic, partition, want, timeout=30, count=0):
    """The values of one partition from its start until want (a set) is
    seen (and count values), and its high watermark then."""
    k = ck()
    c = k.Consumer({"bootstrap.servers": b.bootstrap, "group.id": "check",
                    "enable.auto.commit": False})
    try:
        c.assign([k.TopicPartition(topic, partition, 0)])
        seen = []
        deadline = time.monotonic() + timeout * SLOW
        while ((not want <= set(seen) or len(seen) < count)
               and time.monotonic() < deadline):
            m = c.poll(0.5)
            if m is None or m.error():
                continue
            seen.append(m.value())
        _, high = c.get_watermark_offsets(
            k.TopicPartition(topic, partition), timeout=10 * SLOW)
        return seen, high
    finally:
        c.close()


def decode_assignment(buf):
    """A ConsumerProtocolAssignment: {topic: [partitions]}."""
    out = {}
    if not buf:
        return out
    _, n = struct.unpack_from(">hi", buf, 0)
    pos = 6
    for _ in range(max(n, 0)):
        (tlen,) = struct.unpack_from(">h", buf, pos)
        topic = buf[pos + 2:pos + 2 + tlen].decode()
        pos += 2 + tlen
        (np,) = struct.unpack_from(">i", buf, pos)
        pos += 4
        parts = list(struct.unpack_from(">%di" % np, buf, pos))
        pos += 4 * np
        out[topic] = sorted(parts)
    return out


def group_assignment(b, group):
    """{client id: [partitions of "in"]} of a stable group, else None."""
    k = ck()
    if getattr(b, "admin", None) is None:
        b.admin = k.admin.AdminClient({"bootstrap.servers": b.bootstrap})
    groups = b.admin.list_groups(group, timeout=10 * SLOW)
    if not groups or groups[0].state != "Stable":
        return None
    g = groups[0]
    assert g.protocol_type == "consumer" and g.protocol == "range", \
        (g.protocol_type, g.protocol)
    out = {m.client_id: decode_assignment(m.assignment).get("in", [])
           for m in g.members}
    return out if len(out) == len(g.members) else None


def until(predicate, timeout, what):
    """Like wait_for, at a pace for admin requests; what() explains."""
    deadline = time.monotonic() + timeout * SLOW
    while not predicate():
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s: {what()}")
        time.sleep(0.1)


def wait_assignment(b, group, want, timeout=30):
    """Waits until the group is stable with the assignment want."""
    last = [None]

    def done():
        last[0] = group_assignment(b, group)
        return last[0] == want

    until(done, timeout, lambda: f"want {want}, have {last[0]}")


def kafka_consumer(b, group, name):
    k = ck()
    c = k.Consumer({"bootstrap.servers": b.bootstrap, "group.id": group,
                    "client.id": name,
                    "partition.assignment.strategy": "range",
                    "enable.auto.commit": False,
                    "auto.offset.reset": "earliest",
                    "session.timeout.ms": 10000,
                    "heartbeat.interval.ms": 500})
    c.subscribe(["in"])
    return c


def poll_values(c, n, timeout=30):
    """Polls until n records came, then a little longer for strays."""
    out = []
    deadline = time.monotonic() + timeout * SLOW
    while len(out) < n and time.monotonic() < deadline:
        m = c.poll(0.2)
        if m is not None and not m.error():
            out.append(m)
    end = time.monotonic() + 1
    while time.monotonic() < end:
        m = c.poll(0.1)
        if m is not None and not m.error():
            out.append(m)
    return out


# ------------------------------------------------------------ streams


STREAM = r"""
stream upper {
    from   in;
    to     out;
    group  upper-stream;
    by_lua_block {
        local rec = ...
        if rec.value == "skip" then
            return nil
        end
        if rec.value == "boom" then
            error("a poison record")
        end
        if rec.value == "twice" then
            return {value = "TWICE-1"}, {{value = "TWICE-2"}}
        end
        if rec.value:sub(1, 1) == "v" then
            -- slow enough to be killed in the middle
            local t = os.clock()
            while os.clock() - t < 0.0002 do end
        end
        rec.value = rec.value:upper()
        return rec
    }
}
"""

STREAM_TOPICS = """
        group_initial_rebalance_delay  0;
        topic in   { partitions 2; }
        topic out  { partitions 1; }
"""


def test_stream_processor_transforms(broker_factory):
    b = start_kafka_lua(broker_factory, kafka=STREAM_TOPICS, main=STREAM)

    produce_fast(b, "in", [b"a", b"skip", b"boom", b"twice", b"b"])

    want = {b"A", b"TWICE-1", b"TWICE-2", b"B"}
    seen = consume_all(b, "out", want)
    assert set(seen) == want, seen
    b.wait_log(r"stream_by_lua\(broker\.conf:\d+\):\d+: a poison record")


def test_stream_processor_survives_kill_9(broker_factory):
    b = start_kafka_lua(broker_factory, kafka=STREAM_TOPICS, main=STREAM)

    values = [b"v%05d" % i for i in range(3000)]
    produce_fast(b, "in", values[:1500])

    # mid-stream: 1500 records take the processor 0.3 s at least
    time.sleep(0.1)
    kill_all(b)

    b.start()
    produce_fast(b, "in", values[1500:])

    want = {v.upper() for v in values}
    seen = consume_all(b, "out", want, timeout=90)
    missing = want - set(seen)
    assert not missing, f"{len(missing)} records lost, e.g. " \
        f"{sorted(missing)[:5]}"
    # at least once: a record may come twice, never a stranger
    assert set(seen) == want


# ------------------------------------------------------------ groups


SHARED = r"""
stream upper {
    from   in;
    to     out;
    group  shared;
    by_lua_block {
        local rec = ...
        rec.value = rec.value:upper()
        return rec
    }
}
"""

SHARED_TOPICS = """
        group_initial_rebalance_delay  0;
        topic in   { partitions 4; }
        topic out  { partitions 1; }
"""

ME = "sluice-stream-upper"


def values_for(prefix, parts, n):
    return {p: [b"%s%d-%02d" % (prefix, p, i) for i in range(n)]
            for p in parts}


def test_stream_shares_its_group_with_a_kafka_consumer(broker_factory):
    b = start_kafka_lua(broker_factory, kafka=SHARED_TOPICS, main=SHARED)

    # alone, the processor leads the group and takes every partition
    wait_assignment(b, "shared", {ME: [0, 1, 2, 3]})
    b.wait_log(r'stream "upper" is member "sluice-stream-upper-[-0-9a-f]+" '
               r'of group "shared" generation \d+, partitions of "in": '
               r'0 1 2 3')

    # a Kafka consumer joins: the processor, still leader, assigns 2 + 2
    c = kafka_consumer(b, "shared", "py")
    try:
        early = []
        a = None

        def split():
            nonlocal a
            m = c.poll(0.2)
            if m is not None and not m.error():
                early.append(m)
            a = group_assignment(b, "shared")
            return (a is not None and len(a) == 2
                    and sorted(a[ME] + a["py"]) == [0, 1, 2, 3]
                    and len(a[ME]) == 2
                    and sorted(tp.partition for tp in c.assignment())
                    == a["py"])

        until(split, 40, lambda: f"a 2 + 2 split, not {a}")
        assert early == []
        mine, theirs = a[ME], a["py"]

        first = values_for(b"p", range(4), 10)
        produce_to(b, "in", first)

        # the consumer sees only its partitions' records
        got = poll_values(c, 20)
        assert sorted(m.value() for m in got) == \
            sorted(v for p in theirs for v in first[p])
        assert {m.partition() for m in got} == set(theirs)

        # the processor's output is exactly the rest, transformed
        want = {v.upper() for p in mine for v in first[p]}
        seen, high = read_partition(b, "out", 0, want)
        assert set(seen) == want and len(seen) == 20 and high == 20, \
            (sorted(seen), high)

        c.commit(asynchronous=False)
    finally:
        c.close()

    # the consumer left: the processor takes its partitions over, from
    # the offsets the consumer committed
    wait_assignment(b, "shared", {ME: [0, 1, 2, 3]})

    second = values_for(b"q", range(4), 5)
    produce_to(b, "in", second)

    want |= {v.upper() for p in range(4) for v in second[p]}
    seen, high = read_partition(b, "out", 0, want)
    assert set(seen) == want and len(seen) == 40 and high == 40, \
        (sorted(seen), high)


def test_stream_joins_a_group_a_kafka_consumer_leads(broker_factory):
    k = ck()
    b = start_kafka_lua(broker_factory, main=SHARED, kafka="""
        group_initial_rebalance_delay  0;
        topic in   { partitions 4; }
""")
    b.wait_log(r'stream "upper" waits for topics "in" and "out"')

    c = kafka_consumer(b, "shared", "py")
    try:
        a = None

        def assigned(want):
            def check():
                nonlocal a
                m = c.poll(0.2)
                assert m is None or m.error(), m.value()
                a = group_assignment(b, "shared")
                return a == want and sorted(
                    tp.partition for tp in c.assignment()) == want["py"]
            return check

        until(assigned({"py": [0, 1, 2, 3]}), 30, lambda: f"have {a}")

        # the processor's output appears: it joins; the consumer leads
        fs = b.admin.create_topics([k.admin.NewTopic("out", 1, 1)])
        fs["out"].result(10 * SLOW)

        # range: members in id order, "rdkafka-..." before "sluice-..."
        until(assigned({"py": [0, 1], ME: [2, 3]}), 40,
              lambda: f"have {a}")

        first = values_for(b"p", range(4), 10)
        produce_to(b, "in", first)

        got = poll_values(c, 20)
        assert sorted(m.value() for m in got) == \
            sorted(v for p in (0, 1) for v in first[p])

        want = {v.upper() for p in (2, 3) for v in first[p]}
        seen, high = read_partition(b, "out", 0, want)
        assert set(seen) == want and len(seen) == 20 and high == 20, \
            (sorted(seen), high)
    finally:
        c.close()


def test_stream_worker_respawn_keeps_its_place(broker_factory):
    """Worker 0 killed: the respawned one rejoins with the static
    instance id and takes its old place, no rebalance (same generation),
    and goes on processing."""
    b = start_kafka_lua(broker_factory, kafka=SHARED_TOPICS, main=SHARED)

    member = (r'(\d+)#\d+: lua: stream "upper" is member '
              r'"sluice-stream-upper-[-0-9a-f]+" of group "shared" '
              r'generation (\d+), partitions of "in": 0 1 2 3')
    m = b.wait_log(member)
    pid, generation = int(m.group(1)), m.group(2)

    produce_to(b, "in", values_for(b"a", range(4), 3))
    want = {v.upper() for vs in values_for(b"a", range(4), 3).values()
            for v in vs}
    seen, _ = read_partition(b, "out", 0, want)
    assert want <= set(seen)

    os.kill(pid, signal.SIGKILL)

    again = (r'(?<!\d)(?!%d#)(\d+)#\d+: lua: stream "upper" is member '
             r'"sluice-stream-upper-[-0-9a-f]+" of group "shared" '
             r'generation %s, partitions of "in": 0 1 2 3'
             % (pid, generation))
    b.wait_log(again)

    more = values_for(b"b", range(4), 3)
    produce_to(b, "in", more)
    want |= {v.upper() for vs in more.values() for v in vs}
    seen, _ = read_partition(b, "out", 0, want)
    assert want <= set(seen)


def test_stream_reload_hands_its_partitions_over(broker_factory):
    """A reload: the old worker 0 leaves, the new one takes every
    partition and goes on where the old one committed."""
    b = start_kafka_lua(broker_factory, kafka=SHARED_TOPICS, main=SHARED)

    member = (r'(?<!\d)(\d+)#\d+: lua: stream "upper" is member '
              r'"sluice-stream-upper-[-0-9a-f]+" of group "shared" '
              r'generation \d+, partitions of "in": 0 1 2 3')
    pid = int(b.wait_log(member).group(1))

    first = values_for(b"a", range(4), 5)
    produce_to(b, "in", first)
    want = {v.upper() for vs in first.values() for v in vs}
    seen, _ = read_partition(b, "out", 0, want)
    assert set(seen) == want

    old = b.workers()
    assert b.signal("reload").returncode == 0
    b.wait_workers(2, exclude=old, timeout=30 * SLOW)

    b.wait_log(member.replace(r"(\d+)#", r"(?!%d#)(\d+)#" % pid),
               timeout=30 * SLOW)
    wait_assignment(b, "shared", {ME: [0, 1, 2, 3]})

    second = values_for(b"b", range(4), 5)
    produce_to(b, "in", second)
    want |= {v.upper() for vs in second.values() for v in vs}
    seen, high = read_partition(b, "out", 0, want)
    # nothing processed twice: the new worker started at the commits
    assert set(seen) == want and high == 40, (sorted(seen), high)


# ------------------------------------------------------------ sl.state


COUNT = r"""
stream count {
    from   in;
    to     out;
    group  counter;
    state  counts;
    by_lua_block {
        local rec = ...
        if rec.value == "reset" then
            sl.state:delete(rec.key)
            return nil
        end
        local n = tonumber(sl.state:get(rec.key) or "0") + 1
        sl.state:set(rec.key, n)
        return {key = rec.key, value = rec.key .. "=" .. n}
    }
}
"""

COUNT_TOPICS = """
        group_initial_rebalance_delay  0;
        topic in      { partitions 2; }
        topic out     { partitions 1; }
        topic counts  { partitions 2; cleanup_policy compact; }
"""


def produce_keyed(b, topic, pairs):
    k = ck()
    p = k.Producer({"bootstrap.servers": b.bootstrap, "linger.ms": 5,
                    "acks": "all"})
    for key, value in pairs:
        p.produce(topic, value, key=key)
        p.poll(0)
    assert p.flush(60 * SLOW) == 0


def committed_all(b, group, topic, n):
    """Whether group committed every partition of topic to its end."""
    k = ck()
    c = k.Consumer({"bootstrap.servers": b.bootstrap, "group.id": group})
    try:
        tps = [k.TopicPartition(topic, p) for p in range(n)]
        done = c.committed(tps, timeout=10 * SLOW)
        return all(max(tp.offset, 0) == c.get_watermark_offsets(
            tp, timeout=10 * SLOW)[1] for tp in done)
    finally:
        c.close()


def read_all(b, topic, n):
    """Every (key, value) of every partition of topic, to its end."""
    k = ck()
    c = k.Consumer({"bootstrap.servers": b.bootstrap, "group.id": "check",
                    "enable.auto.commit": False})
    out = []
    try:
        for p in range(n):
            tp = k.TopicPartition(topic, p)
            _, high = c.get_watermark_offsets(tp, timeout=10 * SLOW)
            if high == 0:
                continue
            c.assign([k.TopicPartition(topic, p, 0)])
            pos = 0
            deadline = time.monotonic() + 20 * SLOW
            while pos < high and time.monotonic() < deadline:
                m = c.poll(0.5)
                if m is None or m.error():
                    continue
                out.append((m.key(), m.value()))
                pos = m.offset() + 1
        return out
    finally:
        c.close()


def test_stream_state_survives_a_restart(broker_factory):
    b = start_kafka_lua(broker_factory, kafka=COUNT_TOPICS, main=COUNT)

    produce_keyed(b, "in", [(b"a", b"x"), (b"b", b"x"), (b"a", b"x"),
                            (b"c", b"x"), (b"a", b"x")])
    want = {b"a=1", b"b=1", b"a=2", b"c=1", b"a=3"}
    seen, high = read_partition(b, "out", 0, want)
    assert set(seen) == want and high == 5, (seen, high)

    until(lambda: committed_all(b, "counter", "in", 2), 20,
          lambda: "the input offsets committed")
    kill_all(b)

    # the state comes back from the changelog
    b.start()
    produce_keyed(b, "in", [(b"a", b"x"), (b"b", b"x"), (b"c", b"reset"),
                            (b"c", b"x")])
    want |= {b"a=4", b"b=2"}
    seen, high = read_partition(b, "out", 0, want, count=8)
    assert set(seen) == want and high == 8, (seen, high)
    assert seen.count(b"c=1") == 2, seen

    # the changelog: every change, a tombstone for the delete
    log = read_all(b, "counts", 2)
    latest = {}
    for key, value in log:
        latest[key] = value
    assert latest == {b"a": b"4", b"b": b"2", b"c": b"1"}, log
    assert (b"c", None) in log, log
