// Definitions with their graphs, services with their breakers, and the correlation trace.
import { api, ApiError, MissingFeature } from "./api.js";
import { h, statusBadge, when, json } from "./dom.js";
import { drawWorkflow } from "./graph.js";

export function definitionsView() {
  const body = h("tbody");
  const root = h("section", {}, h("h1", {}, "Definitions"), h("table", {},
    h("thead", {}, h("tr", {}, ["Workflow", "Version", "Tasks", "Description"].map(t => h("th", {}, t)))), body));
  async function refresh() {
    const defs = await api.definitions();
    defs.sort((a, b) => a.name.localeCompare(b.name) || b.version - a.version);
    body.replaceChildren(...defs.map(d => h("tr", { "data-definition": d.name },
      h("td", {}, h("a", { href: `#/definition/${encodeURIComponent(d.name)}/${d.version}` }, d.name)),
      h("td", {}, d.version), h("td", {}, (d.tasks || []).length), h("td", {}, d.description || ""))));
    if (!defs.length) body.append(h("tr", {}, h("td", { colspan: 4, class: "muted" }, "Nothing registered yet.")));
    return false;
  }
  return { root, refresh };
}

export function definitionView(name, version) {
  const graph = h("div", { class: "graph-box", id: "graph" });
  const source = h("details", {}, h("summary", {}, "JSON"));
  const root = h("section", {}, h("h1", {}, name, h("span", { class: "muted" }, ` v${version}`)),
    h("p", {}, h("a", { href: `#/runs?name=${encodeURIComponent(name)}` }, "Runs of this workflow")),
    graph, source);
  async function refresh() {
    const definition = await api.definition(name, version);
    drawWorkflow(graph, definition);
    source.append(json(definition));
    return false;
  }
  return { root, refresh };
}

export function servicesView() {
  const body = h("tbody");
  const root = h("section", {}, h("h1", {}, "Services"), h("table", { class: "services" },
    h("thead", {}, h("tr", {}, ["Service", "Owner", "Contact", "On call", "Breaker", "Latest transitions"]
      .map(t => h("th", {}, t)))), body));
  async function refresh() {
    const services = await api.services();
    body.replaceChildren(...services.map(s => h("tr", { "data-service": s.name },
      h("td", {}, s.name, s.description ? h("div", { class: "muted" }, s.description) : "",
        s.runbook ? h("div", {}, h("a", { class: "runbook", href: s.runbook, rel: "noopener", target: "_blank" }, "runbook")) : ""),
      h("td", {}, s.owner || "—"), h("td", {}, s.contact || "—"), h("td", {}, s.onCall || "—"),
      h("td", {}, s.breaker ? h("span", { class: `breaker b-${s.breaker.state}` }, s.breaker.state) : h("span", { class: "muted" }, "none")),
      h("td", {}, s.breaker && s.breaker.transitions.length
        ? h("ul", { class: "transitions" }, s.breaker.transitions.slice(0, 5).map(t =>
          h("li", {}, `${when(t.at)}: ${t.from} → ${t.to}`, t.reason ? ` (${t.reason})` : "")))
        : "—"))));
    if (!services.length) body.append(h("tr", {}, h("td", { colspan: 6, class: "muted" }, "No services registered.")));
    return true;
  }
  return { root, refresh };
}

const KIND_LABEL = { workflow: "run", task: "task", event: "event", delivery: "delivery" };
const PROBLEM_LABEL = { failed: "failed", dead_lettered: "dead-lettered", undelivered: "not delivered yet",
  waiting: "waiting" };

// Where a trace node leads: a run's page, or the run holding a task.
function nodeLink(node, text) {
  return node.workflowId
    ? h("a", { href: `#/run/${encodeURIComponent(node.workflowId)}` }, text)
    : h("span", {}, text);
}

function offset(ms, start) {
  const d = ms - start;
  return d < 1000 ? `+${d} ms` : `+${(d / 1000).toFixed(2)} s`;
}

