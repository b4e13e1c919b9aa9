/*
 * Throughput from the log end offsets: every second the partitions of
 * every topic are read and the growth of their end offsets and sizes is
 * kept as a history the charts draw.
 */

import * as api from "./api.js";

const KEEP = 180;             /* samples: three minutes at one a second */
const LIST_EVERY = 5000;      /* the topic list is re-read this often */
const PER_TICK = 30;          /* topics whose partitions are read a tick */

export const state = {
    topics: new Map(),        /* name -> TopicState */
    total: [],                /* [{t, msgs, bytes}] rates over topics */
    listed: 0,
    error: null,
    ready: false
};

/*
 * TopicState: {name, meta, parts: [partition], hist: [{t, ends: [], size}],
 *              rates: [{t, msgs, bytes, parts: []}], msgs, bytes}
 */

const subs = new Set();
let busy = false;
let turn = 0;
let timer = null;

export function subscribe(fn) {
    subs.add(fn);
    return () => subs.delete(fn);
}

export function start() {
    if (timer) return;
    tick();
    timer = setInterval(tick, 1000);
}

/* re-read the topic list at the next tick (after create or delete) */
export function invalidate() {
    state.listed = 0;
}

export async function refresh() {
    invalidate();
    await tick(true);
}

async function tick(force) {
    if (busy || (document.hidden && !force)) return;
    busy = true;
    try {
        await sample();
        state.error = null;
    } catch (e) {
        state.error = e;
    } finally {
        busy = false;
    }
    for (const fn of subs) {
        try { fn(state); } catch (e) { console.warn(e); }
    }
}

async function sample() {
    const now = Date.now();
    if (now - state.listed > LIST_EVERY) {
        const list = await api.topics();
        const names = new Set(list.map((t) => t.topic_name));
        for (const name of state.topics.keys()) {
            if (!names.has(name)) state.topics.delete(name);
        }
        for (const t of list) {
            let ts = state.topics.get(t.topic_name);
            if (!ts) {
                ts = {name: t.topic_name, parts: [], hist: [], rates: [],
                      msgs: 0, bytes: 0};
                state.topics.set(t.topic_name, ts);
            }
            ts.meta = t;
        }
        state.listed = now;
    }

    /* at most PER_TICK topics a second, in turns, so that a broker with
     * hundreds of topics is not asked hundreds of times a second */
    let all = [...state.topics.values()];
    if (all.length > PER_TICK) {
        const from = turn % all.length;
        all = all.concat(all).slice(from, from + PER_TICK);
        turn = from + PER_TICK;
    }
    const got = await Promise.all(all.map((ts) =>
        api.partitions(ts.name).then((p) => p, (e) => {
            if (e.status === 404) {
                state.topics.delete(ts.name);
                return null;
            }
            throw e;
        })));

    const t = Date.now();
    let any = false;
    all.forEach((ts, i) => {
        const parts = got[i];
        if (!parts) return;
        ts.parts = parts;
        const ends = parts.map((p) => num(p.log_end_offset));
        const size = parts.reduce((s, p) => s + num(p.size_bytes), 0);
        const prev = ts.hist[ts.hist.length - 1];
        ts.hist.push({t, ends, size});
        if (ts.hist.length > KEEP) ts.hist.shift();
        if (prev) {
            const dt = Math.max(0.001, (t - prev.t) / 1000);
            const pr = ends.map((e, j) =>
                Math.max(0, (e - (prev.ends[j] ?? e)) / dt));
            const m = pr.reduce((a, b) => a + b, 0);
            const b = Math.max(0, (size - prev.size) / dt);
            ts.rates.push({t, msgs: m, bytes: b, parts: pr});
            if (ts.rates.length > KEEP) ts.rates.shift();
            ts.msgs = m;
            ts.bytes = b;
            any = true;
        }
    });
    let msgs = 0, bytes = 0;
    for (const ts of state.topics.values()) {
        msgs += ts.msgs;
        bytes += ts.bytes;
    }
    if (any || state.total.length) {
        state.total.push({t, msgs, bytes});
        if (state.total.length > KEEP) state.total.shift();
    }
    state.ready = true;
}

function num(v) {
    const n = Number(v);
    return isFinite(n) ? n : 0;
}

/* totals over the partitions of a topic */
export function sums(parts) {
    let size = 0, count = 0, end = 0, segs = 0;
    for (const p of parts) {
        size += num(p.size_bytes);
        end += num(p.log_end_offset);
        count += Math.max(0, num(p.log_end_offset)
                             - num(p.log_start_offset));
        segs += num(p.segments);
    }
    return {size, count, end, segs};
}
