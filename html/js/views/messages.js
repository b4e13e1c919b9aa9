/*
 * The message browser: records of a topic from its latest, its earliest,
 * an offset or a time, on one partition or all of them merged; key,
 * value (JSON pretty-printed) and headers; a live tail over SSE.
 */

import * as api from "../api.js";
import * as sampler from "../sampler.js";
import { h, clear, fmtNum, fmtTime, fmtAgo, fmtBytes, jsonPre, b64hex,
         localInput, enc, toast, debounce } from "../util.js";

const MAX_SHOWN = 1000;

export function mount(ctx) {
    ctx.crumbs("Messages");
    const root = ctx.root;
    root.append(h("div", {class: "page-head"},
        h("div", null, h("h1", null, "Messages"),
          h("p", null, "Browse records by offset or by time, or watch "
            + "them arrive."))));
    const pane = h("div");
    root.append(pane);
    browser(ctx, pane, ctx.query.get("topic"), true);
}

export function embed(ctx, pane, name) {
    browser(ctx, pane, name, false);
}

function browser(ctx, pane, topic, pick) {
    const q = ctx.query;
    const st = {
        topic: topic || null,
        partition: q.get("partition") ?? "all",
        mode: q.get("offset") != null ? "offset"
            : q.get("timestamp") != null ? "time" : "latest",
        limit: Number(q.get("limit")) || 50,
        records: [],
        cursors: null,
        parts: [],
        live: null,
        loading: false
    };

    /* the toolbar */
    const topicSel = h("select", {name: "topic", "aria-label": "Topic"});
    const partSel = h("select", {name: "partition",
                                 "aria-label": "Partition"});
    const offsetIn = h("input", {type: "number", name: "offset", min: 0,
                                 value: q.get("offset") ?? "0",
                                 style: {width: "130px"}});
    const timeIn = h("input", {type: "datetime-local", name: "time",
        step: 1, value: localInput(q.get("timestamp") != null
            ? Number(q.get("timestamp")) : Date.now() - 3600e3)});
    const limitSel = h("select", {name: "limit", "aria-label": "Limit"},
        [20, 50, 100, 200, 500].map((n) => h("option", {value: String(n),
            selected: n === st.limit}, String(n))));
    const modes = [["latest", "Latest"], ["earliest", "Earliest"],
                   ["offset", "Offset"], ["time", "Time"]];
    const seg = h("div", {class: "seg", role: "tablist"});
    const modeBtns = modes.map(([id, label]) => {
        const b = h("button", {type: "button", dataset: {mode: id},
                               onclick: () => {
            st.mode = id;
            showMode();
            load();
        }}, label);
        seg.append(b);
        return b;
    });
    const offsetField = h("label", {class: "field"},
                          h("span", null, "From offset"), offsetIn);
    const timeField = h("label", {class: "field"},
                        h("span", null, "From time"), timeIn);
    const fetchBtn = h("button", {class: "btn primary", type: "submit"},
                       "Fetch");
    const liveBtn = h("button", {class: "btn", type: "button",
                                 title: "Follow new records as they arrive",
                                 onclick: () => toggleLive()},
                      "Live");
    const filterIn = h("input", {type: "search", name: "filter",
                                 placeholder: "Filter key, value, headers",
                                 style: {minWidth: "220px"}});

    const toolbar = h("form", {class: "toolbar", onsubmit: (ev) => {
        ev.preventDefault();
        load();
    }},
        pick ? h("label", {class: "field"}, h("span", null, "Topic"),
                 topicSel) : null,
        h("label", {class: "field"}, h("span", null, "Partition"), partSel),
        h("div", {class: "field"}, h("span", null, "Start at"), seg),
        offsetField, timeField,
        h("label", {class: "field"}, h("span", null, "Limit"), limitSel),
        fetchBtn, liveBtn,
        h("div", {style: {flex: "1"}}),
        h("label", {class: "field"}, h("span", null, "Filter"), filterIn));

    const info = h("span", {class: "sub"});
    let raw = false;
    const viewSeg = h("div", {class: "seg"});
    const viewBtns = [["pretty", "Pretty"], ["raw", "Raw"]].map(
        ([id, label]) => {
            const b = h("button", {type: "button", dataset: {view: id},
                                   class: id === "pretty" ? "on" : "",
                                   onclick: () => {
                raw = id === "raw";
                viewBtns.forEach((x) => x.classList.toggle("on", x === b));
                render();
            }}, label);
            viewSeg.append(b);
            return b;
        });
    const list = h("div", {class: "msgs", id: "messages"});
    const moreBtn = h("button", {class: "btn", type: "button",
                                 onclick: () => more()}, "Load more");
    const foot = h("div", {class: "card-body",
                           style: {textAlign: "center"}}, moreBtn);
    const status = h("div");
    pane.append(h("div", {class: "card"}, toolbar,
        h("div", {class: "card-head"}, h("h2", null, "Records"),
          h("div", {class: "row", style: {alignItems: "center"}}, info,
            viewSeg)),
        status, list, foot));

    function showMode() {
        modeBtns.forEach((b) =>
            b.classList.toggle("on", b.dataset.mode === st.mode));
        offsetField.hidden = st.mode !== "offset";
        timeField.hidden = st.mode !== "time";
    }

    async function loadTopics() {
        let names;
        if (sampler.state.ready) {
            names = [...sampler.state.topics.keys()];
        } else {
            names = (await api.topics()).map((t) => t.topic_name);
        }
        names.sort();
        if (!st.topic && names.length) {
            /* the topic with the most records, to start with */
            const size = (n) => {
                const t = sampler.state.topics.get(n);
                return t ? t.parts.reduce((a, p) =>
                    a + (Number(p.log_end_offset) || 0)
                      - (Number(p.log_start_offset) || 0), 0) : 0;
            };
            st.topic = names.reduce((a, n) => size(n) > size(a) ? n : a,
                                    names[0]);
        }
        clear(topicSel,
            names.length ? null : h("option", {value: ""}, "no topics"),
            names.map((n) => h("option", {value: n,
                                          selected: n === st.topic}, n)));
    }

    async function loadParts() {
        if (!st.topic) {
            st.parts = [];
        } else {
            st.parts = await api.partitions(st.topic);
        }
        if (st.partition !== "all" && !st.parts.some((p) =>
            String(p.partition_id) === String(st.partition)))
        {
            st.partition = "all";
        }
        clear(partSel, h("option", {value: "all"}, "All partitions"),
            st.parts.map((p) => h("option", {value: String(p.partition_id),
                selected: String(p.partition_id) === String(st.partition)},
                "Partition " + p.partition_id)));
    }

    topicSel.addEventListener("change", async () => {
        st.topic = topicSel.value;
        st.partition = "all";
        stopLive();
        await loadParts();
        load();
    });
    partSel.addEventListener("change", () => {
        st.partition = partSel.value;
        const wasLive = !!st.live;
        stopLive();
        load().then(() => { if (wasLive) startLive(); });
    });
    limitSel.addEventListener("change", () => {
        st.limit = Number(limitSel.value);
        load();
    });
    filterIn.addEventListener("input", debounce(render, 120));

    /* which partitions and where to start in each */
    function plan(parts) {
        const out = [];
        for (const p of parts) {
            const lso = Number(p.log_start_offset) || 0;
            const leo = Number(p.log_end_offset) || 0;
            if (st.mode === "time") {
                const ms = new Date(timeIn.value).getTime();
                if (leo > lso) out.push({p: p.partition_id, timestamp: ms});
                continue;
            }
            if (leo <= lso) continue;
            let off;
            if (st.mode === "latest") off = Math.max(lso, leo - st.limit);
            else if (st.mode === "earliest") off = lso;
            else {
                off = Math.max(lso, Number(offsetIn.value) || 0);
                if (off >= leo) continue;
            }
            out.push({p: p.partition_id, offset: off,
                      limit: st.mode === "latest" ? leo - off : st.limit});
        }
        return out;
    }

    function selected() {
        return st.partition === "all" ? st.parts
             : st.parts.filter((p) =>
                   String(p.partition_id) === String(st.partition));
    }

    async function fetchPlan(steps) {
        const res = await Promise.all(steps.map((s) =>
            api.records(st.topic, s.p, {offset: s.offset,
                timestamp: s.timestamp, limit: s.limit || st.limit})));
        const recs = [];
        const next = {};
        res.forEach((r, i) => {
            for (const rec of r.data || []) recs.push(rec);
            next[steps[i].p] = r.next_offset;
        });
        return {recs, next};
    }

    function order(recs) {
        const newest = st.mode === "latest";
        recs.sort((a, b) => {
            const d = (a.timestamp - b.timestamp)
                      || (a.partition - b.partition)
                      || (a.offset - b.offset);
            return newest ? -d : d;
        });
        return recs;
    }

    async function load() {
        if (!st.topic) {
            clear(status, h("div", {class: "empty"},
                "No topics yet: produce something first."));
            foot.hidden = true;
            return;
        }
        st.loading = true;
        fetchBtn.disabled = true;
        clear(status, h("div", {class: "loading"}, h("span", {class: "spin"}),
                        "Reading records…"));
        try {
            await loadParts();
            const steps = plan(selected());
            const {recs, next} = await fetchPlan(steps);
            if (!ctx.alive) return;
            st.records = order(recs).slice(0, st.limit);
            /* where "load more" goes on: older for latest, else newer */
            st.cursors = {};
            for (const p of selected()) {
                const mine = st.records.filter((r) =>
                    r.partition === p.partition_id);
                if (st.mode === "latest") {
                    const min = mine.length
                        ? Math.min(...mine.map((r) => r.offset))
                        : Number(p.log_end_offset) || 0;
                    st.cursors[p.partition_id] = {
                        lso: Number(p.log_start_offset) || 0, end: min};
                } else if (next[p.partition_id] != null) {
                    const max = mine.length
                        ? Math.max(...mine.map((r) => r.offset)) + 1
                        : next[p.partition_id];
                    st.cursors[p.partition_id] = {next: max};
                }
            }
            clear(status);
            render();
        } catch (e) {
            if (!ctx.alive) return;
            st.records = [];
            clear(status, h("div", {class: "card-body"},
                h("div", {class: "note bad"}, "Could not read records: "
                  + e.message)));
            render();
        } finally {
            st.loading = false;
            fetchBtn.disabled = false;
        }
    }

    async function more() {
        if (!st.cursors) return;
        moreBtn.disabled = true;
        try {
            const steps = [];
            for (const [p, c] of Object.entries(st.cursors)) {
                if (st.mode === "latest") {
                    if (c.end <= c.lso) continue;
                    const off = Math.max(c.lso, c.end - st.limit);
                    steps.push({p: Number(p), offset: off,
                                limit: c.end - off});
                    c.end = off;
                } else {
                    steps.push({p: Number(p), offset: c.next});
                }
            }
            if (!steps.length) {
                toast("No more records");
                return;
            }
            const {recs, next} = await fetchPlan(steps);
            if (!ctx.alive) return;
            if (st.mode !== "latest") {
                for (const [p, n] of Object.entries(next)) {
                    if (n != null) st.cursors[p].next = n;
                }
            }
            const seen = new Set(st.records.map(
                (r) => r.partition + ":" + r.offset));
            st.records = order(st.records.concat(recs.filter(
                (r) => !seen.has(r.partition + ":" + r.offset))));
            render();
            if (!recs.length) toast("No more records");
        } catch (e) {
            toast("Could not read records: " + e.message, "bad");
        } finally {
            moreBtn.disabled = false;
        }
    }

    function matches(r, needle) {
        if (!needle) return true;
        const hay = [r.key, r.value, ...(r.headers || []).flatMap(
            (x) => [x.key, x.value])].map((x) => x == null ? "" : String(x))
            .join("\n").toLowerCase();
        return hay.includes(needle);
    }

    function render() {
        const needle = filterIn.value.trim().toLowerCase();
        const shown = st.records.filter((r) => matches(r, needle));
        info.textContent = (needle ? shown.length + " of " : "")
            + fmtNum(st.records.length) + " record"
            + (st.records.length === 1 ? "" : "s")
            + (st.mode === "latest" ? " · newest first" : "");
        if (!st.records.length && !status.childElementCount) {
            clear(list, h("div", {class: "empty"}, st.mode === "offset"
                ? "No records at or after this offset."
                : st.mode === "time" ? "No records at or after this time."
                : "This topic has no records yet."));
        } else {
            clear(list, shown.slice(0, MAX_SHOWN).map((r) =>
                recordEl(r, false, raw)));
        }
        foot.hidden = !st.records.length || !!st.live || !hasMore();
    }

    /* older records before the cursors (latest), or newer after them */
    function hasMore() {
        if (!st.cursors) return false;
        return Object.entries(st.cursors).some(([p, c]) => {
            if (st.mode === "latest") return c.end > c.lso;
            const part = st.parts.find((x) => String(x.partition_id) === p);
            return !part || c.next < Number(part.log_end_offset);
        });
    }

    /* live: SSE from the end of the log, newest on top */
    async function startLive() {
        if (!st.topic) return;
        const url = await api.eventsUrl(st.topic,
            st.partition === "all" ? null : Number(st.partition), "latest");
        if (!ctx.alive) return;
        const es = new EventSource(url);
        st.live = es;
        liveBtn.classList.add("on");
        clear(liveBtn, h("span", {class: "live-dot"}), "Live");
        es.addEventListener("record", (ev) => {
            let r;
            try { r = JSON.parse(ev.data); } catch (e) { return; }
            if (st.mode !== "latest") {
                st.mode = "latest";
                showMode();
            }
            st.records.unshift(r);
            if (st.records.length > MAX_SHOWN) st.records.pop();
            const needle = filterIn.value.trim().toLowerCase();
            if (matches(r, needle)) {
                const empty = list.querySelector(".empty");
                if (empty) empty.remove();
                list.prepend(recordEl(r, true, raw));
                if (list.childElementCount > MAX_SHOWN) {
                    list.lastElementChild.remove();
                }
            }
            info.textContent = fmtNum(st.records.length) + " records · live";
        });
        liveBtn.dataset.live = "connecting";
        es.addEventListener("open", () => {
            liveBtn.title = "Following new records";
            liveBtn.dataset.live = "open";
        });
        es.addEventListener("error", () => {
            liveBtn.title = "Reconnecting…";
            liveBtn.dataset.live = "connecting";
        });
    }

    function stopLive() {
        if (st.live) {
            st.live.close();
            st.live = null;
        }
        liveBtn.classList.remove("on");
        delete liveBtn.dataset.live;
        clear(liveBtn, "Live");
        foot.hidden = !st.records.length || !hasMore();
    }

    function toggleLive() {
        if (st.live) stopLive();
        else {
            st.mode = "latest";
            showMode();
            load().then(startLive);
        }
    }

    ctx.cleanup(stopLive);
    showMode();
    (async () => {
        try {
            if (pick) await loadTopics();
            await load();
            if (q.get("live") === "1") startLive();
        } catch (e) {
            clear(status, h("div", {class: "card-body"},
                h("div", {class: "note bad"}, e.message)));
        }
    })();
}

