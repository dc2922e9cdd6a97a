// One run: its graph coloured by task status, a timeline, every task's details and the
// operator's actions. Refreshes every second while open. A run of more than BIG_RUN tasks is
// read in parts (the run without its tasks, a page of the table, the tasks counted by step),
// so a loop of thousands of iterations or a fork of thousands of branches opens at once.
import { api, MissingFeature, AuthRequired } from "./api.js";
import { h, statusBadge, when, duration, json, notice } from "./dom.js";
import { drawWorkflow } from "./graph.js";
import { taskTable } from "./tasktable.js";
import { requireKey } from "./auth.js";

const TERMINAL = new Set(["COMPLETED", "FAILED", "TIMED_OUT", "TERMINATED", "COMPENSATED",
  "COMPENSATION_FAILED"]);
const ACTIVE_TASK = new Set(["SCHEDULED", "IN_PROGRESS"]);
const baseRef = ref => ref.replace(/(__\d+)+$/, "");
// A saga step's undo runs as the task "<ref>__compensate" ("item__2__compensate" in a loop).
const COMPENSATE = "__compensate";
const isCompensation = ref => ref.endsWith(COMPENSATE);
const compensatedRef = ref => baseRef(ref.slice(0, -COMPENSATE.length));
const BIG_RUN = 500;
// A big run's selected step: the newest of its tasks are read, no more than this.
const DETAIL_TASKS = 50;

// The server appends the blamed service to a failed run's reason ("… [service payments (owner
// …)]"); the page shows the service on a line of its own, so the reason is shown without it.
function ownReason(run) {
  const reason = run.reasonForIncompletion || "";
  const cut = reason.lastIndexOf(" [");
  return run.failure && cut > 0 && reason.endsWith("]") ? reason.slice(0, cut) : reason;
}

