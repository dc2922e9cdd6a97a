// The SLOs: per workflow, step and service, each objective with its value now, the error
// budget left over its window, and the burn rate over each standard window (the SRE
// workbook's alerting pairs highlighted when both of a pair burn past its threshold).
import { api } from "./api.js";
import { h } from "./dom.js";

const WINDOWS = ["5m", "30m", "1h", "6h", "1d", "3d"];
// Multi-window, multi-burn-rate: a long and a short window both above the rate.
const ALERTS = [[14.4, "1h", "5m"], [6, "6h", "30m"], [1, "3d", "6h"]];

const percent = value => (value === null || value === undefined ? "—" : `${+(value * 100).toPrecision(4)}%`);
const rate = value => `${+value.toPrecision(3)}x`;

function covers(s) {
  if (s.step) return ["step", `${s.workflow} · ${s.step}`];
  if (s.service) return ["service", s.workflow ? `${s.service} in ${s.workflow}` : s.service];
  return ["workflow", s.workflow];
}

function objective(s) {
  const o = s.objective;
  if (o.latency) return `p${o.latency.percentile} ≤ ${o.latency.thresholdMs} ms`;
  const compensated = o.success.countCompensatedAsFailure === false ? " (compensated counts)" : "";
  return `${percent(o.success.target)} succeed${compensated}`;
}

function current(s) {
  const st = s.status;
  const parts = [h("strong", { "data-field": "value" }, percent(st.value)),
    h("div", { class: "muted" }, `${st.goodEvents} good of ${st.events}`)];
  if (s.objective.latency && st.percentileMs !== null && st.percentileMs !== undefined) {
    parts.push(h("div", { class: "muted", "data-field": "percentile" },
      `p${s.objective.latency.percentile} is ${st.percentileMs} ms`));
  }
  return parts;
}

function budget(s) {
  const left = s.status.errorBudgetRemaining;
  const level = left < 0 ? "spent" : left < 0.25 ? "low" : "ok";
  const width = Math.max(0, Math.min(1, left)) * 100;
  return h("div", { class: `budget budget-${level}` },
    h("span", { "data-field": "budget" }, percent(left)),
    h("div", { class: "budget-bar" }, h("div", { style: `width:${width}%` })));
}

function burns(s) {
  const rates = s.status.burnRates;
  const alerting = new Set();
  for (const [threshold, long, short] of ALERTS) {
    if (rates[long].burnRate > threshold && rates[short].burnRate > threshold) {
      alerting.add(long); alerting.add(short);
    }
  }
  return WINDOWS.map(w => h("td", {
    class: `burn${alerting.has(w) ? " alerting" : ""}`, "data-window": w,
    title: `${rates[w].events} events over ${Math.round(rates[w].windowMs / 1000)} s`,
  }, rate(rates[w].burnRate)));
}

export function slosView() {
  const body = h("tbody");
  const count = h("span", { class: "muted" });
  const root = h("section", {}, h("div", { class: "heading" }, h("h1", {}, "SLOs"), count),
    h("div", { class: "table-scroll" }, h("table", { class: "slos" },
      h("thead", {}, h("tr", {}, ["SLO", "Covers", "Objective", "Window", "Value", "Budget left",
        ...WINDOWS.map(w => `burn ${w}`)].map(t => h("th", {}, t)))), body)));

  async function refresh() {
    const slos = await api.slos();
    count.textContent = `${slos.length} SLO${slos.length === 1 ? "" : "s"}`;
    body.replaceChildren(...slos.map(s => {
      const [scope, what] = covers(s);
      return h("tr", { "data-slo": s.name },
        h("td", {}, h("strong", {}, s.name), h("span", { class: "muted" }, ` v${s.version}`),
          s.description ? h("div", { class: "muted" }, s.description) : ""),
        h("td", {}, h("span", { class: "muted" }, `${scope} `), what),
        h("td", {}, objective(s)),
        h("td", {}, s.window),
        h("td", {}, ...current(s)),
        h("td", {}, budget(s)),
        ...burns(s));
    }));
    if (!slos.length) {
      body.append(h("tr", {}, h("td", { colspan: 12, class: "muted" },
        "No SLOs. Register some with `podium slo apply -f slos.yaml` or POST /api/slos.")));
    }
    return true;
  }
  return { root, refresh };
}