// One business transaction: its status and where it stopped, the timeline across services,
// and the causal tree (what caused what: a run ran a task, a task published an event, the event
// was delivered to a handler, the handler started a run...).
export function traceView(correlationId) {
  const input = h("input", { type: "search", value: correlationId, placeholder: "Correlation id", "aria-label": "Correlation id" });
  const form = h("form", { class: "filters", onsubmit: e => {
    e.preventDefault();
    location.hash = `#/trace/${encodeURIComponent(input.value.trim())}`;
  } }, input, h("button", { type: "submit" }, "Show trace"));
  const message = h("p", { class: "muted", id: "trace-message" });
  const summary = h("div", { class: "trace-summary", id: "trace-summary", hidden: true });
  const timeline = h("tbody");
  const tree = h("div", { class: "trace-tree", id: "trace-tree" });
  const runs = h("tbody");
  const traced = h("div", { hidden: true },
    h("h2", {}, "Timeline"),
    h("table", { class: "trace-timeline", id: "trace-timeline" }, h("thead", {}, h("tr", {},
      ["When", "", "Kind", "What", "Service", "Status"].map(t => h("th", {}, t)))), timeline),
    h("h2", {}, "What caused what"), tree);
  const root = h("section", { class: "trace-view" }, h("h1", {}, "Correlation trace"), form, message, summary, traced,
    h("h2", {}, "Runs with this correlation id"),
    h("table", { id: "trace-runs" }, h("thead", {}, h("tr", {}, ["Workflow", "Run", "Status", "Started"].map(t => h("th", {}, t)))), runs));

  function renderSummary(trace, byId) {
    const stopped = trace.stoppedAt;
    summary.hidden = false;
    summary.dataset.status = trace.status;
    summary.replaceChildren(
      h("div", {}, statusBadge(trace.status), " across ",
        trace.services.length ? trace.services.flatMap((name, i) => [i ? ", " : "", h("span", { class: "service-name" }, name)]) : "no named service"),
      stopped && h("div", { class: `stopped p-${stopped.kind}`, id: "trace-stopped" },
        h("strong", {}, stopped.kind === "waiting" ? "Waiting at " : "Stopped at "),
        nodeLink(byId.get(stopped.node) || {}, stopped.label),
        stopped.service ? [" — service ", h("strong", { class: "culprit" }, stopped.service)] : "",
        ` (${PROBLEM_LABEL[stopped.kind] || stopped.kind})`,
        stopped.reason ? h("div", { class: "reason" }, stopped.reason) : ""),
      trace.problems.length > 0 && h("ul", { class: "problems", id: "trace-problems" }, trace.problems.map(p =>
        h("li", { "data-node": p.node, "data-kind": p.kind },
          h("span", { class: `problem p-${p.kind}` }, PROBLEM_LABEL[p.kind] || p.kind), " ",
          nodeLink(byId.get(p.node) || {}, p.label),
          p.service ? ` · ${p.service}` : "", p.reason ? ` · ${p.reason}` : ""))),
    );
  }

  function renderTimeline(trace, byId, flagged) {
    const start = trace.timeline.length ? trace.timeline[0].time : 0;
    timeline.replaceChildren(...trace.timeline.map(item => {
      const node = byId.get(item.node) || {};
      return h("tr", { "data-node": item.node, "data-kind": item.kind, "data-status": item.status,
        class: flagged.has(item.node) ? "flagged" : "" },
        h("td", { class: "muted" }, when(item.time)),
        h("td", { class: "muted mono" }, offset(item.time, start)),
        h("td", {}, h("span", { class: `kind k-${item.kind}` }, KIND_LABEL[item.kind] || item.kind)),
        h("td", {}, nodeLink(node, item.label),
          node.topic && item.kind === "event" && node.topic !== item.label ? h("span", { class: "muted" }, ` · ${node.topic}`) : "",
          node.attempts ? h("span", { class: "muted" }, ` · ${node.attempts} attempt(s)`) : "",
          node.reason || node.lastError ? h("div", { class: "reason" }, node.reason || node.lastError) : ""),
        h("td", {}, item.service || "—"),
        h("td", {}, statusBadge(item.status)));
    }));
  }

  function renderTree(trace, byId, flagged) {
    const relation = new Map();
    for (const edge of trace.edges) {
      const child = byId.get(edge.to);
      if (child && child.parent === edge.from) relation.set(edge.to, edge.relation);
    }
    // Links that are not the tree's (a second cause) are listed under the node they reach.
    const extra = new Map();
    for (const edge of trace.edges) {
      const child = byId.get(edge.to);
      if (!child || child.parent === edge.from) continue;
      if (!extra.has(edge.to)) extra.set(edge.to, []);
      extra.get(edge.to).push(edge);
    }
    const item = id => {
      const node = byId.get(id);
      if (!node) return null;
      return h("li", { "data-node": id, "data-kind": node.kind, "data-status": node.status,
        class: flagged.has(id) ? "flagged" : "" },
        h("div", { class: "tree-node" },
          relation.has(id) ? h("span", { class: "relation" }, relation.get(id)) : "",
          h("span", { class: `kind k-${node.kind}` }, KIND_LABEL[node.kind] || node.kind), " ",
          nodeLink(node, node.label), " ", statusBadge(node.status),
          node.service ? h("span", { class: "muted" }, ` · ${node.service}`) : "",
          (extra.get(id) || []).map(e => h("span", { class: "muted also" },
            ` · also ${e.relation} by ${(byId.get(e.from) || {}).label || e.from}`))),
        node.children.length ? h("ul", {}, node.children.map(item)) : "");
    };
    tree.replaceChildren(h("ul", { class: "tree" }, trace.roots.map(item)));
  }

  async function refresh() {
    if (!correlationId) { message.textContent = "Enter a correlation id to follow it across runs and events."; return false; }
    const found = await api.search({ freeText: correlationId, size: 100 });
    runs.replaceChildren(...found.results.map(r => h("tr", { "data-run": r.workflowId },
      h("td", {}, r.workflowType), h("td", {}, h("a", { href: `#/run/${r.workflowId}`, class: "mono" }, r.workflowId.slice(0, 8))),
      h("td", {}, statusBadge(r.status)), h("td", {}, when(r.startTime)))));
    let trace;
    try {
      trace = await api.trace(correlationId);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) {
        message.textContent = `No run or event carries the correlation id ${correlationId}.`;
        summary.hidden = true; traced.hidden = true;
        return true;
      }
      if (!(error instanceof MissingFeature)) throw error;
      message.textContent = `This server does not offer ${error.message} yet: only the runs with this correlation id are shown.`;
      message.className = "missing";
      summary.hidden = true; traced.hidden = true;
      return false;
    }
    const count = kind => trace.nodes.filter(n => n.kind === kind).length;
    message.textContent = `${correlationId}: ${count("workflow")} run(s), ${count("task")} task(s), ` +
      `${count("event")} event(s), ${count("delivery")} delivery(ies).`;
    message.className = "muted";
    const byId = new Map(trace.nodes.map(n => [n.id, n]));
    const flagged = new Set(trace.problems.map(p => p.node));
    traced.hidden = false;
    renderSummary(trace, byId);
    renderTimeline(trace, byId, flagged);
    renderTree(trace, byId, flagged);
    return true;
  }
  return { root, refresh };
}