/* one record */
export function recordEl(r, fresh, raw) {
    const headers = r.headers || [];
    const valueLen = byteSize(r.value, r.value_encoding);
    const copy = h("button", {class: "btn small", type: "button",
                              title: "Copy the value", onclick: () => {
        navigator.clipboard.writeText(r.value == null ? "" : String(r.value))
            .then(() => toast("Value copied"), () => toast("Copy failed",
                                                           "bad"));
    }}, "Copy");
    const link = "#/topics/" + enc(r.topic) + "/messages?partition="
                 + r.partition + "&offset=" + r.offset;
    return h("div", {class: "msg" + (fresh ? " fresh" : ""),
                     dataset: {partition: r.partition, offset: r.offset}},
        h("div", {class: "msg-head"},
          h("span", {class: "badge accent mono"}, "P" + r.partition),
          h("a", {class: "mono", href: link, title: "Open at this offset"},
            "#" + r.offset),
          h("span", {title: r.timestamp + " ms · " + fmtAgo(r.timestamp)},
            fmtTime(r.timestamp)),
          h("span", {class: "key"}, h("b", null, "key"),
            r.key == null ? h("span", {class: "null"}, "null")
            : r.key_encoding === "base64" ? b64hex(r.key, 32)
            : String(r.key)),
          h("span", {class: "spacer"}),
          r.value_encoding === "base64"
            ? h("span", {class: "badge warn"}, "binary") : null,
          h("span", null, fmtBytes(valueLen)),
          copy),
        h("div", {class: "msg-body"},
          raw ? rawEl(r) : valueEl(r),
          headers.length ? h("div", {class: "hdrs"}, headers.map((x) =>
              h("span", {class: "badge mono", title: "header"},
                x.key + ": " + (x.value == null ? "null"
                  : x.encoding === "base64" ? "0x" + b64hex(x.value, 16)
                    .replace(/ /g, "") : x.value))))
            : null));
}

