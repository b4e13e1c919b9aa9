"""LuaJIT scripting (issue 6, modules/lua) against real clients: produce
filters that drop, rewrite, route and reject records as
confluent-kafka-python (librdkafka) sees them (stream processors are in
test_lua_stream.py); content_by_lua endpoints
driven by curl; runaway and failing scripts that fail only their own
request; a shared dictionary counted from two workers; timers; the
sandbox; configuration errors with file and line; the module built and
loaded as a dynamic module."""

import concurrent.futures
import re
import shutil
import subprocess
import time

import pytest

from conftest import ROOT, SLOW, BUILD_DIR, wait_for


CURL = shutil.which("curl")

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

FILTER = r"""
        topic filtered {
            partitions  1;
            produce_by_lua_block {
                local rec = ...
                local v = rec.value or ""
                if v == "drop" then
                    return nil
                end
                if v == "bad" then
                    error("record refused: " .. v)
                end
                if v == "spin" then
                    while true do end
                end
                if v:sub(1, 6) == "route:" then
                    sl.produce("routed", {key = rec.key, value = v:sub(7)})
                    return nil
                end
                if v == "copy" then
                    sl.produce("routed", rec)
                    return rec
                end
                if v == "header" then
                    rec.headers[#rec.headers + 1] = {key = "x-lua",
                                                     value = "yes"}
                    return rec
                end
                if v == "same" then
                    return rec
                end
                if v == "nokey" then
                    rec.key = nil
                    return rec
                end
                if v == "readnokey" then
                    local k = rec.key
                    rec.key = nil
                    rec.value = "was " .. k
                    return rec
                end
                if v == "fresh" then
                    return {value = "fresh " .. rec.topic .. " "
                                    .. rec.partition}
                end
                rec.value = "{" .. string.upper(v) .. "}"
                return rec
            }
        }
        topic routed   { partitions 1; }
        topic plain    { partitions 1; }
"""


def ck():
    try:
        import confluent_kafka
    except ImportError:
        pytest.skip("confluent-kafka-python is not installed")
    return confluent_kafka


def has_kafka_topic_directives(b):
    """Whether this build's kafka topic blocks take the Lua directives
    (the kafka module's SL_KAFKA_TOPIC_CONF context)."""
    rc, out = b.test_conf()
    if rc != 0 and re.search(r'unknown directive "produce_by_lua', out):
        return False
    assert rc == 0, out
    return True


def start_kafka_lua(factory, kafka=FILTER, main="", workers=2):
    b = factory("k")
    b.write_conf(workers=workers, with_http=False, main=main,
                 blocks=KAFKA_CONF.format(kafka=kafka))
    if not has_kafka_topic_directives(b):
        pytest.skip("the kafka module has no per-topic module directives "
                    "yet (SL_KAFKA_TOPIC_CONF)")
    b.start()
    b.bootstrap = f"127.0.0.1:{b.port('kafka')}"
    return b


def produce(b, topic, values, key=b"k", headers=None, compression="none"):
    """One produce request per value (acks all, no retries): a list of
    (value, error code or None)."""
    k = ck()
    p = k.Producer({"bootstrap.servers": b.bootstrap, "linger.ms": 0,
                    "acks": "all", "message.send.max.retries": 0,
                    "compression.type": compression,
                    "socket.timeout.ms": 10000 * SLOW})
    out = []

    def cb(err, msg):
        out.append((msg.value(), err.code() if err else None))

    for v in values:
        p.produce(topic, v, key=key, headers=headers, on_delivery=cb)
        assert p.flush(30 * SLOW) == 0
    return out


def consume(b, topic, n, timeout=20):
    """The first n records of partition 0 (fewer if they never come)."""
    k = ck()
    c = k.Consumer({"bootstrap.servers": b.bootstrap, "group.id": "t",
                    "enable.auto.commit": False,
                    "auto.offset.reset": "earliest"})
    try:
        c.assign([k.TopicPartition(topic, 0, 0)])
        out = []
        deadline = time.monotonic() + timeout * SLOW
        while len(out) < n and time.monotonic() < deadline:
            m = c.poll(0.5)
            if m is None or m.error():
                continue
            out.append(m)
        return out
    finally:
        c.close()


# ------------------------------------------------------------ produce


def test_produce_filter_drops_rewrites_and_rejects(broker_factory):
    b = start_kafka_lua(broker_factory)
    k = ck()

    res = produce(b, "filtered", [b"one", b"drop", b"two", b"bad", b"same",
                                  b"three"])
    assert res == [(b"one", None), (b"drop", None), (b"two", None),
                   (b"bad", k.KafkaError.POLICY_VIOLATION),
                   (b"same", None), (b"three", None)], res

    got = [m.value() for m in consume(b, "filtered", 4)]
    assert got == [b"{ONE}", b"{TWO}", b"same", b"{THREE}"], got

    log = b.error_log()
    assert re.search(r"produce_by_lua\(broker\.conf:\d+\):\d+: "
                     r"record refused: bad", log), log


