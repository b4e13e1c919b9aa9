/* Consumer groups: the list with their lag, one group's partitions */

import * as api from "../api.js";
import { TimeChart, color } from "../chart.js";
import { h, clear, fmtNum, fmtShort, fmtRate, enc, stateBadge,
         sparkline } from "../util.js";

/* lag history per group, kept while the console is open */
const history = new Map();

function remember(id, t, lag) {
    let hh = history.get(id);
    if (!hh) history.set(id, hh = []);
    hh.push([t, lag]);
    if (hh.length > 180) hh.shift();
    return hh;
}

export function list(ctx) {
    ctx.crumbs("Consumer groups");
    const root = ctx.root;
    root.append(h("div", {class: "page-head"},
        h("div", null, h("h1", null, "Consumer groups"),
          h("p", null, "Members, committed offsets and lag."))));
    const body = h("div", {class: "card-body flush"},
                   h("div", {class: "loading"}, h("span", {class: "spin"}),
                     "Loading groups…"));
    const count = h("span", {class: "sub"});
    root.append(h("div", {class: "card"},
        h("div", {class: "card-head"}, h("h2", null, "All groups"), count),
        body));

    ctx.every(2000, async () => {
        let list;
        try {
            list = await api.groups();
        } catch (e) {
            if (ctx.alive) clear(body, h("div", {class: "card-body"},
                h("div", {class: "note bad"}, e.message)));
            return;
        }
        const extra = await Promise.all(list.map((g) => Promise.all([
            api.groupLagSummary(g.consumer_group_id).catch(() => null),
            api.groupConsumers(g.consumer_group_id).catch(() => null)])));
        if (!ctx.alive) return;
        count.textContent = list.length + " group"
                            + (list.length === 1 ? "" : "s");
        if (!list.length) {
            clear(body, h("div", {class: "empty"},
                "No consumer groups yet: they appear when a consumer joins "
                + "one or commits offsets."));
            return;
        }
        const t = Date.now();
        clear(body, h("div", {class: "table-wrap"}, h("table",
            {id: "groups-table"},
            h("thead", null, h("tr", null, h("th", null, "Group"),
              h("th", null, "State"), h("th", {class: "num"}, "Members"),
              h("th", null, "Assignor"),
              h("th", {class: "num"}, "Total lag"),
              h("th", {class: "num"}, "Max lag"), h("th", null, "Max on"),
              h("th", null, "Lag"))),
            h("tbody", null, list.map((g, i) => {
                const [sum, members] = extra[i];
                const lag = sum ? Number(sum.total_lag) || 0 : null;
                const hh = lag == null ? []
                         : remember(g.consumer_group_id, t, lag);
                const href = "#/groups/" + enc(g.consumer_group_id);
                return h("tr", {class: "link",
                                dataset: {group: g.consumer_group_id},
                                onclick: (ev) => {
                    if (ev.target.tagName !== "A") location.hash = href;
                }},
                    h("td", {class: "name"}, h("a", {href},
                      g.consumer_group_id)),
                    h("td", null, stateBadge(g.state)),
                    h("td", {class: "num"}, members ? members.length : "–"),
                    h("td", {class: "muted"}, g.partition_assignor || "–"),
                    h("td", {class: "num lag"}, fmtNum(lag)),
                    h("td", {class: "num"}, sum ? fmtNum(sum.max_lag) : "–"),
                    h("td", {class: "muted"}, sum && sum.max_lag_topic_name
                      ? sum.max_lag_topic_name + " / "
                        + sum.max_lag_partition_id : "–"),
                    h("td", null, sparkline(hh.map((x) => x[1]))));
            })))));
    });
}

