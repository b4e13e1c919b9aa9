/* The Sluice console: routes, the header and the views' lifecycle */

import * as api from "./api.js";
import * as sampler from "./sampler.js";
import { h, clear, enc } from "./util.js";
import * as overview from "./views/overview.js";
import * as topics from "./views/topics.js";
import * as messages from "./views/messages.js";
import * as produce from "./views/produce.js";
import * as groups from "./views/groups.js";
import * as broker from "./views/broker.js";

const routes = [
    [/^\/?$/, "overview", overview.mount],
    [/^\/topics$/, "topics", topics.list],
    [/^\/topics\/([^/]+)(?:\/(partitions|messages|produce|configs))?$/,
     "topics", topics.detail],
    [/^\/messages$/, "messages", messages.mount],
    [/^\/produce$/, "produce", produce.mount],
    [/^\/groups$/, "groups", groups.list],
    [/^\/groups\/([^/]+)$/, "groups", groups.detail],
    [/^\/broker$/, "broker", broker.mount]
];

let current = null;

function parse() {
    const raw = location.hash.replace(/^#/, "") || "/";
    const i = raw.indexOf("?");
    const path = i < 0 ? raw : raw.slice(0, i);
    const query = new URLSearchParams(i < 0 ? "" : raw.slice(i + 1));
    return {path, query};
}

function route() {
    const {path, query} = parse();
    if (current) current.destroy();

    const view = document.getElementById("view");
    let found = null;
    for (const [rx, nav, fn] of routes) {
        const m = rx.exec(path);
        if (m) {
            found = {nav, fn, params: m.slice(1).map((s) =>
                s === undefined ? undefined : decodeURIComponent(s))};
            break;
        }
    }
    for (const a of document.querySelectorAll("#nav a")) {
        a.classList.toggle("active", !!found && a.dataset.nav === found.nav);
    }
    clear(view);
    current = new Ctx(view, found ? found.params : [], query);
    if (!found) {
        current.crumbs("Not found");
        view.append(h("div", {class: "card"}, h("div", {class: "empty"},
            "Nothing here. ", h("a", {href: "#/"}, "Back to the overview"))));
        return;
    }
    window.scrollTo(0, 0);
    try {
        found.fn(current);
    } catch (e) {
        console.warn(e);
        view.append(h("div", {class: "note bad"}, String(e.message || e)));
    }
}

/* what a view gets: its root, params, query, and timers and
 * subscriptions that end with it */
class Ctx {
    constructor(root, params, query) {
        this.root = root;
        this.params = params;
        this.query = query;
        this.alive = true;
        this.cleanups = [];
    }

    destroy() {
        this.alive = false;
        for (const fn of this.cleanups.splice(0)) {
            try { fn(); } catch (e) { console.warn(e); }
        }
    }

    cleanup(fn) {
        this.cleanups.push(fn);
    }

    every(ms, fn) {
        let busy = false;
        const run = async () => {
            if (busy || !this.alive || document.hidden) return;
            busy = true;
            try { await fn(); } catch (e) { console.warn(e); }
            busy = false;
        };
        const t = setInterval(run, ms);
        this.cleanup(() => clearInterval(t));
        run();
    }

    onSample(fn) {
        this.cleanup(sampler.subscribe((s) => { if (this.alive) fn(s); }));
        if (sampler.state.ready) fn(sampler.state);
    }

    crumbs(...parts) {
        const el = document.getElementById("crumbs");
        const out = [];
        parts.forEach((p, i) => {
            if (i) out.push(h("span", {class: "sep"}, "/"));
            if (Array.isArray(p)) out.push(h("a", {href: p[1]}, p[0]));
            else out.push(i === parts.length - 1 ? h("b", null, p) : p);
        });
        clear(el, out);
        document.title = parts.map((p) => Array.isArray(p) ? p[0] : p)
                         .concat("Sluice").reverse().slice(0, 2)
                         .reverse().join(" · ");
    }

    go(hash) {
        location.hash = hash;
    }
}

export function topicHref(name, tab) {
    return "#/topics/" + enc(name) + (tab ? "/" + tab : "");
}

/* ---------------------------------------------------------------- header */

function connection() {
    const el = document.getElementById("conn");
    const text = document.getElementById("conn-text");
    api.onConn((c) => {
        if (c.ok === null) return;
        el.dataset.state = c.ok ? "ok" : "down";
        text.textContent = c.ok
            ? "connected" + (c.latency != null
                             ? " · " + Math.round(c.latency) + " ms" : "")
            : "broker unreachable";
    });
}

function theme() {
    const btn = document.getElementById("theme");
    const label = document.getElementById("theme-label");
    const names = {auto: "Auto", light: "Light", dark: "Dark"};
    const show = () => {
        label.textContent = names[document.documentElement.dataset.theme
                                  || "auto"];
    };
    btn.addEventListener("click", () => {
        const cur = document.documentElement.dataset.theme || "auto";
        const next = cur === "auto" ? "light" : cur === "light" ? "dark"
                   : "auto";
        if (next === "auto") delete document.documentElement.dataset.theme;
        else document.documentElement.dataset.theme = next;
        try { localStorage.setItem("sluice.theme", next); } catch (e) { }
        show();
        window.dispatchEvent(new Event("sluice-theme"));
    });
    show();
}

/* a banner while the API does not answer as it should */
function banner() {
    const el = document.getElementById("banner");
    sampler.subscribe((st) => {
        const e = st.error;
        if (!e) {
            el.hidden = true;
            return;
        }
        el.hidden = false;
        if (e.status === 404 && /\/v3\/clusters$/.test(e.path || "")) {
            clear(el, "The broker's REST API is not enabled here: the "
                  + "console needs ", h("code", null,
                  "location /v3/ { rest_proxy on; }"),
                  " in the http block.");
        } else if (e.status === 0) {
            clear(el, "The broker does not answer; retrying every second.");
        } else {
            clear(el, "The REST API answered an error: " + e.message);
        }
    });
}

connection();
theme();
banner();
sampler.start();
window.addEventListener("hashchange", route);
route();