@pytest.mark.parametrize("codec", ["gzip", "snappy", "lz4", "zstd"])
def test_produce_filter_on_compressed_batches(broker_factory, codec):
    b = start_kafka_lua(broker_factory)

    res = produce(b, "filtered", [b"one", b"drop", b"same"],
                  compression=codec)
    assert [e for _, e in res] == [None, None, None], res
    got = [m.value() for m in consume(b, "filtered", 2)]
    assert got == [b"{ONE}", b"same"], got


def test_produce_filter_headers_and_keys(broker_factory):
    b = start_kafka_lua(broker_factory)

    res = produce(b, "filtered", [b"header"], key=b"the-key",
                  headers=[("h1", b"v1")])
    assert res == [(b"header", None)], res

    m, = consume(b, "filtered", 1)
    assert m.key() == b"the-key"
    assert m.value() == b"header"
    assert m.headers() == [("h1", b"v1"), ("x-lua", b"yes")], m.headers()


def test_produce_filter_removes_fields_and_builds_records(broker_factory):
    b = start_kafka_lua(broker_factory)

    res = produce(b, "filtered", [b"nokey", b"readnokey", b"fresh"],
                  key=b"kk")
    assert [e for _, e in res] == [None, None, None], res

    got = [(m.key(), m.value()) for m in consume(b, "filtered", 3)]
    assert got == [(None, b"nokey"), (None, b"was kk"),
                   (None, b"fresh filtered 0")], got


def test_produce_filter_routes_to_another_topic(broker_factory):
    b = start_kafka_lua(broker_factory)

    res = produce(b, "filtered", [b"route:r1", b"kept", b"route:r2",
                                  b"copy"], headers=[("h", b"1")])
    assert [e for _, e in res] == [None, None, None, None], res

    assert [m.value() for m in consume(b, "filtered", 2)] == \
        [b"{KEPT}", b"copy"]
    routed = consume(b, "routed", 3)
    assert [(m.key(), m.value()) for m in routed] == \
        [(b"k", b"r1"), (b"k", b"r2"), (b"k", b"copy")]
    assert routed[2].headers() == [("h", b"1")]


def test_runaway_produce_filter_is_stopped(broker_factory):
    b = start_kafka_lua(broker_factory,
                        main="lua_max_run_time  200ms;")
    k = ck()

    t0 = time.monotonic()
    res = produce(b, "filtered", [b"spin"])
    assert res == [(b"spin", k.KafkaError.POLICY_VIOLATION)], res
    assert time.monotonic() - t0 < 10 * SLOW

    b.wait_log(r"lua_max_run_time \(200ms\) exceeded")

    # the worker that ran it still serves, and so does the filter
    for _ in range(4):
        assert produce(b, "plain", [b"after"]) == [(b"after", None)]
    assert produce(b, "filtered", [b"ok"]) == [(b"ok", None)]
    assert [m.value() for m in consume(b, "filtered", 1)] == [b"{OK}"]


def test_produce_filter_from_a_file(broker_factory, tmp_path):
    script = tmp_path / "mask.lua"
    script.write_text("local rec = ...\n"
                      "rec.value = rec.value:gsub('%d', '#')\n"
                      "return rec\n")
    b = start_kafka_lua(broker_factory, kafka=f"""
        topic cards {{
            partitions  1;
            produce_by_lua_file  {script};
        }}
""")
    assert produce(b, "cards", [b"card 4111-1111"]) == \
        [(b"card 4111-1111", None)]
    assert [m.value() for m in consume(b, "cards", 1)] == \
        [b"card ####-####"]


# ------------------------------------------------------------ streams
# in test_lua_stream.py


# ------------------------------------------------------------ HTTP