export function detail(ctx) {
    const id = ctx.params[0];
    ctx.crumbs(["Consumer groups", "#/groups"], id);
    const root = ctx.root;
    const sub = h("p", null, "\u00a0");
    root.append(h("div", {class: "page-head"},
        h("div", null, h("h1", {id: "group-name"}, id), sub)));

    const s = {lag: mini("Total lag"), max: mini("Max lag"),
               members: mini("Members"), rate: mini("Consuming")};
    root.append(h("div", {class: "stats"},
                  Object.values(s).map((x) => x.el)));

    const chartBody = h("div", {class: "card-body"});
    const membersBody = h("div", {class: "card-body flush"});
    root.append(h("div", {class: "grid three"},
        h("div", {class: "card"},
          h("div", {class: "card-head"}, h("h2", null, "Lag over time"),
            h("span", {class: "sub"}, "records behind the log end")),
          chartBody),
        h("div", {class: "card"},
          h("div", {class: "card-head"}, h("h2", null, "Members")),
          membersBody)));
    const chart = new TimeChart(chartBody, {format: fmtShort, height: 170});
    ctx.cleanup(() => chart.destroy());

    const lagsBody = h("div", {class: "card-body flush"},
                       h("div", {class: "loading"}, h("span",
                         {class: "spin"}), "Loading lag…"));
    root.append(h("div", {class: "card"},
        h("div", {class: "card-head"},
          h("h2", null, "Lag per partition"),
          h("span", {class: "sub"}, "committed offset against the log end")),
        lagsBody));

    const prev = [];
    ctx.every(1000, async () => {
        let g, lags, members;
        try {
            [g, lags, members] = await Promise.all([api.group(id),
                api.groupLags(id), api.groupConsumers(id)]);
        } catch (e) {
            if (ctx.alive) clear(lagsBody, h("div", {class: "card-body"},
                h("div", {class: "note bad"}, e.message)));
            return;
        }
        if (!ctx.alive) return;
        const t = Date.now();
        const total = lags.reduce((a, l) => a + (Number(l.lag) || 0), 0);
        const max = lags.reduce((a, l) => Math.max(a, Number(l.lag) || 0), 0);
        const committed = lags.reduce((a, l) =>
            a + (Number(l.current_offset) || 0), 0);
        /* committed offsets move in steps (auto commit every few
         * seconds): the rate over the last 10 s */
        prev.push({t, c: committed});
        while (prev.length > 2 && t - prev[1].t >= 10000) prev.shift();
        const first = prev[0];
        const rate = t - first.t >= 900
            ? Math.max(0, (committed - first.c) / ((t - first.t) / 1000))
            : null;
        const hh = remember(id, t, total);

        clear(sub, stateBadge(g.state), " ",
              g.partition_assignor ? h("span", {class: "badge"},
                                       g.partition_assignor) : null, " ",
              g.is_simple ? h("span", {class: "badge"}, "simple") : null,
              " ", h("span", {class: "muted"}, "coordinator #"
                     + (api.relatedId(g.coordinator) ?? "?")));
        s.lag.v.textContent = fmtNum(total);
        s.max.v.textContent = fmtNum(max);
        s.members.v.textContent = members.length;
        s.rate.v.textContent = rate == null ? "–" : fmtRate(rate);
        s.rate.hi.textContent = "committed offsets / s";
        chart.set([{name: "lag", color: color(3), points: hh}]);

        clear(membersBody, members.length
            ? h("div", {class: "table-wrap"}, h("table", null,
                h("thead", null, h("tr", null, h("th", null, "Consumer"),
                  h("th", null, "Client"))),
                h("tbody", null, members.map((m) => h("tr", null,
                    h("td", {class: "mono", title: m.consumer_id},
                      short(m.consumer_id)),
                    h("td", {class: "muted"}, m.client_id || "–"))))))
            : h("div", {class: "empty"}, "No active members: the group "
                + "only has committed offsets."));

        if (!lags.length) {
            clear(lagsBody, h("div", {class: "empty"},
                "No committed offsets yet."));
            return;
        }
        const top = Math.max(1, max);
        clear(lagsBody, h("div", {class: "table-wrap"}, h("table",
            {id: "lags-table"},
            h("thead", null, h("tr", null, h("th", null, "Topic"),
              h("th", {class: "num"}, "Partition"),
              h("th", {class: "num"}, "Committed"),
              h("th", {class: "num"}, "Log end"),
              h("th", {class: "num"}, "Lag"), h("th", null, ""),
              h("th", null, "Consumer"), h("th", null, ""))),
            h("tbody", null, lags.map((l) => {
                const lag = Number(l.lag) || 0;
                const pct = 100 * lag / top;
                return h("tr", {dataset: {topic: l.topic_name,
                                          partition: l.partition_id}},
                    h("td", {class: "name"}, h("a", {href: "#/topics/"
                      + enc(l.topic_name)}, l.topic_name)),
                    h("td", {class: "num mono"}, l.partition_id),
                    h("td", {class: "num mono"}, fmtNum(l.current_offset)),
                    h("td", {class: "num mono"}, fmtNum(l.log_end_offset)),
                    h("td", {class: "num lag"}, fmtNum(lag)),
                    h("td", null, h("div", {class: "bar" + (pct > 66
                      ? " bad" : pct > 33 ? " warn" : "")},
                      h("i", {style: {width: pct.toFixed(1) + "%"}}))),
                    h("td", {class: "muted mono", title: l.consumer_id || ""},
                      short(l.consumer_id) || "–"),
                    h("td", null, lag > 0 ? h("a", {href: "#/topics/"
                      + enc(l.topic_name) + "/messages?partition="
                      + l.partition_id + "&offset=" + l.current_offset,
                      title: "The records the group has still to read"},
                      "Unread →") : null));
            })))));
    });
}

function short(s) {
    if (!s) return "";
    return s.length > 28 ? s.slice(0, 27) + "…" : s;
}

function mini(label) {
    const v = h("div", {class: "value"}, "–");
    const hi = h("div", {class: "hint"}, "\u00a0");
    return {el: h("div", {class: "stat"}, h("div", {class: "label"}, label),
                  v, hi), v, hi};
}
