/* Broker status: the cluster, the broker, its settings, the API's health */

import * as api from "../api.js";
import { sums } from "../sampler.js";
import { h, clear, fmtNum, fmtBytes, fmtAgo } from "../util.js";
import { configTable } from "./topics.js";

export function mount(ctx) {
    ctx.crumbs("Broker");
    const root = ctx.root;
    root.append(h("div", {class: "page-head"},
        h("div", null, h("h1", null, "Broker"),
          h("p", null, "The cluster as the REST API shows it."))));

    const info = h("div", {class: "card-body"},
                   h("div", {class: "loading"}, "Loading…"));
    const health = h("div", {class: "card-body"});
    const logs = h("div", {class: "card-body"});
    root.append(h("div", {class: "grid two"},
        h("div", {class: "card"},
          h("div", {class: "card-head"}, h("h2", null, "Cluster")), info),
        h("div", {class: "grid"},
          h("div", {class: "card"},
            h("div", {class: "card-head"}, h("h2", null, "Console link")),
            health),
          h("div", {class: "card"},
            h("div", {class: "card-head"}, h("h2", null, "Logs")), logs))));

    const filter = h("input", {type: "search", placeholder: "Filter"});
    const cfgBody = h("div", {class: "card-body flush"},
                      h("div", {class: "loading"}, "Loading…"));
    root.append(h("div", {class: "card"},
        h("div", {class: "card-head"}, h("h2", null, "Broker settings"),
          filter), cfgBody));

    ctx.cleanup(api.onConn((c) => {
        clear(health, h("dl", {class: "kv"},
            h("dt", null, "REST API"),
            h("dd", null, c.ok === false
              ? h("span", {class: "badge bad"}, "unreachable")
              : h("span", {class: "badge good"}, "reachable")),
            h("dt", null, "Latency"),
            h("dd", null, c.latency == null ? "–"
              : c.latency.toFixed(1) + " ms (smoothed)"),
            h("dt", null, "Last answer"),
            h("dd", null, c.last ? fmtAgo(c.last) : "–"),
            c.error ? [h("dt", null, "Error"), h("dd", null, c.error)] : null,
            h("dt", null, "Polling"),
            h("dd", null, "partitions of every topic each second")));
    }));

    ctx.onSample((st) => {
        let segs = 0, size = 0, parts = 0, count = 0;
        for (const t of st.topics.values()) {
            const x = sums(t.parts);
            segs += x.segs;
            size += x.size;
            count += x.count;
            parts += t.parts.length;
        }
        clear(logs, h("dl", {class: "kv"},
            h("dt", null, "Topics"), h("dd", null, fmtNum(st.topics.size)),
            h("dt", null, "Partitions"), h("dd", null, fmtNum(parts)),
            h("dt", null, "Segments"), h("dd", null, fmtNum(segs)),
            h("dt", null, "Records"), h("dd", null, fmtNum(count)),
            h("dt", null, "On disk"), h("dd", null, fmtBytes(size))));
    });

    (async () => {
        let cl, brokers;
        try {
            [cl, brokers] = await Promise.all([api.clusterInfo(),
                                               api.brokers()]);
        } catch (e) {
            clear(info, h("div", {class: "note bad"}, e.message));
            return;
        }
        if (!ctx.alive) return;
        const ctl = api.relatedId(cl.controller);
        clear(info, h("dl", {class: "kv"},
            h("dt", null, "Cluster id"),
            h("dd", {class: "mono", id: "cluster-id"}, cl.cluster_id),
            h("dt", null, "Controller"), h("dd", null, "#" + (ctl ?? "?")),
            h("dt", null, "Brokers"), h("dd", null, String(brokers.length))),
            h("div", {class: "table-wrap", style: {marginTop: "14px"}},
              h("table", {id: "brokers-table"},
                h("thead", null, h("tr", null, h("th", null, "Id"),
                  h("th", null, "Host"), h("th", {class: "num"}, "Port"),
                  h("th", null, "Rack"), h("th", null, "Status"))),
                h("tbody", null, brokers.map((b) => h("tr", null,
                    h("td", {class: "mono"}, "#" + b.broker_id),
                    h("td", {class: "mono"}, b.host || "–"),
                    h("td", {class: "num mono"}, b.port ?? "–"),
                    h("td", null, b.rack || "–"),
                    h("td", null, h("span", {class: "badge good"},
                      "online"))))))));

        if (!brokers.length) {
            clear(cfgBody, h("div", {class: "empty"}, "No broker."));
            return;
        }
        let cfg;
        try {
            cfg = await api.brokerConfigs(brokers[0].broker_id);
        } catch (e) {
            clear(cfgBody, h("div", {class: "card-body"},
                h("div", {class: "note bad"}, e.message)));
            return;
        }
        if (!ctx.alive) return;
        const render = () => {
            const q = filter.value.toLowerCase();
            configTable(cfgBody, cfg.filter((c) =>
                c.name.toLowerCase().includes(q)));
        };
        filter.addEventListener("input", render);
        render();
    })();
}
