/* Topics: the list, and one topic with its partitions */

import * as api from "../api.js";
import * as sampler from "../sampler.js";
import { sums } from "../sampler.js";
import { TimeChart, color } from "../chart.js";
import { h, clear, fmtBytes, fmtNum, fmtRate, fmtShort, sparkline, enc,
         toast } from "../util.js";
import * as messages from "./messages.js";
import * as produce from "./produce.js";

export function list(ctx) {
    ctx.crumbs("Topics");
    const root = ctx.root;
    const filter = h("input", {type: "search", placeholder: "Filter topics",
                               "aria-label": "Filter topics"});
    const form = createForm(ctx);
    form.hidden = true;
    root.append(h("div", {class: "page-head"},
        h("div", null, h("h1", null, "Topics"),
          h("p", null, "Partitions, offsets, sizes and live throughput.")),
        h("div", {class: "actions"}, filter,
          h("button", {class: "btn primary", type: "button", onclick: () => {
              form.hidden = !form.hidden;
              if (!form.hidden) form.querySelector("input").focus();
          }}, "New topic"))));
    root.append(form);

    const body = h("div", {class: "card-body flush"},
                   h("div", {class: "loading"}, h("span", {class: "spin"}),
                     "Loading topics…"));
    const count = h("span", {class: "sub"});
    root.append(h("div", {class: "card"},
        h("div", {class: "card-head"}, h("h2", null, "All topics"), count),
        body));

    let last = null;
    const render = () => {
        const st = last;
        if (!st) return;
        const q = filter.value.trim().toLowerCase();
        const all = [...st.topics.values()];
        const rows = all.filter((t) => t.name.toLowerCase().includes(q));
        count.textContent = rows.length === all.length
            ? all.length + " topics"
            : rows.length + " of " + all.length + " topics";
        if (!rows.length) {
            clear(body, h("div", {class: "empty"}, all.length
                ? "No topic matches." : "No topics yet."));
            return;
        }
        clear(body, h("div", {class: "table-wrap"}, h("table",
            {id: "topics-table"},
            h("thead", null, h("tr", null, h("th", null, "Topic"),
              h("th", {class: "num"}, "Partitions"),
              h("th", {class: "num"}, "Replicas"),
              h("th", {class: "num"}, "Messages"),
              h("th", {class: "num"}, "End offsets"),
              h("th", {class: "num"}, "Size"),
              h("th", {class: "num"}, "In"),
              h("th", null, "Trend"))),
            h("tbody", null, rows.map((t) => {
                const x = sums(t.parts);
                const href = "#/topics/" + enc(t.name);
                return h("tr", {class: "link", dataset: {topic: t.name},
                                onclick: (ev) => {
                    if (ev.target.tagName !== "A") location.hash = href;
                }},
                    h("td", {class: "name"}, h("a", {href}, t.name),
                      internal(t)
                        ? [" ", h("span", {class: "badge"}, "internal")]
                        : null),
                    h("td", {class: "num"}, t.parts.length
                      || (t.meta && t.meta.partitions_count)),
                    h("td", {class: "num"},
                      (t.meta && t.meta.replication_factor) || 1),
                    h("td", {class: "num"}, fmtNum(x.count)),
                    h("td", {class: "num"}, fmtNum(x.end)),
                    h("td", {class: "num"}, fmtBytes(x.size)),
                    h("td", {class: "num"}, fmtRate(t.msgs)),
                    h("td", null, sparkline(t.rates.map((r) => r.msgs))));
            })))));
    };
    filter.addEventListener("input", render);
    ctx.onSample((st) => { last = st; render(); });
}

export function internal(t) {
    return !!(t.meta && t.meta.is_internal) || t.name.startsWith("__");
}

function createForm(ctx) {
    const name = h("input", {name: "topic", placeholder: "orders",
                             required: true, pattern: "[A-Za-z0-9._\\-]+",
                             maxlength: 249});
    const parts = h("input", {type: "number", name: "partitions", min: 1,
                              max: 10000, value: "3",
                              style: {width: "110px"}});
    const policy = h("select", {name: "cleanup"},
        h("option", {value: ""}, "default"),
        h("option", {value: "delete"}, "delete"),
        h("option", {value: "compact"}, "compact"));
    const msg = h("div");
    const btn = h("button", {class: "btn primary", type: "submit"},
                  "Create topic");
    const form = h("form", {class: "card", onsubmit: async (ev) => {
        ev.preventDefault();
        btn.disabled = true;
        clear(msg);
        try {
            const cfg = policy.value
                ? [{name: "cleanup.policy", value: policy.value}] : [];
            await api.createTopic(name.value.trim(), Number(parts.value),
                                  cfg);
            toast("Topic " + name.value + " created", "good");
            await sampler.refresh();
            location.hash = "#/topics/" + enc(name.value.trim());
        } catch (e) {
            clear(msg, h("div", {class: "note bad"}, e.message));
        } finally {
            btn.disabled = false;
        }
    }},
        h("div", {class: "card-head"}, h("h2", null, "New topic")),
        h("div", {class: "card-body form"},
          h("div", {class: "row"},
            h("label", {class: "field grow"}, h("span", null, "Name"), name),
            h("label", {class: "field"}, h("span", null, "Partitions"),
              parts),
            h("label", {class: "field"}, h("span", null, "Cleanup policy"),
              policy),
            btn),
          msg));
    form.style.marginBottom = "16px";
    return form;
}

