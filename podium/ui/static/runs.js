// The runs list: search by workflow or correlation id, filter by name, status and start time.
import { api, ApiError } from "./api.js";
import { h, statusBadge, when, duration, notice } from "./dom.js";
import { retryMatching } from "./rerun.js";

export const RUN_STATUSES = ["RUNNING", "PAUSED", "COMPLETED", "FAILED", "TIMED_OUT", "TERMINATED",
  "COMPENSATING", "COMPENSATED", "COMPENSATION_FAILED"];
const SINCE = { "": "any time", "3600000": "last hour", "86400000": "last day", "604800000": "last week" };
const PAGE = 50;

export function runsView(params) {
  const filters = {
    q: params.get("q") || "", name: params.get("name") || "",
    status: params.get("status") || "", since: params.get("since") || "",
  };
  const apply = changes => {
    const next = new URLSearchParams({ ...filters, ...changes });
    for (const [key, value] of [...next]) if (!value) next.delete(key);
    const query = next.toString();
    location.hash = "#/runs" + (query ? "?" + query : "");
  };
  const search = h("input", {
    type: "search", name: "q", value: filters.q, placeholder: "Workflow id or correlation id",
    "aria-label": "Search runs",
  });
  const names = h("select", { name: "name", "aria-label": "Workflow", onchange: e => apply({ name: e.target.value }) },
    h("option", { value: "" }, "all workflows"));
  const statuses = h("select", { name: "status", "aria-label": "Status", onchange: e => apply({ status: e.target.value }) },
    h("option", { value: "" }, "any status"),
    RUN_STATUSES.map(s => h("option", { value: s, selected: s === filters.status }, s)));
  const since = h("select", { name: "since", "aria-label": "Started", onchange: e => apply({ since: e.target.value }) },
    Object.entries(SINCE).map(([v, label]) => h("option", { value: v, selected: v === filters.since }, label)));
  const form = h("form", { class: "filters", onsubmit: async event => {
    event.preventDefault();
    const text = search.value.trim();
    if (text) {
      try { await api.run(text); location.hash = `#/run/${encodeURIComponent(text)}`; return; }
      catch (error) { if (!(error instanceof ApiError)) throw error; }
    }
    apply({ q: text });
  } }, search, names, statuses, since, h("button", { type: "submit" }, "Search"));
  const count = h("span", { class: "muted" });
  const body = h("tbody");
  const table = h("table", { class: "runs" },
    h("thead", {}, h("tr", {}, ["Workflow", "Run", "Status", "Correlation id", "Started", "Took", "Reason"]
      .map(t => h("th", {}, t)))), body);
  const root = h("section", {}, h("div", { class: "heading" }, h("h1", {}, "Runs"), count), form,
    retryMatching(filters.name, () => refresh()), table);

  api.definitions().then(defs => {
    const unique = [...new Set(defs.map(d => d.name))].sort();
    unique.forEach(n => names.append(h("option", { value: n, selected: n === filters.name }, n)));
  }).catch(() => {});

  async function refresh() {
    const query = { size: PAGE };
    if (filters.q) query.freeText = filters.q;
    if (filters.name) query.name = filters.name;
    if (filters.status) query.status = filters.status;
    if (filters.since) query.startedAfter = Date.now() - Number(filters.since);
    let found;
    try {
      found = await api.search(query);
    } catch (error) {
      if (error instanceof ApiError && error.status === 400) {
        notice(error.message, "error");
        body.replaceChildren();
        return false;
      }
      throw error;
    }
    count.textContent = `${found.totalHits} run${found.totalHits === 1 ? "" : "s"}`;
    body.replaceChildren(...found.results.map(run => h("tr", { "data-run": run.workflowId, "data-status": run.status },
      h("td", {}, run.workflowType, h("span", { class: "muted" }, ` v${run.version}`)),
      h("td", {}, h("a", { href: `#/run/${run.workflowId}`, class: "mono" }, run.workflowId.slice(0, 8))),
      h("td", {}, statusBadge(run.status)),
      h("td", {}, run.correlationId
        ? h("a", { href: `#/trace/${encodeURIComponent(run.correlationId)}` }, run.correlationId) : "—"),
      h("td", {}, when(run.startTime)),
      h("td", {}, duration(run.startTime, run.endTime || null)),
      h("td", { class: "reason" }, run.reasonForIncompletion || ""),
    )));
    if (!found.results.length) {
      body.append(h("tr", {}, h("td", { colspan: 7, class: "muted" }, "No runs match.")));
    }
    return true;
  }
  return { root, refresh };
}
