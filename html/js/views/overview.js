/* Overview: the broker at a glance */

import * as api from "../api.js";
import { sums } from "../sampler.js";
import { TimeChart, color } from "../chart.js";
import { internal } from "./topics.js";
import { h, clear, fmtBytes, fmtNum, fmtRate, fmtShort, sparkline, enc,
         stateBadge } from "../util.js";

function stat(label, value, hint) {
    const v = h("div", {class: "value"}, value);
    const hi = h("div", {class: "hint"}, hint || "\u00a0");
    return {el: h("div", {class: "stat"}, h("div", {class: "label"}, label),
                  v, hi), v, hi};
}

export function mount(ctx) {
    ctx.crumbs("Overview");
    const root = ctx.root;

    const clusterLine = h("p", null, "Connecting to the broker…");
    root.append(h("div", {class: "page-head"},
        h("div", null, h("h1", null, "Overview"), clusterLine),
        h("div", {class: "actions"},
          h("a", {class: "btn", href: "#/messages"}, "Browse messages"),
          h("a", {class: "btn primary", href: "#/produce"}, "Produce"))));

    const s = {
        topics: stat("Topics"), parts: stat("Partitions"),
        msgs: stat("Messages retained"), size: stat("Size on disk"),
        rate: stat("Messages in"), bytes: stat("Bytes in"),
        groups: stat("Consumer groups"), lag: stat("Total lag")
    };
    root.append(h("div", {class: "stats four"},
                  Object.values(s).map((x) => x.el)));

    /* throughput */
    const msgsCard = h("div", {class: "card-body"});
    const bytesCard = h("div", {class: "card-body"});
    const msgsLegend = h("div", {class: "legend"});
    root.append(h("div", {class: "grid two"},
        h("div", {class: "card"},
          h("div", {class: "card-head"},
            h("div", null, h("h2", null, "Messages / s"),
              h("div", {class: "sub"}, "from the log end offsets, every "
                + "second")), msgsLegend),
          msgsCard),
        h("div", {class: "card"},
          h("div", {class: "card-head"},
            h("div", null, h("h2", null, "Bytes / s"),
              h("div", {class: "sub"}, "growth of the partitions on disk"))),
          bytesCard)));
    const msgsChart = new TimeChart(msgsCard, {format: fmtShort,
                                               stacked: true});
    const bytesChart = new TimeChart(bytesCard, {
        format: (v) => fmtShort(v) + "B"});
    ctx.cleanup(() => { msgsChart.destroy(); bytesChart.destroy(); });

    /* busiest topics, broker, groups */
    const topicsBody = h("div", {class: "card-body flush"});
    const brokerBody = h("div", {class: "card-body"},
                         h("div", {class: "loading"}, "Loading…"));
    const groupsBody = h("div", {class: "card-body flush"});
    root.append(h("div", {class: "grid three"},
        h("div", {class: "card"},
          h("div", {class: "card-head"}, h("h2", null, "Topics"),
            h("a", {href: "#/topics"}, "All topics →")),
          topicsBody),
        h("div", {class: "card"},
          h("div", {class: "card-head"}, h("h2", null, "Broker"),
            h("a", {href: "#/broker"}, "Details →")),
          brokerBody)));
    root.append(h("div", {class: "card"},
        h("div", {class: "card-head"}, h("h2", null, "Consumer groups"),
          h("a", {href: "#/groups"}, "All groups →")),
        groupsBody));

    ctx.onSample((st) => {
        const list = [...st.topics.values()];
        let parts = 0, count = 0, size = 0;
        for (const t of list) {
            const x = sums(t.parts);
            parts += t.parts.length || (t.meta && t.meta.partitions_count)
                     || 0;
            count += x.count;
            size += x.size;
        }
        const last = st.total[st.total.length - 1];
        s.topics.v.textContent = fmtNum(list.length);
        s.parts.v.textContent = fmtNum(parts);
        s.msgs.v.textContent = fmtShort(count);
        s.msgs.hi.textContent = fmtNum(count) + " record"
                               + (count === 1 ? "" : "s");
        s.size.v.textContent = fmtBytes(size);
        s.rate.v.textContent = last ? fmtRate(last.msgs) : "–";
        s.rate.hi.textContent = "records per second";
        s.bytes.v.textContent = last ? fmtBytes(last.bytes) + "/s" : "–";
        s.bytes.hi.textContent = "on disk, per second";

        /* the five busiest topics stacked, the rest as "other" */
        const busy = list.map((t) => ({t, sum: t.rates.reduce(
            (a, r) => a + r.msgs, 0)})).sort((a, b) => b.sum - a.sum);
        const top = busy.filter((b) => b.sum > 0).slice(0, 5);
        const series = top.map((b, i) => ({name: b.t.name, color: color(i),
            points: b.t.rates.map((r) => [r.t, r.msgs])}));
        const others = busy.filter((b) => !top.includes(b));
        const pts = st.total.map((x) => [x.t, Math.max(0, x.msgs
            - top.reduce((a, b) => {
                const r = b.t.rates.find((q) => q.t === x.t);
                return a + (r ? r.msgs : 0);
            }, 0))]);
        if (!top.length || (others.length && pts.some((p) => p[1] > 0))) {
            series.push({name: top.length ? "other" : "all topics",
                         color: top.length ? "var(--muted)" : color(0),
                         points: pts});
        }
        msgsChart.set(series);
        clear(msgsLegend, series.map((x) =>
            h("span", null, h("i", {style: {background: x.color}}),
              x.name)));
        bytesChart.set([{name: "bytes", color: color(1),
                         points: st.total.map((x) => [x.t, x.bytes])}]);

        topicsTable(topicsBody, busy.slice(0, 8).map((b) => b.t));
    });

    loadBroker(ctx, brokerBody, clusterLine);
    ctx.every(3000, () => loadGroups(ctx, groupsBody, s));
}

