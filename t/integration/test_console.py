"""The console (issue 7): html/ served by a real broker beside its REST
API, driven in headless Chromium (Debian's, through playwright-core from
npm) by console.test.mjs.  kcat makes a topic and a JSON record the
browser must show pretty-printed, a record produced live must arrive over
SSE, confluent-kafka commits offsets the console must show as lag per
partition, and a record produced from the console's form must be read
back by kcat.  Screenshots are kept in the test's tmp dir and, when
SLUICE_ARTEFACTS is set, copied there."""

import json
import os
import pathlib
import shutil
import subprocess
import threading

import pytest

from conftest import ROOT, SLOW, wait_for


NODE_DIR = ROOT / "t" / "integration"
SCRIPT = NODE_DIR / "console.test.mjs"
HTML = ROOT / "html"
CHROMIUM = "/usr/bin/chromium"

CONF = """
log {{
    data_dir  data;
}}

kafka {{
    listen                         127.0.0.1:@PORT_kafka@;
    advertised_listener            127.0.0.1:@PORT_kafka@;
    auto_create_topics             on;
    default_partitions             3;
    group_initial_rebalance_delay  200ms;
}}

http {{
    include       mime.types;
    default_type  application/octet-stream;

    listen  127.0.0.1:@PORT_http@;

    location / {{
        root  {html};
    }}

    location /v3/ {{
        rest_proxy  on;
    }}

    location /topics {{
        rest_proxy  on;
    }}

    location /consumers {{
        rest_proxy  on;
    }}

    location /brokers {{
        rest_proxy  on;
    }}
}}
"""

TOPIC = "console-orders"
KEY = "order-17"
VALUE = {"id": 17, "item": "widget", "qty": 3, "tags": ["red", "small"],
         "paid": True, "note": None, "price": {"amount": 9.5, "cur": "EUR"}}
HEADER = "trace=abc-123"
LAG_TOPIC = "console-lagged"
GROUP = "console-billing"
COMMITTED = {0: 4, 1: 7, 2: 10}     # of 10 records in each partition
TRAFFIC = "console-traffic"


def missing():
    if not os.path.exists(CHROMIUM):
        return f"{CHROMIUM} is missing (apt-get install chromium)"
    if not (NODE_DIR / "node_modules" / "playwright-core").is_dir():
        return ("t/integration/node_modules/playwright-core is missing "
                "(cd t/integration && npm install)")
    return None


def kcat(*args, data=None):
    r = subprocess.run(["kcat"] + list(args), input=data,
                       capture_output=True, timeout=30 * SLOW)
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    return r.stdout


class Traffic:
    """A confluent-kafka producer writing a few hundred records a second
    to one topic, so that the throughput charts have something to
    draw."""

    def __init__(self, ck, bootstrap):
        self.p = ck.Producer({"bootstrap.servers": bootstrap,
                              "linger.ms": 20})
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        i = 0
        while not self.stop.wait(0.05):
            for _ in range(10):
                self.p.produce(TRAFFIC, value=json.dumps({"n": i}).encode(),
                               key=b"k%d" % (i % 7))
                i += 1
            self.p.poll(0)
        self.p.flush(10)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(30)


def test_console_in_chromium(broker_factory, tmp_path):
    why = missing()
    if why:
        pytest.skip(why)
    ck = pytest.importorskip("confluent_kafka")

    b = broker_factory()
    b.write_conf(with_http=False, blocks=CONF.format(html=HTML))
    b.start()
    bootstrap = f"127.0.0.1:{b.port('kafka')}"

    # a topic kcat creates, with a JSON record, a key and a header
    kcat("-P", "-b", bootstrap, "-t", TOPIC, "-K", "|", "-H", HEADER,
         data=(KEY + "|" + json.dumps(VALUE) + "\n").encode())

    # a group that committed part of each partition of another topic
    lines = "".join(f"{i}\n" for i in range(10)).encode()
    for p in COMMITTED:
        kcat("-P", "-b", bootstrap, "-t", LAG_TOPIC, "-p", str(p),
             data=lines)
    c = ck.Consumer({"bootstrap.servers": bootstrap, "group.id": GROUP,
                     "enable.auto.commit": False})
    try:
        c.commit(offsets=[ck.TopicPartition(LAG_TOPIC, p, o)
                          for p, o in COMMITTED.items()],
                 asynchronous=False)
    finally:
        c.close()
    lags = {str(p): 10 - o for p, o in COMMITTED.items()}

    shots = tmp_path / "console"
    shots.mkdir()
    env = dict(os.environ,
               CONSOLE_URL=f"http://127.0.0.1:{b.http_port}",
               KAFKA=bootstrap, TOPIC=TOPIC, KEY=KEY,
               VALUE=json.dumps(VALUE), HEADER=HEADER, GROUP=GROUP,
               LAG_TOPIC=LAG_TOPIC, LAGS=json.dumps(lags),
               SHOTS=str(shots), CHROMIUM=CHROMIUM,
               STEP_MS=str(15000 * SLOW))
    with Traffic(ck, bootstrap):
        wait_for(lambda: b"with 3 partitions" in kcat(
                     "-L", "-b", bootstrap, "-t", TRAFFIC),
                 10 * SLOW, interval=0.2, what="the traffic topic")
        r = subprocess.run(["node", str(SCRIPT)], cwd=NODE_DIR, env=env,
                           capture_output=True, text=True,
                           timeout=120 * SLOW)

    saved = sorted(shots.glob("*.png"))
    dest = os.environ.get("SLUICE_ARTEFACTS")
    if dest:
        dest = pathlib.Path(dest) / "console"
        dest.mkdir(parents=True, exist_ok=True)
        for f in saved:
            shutil.copy(f, dest / f.name)
        saved += sorted(dest.glob("*.png"))
    for f in saved:
        print("console screenshot:", f)

    last = r.stdout.strip().splitlines()[-1] if r.stdout.strip() else "{}"
    out = json.loads(last)
    assert r.returncode == 0 and out.get("ok"), (
        "the console failed in Chromium: "
        + json.dumps(out.get("errors"), indent=1)
        + "\n--- node stderr\n" + r.stderr[-3000:]
        + "\nscreenshots: " + " ".join(map(str, saved))
        + "\n" + b.diagnostics())
    assert {"overview", "topics", "topic", "messages", "produce", "groups",
            "group", "broker", "overview-dark"} <= {
        pathlib.Path(f).stem for f in out["shots"]}

    # kcat reads the record the form produced, where the form said
    produced = out["produced"]
    got = kcat("-C", "-b", bootstrap, "-t", TOPIC, "-e", "-o", "beginning",
               "-q", "-f", "%p\t%o\t%k\t%h\t%s\n").decode().splitlines()
    mine = [ln.split("\t", 4) for ln in got if "\tfrom-console\t" in ln]
    assert len(mine) == 1, got
    p, o, k, hdrs, value = mine[0]
    assert (int(p), int(o)) == (produced["partition"], produced["offset"])
    assert json.loads(value) == {"source": "console", "n": 42, "ok": True}
    assert "origin=browser" in hdrs
    # and the record kcat produced while the browser watched live
    assert any("\tlive-key\t" in ln for ln in got), got
