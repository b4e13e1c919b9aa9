/* DOM and formatting helpers */

const PROPS = new Set(["value", "checked", "selected", "disabled",
                       "textContent", "hidden", "readOnly"]);

/* h("div", {class: "x", onclick: f}, child, "text", [more]) */
export function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    setAttrs(el, attrs);
    add(el, children);
    return el;
}

export function svg(tag, attrs, ...children) {
    const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
    for (const [k, v] of Object.entries(attrs || {})) {
        if (v != null) el.setAttribute(k, v);
    }
    add(el, children);
    return el;
}

function setAttrs(el, attrs) {
    if (!attrs) return;
    for (const [k, v] of Object.entries(attrs)) {
        if (v == null || v === false) continue;
        if (k === "class") el.className = v;
        else if (k === "style" && typeof v === "object") {
            Object.assign(el.style, v);
        } else if (k === "dataset") Object.assign(el.dataset, v);
        else if (k.startsWith("on") && typeof v === "function") {
            el.addEventListener(k.slice(2), v);
        } else if (PROPS.has(k)) el[k] = v;
        else el.setAttribute(k, v === true ? "" : v);
    }
}

export function add(el, children) {
    for (const c of children.flat(Infinity)) {
        if (c == null || c === false) continue;
        el.append(c instanceof Node ? c : String(c));
    }
    return el;
}

export function clear(el, ...children) {
    el.replaceChildren();
    return add(el, children);
}

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB"];

export function fmtBytes(n) {
    if (n == null || !isFinite(n)) return "–";
    let i = 0;
    n = Number(n);
    while (Math.abs(n) >= 1024 && i < UNITS.length - 1) {
        n /= 1024;
        i++;
    }
    return (i === 0 ? n.toFixed(0) : n.toFixed(n < 10 ? 2 : n < 100 ? 1 : 0))
           + " " + UNITS[i];
}

export function fmtNum(n) {
    if (n == null || !isFinite(n)) return "–";
    return Number(n).toLocaleString("en-US");
}

/* 1234 -> 1.23k */
export function fmtShort(n) {
    if (n == null || !isFinite(n)) return "–";
    const a = Math.abs(n);
    if (a >= 1e9) return (n / 1e9).toFixed(a >= 1e10 ? 0 : 1) + "G";
    if (a >= 1e6) return (n / 1e6).toFixed(a >= 1e7 ? 0 : 1) + "M";
    if (a >= 1e3) return (n / 1e3).toFixed(a >= 1e4 ? 0 : 1) + "k";
    if (a > 0 && a < 10 && n % 1) return n.toFixed(1);
    return String(Math.round(n));
}

export function fmtRate(n) {
    if (n == null || !isFinite(n)) return "–";
    return fmtShort(n) + "/s";
}

export function pad2(n) {
    return String(n).padStart(2, "0");
}

export function fmtTime(ms) {
    if (ms == null || ms < 0) return "–";
    const d = new Date(Number(ms));
    return d.getFullYear() + "-" + pad2(d.getMonth() + 1) + "-"
           + pad2(d.getDate()) + " " + pad2(d.getHours()) + ":"
           + pad2(d.getMinutes()) + ":" + pad2(d.getSeconds()) + "."
           + String(d.getMilliseconds()).padStart(3, "0");
}

export function fmtAgo(ms) {
    if (ms == null || ms < 0) return "";
    const s = Math.round((Date.now() - ms) / 1000);
    if (s < 5) return "just now";
    if (s < 60) return s + "s ago";
    if (s < 3600) return Math.floor(s / 60) + "m ago";
    if (s < 86400) return Math.floor(s / 3600) + "h ago";
    return Math.floor(s / 86400) + "d ago";
}

/* a value for <input type=datetime-local> */
export function localInput(ms) {
    const d = new Date(ms);
    return d.getFullYear() + "-" + pad2(d.getMonth() + 1) + "-"
           + pad2(d.getDate()) + "T" + pad2(d.getHours()) + ":"
           + pad2(d.getMinutes()) + ":" + pad2(d.getSeconds());
}

