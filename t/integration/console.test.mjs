/*
 * The console (html/) in headless Chromium, driven by playwright-core;
 * run by test_console.py against a real broker.  Environment:
 *
 *   CONSOLE_URL    http://127.0.0.1:PORT (the console and the REST API)
 *   KAFKA          127.0.0.1:PORT (for kcat)
 *   TOPIC          a topic kcat made, with the record KEY / VALUE (JSON)
 *                  and the header HEADER (name=value)
 *   GROUP          a group that committed offsets of LAG_TOPIC:
 *                  LAGS = JSON {partition: lag}
 *   SHOTS          where the screenshots go
 *
 * Prints one JSON line: {"ok", "produced": {partition, offset}, "shots",
 * "errors"}; exits 1 when a step or the page failed.
 */

import { chromium } from "playwright-core";
import { execFileSync } from "node:child_process";
import path from "node:path";

const env = process.env;
const URL0 = env.CONSOLE_URL;
const TOPIC = env.TOPIC;
const KEY = env.KEY;
const VALUE = JSON.parse(env.VALUE);
const [HNAME, HVALUE] = env.HEADER.split("=");
const GROUP = env.GROUP;
const LAG_TOPIC = env.LAG_TOPIC;
const LAGS = JSON.parse(env.LAGS);
const SHOTS = env.SHOTS;
const STEP_MS = Number(env.STEP_MS || 15000);

const out = {ok: false, produced: null, shots: [], errors: [], step: ""};
const problems = [];

function step(name) {
    out.step = name;
    process.stderr.write("console: " + name + "\n");
}

async function shot(page, name) {
    const f = path.join(SHOTS, name + ".png");
    await page.screenshot({path: f, fullPage: true});
    out.shots.push(f);
}

function check(cond, what) {
    if (!cond) throw new Error("check failed: " + what);
}

const browser = await chromium.launch({
    executablePath: env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
});

