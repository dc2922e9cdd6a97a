// The run page's task table. A small run shows every task, as it always has; a big one (a
// long DO_WHILE, a wide dynamic fork) shows a page at a time read from
// GET /api/workflow/{id}/tasks, with a status filter and a reference name filter, so the page
// never holds more rows than one page.
import { api } from "./api.js";
import { h, statusBadge, duration } from "./dom.js";

export const PAGE_SIZE = 50;
const STATUSES = ["SCHEDULED", "IN_PROGRESS", "COMPLETED", "FAILED", "FAILED_WITH_TERMINAL_ERROR",
  "TIMED_OUT", "CANCELED", "SKIPPED", "COMPLETED_WITH_ERRORS"];
const number = n => n.toLocaleString("en-US");

// ``onSelect(ref)`` is called with the reference name of the row clicked; ``isSelected(ref)``
// says whether a row is the selected step's; ``onPage()`` when a big run's page has changed.
export function taskTable(runId, onSelect, isSelected, onPage) {
  const body = h("tbody");
  const table = h("table", { class: "tasks" }, h("thead", {}, h("tr", {},
    ["Task", "Type", "Status", "Attempt", "Worker", "Service", "Took"].map(t => h("th", {}, t)))), body);
  const pager = h("div", { class: "pager", id: "task-pager", hidden: true });
  const root = h("div", {}, pager, h("div", { class: "table-scroll" }, table));
  let shown = [];
  const query = { start: 0, status: "", refPrefix: "" };
  let total = 0, pageKey = "";

  function row(t) {
    const ref = t.referenceTaskName;
    return h("tr", {
      "data-ref": ref, "data-status": t.status, "data-seq": t.seq,
      class: [isSelected(ref) ? "selected" : "", ref.endsWith("__compensate") ? "compensation" : ""]
        .join(" ").trim(),
      onclick: () => onSelect(ref),
    },
      h("td", {}, ref), h("td", {}, t.taskType), h("td", {}, statusBadge(t.status)),
      h("td", {}, t.retryCount + 1), h("td", { class: "mono" }, t.workerId || "—"),
      h("td", {}, t.service ? t.service.service : "—"),
      h("td", {}, duration(t.startTime || t.scheduledTime, t.endTime || null)));
  }

  function render() { body.replaceChildren(...shown.map(row)); }

  // A small run: every task, no pager.
  function showAll(tasks) {
    pager.hidden = true;
    shown = tasks;
    render();
  }

  const go = start => { query.start = Math.max(0, start); pageKey = ""; load(); };
  const lastStart = () => Math.max(0, Math.floor((total - 1) / PAGE_SIZE) * PAGE_SIZE);
  const button = (label, action, onclick) => h("button", { type: "button", "data-page": action, onclick }, label);
  const statusFilter = h("select", { "aria-label": "Status", "data-filter": "status",
    onchange: () => { query.status = statusFilter.value; go(0); } },
    h("option", { value: "" }, "Any status"), STATUSES.map(s => h("option", { value: s }, s)));
  const refFilter = h("input", { type: "search", "aria-label": "Reference name starts with",
    placeholder: "Reference name starts with…", "data-filter": "refPrefix",
    onchange: () => { query.refPrefix = refFilter.value.trim(); go(0); } });
  const range = h("span", { class: "range", id: "task-range" });
  const first = button("« First", "first", () => go(0));
  const prev = button("‹ Previous", "prev", () => go(query.start - PAGE_SIZE));
  const next = button("Next ›", "next", () => go(query.start + PAGE_SIZE));
  const last = button("Last »", "last", () => go(lastStart()));
  pager.replaceChildren(statusFilter, refFilter, first, prev, range, next, last);

  const params = () => ({ start: query.start, count: PAGE_SIZE, status: query.status,
    refPrefix: query.refPrefix });
  let asked = 0;
  async function load() {
    const mine = ++asked;
    const page = await api.tasks(runId, params());
    if (mine === asked) showPage(page);  // else a newer page was asked for meanwhile
  }

  // A big run: ``page`` is GET .../tasks's answer for ``params()``.
  function showPage(page) {
    pager.hidden = false;
    total = page.totalHits;
    if (query.start >= total && total > 0) { go(lastStart()); return; }
    const end = Math.min(total, query.start + page.results.length);
    range.textContent = total ? `${number(query.start + 1)}–${number(end)} of ${number(total)}` : "no tasks";
    range.dataset.total = total;
    first.disabled = prev.disabled = query.start === 0;
    next.disabled = last.disabled = end >= total;
    // Redrawn only when the page changed, so a click is never lost to a refresh.
    const key = page.results.map(t => `${t.taskId}:${t.status}:${t.updateTime}`).join();
    if (key !== pageKey) { pageKey = key; shown = page.results; render(); if (onPage) onPage(); }
  }

  // A page read with the run may be older than one asked for since: it is shown only when
  // no page was asked for while it was read.
  const since = () => asked;
  const showRead = (page, mark) => { if (mark === asked) showPage(page); };

  return { root, showAll, params, since, showRead, rows: () => shown, render };
}
