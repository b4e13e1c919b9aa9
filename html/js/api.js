/* The broker's REST API (v3 and Sluice's reading extensions) */

export class ApiError extends Error {
    constructor(status, body, path) {
        const msg = body && body.message ? body.message
                  : status ? "HTTP " + status : "network error";
        super(msg);
        this.status = status;
        this.body = body;
        this.path = path;
    }
}

/* connection state for the header: listeners get {ok, latency, error} */
const listeners = new Set();
export const conn = {ok: null, latency: null, error: null, last: 0};

export function onConn(fn) {
    listeners.add(fn);
    fn(conn);
    return () => listeners.delete(fn);
}

function setConn(ok, latency, error) {
    const changed = conn.ok !== ok;
    conn.ok = ok;
    if (latency != null) {
        conn.latency = conn.latency == null ? latency
                     : conn.latency * 0.7 + latency * 0.3;
    }
    conn.error = error || null;
    conn.last = Date.now();
    if (changed || ok) for (const fn of listeners) fn(conn);
}

export async function request(method, path, body) {
    const opt = {method, headers: {"Accept": "application/json"}};
    if (body !== undefined) {
        opt.body = typeof body === "string" ? body : JSON.stringify(body);
        opt.headers["Content-Type"] = "application/json";
    }
    const t0 = performance.now();
    let r;
    try {
        r = await fetch(path, opt);
    } catch (e) {
        setConn(false, null, e.message);
        throw new ApiError(0, null, path);
    }
    const text = await r.text();
    setConn(true, performance.now() - t0);
    let json = null;
    if (text) {
        try { json = JSON.parse(text); } catch (e) { json = null; }
    }
    if (!r.ok) throw new ApiError(r.status, json, path);
    return json;
}

export const get = (p) => request("GET", p);

let clusterId = null;
let clusterPromise = null;

/* the cluster (the broker answers for one) */
export async function cluster() {
    if (clusterId) return clusterId;
    if (!clusterPromise) {
        clusterPromise = get("/v3/clusters").then((r) => {
            const c = r && r.data && r.data[0];
            if (!c) throw new ApiError(0, {message: "no cluster"}, "");
            clusterId = c.cluster_id;
            return clusterId;
        }).finally(() => { clusterPromise = null; });
    }
    return clusterPromise;
}

const e = encodeURIComponent;

async function base() {
    return "/v3/clusters/" + e(await cluster());
}

export async function clusterInfo() {
    return get(await base());
}

export async function topics() {
    const r = await get((await base()) + "/topics");
    return (r.data || []).sort((a, b) =>
        a.topic_name.localeCompare(b.topic_name));
}

export async function topic(name) {
    return get((await base()) + "/topics/" + e(name));
}

export async function partitions(name) {
    const r = await get((await base()) + "/topics/" + e(name)
                        + "/partitions");
    return (r.data || []).sort((a, b) => a.partition_id - b.partition_id);
}

export async function topicConfigs(name) {
    const r = await get((await base()) + "/topics/" + e(name) + "/configs");
    return r.data || [];
}

export async function createTopic(name, partitionsCount, configs) {
    const body = {topic_name: name};
    if (partitionsCount) body.partitions_count = partitionsCount;
    if (configs && configs.length) body.configs = configs;
    return request("POST", (await base()) + "/topics", body);
}

export async function deleteTopic(name) {
    return request("DELETE", (await base()) + "/topics/" + e(name));
}

/* records of one partition: {data:[...], next_offset} */
export async function records(name, p, {offset, timestamp, limit}) {
    const q = new URLSearchParams();
    if (timestamp != null) q.set("timestamp", timestamp);
    else q.set("offset", offset);
    q.set("limit", limit || 50);
    q.set("format", "string");
    return get((await base()) + "/topics/" + e(name) + "/partitions/" + p
               + "/records?" + q);
}

export async function produce(name, record) {
    return request("POST", (await base()) + "/topics/" + e(name)
                   + "/records", record);
}

export async function eventsUrl(name, partition, offset) {
    const q = "?offset=" + e(offset) + "&format=string";
    return (await base()) + "/topics/" + e(name)
           + (partition == null ? "" : "/partitions/" + partition)
           + "/events" + q;
}

export async function brokers() {
    const r = await get((await base()) + "/brokers");
    return (r.data || []).sort((a, b) => a.broker_id - b.broker_id);
}

export async function brokerConfigs(id) {
    const r = await get((await base()) + "/brokers/" + id + "/configs");
    return r.data || [];
}

export async function groups() {
    const r = await get((await base()) + "/consumer-groups");
    return (r.data || []).sort((a, b) =>
        a.consumer_group_id.localeCompare(b.consumer_group_id));
}

export async function group(id) {
    return get((await base()) + "/consumer-groups/" + e(id));
}

export async function groupConsumers(id) {
    const r = await get((await base()) + "/consumer-groups/" + e(id)
                        + "/consumers");
    return r.data || [];
}

export async function groupLags(id) {
    const r = await get((await base()) + "/consumer-groups/" + e(id)
                        + "/lags");
    return (r.data || []).sort((a, b) =>
        a.topic_name.localeCompare(b.topic_name)
        || a.partition_id - b.partition_id);
}

export async function groupLagSummary(id) {
    return get((await base()) + "/consumer-groups/" + e(id)
               + "/lag-summary");
}

/* the last path segment of a "related" URL: {related: ".../brokers/1"} */
export function relatedId(rel) {
    const u = rel && (rel.related || rel);
    if (typeof u !== "string") return null;
    const m = u.match(/\/([^/]+)\/?$/);
    return m ? decodeURIComponent(m[1]) : null;
}