/* ---------------------------------------------------------------- detail */

export function detail(ctx) {
    const name = ctx.params[0];
    const tab = ctx.params[1] || "partitions";
    const base = "#/topics/" + enc(name);
    ctx.crumbs(["Topics", "#/topics"], name);
    const root = ctx.root;

    const badges = h("p");
    root.append(h("div", {class: "page-head"},
        h("div", null, h("h1", {id: "topic-name"}, name), badges),
        h("div", {class: "actions"},
          h("button", {class: "btn danger", type: "button",
                       onclick: () => remove(name)}, "Delete"))));

    const s = {
        parts: mini("Partitions"), msgs: mini("Messages"),
        size: mini("Size on disk"), rate: mini("Messages in"),
        bytes: mini("Bytes in")
    };
    root.append(h("div", {class: "stats"},
                  Object.values(s).map((x) => x.el)));

    const tabs = [["partitions", "Partitions"], ["messages", "Messages"],
                  ["produce", "Produce"], ["configs", "Configuration"]];
    root.append(h("nav", {class: "tabs", style: {marginTop: "20px"}},
        tabs.map(([id, label]) => h("a", {href: base + "/" + id,
            class: id === tab ? "on" : ""}, label))));
    const pane = h("div");
    root.append(pane);

    let meta = null;
    ctx.onSample((st) => {
        const t = st.topics.get(name);
        if (!t) return;
        meta = t;
        const x = sums(t.parts);
        s.parts.v.textContent = t.parts.length;
        s.msgs.v.textContent = fmtShort(x.count);
        s.msgs.hi.textContent = fmtNum(x.count) + " record"
                                + (x.count === 1 ? "" : "s");
        s.size.v.textContent = fmtBytes(x.size);
        s.size.hi.textContent = x.segs ? fmtNum(x.segs) + " segments" : "";
        s.rate.v.textContent = fmtRate(t.msgs);
        s.bytes.v.textContent = fmtBytes(t.bytes) + "/s";
        clear(badges, h("span", {class: "badge accent"},
              (t.meta && t.meta.replication_factor || 1) + "× replicated"),
              " ", internal(t)
                ? h("span", {class: "badge"}, "internal") : null);
    });

    if (tab === "partitions") partitionsPane(ctx, pane, name);
    else if (tab === "messages") messages.embed(ctx, pane, name);
    else if (tab === "produce") produce.embed(ctx, pane, name);
    else if (tab === "configs") configsPane(ctx, pane, name);
    void meta;
}

function mini(label) {
    const v = h("div", {class: "value"}, "–");
    const hi = h("div", {class: "hint"}, "\u00a0");
    return {el: h("div", {class: "stat"}, h("div", {class: "label"}, label),
                  v, hi), v, hi};
}

async function remove(name) {
    if (!confirm("Delete the topic " + name + " and all its records?")) {
        return;
    }
    try {
        await api.deleteTopic(name);
        toast("Topic " + name + " deleted", "good");
        sampler.invalidate();
        location.hash = "#/topics";
    } catch (e) {
        toast("Could not delete " + name + ": " + e.message, "bad");
    }
}

