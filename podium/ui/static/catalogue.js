// Definitions with their graphs, services with their breakers, and the correlation trace.
import { api, MissingFeature } from "./api.js";
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
      h("td", {}, s.name, s.description ? h("div", { class: "muted" }, s.description) : ""),
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

export function traceView(correlationId) {
  const input = h("input", { type: "search", value: correlationId, placeholder: "Correlation id", "aria-label": "Correlation id" });
  const form = h("form", { class: "filters", onsubmit: e => {
    e.preventDefault();
    location.hash = `#/trace/${encodeURIComponent(input.value.trim())}`;
  } }, input, h("button", { type: "submit" }, "Show trace"));
  const message = h("p", { class: "muted", id: "trace-message" });
  const events = h("div", { class: "trace-events" });
  const runs = h("tbody");
  const root = h("section", {}, h("h1", {}, "Correlation trace"), form, message, events,
    h("h2", {}, "Runs with this correlation id"),
    h("table", {}, h("thead", {}, h("tr", {}, ["Workflow", "Run", "Status", "Started"].map(t => h("th", {}, t)))), runs));
  async function refresh() {
    if (!correlationId) { message.textContent = "Enter a correlation id to follow it across runs and events."; return false; }
    const found = await api.search({ freeText: correlationId, size: 100 });
    runs.replaceChildren(...found.results.map(r => h("tr", {},
      h("td", {}, r.workflowType), h("td", {}, h("a", { href: `#/run/${r.workflowId}`, class: "mono" }, r.workflowId.slice(0, 8))),
      h("td", {}, statusBadge(r.status)), h("td", {}, when(r.startTime)))));
    try {
      const trace = await api.trace(correlationId);
      const items = Array.isArray(trace) ? trace : (trace.events || trace.items || []);
      message.textContent = `${items.length} event(s) for ${correlationId}.`;
      events.replaceChildren(h("ol", { class: "trace" }, items.map(item => h("li", {},
        h("span", { class: "muted" }, when(item.time || item.at || item.createdTime)), " ",
        h("strong", {}, item.type || item.name || item.event || "event"), " ",
        item.workflowId ? h("a", { href: `#/run/${item.workflowId}` }, item.workflowId.slice(0, 8)) : "",
        item.payload ? json(item.payload) : ""))));
    } catch (error) {
      if (!(error instanceof MissingFeature)) throw error;
      message.textContent = `This server does not offer ${error.message} yet: only the runs with this correlation id are shown.`;
      message.className = "missing";
      events.replaceChildren();
    }
    return true;
  }
  return { root, refresh };
}
