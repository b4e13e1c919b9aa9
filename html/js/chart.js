/*
 * A canvas time series chart: lines with a soft area under them, a
 * rounded scale, the last minutes on the x axis and a tooltip on hover.
 *
 *     const c = new TimeChart(el, {format: fmtRate, window: 120});
 *     c.set([{name, color, points: [[t, v], ...]}]);
 */

import { h } from "./util.js";

const PALETTE = ["--c1", "--c2", "--c3", "--c4", "--c5", "--c6", "--c7",
                 "--c8"];

export function color(i) {
    return "var(" + PALETTE[i % PALETTE.length] + ")";
}

function cssColor(el, c) {
    const m = /^var\((--[\w-]+)\)$/.exec(c);
    return m ? getComputedStyle(el).getPropertyValue(m[1]).trim() : c;
}

function nice(max) {
    if (max <= 0) return 1;
    const e = Math.pow(10, Math.floor(Math.log10(max)));
    for (const m of [1, 2, 2.5, 5, 10]) {
        if (m * e >= max) return m * e;
    }
    return 10 * e;
}

export class TimeChart {
    constructor(parent, opts = {}) {
        this.opts = Object.assign({window: 120, format: String,
                                   height: 190, stacked: false}, opts);
        this.el = h("div", {class: "chart",
                            style: {height: this.opts.height + "px"}});
        this.canvas = h("canvas");
        this.tip = h("div", {class: "tip", hidden: true});
        this.el.append(this.canvas, this.tip);
        parent.append(this.el);
        this.series = [];
        this.hover = null;
        this.canvas.addEventListener("mousemove", (ev) => {
            const r = this.canvas.getBoundingClientRect();
            this.hover = ev.clientX - r.left;
            this.draw();
        });
        this.canvas.addEventListener("mouseleave", () => {
            this.hover = null;
            this.draw();
        });
        this.ro = new ResizeObserver(() => this.draw());
        this.ro.observe(this.el);
        this.mq = matchMedia("(prefers-color-scheme: dark)");
        this.onTheme = () => this.draw();
        this.mq.addEventListener("change", this.onTheme);
        window.addEventListener("sluice-theme", this.onTheme);
    }

    destroy() {
        this.ro.disconnect();
        this.mq.removeEventListener("change", this.onTheme);
        window.removeEventListener("sluice-theme", this.onTheme);
    }

    set(series) {
        this.series = series;
        this.draw();
    }