function partitionsPane(ctx, pane, name) {
    const chartBody = h("div", {class: "card-body"});
    const legend = h("div", {class: "legend"});
    const table = h("div", {class: "card-body flush"},
                    h("div", {class: "loading"}, h("span", {class: "spin"}),
                      "Loading partitions…"));
    pane.append(h("div", {class: "card"},
        h("div", {class: "card-head"},
          h("div", null, h("h2", null, "Throughput by partition"),
            h("div", {class: "sub"}, "messages per second")),
          legend),
        chartBody));
    pane.append(h("div", {class: "card"},
        h("div", {class: "card-head"}, h("h2", null, "Partitions")),
        table));
    const chart = new TimeChart(chartBody, {format: fmtShort,
                                            stacked: true});
    ctx.cleanup(() => chart.destroy());

    let shown = false;
    ctx.onSample((st) => {
        const t = st.topics.get(name);
        if (!t) {
            if (st.ready && !shown) {
                clear(table, h("div", {class: "empty"},
                    "No topic " + name + " (yet)."));
            }
            return;
        }
        shown = true;
        const n = t.parts.length;
        const series = n <= 8
            ? t.parts.map((p, i) => ({name: "p" + p.partition_id,
                color: color(i),
                points: t.rates.map((r) => [r.t, r.parts[i] || 0])}))
            : [{name: "all", color: color(0),
                points: t.rates.map((r) => [r.t, r.msgs])}];
        chart.set(series);
        clear(legend, series.map((x) => h("span", null,
            h("i", {style: {background: x.color}}), x.name)));

        const maxSize = Math.max(1, ...t.parts.map((p) =>
            Number(p.size_bytes) || 0));
        const last = t.rates[t.rates.length - 1];
        clear(table, h("div", {class: "table-wrap"}, h("table",
            {id: "partitions-table"},
            h("thead", null, h("tr", null,
              h("th", {class: "num"}, "Partition"), h("th", null, "Leader"),
              h("th", {class: "num"}, "Start offset"),
              h("th", {class: "num"}, "End offset"),
              h("th", {class: "num"}, "High watermark"),
              h("th", {class: "num"}, "Messages"),
              h("th", {class: "num"}, "Segments"),
              h("th", {class: "num"}, "Size"), h("th", null, ""),
              h("th", {class: "num"}, "In"), h("th", null, ""))),
            h("tbody", null, t.parts.map((p, i) => {
                const size = Number(p.size_bytes) || 0;
                const cnt = Math.max(0, (p.log_end_offset ?? 0)
                                        - (p.log_start_offset ?? 0));
                return h("tr", null,
                    h("td", {class: "num mono"}, p.partition_id),
                    h("td", null, "#" + (api.relatedId(p.leader) ?? "?")),
                    h("td", {class: "num mono"}, fmtNum(p.log_start_offset)),
                    h("td", {class: "num mono"}, fmtNum(p.log_end_offset)),
                    h("td", {class: "num mono"}, fmtNum(p.high_watermark)),
                    h("td", {class: "num"}, fmtNum(cnt)),
                    h("td", {class: "num"}, fmtNum(p.segments)),
                    h("td", {class: "num"}, fmtBytes(size)),
                    h("td", null, h("div", {class: "bar"},
                      h("i", {style: {width: (100 * size / maxSize)
                                             .toFixed(1) + "%"}}))),
                    h("td", {class: "num"},
                      fmtRate(last ? last.parts[i] : null)),
                    h("td", null, h("a", {href: "#/topics/" + enc(name)
                      + "/messages?partition=" + p.partition_id},
                      "Browse")));
            })))));
    });
}

async function configsPane(ctx, pane, name) {
    const body = h("div", {class: "card-body flush"},
                   h("div", {class: "loading"}, "Loading…"));
    const filter = h("input", {type: "search", placeholder: "Filter"});
    pane.append(h("div", {class: "card"},
        h("div", {class: "card-head"}, h("h2", null, "Configuration"),
          filter), body));
    let cfg;
    try {
        cfg = await api.topicConfigs(name);
    } catch (e) {
        clear(body, h("div", {class: "note bad"}, e.message));
        return;
    }
    if (!ctx.alive) return;
    const render = () => {
        const q = filter.value.toLowerCase();
        configTable(body, cfg.filter((c) =>
            c.name.toLowerCase().includes(q)));
    };
    filter.addEventListener("input", render);
    render();
}

export function configTable(body, cfg) {
    if (!cfg.length) {
        clear(body, h("div", {class: "empty"}, "No settings."));
        return;
    }
    clear(body, h("div", {class: "table-wrap"}, h("table", null,
        h("thead", null, h("tr", null, h("th", null, "Name"),
          h("th", null, "Value"), h("th", null, "Source"))),
        h("tbody", null, cfg.map((c) => h("tr", null,
            h("td", {class: "mono"}, c.name),
            h("td", {class: "mono"}, c.is_sensitive ? "••••••"
              : c.value == null ? h("span", {class: "null"}, "null")
              : String(c.value)),
            h("td", null, c.is_default
              ? h("span", {class: "badge"}, "default")
              : h("span", {class: "badge accent"},
                  String(c.source || "set").toLowerCase()
                  .replace(/_/g, " ")))))))));
}
