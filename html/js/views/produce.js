/* The produce form: POST /v3/clusters/{c}/topics/{t}/records */

import * as api from "../api.js";
import * as sampler from "../sampler.js";
import { h, clear, fmtNum, fmtTime, b64encode, enc } from "../util.js";

export function mount(ctx) {
    ctx.crumbs("Produce");
    ctx.root.append(h("div", {class: "page-head"},
        h("div", null, h("h1", null, "Produce"),
          h("p", null, "Write a record to a topic through the REST API."))));
    const pane = h("div");
    ctx.root.append(pane);
    form(ctx, pane, ctx.query.get("topic"), true);
}

export function embed(ctx, pane, name) {
    form(ctx, pane, name, false);
}

function form(ctx, pane, topic, pick) {
    const topicIn = h("input", {name: "topic", list: "produce-topics",
                                placeholder: "topic", required: true,
                                autocomplete: "off",
                                value: topic || ""});
    const topicList = h("datalist", {id: "produce-topics"});
    const partSel = h("select", {name: "partition"},
                      h("option", {value: ""}, "Automatic (by key)"));
    const keyIn = h("input", {name: "key", placeholder: "optional",
                              autocomplete: "off"});
    const valueIn = h("textarea", {name: "value", rows: 8, spellcheck: false,
        placeholder: '{"id": 1, "status": "created"}'});
    let format = "json";
    const fmtSeg = h("div", {class: "seg"});
    const fmtBtns = [["json", "JSON"], ["string", "Text"],
                     ["binary", "Base64"]].map(([id, label]) => {
        const b = h("button", {type: "button", dataset: {format: id},
                               onclick: () => {
            format = id;
            showFormat();
        }}, label);
        fmtSeg.append(b);
        return b;
    });
    const valueErr = h("div", {class: "err"});
    const hdrs = h("div", {class: "headers-edit"});
    const addHdr = (k = "", v = "") => {
        const row = h("div", {class: "hdr"},
            h("input", {placeholder: "header name", value: k,
                        class: "hname"}),
            h("input", {placeholder: "value", value: v, class: "hvalue"}),
            h("button", {class: "btn small", type: "button",
                         title: "Remove", onclick: () => row.remove()}, "×"));
        hdrs.append(row);
    };
    const sendBtn = h("button", {class: "btn primary", type: "submit",
                                 id: "produce-send"}, "Produce record");
    const prettyBtn = h("button", {class: "btn small", type: "button",
                                   onclick: () => {
        try {
            valueIn.value = JSON.stringify(JSON.parse(valueIn.value), null, 2);
            valueErr.textContent = "";
        } catch (e) {
            valueErr.textContent = "Not JSON: " + e.message;
        }
    }}, "Format");
    const result = h("div", {id: "produce-result", class: "form"});
    const history = h("div", {class: "card-body flush"});
    const sent = [];

    function showFormat() {
        fmtBtns.forEach((b) =>
            b.classList.toggle("on", b.dataset.format === format));
        prettyBtn.hidden = format !== "json";
        valueErr.textContent = "";
    }

    async function loadTopics() {
        const names = sampler.state.ready
            ? [...sampler.state.topics.keys()]
            : (await api.topics()).map((t) => t.topic_name);
        clear(topicList, names.sort().map((n) => h("option", {value: n})));
    }

    async function loadParts() {
        const name = topicIn.value.trim();
        const cur = partSel.value;
        let parts = [];
        const known = sampler.state.topics.get(name);
        if (known && known.parts.length) parts = known.parts;
        else if (known) parts = await api.partitions(name);
        clear(partSel, h("option", {value: ""}, "Automatic (by key)"),
            parts.map((p) => h("option", {value: String(p.partition_id),
                selected: String(p.partition_id) === cur},
                "Partition " + p.partition_id)));
    }

    topicIn.addEventListener("change", () => loadParts().catch(() => {}));

    function record() {
        const rec = {};
        if (partSel.value !== "") rec.partition_id = Number(partSel.value);
        if (keyIn.value !== "") {
            rec.key = {type: "STRING", data: keyIn.value};
        }
        const text = valueIn.value;
        if (format === "json") {
            let v;
            try {
                v = JSON.parse(text);
            } catch (e) {
                throw new Error("The value is not valid JSON: " + e.message);
            }
            rec.value = {type: "JSON", data: v};
        } else if (format === "string") {
            rec.value = {type: "STRING", data: text};
        } else {
            const clean = text.replace(/\s+/g, "");
            if (!/^[A-Za-z0-9+/]*={0,2}$/.test(clean)) {
                throw new Error("The value is not base64.");
            }
            rec.value = {type: "BINARY", data: clean};
        }
        const headers = [...hdrs.querySelectorAll(".hdr")].map((row) => ({
            name: row.querySelector(".hname").value.trim(),
            value: b64encode(row.querySelector(".hvalue").value)
        })).filter((x) => x.name);
        if (headers.length) rec.headers = headers;
        return rec;
    }

    const formEl = h("form", {class: "card", onsubmit: async (ev) => {
        ev.preventDefault();
        valueErr.textContent = "";
        const name = topicIn.value.trim();
        let rec;
        try {
            rec = record();
        } catch (e) {
            valueErr.textContent = e.message;
            return;
        }
        sendBtn.disabled = true;
        try {
            const r = await api.produce(name, rec);
            if (r && r.error_code && r.error_code !== 200) {
                throw new Error(r.message || "error " + r.error_code);
            }
            if (!ctx.alive) return;
            const href = "#/topics/" + enc(name) + "/messages?partition="
                         + r.partition_id + "&offset=" + r.offset;
            clear(result, h("div", {class: "note good"},
                "Produced to ", h("b", null, name), " partition ",
                h("b", {class: "mono", id: "produced-partition"},
                  String(r.partition_id)),
                " at offset ",
                h("b", {class: "mono", id: "produced-offset"},
                  String(r.offset)),
                ". ", h("a", {href}, "View it →")));
            sent.unshift({t: Date.now(), topic: name, r, href,
                          key: keyIn.value});
            showHistory();
            if (!sampler.state.topics.has(name)) sampler.invalidate();
            sampler.refresh();
        } catch (e) {
            clear(result, h("div", {class: "note bad"},
                "Could not produce: " + e.message));
        } finally {
            sendBtn.disabled = false;
        }
    }},
        h("div", {class: "card-head"}, h("h2", null, "New record"),
          h("span", {class: "sub"}, "POST /v3/…/topics/{topic}/records")),
        h("div", {class: "card-body form"},
          h("div", {class: "row"},
            pick ? h("label", {class: "field grow"},
                     h("span", null, "Topic"), topicIn, topicList) : null,
            h("label", {class: "field"}, h("span", null, "Partition"),
              partSel),
            h("label", {class: "field grow"}, h("span", null, "Key"),
              keyIn)),
          h("div", {class: "field"},
            h("div", {class: "row", style: {justifyContent: "space-between",
                                            alignItems: "center"}},
              h("span", {style: {color: "var(--muted)", fontSize: "12px",
                                 fontWeight: 600}}, "Value"),
              h("div", {class: "row", style: {alignItems: "center"}},
                prettyBtn, fmtSeg)),
            valueIn, valueErr),
          h("div", {class: "field"},
            h("span", null, "Headers"), hdrs,
            h("div", null, h("button", {class: "btn small", type: "button",
                onclick: () => addHdr()}, "+ Add header"))),
          h("div", {class: "row", style: {alignItems: "center"}}, sendBtn),
          result));

    pane.append(h("div", {class: "grid three"}, formEl,
        h("div", {class: "card"},
          h("div", {class: "card-head"}, h("h2", null, "Sent this session")),
          history)));

    function showHistory() {
        if (!sent.length) {
            clear(history, h("div", {class: "empty"},
                "Records you produce appear here."));
            return;
        }
        clear(history, h("div", {class: "table-wrap"}, h("table",
            {class: "compact"},
            h("thead", null, h("tr", null,
              pick ? h("th", null, "Topic") : null,
              h("th", {class: "num"}, "Partition"),
              h("th", {class: "num"}, "Offset"), h("th", null, "At"))),
            h("tbody", null, sent.slice(0, 20).map((x) => h("tr", null,
                pick ? h("td", {class: "name"}, h("a", {href: x.href},
                                                   x.topic)) : null,
                h("td", {class: "num"}, pick ? x.r.partition_id
                  : h("a", {href: x.href}, String(x.r.partition_id))),
                h("td", {class: "num mono"}, fmtNum(x.r.offset)),
                h("td", {class: "muted"}, fmtTime(x.t).slice(11, 19))))))));
    }

    if (!pick) topicIn.hidden = true;
    showFormat();
    showHistory();
    if (pick) loadTopics().catch(() => {});
    loadParts().catch(() => {});
}