function topicsTable(body, list) {
    if (!list.length) {
        clear(body, h("div", {class: "empty"}, "No topics yet. ",
            h("a", {href: "#/topics"}, "Create one"),
            " or produce with any Kafka client."));
        return;
    }
    clear(body, h("div", {class: "table-wrap"}, h("table",
        {class: "compact"},
        h("thead", null, h("tr", null, h("th", null, "Topic"),
          h("th", {class: "num"}, "Partitions"),
          h("th", {class: "num"}, "Messages"), h("th", {class: "num"}, "Size"),
          h("th", {class: "num"}, "In"), h("th", null, "Trend"))),
        h("tbody", null, list.map((t) => {
            const x = sums(t.parts);
            return h("tr", {class: "link", onclick: () => {
                location.hash = "#/topics/" + enc(t.name);
            }},
                h("td", {class: "name"},
                  h("a", {href: "#/topics/" + enc(t.name)}, t.name),
                  internal(t) ? [" ", h("span", {class: "badge"},
                                        "internal")] : null),
                h("td", {class: "num"}, t.parts.length),
                h("td", {class: "num"}, fmtNum(x.count)),
                h("td", {class: "num"}, fmtBytes(x.size)),
                h("td", {class: "num"}, fmtRate(t.msgs)),
                h("td", null, sparkline(t.rates.map((r) => r.msgs))));
        })))));
}

async function loadBroker(ctx, body, line) {
    try {
        const [info, brokers] = await Promise.all([api.clusterInfo(),
                                                   api.brokers()]);
        if (!ctx.alive) return;
        const ctl = api.relatedId(info.controller);
        line.textContent = "Cluster " + info.cluster_id + " · "
            + brokers.length + " broker" + (brokers.length === 1 ? "" : "s");
        clear(body, brokers.map((b) => h("dl", {class: "kv"},
            h("dt", null, "Broker"),
            h("dd", null, h("b", null, "#" + b.broker_id), " ",
              h("span", {class: "badge good"}, "online"),
              String(b.broker_id) === ctl
                ? h("span", {class: "badge accent"}, "controller") : null),
            h("dt", null, "Address"),
            h("dd", {class: "mono"}, (b.host || "?") + ":" + (b.port ?? "?")),
            h("dt", null, "Rack"), h("dd", null, b.rack || "–"),
            h("dt", null, "Cluster"),
            h("dd", {class: "mono"}, info.cluster_id))));
    } catch (e) {
        if (!ctx.alive) return;
        line.textContent = "The broker does not answer: " + e.message;
        clear(body, h("div", {class: "note bad"}, e.message));
    }
}

async function loadGroups(ctx, body, s) {
    const list = await api.groups();
    const sums = await Promise.all(list.map((g) =>
        api.groupLagSummary(g.consumer_group_id).catch(() => null)));
    if (!ctx.alive) return;
    const total = sums.reduce((a, x) => a + (x ? Number(x.total_lag) || 0
                                                : 0), 0);
    s.groups.v.textContent = fmtNum(list.length);
    s.groups.hi.textContent = list.filter((g) =>
        String(g.state).toUpperCase() === "STABLE").length + " stable";
    s.lag.v.textContent = fmtShort(total);
    s.lag.hi.textContent = fmtNum(total) + " records behind";
    if (!list.length) {
        clear(body, h("div", {class: "empty"},
            "No consumer groups yet: they appear when a consumer joins one "
            + "or commits offsets."));
        return;
    }
    clear(body, h("div", {class: "table-wrap"}, h("table", null,
        h("thead", null, h("tr", null, h("th", null, "Group"),
          h("th", null, "State"), h("th", {class: "num"}, "Total lag"),
          h("th", {class: "num"}, "Max lag"), h("th", null, "Max on"))),
        h("tbody", null, list.map((g, i) => {
            const x = sums[i] || {};
            const href = "#/groups/" + enc(g.consumer_group_id);
            return h("tr", {class: "link", onclick: () => {
                location.hash = href;
            }},
                h("td", {class: "name"}, h("a", {href}, g.consumer_group_id)),
                h("td", null, stateBadge(g.state)),
                h("td", {class: "num"}, fmtNum(x.total_lag)),
                h("td", {class: "num"}, fmtNum(x.max_lag)),
                h("td", {class: "muted"}, x.max_lag_topic_name != null
                  ? x.max_lag_topic_name + " / " + x.max_lag_partition_id
                  : "–"));
        })))));
}