HTTP_LUA = r"""
    location /hello {
        content_by_lua_block {
            local args = sl.req.get_args()
            sl.header["X-Lua"] = "yes"
            sl.header["Content-Type"] = "application/x-hello"
            sl.status = 201
            sl.say("method=", sl.req.method, " uri=", sl.req.uri)
            sl.say("name=", args.name or "nobody")
            sl.print("agent=", sl.req.headers["user-agent"] or "", "\n")
            if sl.req.body then
                sl.say("body=", sl.req.body)
            end
        }
    }
    location /deny {
        content_by_lua_block { sl.exit(sl.HTTP_FORBIDDEN) }
    }
    location /spin {
        content_by_lua_block { local i = 0 while true do i = i + 1 end }
    }
    location /spin-pcall {
        content_by_lua_block {
            while true do pcall(function() while true do end end) end
        }
    }
    location /spin-coroutine {
        content_by_lua_block {
            local co = coroutine.wrap(function() while true do end end)
            while true do pcall(co) end
        }
    }
    location /fail {
        content_by_lua_block {
            local t = nil
            sl.say("never sent")
            return t.field
        }
    }
    location /sandbox {
        content_by_lua_block {
            sl.say(type(io), " ", type(os.execute), " ", type(os.exit), " ",
                   tostring(pcall(require, "ffi")), " ", type(os.time))
        }
    }
    location /count {
        content_by_lua_block {
            local d = sl.shared.counters
            sl.say(d:incr("requests", 1, 0), " ", sl.worker_id(), " ",
                   d:get("workers"), " ", d:get("loops"), " ",
                   tostring(d:get("timer")))
        }
    }
    location /file {
        content_by_lua_file  lua/file.lua;
    }
"""

HTTP_MAIN = r"""
lua_package_path  "@PREFIX@lua/?.lua;;";
lua_shared_dict   counters 1m;
init_by_lua_block {
    -- braces in strings and comments are Lua's: } { [[ } ]] --[==[ } ]==]
    local s = "} {"
    helper = require("helper")
    sl.shared.counters:set("workers", 0)
}
init_worker_by_lua_block {
    local d = sl.shared.counters
    d:incr("workers", 1)
    for _ = 1, 2000 do d:incr("loops", 1, 0) end
    sl.timer.at(0.05, function(v) d:set("timer", v) end, "fired")
}
"""


def curl(b, path, *args):
    if CURL is None:
        pytest.skip("curl is not installed")
    r = subprocess.run([CURL, "-s", "-i", "--max-time", str(20 * SLOW)]
                       + list(args) + [f"http://127.0.0.1:{b.http_port}{path}"],
                       capture_output=True, timeout=30 * SLOW)
    assert r.returncode == 0, r.stderr
    head, _, body = r.stdout.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return status, headers, body


@pytest.fixture
def lua_http(broker_factory):
    b = broker_factory("h")
    (b.prefix / "lua").mkdir()
    (b.prefix / "lua" / "helper.lua").write_text(
        "return {greet = function(n) return 'hi ' .. n end}\n")
    (b.prefix / "lua" / "file.lua").write_text(
        "sl.say(helper.greet(sl.req.args))\n")
    b.write_conf(workers=2, main=HTTP_MAIN, http=HTTP_LUA)
    b.start()
    return b


def test_content_by_lua_block(lua_http):
    status, headers, body = curl(lua_http, "/hello?name=ann%20b&x=1",
                                 "-A", "curl-test", "--data-binary", "xyz")
    assert status == 201, body
    assert headers["x-lua"] == "yes"
    assert headers["content-type"] == "application/x-hello"
    assert body == (b"method=POST uri=/hello\nname=ann b\n"
                    b"agent=curl-test\nbody=xyz\n"), body

    status, _, body = curl(lua_http, "/hello")
    assert status == 201
    assert b"method=GET" in body and b"name=nobody" in body


def test_content_by_lua_file_and_package_path(lua_http):
    status, _, body = curl(lua_http, "/file?bob")
    assert (status, body) == (200, b"hi bob\n")


def test_exit_with_a_status(lua_http):
    status, _, _ = curl(lua_http, "/deny")
    assert status == 403


def test_runaway_and_failing_scripts_fail_only_their_request(lua_http):
    b = lua_http
    t0 = time.monotonic()
    status, _, body = curl(b, "/spin")
    assert status == 500
    assert time.monotonic() - t0 < 10 * SLOW
    b.wait_log(r"content_by_lua\(broker\.conf:\d+\):1: "
               r"lua_max_run_time \(100ms\) exceeded")

    for path in ("/spin-pcall", "/spin-coroutine"):
        t0 = time.monotonic()
        status, _, body = curl(b, path)
        assert status == 500
        assert time.monotonic() - t0 < 10 * SLOW

    status, _, body = curl(b, "/fail")
    assert status == 500
    assert b"never sent" not in body
    b.wait_log(r"content_by_lua\(broker\.conf:\d+\):4: attempt to index "
               r"local 't' \(a nil value\)")

    # both workers still serve, the VM too
    workers = b.workers()
    for _ in range(10):
        status, _, body = curl(b, "/hello")
        assert status == 201
    assert b.workers() == workers


def test_sandbox(lua_http):
    status, _, body = curl(lua_http, "/sandbox")
    assert status == 200
    assert body == b"nil nil nil false function\n", body