    draw() {
        const cv = this.canvas;
        const w = this.el.clientWidth, hh = this.el.clientHeight;
        if (!w || !hh) return;
        const dpr = window.devicePixelRatio || 1;
        if (cv.width !== Math.round(w * dpr)
            || cv.height !== Math.round(hh * dpr))
        {
            cv.width = Math.round(w * dpr);
            cv.height = Math.round(hh * dpr);
        }
        const g = cv.getContext("2d");
        g.setTransform(dpr, 0, 0, dpr, 0, 0);
        g.clearRect(0, 0, w, hh);

        const ink = cssColor(this.el, "var(--muted)");
        const grid = cssColor(this.el, "var(--border)");
        const font = "11px system-ui, sans-serif";
        const now = Date.now();
        /* the window grows with the history, up to opts.window */
        let oldest = now;
        for (const s of this.series) {
            if (s.points.length) oldest = Math.min(oldest, s.points[0][0]);
        }
        const win = Math.max(20, Math.min(this.opts.window,
            Math.ceil((now - oldest) / 10000) * 10));
        const span = win * 1000;
        const t0 = now - span;

        /* stacked: each series adds to the ones before it */
        const series = this.series.map((s) => ({...s,
            points: s.points.filter((p) => p[0] >= t0 - 2000)}));
        if (this.opts.stacked) {
            const acc = new Map();
            for (const s of series) {
                s.points = s.points.map(([t, v]) => {
                    const b = acc.get(t) || 0;
                    acc.set(t, b + v);
                    return [t, b + v, b, v];
                });
            }
        }

        let max = 0;
        for (const s of series) {
            for (const p of s.points) max = Math.max(max, p[1]);
        }
        const top = 4 * nice(max * 1.1 / 4);

        g.font = font;
        const labels = [0, 1, 2, 3, 4].map((i) =>
            this.opts.format(top * i / 4));
        const padL = Math.max(...labels.map((l) => g.measureText(l).width))
                     + 14;
        const padR = 10, padT = 10, padB = 22;
        const pw = w - padL - padR, ph = hh - padT - padB;
        const x = (t) => padL + ((t - t0) / span) * pw;
        const y = (v) => padT + ph - (v / top) * ph;

        /* grid and the y labels */
        g.strokeStyle = grid;
        g.lineWidth = 1;
        g.fillStyle = ink;
        g.textAlign = "right";
        g.textBaseline = "middle";
        labels.forEach((l, i) => {
            const yy = Math.round(y(top * i / 4)) + 0.5;
            g.beginPath();
            g.moveTo(padL, yy);
            g.lineTo(w - padR, yy);
            g.stroke();
            g.fillText(l, padL - 8, yy);
        });

        /* x labels: every 30 s back from now */
        g.textAlign = "center";
        g.textBaseline = "top";
        const step = win > 150 ? 60 : win > 60 ? 30 : win > 30 ? 15 : 5;
        for (let s = 0; s <= win; s += step) {
            const xx = x(now - s * 1000);
            g.fillText(s === 0 ? "now" : "-" + s + "s", xx, padT + ph + 6);
        }

        g.save();
        g.beginPath();
        g.rect(padL, padT - 2, pw, ph + 4);
        g.clip();
        series.forEach((s, i) => {
            if (!s.points.length) return;
            const c = cssColor(this.el, s.color || color(i));
            /* the area */
            const grad = g.createLinearGradient(0, padT, 0, padT + ph);
            grad.addColorStop(0, withAlpha(c, 0.28));
            grad.addColorStop(1, withAlpha(c, 0.02));
            g.beginPath();
            s.points.forEach((p, j) => {
                if (j) g.lineTo(x(p[0]), y(p[1]));
                else g.moveTo(x(p[0]), y(p[1]));
            });
            for (let j = s.points.length - 1; j >= 0; j--) {
                const p = s.points[j];
                g.lineTo(x(p[0]), y(this.opts.stacked ? p[2] : 0));
            }
            g.closePath();
            g.fillStyle = grad;
            g.fill();
            /* the line */
            g.beginPath();
            s.points.forEach((p, j) => {
                if (j) g.lineTo(x(p[0]), y(p[1]));
                else g.moveTo(x(p[0]), y(p[1]));
            });
            g.strokeStyle = c;
            g.lineWidth = 1.8;
            g.lineJoin = "round";
            g.stroke();
        });
        g.restore();

        this.drawHover(g, series, x, y, padT, ph);
    }

    drawHover(g, series, x, y, padT, ph) {
        if (this.hover == null || !series.length) {
            this.tip.hidden = true;
            return;
        }
        /* the sample nearest the pointer */
        let best = null;
        for (const s of series) {
            for (const p of s.points) {
                const d = Math.abs(x(p[0]) - this.hover);
                if (!best || d < best.d) best = {d, t: p[0]};
            }
        }
        if (!best || best.d > 40) {
            this.tip.hidden = true;
            return;
        }
        const xx = Math.round(x(best.t)) + 0.5;
        g.strokeStyle = cssColor(this.el, "var(--muted)");
        g.setLineDash([3, 3]);
        g.beginPath();
        g.moveTo(xx, padT);
        g.lineTo(xx, padT + ph);
        g.stroke();
        g.setLineDash([]);

        const rows = [];
        series.forEach((s, i) => {
            const p = s.points.find((q) => q[0] === best.t);
            if (!p) return;
            const c = cssColor(this.el, s.color || color(i));
            g.fillStyle = c;
            g.beginPath();
            g.arc(x(p[0]), y(p[1]), 3, 0, Math.PI * 2);
            g.fill();
            const v = this.opts.stacked ? p[3] : p[1];
            rows.push(h("div", null, h("i", {style: {background: c}}),
                        s.name + ": ", h("b", null, this.opts.format(v))));
        });
        const d = new Date(best.t);
        this.tip.replaceChildren(
            h("div", {class: "t"}, d.toLocaleTimeString()), ...rows);
        this.tip.hidden = false;
        const tw = this.tip.offsetWidth;
        const left = xx + 12 + tw > this.el.clientWidth ? xx - 12 - tw
                   : xx + 12;
        this.tip.style.left = left + "px";
    }
}

function withAlpha(c, a) {
    if (c.startsWith("#")) {
        let hex = c.slice(1);
        if (hex.length === 3) hex = [...hex].map((ch) => ch + ch).join("");
        const n = parseInt(hex.slice(0, 6), 16);
        return `rgba(${n >> 16 & 255},${n >> 8 & 255},${n & 255},${a})`;
    }
    const m = /rgba?\(([^)]+)\)/.exec(c);
    if (m) {
        const p = m[1].split(",").slice(0, 3).join(",");
        return `rgba(${p},${a})`;
    }
    return c;
}
