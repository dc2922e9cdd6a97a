// "Retry matching" on the runs page: a dry run lists the ended runs a filter picks (blamed
// service, status, end time, workflow, reason), then, once confirmed, exactly those are
// retried, a few per request, with the progress shown and each refusal named.
import { api, ApiError } from "./api.js";
import { h, statusBadge, when, notice } from "./dom.js";

const RETRYABLE = ["FAILED", "TIMED_OUT", "TERMINATED", "COMPENSATION_FAILED"];
const CHUNK = 10;

export function retryMatching(workflow, onDone) {
  const service = h("select", { name: "service", "aria-label": "Blamed service" },
    h("option", { value: "" }, "any service"));
  const status = h("select", { name: "status", "aria-label": "Status to retry" },
    RETRYABLE.map(s => h("option", { value: s }, s)));
  const since = h("input", { name: "since", value: "2h", size: 6, "aria-label": "Ended since",
    title: "Ended since: 2h, 30 minutes, an ISO time" });
  const reason = h("input", { name: "reason", placeholder: "reason contains", "aria-label": "Reason contains" });
  const list = h("div", { class: "rerun-list" });
  const form = h("form", { class: "filters", onsubmit: event => { event.preventDefault(); dryRun(); } },
    service, status, h("label", {}, "ended since ", since), reason,
    h("button", { type: "submit", "data-action": "list-matching" }, "List matching"));
  const root = h("details", { class: "rerun" }, h("summary", {}, "Retry matching…"), form, list);

  api.services().then(found => found.forEach(s => service.append(h("option", { value: s.name }, s.name))))
    .catch(() => {});

  const filter = () => {
    const chosen = { status: [status.value], since: since.value.trim(), service: service.value,
      workflow: workflow, reasonContains: reason.value.trim() };
    return Object.fromEntries(Object.entries(chosen).filter(([, v]) => v));
  };

  async function dryRun() {
    let listed;
    try {
      listed = await api.bulkRerun({ filter: filter(), dryRun: true });
    } catch (error) {
      if (error instanceof ApiError && error.status === 400) { notice(error.message, "error"); return; }
      throw error;
    }
    if (!listed.runs.length) {
      list.replaceChildren(h("p", { class: "muted" }, "No run matches: nothing to retry."));
      return;
    }
    const rows = listed.runs.map(run => h("tr", { "data-run": run.workflowId },
      h("td", {}, h("a", { href: `#/run/${run.workflowId}`, class: "mono" }, run.workflowId.slice(0, 8))),
      h("td", {}, run.workflowName), h("td", {}, statusBadge(run.status)),
      h("td", {}, run.service || "—"), h("td", {}, when(run.endTime)),
      h("td", { class: "reason" }, run.reason || "")));
    const more = listed.truncated ? " The list stops there: more runs may match." : "";
    const confirm = h("button", { type: "button", "data-action": "confirm-retry",
      onclick: () => retry(listed, confirm) }, `Retry these ${listed.runs.length} runs`);
    list.replaceChildren(
      h("p", {}, `${listed.runs.length} runs would be retried.${more}`),
      h("table", { class: "runs" }, h("thead", {}, h("tr", {},
        ["Run", "Workflow", "Status", "Service", "Ended", "Reason"].map(t => h("th", {}, t)))),
      h("tbody", {}, rows)),
      h("p", {}, confirm, " ", h("button", { type: "button", onclick: () => list.replaceChildren() }, "Cancel")));
  }

  async function retry(listed, button) {
    button.disabled = true;
    const ids = listed.runIds;
    const progress = h("progress", { max: ids.length, value: 0 });
    list.replaceChildren(h("p", {}, "Retrying… ", progress));
    const retried = [];
    const refused = {};
    for (let at = 0; at < ids.length; at += CHUNK) {
      const answer = await api.bulkRerun({ runIds: ids.slice(at, at + CHUNK), filter: listed.filter });
      retried.push(...answer.retried);
      Object.assign(refused, answer.refused);
      progress.value = Math.min(ids.length, at + CHUNK);
    }
    const why = Object.entries(refused);
    list.replaceChildren(h("p", { class: "rerun-summary" }, `Retried ${retried.length} of ${ids.length} runs.`),
      ...(why.length ? [h("ul", {}, why.map(([id, text]) => h("li", {}, h("span", { class: "mono" }, id), ": ", text)))] : []));
    notice(`Retried ${retried.length} of ${ids.length} runs.`, why.length ? "error" : "info");
    onDone();
  }

  return root;
}