export function runView(runId) {
  let run = null, definition = null, selected = null, shownKey = "";
  // counts: the tasks counted by step (GET .../overview); big: read in parts; detail: a big
  // run's selected step's tasks; expanded: the graph's groups opened up.
  let counts = null, big = false, detail = { ref: null, tasks: [] };
  const expanded = new Set();
  const header = h("div", { class: "run-head" });
  const failure = h("div", { class: "failure", hidden: true });
  const diagnostics = h("div", { class: "diagnostics", id: "diagnostics", hidden: true });
  const compensation = h("div", { class: "saga-record", id: "compensation", hidden: true });
  const actions = h("div", { class: "actions" });
  const graph = h("div", { class: "graph-box", id: "graph" });
  const timeline = h("div", { class: "timeline", id: "timeline" });
  const table = taskTable(runId, ref => select(big ? ref : baseRef(ref)),
    ref => ref === selected || baseRef(ref) === selected, () => run && renderTimeline());
  const details = h("aside", { class: "details", id: "details" }, h("p", { class: "muted" },
    "Select a task in the graph or the table."));
  const root = h("section", { class: "run" }, header, failure, diagnostics, actions, compensation,
    h("div", { class: "columns" },
      h("div", { class: "left" }, h("h2", {}, "Graph"), graph),
      h("div", { class: "right" }, h("h2", {}, "Timeline"), timeline,
        h("h2", {}, "Tasks"), table.root,
        details)));

  // What the page has of the run's tasks: all of a small run's, the table's page of a big one's.
  const knownTasks = () => (big ? table.rows() : run.tasks);

  const latestByRef = () => {
    const map = new Map();
    for (const task of run.tasks.filter(t => !isCompensation(t.referenceTaskName))) {
      const key = baseRef(task.referenceTaskName);
      const seen = map.get(key);
      if (!seen || task.seq > seen.seq) map.set(key, task);
    }
    return map;
  };

  async function act(label, call) {
    try {
      await call();
      notice(`${label}: done.`, "ok");
    } catch (error) {
      if (error instanceof AuthRequired) { requireKey(error.message); return; }
      if (error instanceof MissingFeature) notice(`This server does not offer ${error.message} yet.`, "missing");
      else notice(`${label} failed: ${error.message}`, "error");  // a 403 names the permission
    }
    try { await refresh(); }
    catch (error) { if (error instanceof AuthRequired) requireKey(error.message); }
  }

  function renderHeader() {
    header.replaceChildren(
      h("h1", {}, run.workflowType, h("span", { class: "muted" }, ` v${run.workflowVersion} `), statusBadge(run.status)),
      h("dl", { class: "ids" },
        h("dt", {}, "Workflow id"), h("dd", { class: "mono" }, run.workflowId),
        // A run started without a correlation id is traced by its own id.
        h("dt", {}, "Correlation id"), h("dd", {}, run.correlationId
          ? h("a", { href: `#/trace/${encodeURIComponent(run.correlationId)}` }, run.correlationId)
          : ["— ", h("a", { href: `#/trace/${encodeURIComponent(run.workflowId)}` }, "(trace)")]),
        h("dt", {}, "Trace id"), h("dd", { class: "mono" }, run.traceId || "—"),
        run.parentWorkflowId && [h("dt", {}, "Parent"), h("dd", {}, h("a", { href: `#/run/${run.parentWorkflowId}` }, run.parentWorkflowId))],
        // A run a schedule started names it and the tick it was started for (before jitter).
        run.scheduleName && [h("dt", {}, "Schedule"), h("dd", {},
          h("a", { href: "#/schedules" }, run.scheduleName), ` tick of ${when(run.scheduledTime)}`)],
        h("dt", {}, "Started"), h("dd", {}, when(run.startTime)),
        h("dt", {}, "Took"), h("dd", {}, duration(run.startTime, run.endTime || null)),
      ),
    );
    const blame = run.failure;
    failure.hidden = !run.reasonForIncompletion;
    failure.replaceChildren(
      h("strong", {}, "Why: "), h("span", { class: "why" }, ownReason(run)),
      blame && h("div", { class: "blame" }, `Failed at ${blame.taskReferenceName}; `, blame.insidePodium
        ? `inside Podium itself (its ${blame.taskType} task; no outside service involved)`
        : blame.service ? ["service ", h("strong", {}, blame.service),
          blame.owner ? `, owned by ${blame.owner}` : "", blame.contact ? ` — contact ${blame.contact}` : "",
          blame.onCall ? ` (on call: ${blame.onCall})` : "",
          blame.runbook ? "; " : "",
          blame.runbook ? h("a", { class: "runbook", href: blame.runbook, rel: "noopener", target: "_blank" }, "runbook") : ""]
        : "no service is named for this task (set service on its TaskDef)"),
    );
    const s = run.status, terminal = TERMINAL.has(s);
    const button = (label, call, show, action) => show && h("button", { type: "button",
      "data-action": action || label.toLowerCase(), onclick: () => act(label, call) }, label);
    // Terminating may undo a saga's completed steps first (compensate=true).
    const undo = h("input", { type: "checkbox", name: "compensate", "data-option": "compensate" });
    actions.replaceChildren(...[
      button("Pause", () => api.pause(runId), s === "RUNNING"),
      button("Resume", () => api.resume(runId), s === "PAUSED"),
      // A run that could not compensate resumes its undo when retried.
      button("Retry", () => api.retry(runId),
        ["FAILED", "TIMED_OUT", "TERMINATED", "COMPENSATION_FAILED"].includes(s)),
      button("Restart", () => api.restart(runId), terminal),
      button("Terminate", () => api.terminate(runId, undefined, undo.checked), !terminal),
      !terminal && s !== "COMPENSATING" && h("label", { class: "option", title:
        "Undo the completed steps that declare a compensation before the run ends" }, undo, " and compensate"),
    ].filter(Boolean));
  }

  // Why the run is not moving, as the server sees it (a task no worker polls for, ...).
  function renderDiagnostics() {
    const notes = run.diagnostics || [];
    diagnostics.hidden = !notes.length;
    diagnostics.replaceChildren(...(notes.length ? [h("strong", {}, "Not moving: "),
      h("ul", {}, notes.map(note => h("li", { "data-kind": note.kind, "data-ref": note.referenceTaskName,
        title: "Show this task", onclick: () => note.referenceTaskName && select(note.referenceTaskName) },
        note.message)))] : []));
  }

  // The saga record: why compensation began and, step by step, what was undone.
  function renderCompensation() {
    const record = run.compensation;
    compensation.hidden = !record;
    if (!record) { compensation.replaceChildren(); return; }
    const steps = record.steps || [];
    compensation.replaceChildren(
      h("h2", {}, "Compensation ", h("span", { class: "muted" }, `${steps.length} step(s)`)),
      h("dl", { class: "ids" },
        h("dt", {}, "Trigger"), h("dd", { "data-field": "trigger" }, record.trigger || "—"),
        // The reason that began it is the run's, shown above, unless the run has moved on.
        record.reason && !(run.reasonForIncompletion || "").startsWith(record.reason) &&
          [h("dt", {}, "Reason"), h("dd", { "data-field": "reason" }, record.reason)],
        (record.failedReferenceTaskNames || []).length > 0 && [h("dt", {}, "Failed steps"),
          h("dd", {}, record.failedReferenceTaskNames.join(", "))],
        h("dt", {}, "Started"), h("dd", {}, when(record.startTime)),
        h("dt", {}, "Took"), h("dd", {}, record.startTime ? duration(record.startTime, record.endTime || null) : "—"),
        (record.notCompensated || []).length > 0 && [h("dt", {}, "Not undone"),
          h("dd", { "data-field": "notCompensated", title: "Completed steps without a compensation" },
            record.notCompensated.join(", "))],
      ),
      h("table", { class: "compensation-steps" },
        h("thead", {}, h("tr", {}, ["#", "Step undone", "Compensation", "Status", "Attempts",
          "Idempotency key", "Output / error", "Took"].map(t => h("th", {}, t)))),
        h("tbody", {}, steps.map((step, i) => h("tr", {
          "data-step": step.referenceTaskName, "data-status": step.status,
          onclick: () => { if (step.compensationTaskReferenceName) select(step.compensationTaskReferenceName); },
        },
          h("td", {}, i + 1),
          h("td", {}, step.referenceTaskName),
          h("td", {}, step.compensationTaskReferenceName || "—",
            step.name ? h("div", { class: "muted" }, `${step.name}${step.type && step.type !== "SIMPLE" ? " · " + step.type : ""}`) : ""),
          h("td", {}, statusBadge(step.status)),
          h("td", {}, step.attempts ?? "—"),
          h("td", { class: "mono" }, step.idempotencyKey || "—"),
          h("td", {}, step.reasonForIncompletion
            ? h("span", { class: "error" }, step.reasonForIncompletion)
            : (step.output && Object.keys(step.output).length ? h("code", {}, JSON.stringify(step.output)) : "—")),
          h("td", {}, step.startTime ? duration(step.startTime, step.endTime || null) : "—"),
        )))),
    );
  }

  function select(ref) {
    selected = big ? ref : baseRef(ref);
    shownKey = "";
    renderDetails();
    if (big) readDetail().then(renderDetails, error => notice(`Could not load: ${error.message}`, "error"));
  }

  // A big run's selected step: its newest tasks, read by name (every iteration of a loop step).
  async function readDetail() {
    const ref = selected;
    if (!ref) return;
    // One read for most steps; a loop step of many iterations needs its last page as well.
    let page = await api.tasks(runId, { taskReferenceName: ref, count: DETAIL_TASKS });
    if (page.totalHits > DETAIL_TASKS) {
      page = await api.tasks(runId, { taskReferenceName: ref, count: DETAIL_TASKS,
        start: page.totalHits - DETAIL_TASKS });
    }
    if (ref === selected) {
      detail = { ref, tasks: page.results, total: page.totalHits, seen: counts?.totalTasks };
    }
  }

  function toggle(ref) {
    if (expanded.has(ref)) expanded.delete(ref); else expanded.add(ref);
    renderGraph();
  }

  function renderGraph() {
    if (!definition) return;
    const groups = { counts, expanded, onToggle: toggle };
    if (big) {
      // Each step's newest task, and its compensation's, as counted by the server.
      const step = ref => counts?.steps?.[ref]?.status || null;
      drawWorkflow(graph, definition, step, select, ref => step(`${ref}${COMPENSATE}`), groups);
    } else {
      const latest = latestByRef();
      // A step that was undone shows its compensation's status under its own.
      const undone = new Map();
      for (const task of run.tasks.filter(t => isCompensation(t.referenceTaskName))) {
        undone.set(compensatedRef(task.referenceTaskName), task);
      }
      drawWorkflow(graph, definition, ref => latest.get(ref)?.status || null, select,
        ref => undone.get(ref)?.status || null, groups);
    }
    graph.querySelectorAll(".node").forEach(node =>
      node.classList.toggle("selected", node.dataset.ref === selected));
  }

  function renderTimeline() {
    const tasks = knownTasks().filter(t => t.scheduledTime);
    if (!tasks.length) { timeline.replaceChildren(h("p", { class: "muted" }, "No tasks yet.")); return; }
    const start = Math.min(...tasks.map(t => t.scheduledTime));
    const now = TERMINAL.has(run.status) ? 0 : Date.now();
    const end = Math.max(now,
      ...tasks.map(t => t.endTime || t.updateTime || t.scheduledTime), start + 1);
    const pct = ms => `${(100 * (ms - start) / (end - start)).toFixed(2)}%`;
    const legend = h("div", { class: "legend", id: "timeline-legend" },
      h("span", { class: "legend-item" }, h("span", { class: "bar queued" }),
        "waiting in the queue: scheduled, not yet taken by a worker"),
      h("span", { class: "legend-item" }, h("span", { class: "bar s-COMPLETED" }),
        "running or done, in the colour of its status"),
      big && h("span", { class: "legend-item", id: "timeline-page" }, "the tasks on the table's page"));
    timeline.replaceChildren(...tasks.map(t => {
      const running = t.startTime || t.endTime || null;
      const finish = t.endTime || (ACTIVE_TASK.has(t.status) ? end : t.updateTime);
      return h("div", { class: `lane${isCompensation(t.referenceTaskName) ? " compensation" : ""}`, "data-ref": t.referenceTaskName, onclick: () => select(t.referenceTaskName) },
        h("span", { class: "lane-name", title: t.referenceTaskName }, t.referenceTaskName),
        h("span", { class: "lane-track" },
          running && h("span", { class: "bar queued", style: `left:${pct(t.scheduledTime)};width:calc(${pct(running)} - ${pct(t.scheduledTime)})`, title: `waiting in the queue ${duration(t.scheduledTime, running)}` }),
          h("span", { class: `bar s-${t.status}`, style: `left:${pct(running || t.scheduledTime)};width:max(3px, calc(${pct(finish)} - ${pct(running || t.scheduledTime)}))`,
            title: `${t.status} ${duration(running || t.scheduledTime, t.endTime || null)}` })));
    }), legend);
  }

  function renderTasks() {
    if (big) table.render(); else table.showAll(run.tasks);
  }

  function taskActions(task) {
    const active = ACTIVE_TASK.has(task.status);
    const out = [];
    // Re-running is for an ended run: the steps after this one are dropped and run again.
    if (TERMINAL.has(run.status)) {
      out.push(h("button", { type: "button", "data-action": "rerun",
        onclick: () => act("Re-run from this task", () => api.rerun(runId, task.taskId)) }, "Re-run from here"));
    }
    if (active) {
      out.push(h("button", { type: "button", "data-action": "skip",
        onclick: () => act("Skip", () => api.skip(runId, task.referenceTaskName)) }, "Skip"));
      const outcome = h("select", { "aria-label": "Outcome" },
        ["COMPLETED", "FAILED"].map(s => h("option", { value: s }, s)));
      const output = h("textarea", { rows: 3, "aria-label": "Output (JSON)", placeholder: '{"approved": true}' });
      const label = task.taskType === "HUMAN" ? "Complete task" : "Send signal";
      out.push(h("form", { class: "signal", onsubmit: event => {
        event.preventDefault();
        let body = {};
        try { body = output.value.trim() ? JSON.parse(output.value) : {}; }
        catch { notice("The output must be JSON.", "error"); return; }
        act(label, () => api.finishTask(runId, task.referenceTaskName, outcome.value, body));
      } }, outcome, output, h("button", { type: "submit", "data-action": "signal" }, label)));
    }
    return out;
  }

  function renderDetails() {
    if (!selected) return;
    const attempts = big ? (detail.ref === selected ? detail.tasks : null)
      : run.tasks.filter(t => baseRef(t.referenceTaskName) === selected);
    const task = attempts && attempts[attempts.length - 1];
    renderTasks();
    graph.querySelectorAll(".node").forEach(node => node.classList.toggle("selected",
      node.dataset.ref === selected || node.dataset.ref === baseRef(selected)));
    if (!attempts) {
      if (shownKey === "loading") return;
      shownKey = "loading";
      details.replaceChildren(h("h2", {}, selected), h("p", { class: "muted" }, "Loading…"));
      return;
    }
    if (!task) {
      // A step the run has not reached can be skipped ahead of time: it ends SKIPPED when reached.
      const key = `pending:${run.status}`;
      if (key === shownKey) return;
      shownKey = key;
      details.replaceChildren(h("h2", {}, selected), h("p", { class: "muted" }, "Not scheduled yet."),
        TERMINAL.has(run.status) ? "" : h("div", { class: "task-actions" },
          h("button", { type: "button", "data-action": "skip", title: "Skip this step when the run reaches it",
            onclick: () => act("Skip", () => api.skip(runId, selected)) }, "Skip when reached")));
      return;
    }
    const key = attempts.map(t => `${t.taskId}:${t.status}:${t.updateTime}`).join();
    if (key === shownKey) return;  // unchanged: keep what the operator is typing
    shownKey = key;
    const svc = task.service;
    details.replaceChildren(
      h("h2", {}, task.referenceTaskName, " ", statusBadge(task.status)),
      h("dl", { class: "ids" },
        h("dt", {}, "Task id"), h("dd", { class: "mono" }, task.taskId),
        h("dt", {}, "Type"), h("dd", {}, task.taskType),
        h("dt", {}, "Worker"), h("dd", { class: "mono" }, task.workerId || "—"),
        svc && [h("dt", {}, "Service"), h("dd", { class: "service" }, svc.service,
          svc.owner ? ` · owner ${svc.owner}` : "", svc.contact ? ` · contact ${svc.contact}` : "",
          svc.onCall ? ` · on call ${svc.onCall}` : "",
          svc.runbook ? " · " : "",
          svc.runbook ? h("a", { class: "runbook", href: svc.runbook, rel: "noopener", target: "_blank" }, "runbook") : "")],
        h("dt", {}, "Traceparent"), h("dd", { class: "mono" }, task.traceparent || "—"),
      ),
      // replaceChildren writes null as "null": absent parts are empty strings.
      task.reasonForIncompletion ? h("div", { class: "error" }, h("strong", {}, "Error: "), task.reasonForIncompletion) : "",
      undoneBy(task) || "",
      h("div", { class: "task-actions" }, taskActions(task)),
      h("h3", {}, "Input"), json(task.inputData),
      h("h3", {}, "Output"), json(task.outputData),
      h("h3", {}, `Attempts (${big ? detail.total : attempts.length})`),
      (big && detail.total > attempts.length &&
        h("p", { class: "muted" }, `The newest ${attempts.length} are listed.`)) || "",
      // The latest attempt's error is the one shown above; earlier attempts say theirs here.
      h("ol", { class: "attempts" }, attempts.map(a => h("li", {}, statusBadge(a.status), " ",
        when(a.scheduledTime), " · ", duration(a.startTime || a.scheduledTime, a.endTime || null),
        a.reasonForIncompletion && a !== task ? ` · ${a.reasonForIncompletion}` : ""))),
      h("h3", {}, "Logs"),
      task.logs && task.logs.length
        ? h("pre", { class: "logs" }, task.logs.map(l => `${when(l.createdTime)}  ${l.log}`).join("\n"))
        : h("p", { class: "muted" }, "No logs."),
    );
  }

  // Links a saga step and its compensation both ways.
  function undoneBy(task) {
    const ref = task.referenceTaskName;
    if (isCompensation(ref)) {
      return h("p", { class: "undo-link" }, "Undoes ", h("a", { href: "#", onclick: e => {
        e.preventDefault(); select(compensatedRef(ref));
      } }, compensatedRef(ref)), task.idempotencyKey ? ` · idempotency key ${task.idempotencyKey}` : "");
    }
    const comp = [...knownTasks()].reverse().find(t => isCompensation(t.referenceTaskName) &&
      compensatedRef(t.referenceTaskName) === baseRef(ref));
    return comp && h("p", { class: "undo-link" }, "Undone by ", h("a", { href: "#", onclick: e => {
      e.preventDefault(); select(comp.referenceTaskName);
    } }, comp.referenceTaskName), " ", statusBadge(comp.status));
  }

  // One read gives the run, its task counts and (for a big run) the table's page; a small
  // run's tasks are then read whole, as they always were.
  async function readRun() {
    const mark = table.since();
    // The page is asked for a run not yet known to be big too: a big one is then shown from
    // its first read.
    const view = await api.overview(runId, table.params());
    counts = view.counts;
    big = big || counts.totalTasks > BIG_RUN;
    if (!big) { run = await api.run(runId); return; }
    run = view.workflow;
    table.showRead(view.tasks, mark);
    // The selected step's tasks are read again unless the page has every one of them and
    // the run has no new task (a new attempt would be one).
    if (!selected) return;
    const fresh = new Map(table.rows().map(t => [t.taskId, t]));
    if (detail.ref === selected && detail.seen === counts.totalTasks && detail.tasks.length &&
        detail.tasks.every(t => fresh.has(t.taskId))) {
      detail = { ...detail, tasks: detail.tasks.map(t => fresh.get(t.taskId)) };
    } else await readDetail();
  }

  async function refresh() {
    await readRun();
    if (!definition) {
      try { definition = await api.definition(run.workflowType, run.workflowVersion); }
      catch { graph.replaceChildren(h("p", { class: "muted" }, "The definition of this run is no longer registered.")); }
    }
    root.dataset.status = run.status;
    renderHeader();
    renderDiagnostics();
    renderCompensation();
    renderGraph();
    renderTimeline();
    renderTasks();
    renderDetails();
    return true;
  }

  return { root, refresh };
}