const utf8 = new TextEncoder();

/* the size of a value in bytes, as the log holds it */
function byteSize(v, encoding) {
    if (v == null) return 0;
    if (typeof v !== "string") v = JSON.stringify(v);
    if (encoding === "base64") {
        const pad = v.endsWith("==") ? 2 : v.endsWith("=") ? 1 : 0;
        return Math.floor(v.length * 3 / 4) - pad;
    }
    return utf8.encode(v).length;
}

function rawEl(r) {
    if (r.value == null) {
        return h("pre", {class: "value raw"},
                 h("span", {class: "null"}, "null"));
    }
    return h("pre", {class: "value raw"}, typeof r.value === "string"
             ? r.value : JSON.stringify(r.value));
}

function valueEl(r) {
    if (r.value == null) {
        return h("pre", {class: "value"}, h("span", {class: "null"}, "null"));
    }
    if (r.value_encoding === "base64") {
        return h("pre", {class: "value"}, b64hex(r.value));
    }
    if (typeof r.value !== "string") {
        /* format=json answers parsed values */
        const p = jsonPre(JSON.stringify(r.value));
        if (p) {
            p.classList.add("value");
            return p;
        }
        return h("pre", {class: "value"}, JSON.stringify(r.value));
    }
    const p = jsonPre(r.value);
    if (p) {
        p.classList.add("value");
        return p;
    }
    return h("pre", {class: "value"}, r.value === "" ? h("span",
        {class: "null"}, "(empty)") : r.value);
}