def test_shared_dict_across_workers(lua_http):
    b = lua_http

    # both workers ran init_worker_by_lua against the same dictionary,
    # 2000 increments each, racing
    def seen():
        status, _, body = curl(b, "/count")
        parts = body.split()
        return parts if parts[2:4] == [b"2", b"4000"] else None
    wait_for(seen, 10 * SLOW, what="both workers' increments")

    n = 200
    with concurrent.futures.ThreadPoolExecutor(16) as ex:
        bodies = list(ex.map(lambda _: curl(b, "/count")[2], range(n)))
    counts = sorted(int(x.split()[0]) for x in bodies)
    # every increment happened once, whichever worker did it
    assert counts[-1] - counts[0] == n - 1, counts
    assert len(set(counts)) == n

    # timers ran in the event loop
    status, _, body = curl(b, "/count")
    assert body.split()[4] == b"fired", body


def test_content_by_lua_produces_to_a_topic(broker_factory):
    b = broker_factory("p")
    b.write_conf(workers=2, blocks=KAFKA_CONF.format(kafka="""
        topic hooks { partitions 1; }
"""), http="""
    location /hook {
        content_by_lua_block {
            local ok, err = sl.produce("hooks", {key = sl.req.args,
                                                 value = sl.req.body})
            sl.say(tostring(ok), " ", tostring(err))
            sl.say(tostring(select(2, sl.produce("nosuch", {value = "x"}))))
        }
    }
""")
    b.start()
    b.bootstrap = f"127.0.0.1:{b.port('kafka')}"

    status, _, body = curl(b, "/hook?id-7", "--data-binary", "payload")
    assert (status, body) == (200, b"true nil\nunknown topic\n")

    m, = consume(b, "hooks", 1)
    assert (m.key(), m.value()) == (b"id-7", b"payload")


def test_config_errors_name_file_and_line(broker_factory):
    b = broker_factory("c")
    b.write_conf(main="init_by_lua_block {\n    local x = = 1\n}\n")
    rc, out = b.test_conf()
    assert rc != 0
    assert re.search(r"init_by_lua\(broker\.conf:\d+\):2:.*'='", out), out
    assert re.search(r"broker\.conf:\d+", out), out

    b.write_conf(main="init_by_lua_block {\n    local s = '}'\n")
    rc, out = b.test_conf()
    assert rc != 0
    assert "unexpected end of file" in out, out

    b.write_conf(main="init_by_lua_file lua/none.lua;\n")
    rc, out = b.test_conf()
    assert rc != 0
    assert "none.lua" in out, out


def test_failing_init_by_lua_stops_the_start(broker_factory):
    b = broker_factory("i")
    b.write_conf(main="init_by_lua_block { error('no way') }\n")
    rc, out = b.test_conf()
    assert rc == 0, out
    r = subprocess.run(b.cmd(), cwd=b.prefix, capture_output=True,
                       text=True, timeout=30 * SLOW)
    assert r.returncode != 0
    assert "no way" in b.error_log() + r.stderr


# ------------------------------------------------------------ dynamic


@pytest.fixture(scope="session")
def lua_dynamic_build(tmp_path_factory):
    """A binary without the Lua module plus objs/sl_lua_module.so."""
    builddir = tmp_path_factory.mktemp("objs-lua-dyn")
    args = []
    try:
        import shlex
        saved = (BUILD_DIR / "configure.args").read_text()
        args = [a for a in shlex.split(saved)
                if not a.startswith("--builddir=")
                and not a.startswith("--add-dynamic-module=")
                and a != "--without-lua_module"]
    except OSError:
        pass
    cmd = (["sh", "./configure"] + args
           + [f"--builddir={builddir}", "--without-lua_module",
              "--add-dynamic-module=modules/lua"])
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, "configure failed:\n" + r.stdout + r.stderr
    r = subprocess.run(["make", "-j4", "-f", str(builddir / "Makefile")],
                       cwd=ROOT, capture_output=True, text=True,
                       timeout=900)
    assert r.returncode == 0, "make failed:\n" + r.stdout[-3000:] + r.stderr
    so = builddir / "sl_lua_module.so"
    assert so.exists()
    return builddir / "sluice", so


def test_module_loaded_dynamically(broker_factory, lua_dynamic_build):
    binary, so = lua_dynamic_build
    b = broker_factory("d", binary=binary)

    b.write_conf(http=HTTP_LUA.split("location /deny")[0] + "\n")
    rc, out = b.test_conf()
    assert rc != 0 and "content_by_lua_block" in out, out

    b.write_conf(main=f"load_module {so};\n"
                      "init_by_lua_block { loaded = 'dynamically' }\n",
                 http="""
    location /dyn {
        content_by_lua_block { sl.say("lua ", loaded) }
    }
""")
    rc, out = b.test_conf()
    assert rc == 0, out
    b.start()
    status, _, body = b.get("/dyn")
    assert (status, body) == (200, b"lua dynamically\n")