let page;
try {
    const context = await browser.newContext({
        viewport: {width: 1360, height: 900}, colorScheme: "light"});
    context.setDefaultTimeout(STEP_MS);
    page = await context.newPage();

    /* everything that would be a bug: console errors, uncaught
     * exceptions, requests that fail or answer an error */
    page.on("console", (m) => {
        if (m.type() === "error") problems.push("console: " + m.text());
    });
    page.on("pageerror", (e) => problems.push("exception: " + e.message));
    page.on("requestfailed", (r) => {
        const why = r.failure() ? r.failure().errorText : "?";
        /* an EventSource the console closes is cancelled */
        if (why === "net::ERR_ABORTED" && r.url().includes("/events")) {
            return;
        }
        problems.push("request failed: " + r.method() + " " + r.url()
                      + " " + why);
    });
    page.on("response", (r) => {
        if (r.status() >= 400) {
            problems.push("HTTP " + r.status() + ": "
                          + r.request().method() + " " + r.url());
        }
    });

    /* overview: connected, the topic listed, throughput measured */
    step("overview");
    await page.goto(URL0 + "/#/");
    await page.waitForSelector('#conn[data-state="ok"]');
    await page.waitForSelector(`.card a:text-is("${TOPIC}")`);
    await page.waitForFunction(() => {
        const st = [...document.querySelectorAll(".stat")].find((s) =>
            s.querySelector(".label").textContent === "Messages in");
        const v = st && st.querySelector(".value").textContent;
        return v && v !== "–" && parseFloat(v) > 0;
    }, null, {timeout: STEP_MS});
    await page.waitForTimeout(3000);
    await shot(page, "overview");

    /* topics: the topic kcat created */
    step("topics");
    await page.click('.nav a[data-nav="topics"]');
    const row = page.locator(`#topics-table tr[data-topic="${TOPIC}"]`);
    await row.waitFor();
    await shot(page, "topics");

    /* the topic: its partitions and offsets */
    step("topic");
    await row.locator("a").click();
    await page.waitForSelector("#partitions-table tbody tr");
    const ends = await page.$$eval("#partitions-table tbody tr",
        (rows) => rows.map((r) => r.children[3].textContent));
    check(ends.some((e) => Number(e.replace(/,/g, "")) > 0),
          "a partition with records: " + ends);
    await page.waitForTimeout(1200);
    await shot(page, "topic");

    /* the message browser: the record, its JSON value pretty-printed */
    step("messages");
    await page.click('.tabs a:text-is("Messages")');
    const pretty = JSON.stringify(VALUE, null, 2);
    const msg = page.locator(".msg").filter({
        has: page.locator(".key", {hasText: KEY})});
    await msg.first().waitFor();
    const text = await msg.first().locator("pre.value").textContent();
    check(text === pretty, "pretty JSON value: " + JSON.stringify(text));
    check(await msg.first().locator(".json .j-key").count() > 0,
          "highlighted JSON");
    const hdrs = await msg.first().locator(".hdrs").textContent();
    check(hdrs.includes(HNAME + ": " + HVALUE), "header shown: " + hdrs);
    await shot(page, "messages");

    /* live: a record kcat produces now appears on top (SSE) */
    step("live");
    await page.click('button:text-is("Live")');
    await page.waitForSelector('button[data-live="open"]');
    const live = {live: true, at: Date.now()};
    execFileSync("kcat", ["-P", "-b", env.KAFKA, "-t", TOPIC, "-K", "|"],
                 {input: "live-key|" + JSON.stringify(live) + "\n"});
    const fresh = page.locator(".msg.fresh").filter({
        has: page.locator(".key", {hasText: "live-key"})});
    await fresh.first().waitFor();
    await page.click('button:has-text("Live")');
    await page.waitForSelector(".live-dot", {state: "detached"});

    /* produce from the form; kcat reads it afterwards */
    step("produce");
    await page.click('.tabs a:text-is("Produce")');
    await page.fill('input[name="key"]', "from-console");
    await page.fill('textarea[name="value"]',
                    '{"source": "console", "n": 42, "ok": true}');
    await page.click('button:text-is("+ Add header")');
    await page.fill(".hdr .hname", "origin");
    await page.fill(".hdr .hvalue", "browser");
    await page.click("#produce-send");
    await page.waitForSelector("#produced-offset");
    out.produced = {
        partition: Number(await page.textContent("#produced-partition")),
        offset: Number(await page.textContent("#produced-offset"))
    };
    await shot(page, "produce");

    /* consumer groups: the group and its lag per partition */
    step("groups");
    await page.click('.nav a[data-nav="groups"]');
    const total = Object.values(LAGS).reduce((a, b) => a + b, 0);
    const grow = page.locator(`#groups-table tr[data-group="${GROUP}"]`);
    await grow.waitFor();
    await page.waitForFunction(([g, t]) => {
        const c = document.querySelector(
            `#groups-table tr[data-group="${g}"] td.lag`);
        return c && c.textContent.replace(/,/g, "") === String(t);
    }, [GROUP, total]);
    await shot(page, "groups");

    step("group");
    await grow.locator("a").click();
    for (const [p, lag] of Object.entries(LAGS)) {
        await page.waitForFunction(([t, p, lag]) => {
            const c = document.querySelector(`#lags-table ` +
                `tr[data-topic="${t}"][data-partition="${p}"] td.lag`);
            return c && c.textContent.replace(/,/g, "") === String(lag);
        }, [LAG_TOPIC, p, lag]);
    }
    await page.waitForTimeout(1200);
    await shot(page, "group");

    /* broker status, and the overview in the dark */
    step("broker");
    await page.click('.nav a[data-nav="broker"]');
    await page.waitForSelector("#brokers-table tbody tr");
    check((await page.textContent("#cluster-id")).length > 0, "cluster id");
    await shot(page, "broker");

    step("dark");
    await page.emulateMedia({colorScheme: "dark"});
    await page.click('.nav a[data-nav="overview"]');
    await page.waitForSelector(`.card a:text-is("${TOPIC}")`);
    await page.waitForTimeout(1200);
    const bg = await page.evaluate(() =>
        getComputedStyle(document.body).backgroundColor);
    check(bg !== "rgb(244, 246, 249)", "dark background: " + bg);
    await shot(page, "overview-dark");

    step("done");
    out.ok = problems.length === 0;
} catch (e) {
    out.errors.push(out.step + ": " + e.message.split("\n")[0]);
    if (page) {
        try { await shot(page, "failure-" + out.step); } catch (x) { }
    }
} finally {
    out.errors.push(...problems);
    await browser.close();
}

console.log(JSON.stringify(out));
process.exit(out.ok && !out.errors.length ? 0 : 1);