export function enc(s) {
    return encodeURIComponent(s);
}

export function toast(text, kind) {
    const box = document.getElementById("toasts");
    const t = h("div", {class: "toast " + (kind || "")}, text);
    box.append(t);
    setTimeout(() => t.remove(), kind === "bad" ? 6000 : 3500);
}

export function b64encode(str) {
    const bytes = new TextEncoder().encode(str);
    let bin = "";
    for (const b of bytes) bin += String.fromCharCode(b);
    return btoa(bin);
}

export function b64decode(b64) {
    try {
        const bin = atob(b64);
        const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
        return new TextDecoder("utf-8", {fatal: true}).decode(bytes);
    } catch (e) {
        return null;
    }
}

/* hex dump of base64 bytes, for values that are not UTF-8 */
export function b64hex(b64, max = 256) {
    let bin;
    try { bin = atob(b64); } catch (e) { return b64; }
    const out = [];
    for (let i = 0; i < Math.min(bin.length, max); i++) {
        out.push(bin.charCodeAt(i).toString(16).padStart(2, "0"));
    }
    return out.join(" ") + (bin.length > max ? " …" : "");
}

/* JSON pretty-printed into a <pre> with highlighted tokens, or null if
 * text is not a JSON object or array */
export function jsonPre(text) {
    if (typeof text !== "string") return null;
    const s = text.trim();
    if (!(s.startsWith("{") || s.startsWith("["))) return null;
    let v;
    try { v = JSON.parse(s); } catch (e) { return null; }
    return highlight(JSON.stringify(v, null, 2));
}

/* a string (a key when a colon follows), a literal, or a number */
const TOKEN = new RegExp([
    String.raw`("(?:\\u[0-9a-fA-F]{4}|\\[^u]|[^\\"])*")(\s*:)?`,
    String.raw`\b(true|false|null)\b`,
    String.raw`-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?`
].join("|"), "g");

export function highlight(pretty) {
    const pre = h("pre", {class: "json"});
    let last = 0;
    for (const m of pretty.matchAll(TOKEN)) {
        if (m.index > last) pre.append(pretty.slice(last, m.index));
        let cls = "j-num";
        if (m[1]) cls = m[2] ? "j-key" : "j-str";
        else if (m[3]) cls = "j-lit";
        if (m[1] && m[2]) {
            pre.append(h("span", {class: cls}, m[1]), m[2]);
        } else {
            pre.append(h("span", {class: cls}, m[0]));
        }
        last = m.index + m[0].length;
    }
    pre.append(pretty.slice(last));
    return pre;
}

/* a small SVG sparkline of values */
export function sparkline(values, w = 110, hgt = 26) {
    const el = svg("svg", {class: "spark", viewBox: `0 0 ${w} ${hgt}`,
                           preserveAspectRatio: "none"});
    if (!values.length) return el;
    const max = Math.max(1e-9, ...values);
    const n = values.length;
    const pts = values.map((v, i) => [
        n === 1 ? w : (i / (n - 1)) * w,
        hgt - 2 - (v / max) * (hgt - 4)
    ]);
    const d = pts.map((p, i) => (i ? "L" : "M") + p[0].toFixed(1) + " "
                                + p[1].toFixed(1)).join("");
    el.append(svg("path", {class: "area",
                           d: d + `L${w} ${hgt}L${pts[0][0]} ${hgt}Z`}),
              svg("path", {class: "line", d}));
    return el;
}

export function stateBadge(state) {
    const s = String(state || "unknown").toUpperCase();
    const kind = s === "STABLE" ? "good"
               : s === "EMPTY" ? ""
               : s === "DEAD" ? "bad" : "warn";
    return h("span", {class: "badge " + kind}, s.charAt(0)
             + s.slice(1).toLowerCase().replace(/_/g, " "));
}

export function debounce(fn, ms) {
    let t;
    return (...a) => {
        clearTimeout(t);
        t = setTimeout(() => fn(...a), ms);
    };
}
