// Lays a Conductor workflow definition out as an SVG graph: sequences top to bottom, forks and
// switch cases side by side, DO_WHILE bodies inside a frame with a loop-back edge. A loop of many
// iterations and a dynamic fork of many branches are drawn as one node counting their tasks by
// status, opened up on click.
const NODE_W = 168, NODE_H = 40, GAP_Y = 26, GAP_X = 22, PAD = 14;
const SVG_NS = "http://www.w3.org/2000/svg";

function el(name, attrs, text) {
  const node = document.createElementNS(SVG_NS, name);
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

// Node sizes: at least NODE_W wide, wider for a longer label up to MAX_W, past which the label
// wraps onto more lines (never cut: the operator must read the whole name and status).
const MAX_W = 280, PAD_X = 8, REF_LINE = 15, TYPE_LINE = 13, PAD_Y = 6;
const COMP_W = 132, COMP_GAP = 18;
let measurer = null;

function textWidth(text, size) {
  if (!measurer) measurer = document.createElement("canvas").getContext("2d");
  measurer.font = `${size}px ${getComputedStyle(document.body).fontFamily}`;
  return measurer.measureText(text).width;
}

// Splits ``text`` into lines no wider than ``width``, breaking after "_", "-", ".", " " or "·"
// where it can and inside a word only where it must.
function wrap(text, size, width) {
  const lines = [];
  let current = "";
  for (const token of text.split(/(?<=[_\-. ·/])/)) {
    if (textWidth(current + token, size) <= width) { current += token; continue; }
    if (current) lines.push(current.trimEnd());
    current = "";
    for (const ch of token) {
      if (current && textWidth(current + ch, size) > width) { lines.push(current); current = ""; }
      current += ch;
    }
  }
  if (current) lines.push(current.trimEnd());
  return lines.length ? lines : [""];
}

// A box's size and wrapped lines for a label (12 px) over a smaller type line (10 px).
function sized(label, sub, minW) {
  const natural = Math.max(textWidth(label, 12), textWidth(sub, 10)) + PAD_X * 2;
  const w = Math.ceil(Math.min(MAX_W, Math.max(minW, natural)));
  const refLines = wrap(label, 12, w - PAD_X * 2), typeLines = wrap(sub, 10, w - PAD_X * 2);
  return { w, h: PAD_Y * 2 + REF_LINE * refLines.length + TYPE_LINE * typeLines.length, refLines, typeLines };
}

function drawLabel(node, x, y, size) {
  const cx = x + size.w / 2;
  size.refLines.forEach((text, i) =>
    node.appendChild(el("text", { x: cx, y: y + PAD_Y + 11 + REF_LINE * i, class: "ref" }, text)));
  const top = y + PAD_Y + REF_LINE * size.refLines.length;
  size.typeLines.forEach((text, i) =>
    node.appendChild(el("text", { x: cx, y: top + 10 + TYPE_LINE * i, class: "type" }, text)));
}

// Each layout is {w, h, draw(g, x, y)} where (x, y) is its top-left corner; the entry point is
// at the top centre and the exit at the bottom centre.
function box(step, kind, ctx, known) {
  const ref = step.taskReferenceName;
  const status = known === undefined ? ctx.statusOf(ref) : known;
  const undo = ctx.undoOf(ref);
  const type = `${step.type || "SIMPLE"}${status ? " · " + status : ""}`;
  const size = sized(ref, type, NODE_W);
  const main = {
    w: size.w, h: size.h,
    draw(g, x, y) {
      const node = el("g", {
        class: `node ${kind || ""}`, "data-ref": ref, "data-type": step.type || "SIMPLE", tabindex: "0",
      });
      node.setAttribute("data-status", status || "NOT_STARTED");
      node.appendChild(el("rect", { x, y, width: size.w, height: size.h, rx: 7 }));
      drawLabel(node, x, y, size);
      // A saga step that was undone: its compensation's status in a tag on the corner.
      if (undo) {
        node.setAttribute("data-compensation", undo);
        node.classList.add("undone");
        const tag = el("g", { class: `undo u-${undo}` });
        tag.appendChild(el("rect", { x: x + size.w - 30, y: y - 8, width: 36, height: 16, rx: 8 }));
        tag.appendChild(el("text", { x: x + size.w - 12, y: y + 4 }, "↺"));
        node.appendChild(tag);
      }
      node.appendChild(el("title", {}, `${ref} (${step.name}): ${type}` + (undo ? `; compensation ${undo}` : "")));
      node.addEventListener("click", () => ctx.onSelect(ref));
      g.appendChild(node);
    },
  };
  return step.compensation ? withCompensation(step, main, undo, ctx) : main;
}

// A step that declares a compensation: the compensation drawn beside it, joined by a dashed
// edge. The layout is widened on both sides so that the step stays on the sequence's axis.
function withCompensation(step, main, undo, ctx) {
  const ref = step.taskReferenceName, comp = step.compensation;
  const compType = comp.type || "SIMPLE";
  const size = sized(`↺ ${comp.name}`, `compensation · ${compType}${undo ? " · " + undo : ""}`, COMP_W);
  const side = size.w + COMP_GAP;
  const h = Math.max(main.h, size.h);
  return {
    w: main.w + side * 2, h,
    draw(g, x, y) {
      const mx = x + side, my = y + (h - main.h) / 2;
      main.draw(g, mx, my);
      const cx = mx + main.w + COMP_GAP, cy = y + (h - size.h) / 2;
      g.appendChild(el("path", { d: `M${mx + main.w},${my + main.h / 2} L${cx},${cy + size.h / 2}`,
        class: "edge undo", "data-compensates": ref }));
      const node = el("g", { class: "node compensation", "data-ref": `${ref}__compensate`,
        "data-compensates": ref, "data-type": compType, "data-status": undo || "NOT_STARTED", tabindex: "0" });
      node.appendChild(el("rect", { x: cx, y: cy, width: size.w, height: size.h, rx: 7 }));
      drawLabel(node, cx, cy, size);
      node.appendChild(el("title", {}, `Compensation of ${ref}: ${comp.name} (${compType}). ` +
        `It runs to undo ${ref} if the run fails after ${ref} completed.` + (undo ? ` Now ${undo}.` : "")));
      node.addEventListener("click", () => ctx.onSelect(`${ref}__compensate`));
      g.appendChild(node);
    },
  };
}

function line(g, x1, y1, x2, y2, cls) {
  g.appendChild(el("path", { d: `M${x1},${y1} L${x2},${y2}`, class: `edge ${cls || ""}` }));
}

function sequence(steps, ctx) {
  return column(steps.map(step => layoutStep(step, ctx)));
}

// Layouts one under the other, joined by arrows.
function column(parts) {
  if (!parts.length) return { w: NODE_W / 2, h: 4, draw() {} };
  const w = Math.max(...parts.map(p => p.w));
  const h = parts.reduce((sum, p) => sum + p.h, 0) + GAP_Y * (parts.length - 1);
  return {
    w, h,
    draw(g, x, y, ctx) {
      let top = y;
      parts.forEach((part, i) => {
        part.draw(g, x + (w - part.w) / 2, top, ctx);
        if (i < parts.length - 1) line(g, x + w / 2, top + part.h, x + w / 2, top + part.h + GAP_Y, "arrow");
        top += part.h + GAP_Y;
      });
    },
  };
}

// A head node, branches side by side, joined again at the bottom.
function branching(head, branches, labels, ctx) {
  return fanOut(head, branches.map(branch => sequence(branch, ctx)), labels);
}

function fanOut(head, cols, labels) {
  const inner = cols.reduce((sum, c) => sum + c.w, 0) + GAP_X * Math.max(0, cols.length - 1);
  const w = Math.max(NODE_W, inner);
  const tallest = Math.max(4, ...cols.map(c => c.h));
  const h = head.h + GAP_Y * 2 + tallest + 10;
  return {
    w, h,
    draw(g, x, y, ctx) {
      head.draw(g, x + (w - head.w) / 2, y, ctx);
      const mid = x + w / 2, top = y + head.h + GAP_Y, bottom = y + h;
      let left = x + (w - inner) / 2;
      cols.forEach((col, i) => {
        const cx = left + col.w / 2;
        line(g, mid, y + head.h, cx, top, "arrow");
        if (labels && labels[i] !== undefined) {
          // A case label longer than its column is shortened; its title has it whole.
          const label = String(labels[i]);
          const text = el("text", { x: cx + 4, y: top - 6, class: "case" },
            label.length > 18 ? label.slice(0, 17) + "…" : label);
          text.appendChild(el("title", {}, label));
          g.appendChild(text);
        }
        col.draw(g, left, top, ctx);
        line(g, cx, top + col.h, cx, bottom - 10);
        line(g, cx, bottom - 10, mid, bottom);
        left += col.w + GAP_X;
      });
      if (!cols.length) line(g, mid, y + head.h, mid, bottom);
    },
  };
}

function loop(step, ctx) {
  const head = box(step, "loop", ctx);
  const ref = step.taskReferenceName;
  const iterations = ctx.countsOf(ref)?.iterations || 0;
  let body = sequence(step.loopOver || [], ctx);
  if (iterations > COLLAPSE_OVER) {
    const group = groupNode(ref, `${number(iterations)} iterations`, bodyCounts(step.loopOver || [], ctx), "loop", ctx);
    body = ctx.expanded.has(ref) ? column([group, body]) : group;
  }
  const w = Math.max(NODE_W, body.w) + PAD * 2;
  const h = head.h + GAP_Y + body.h + PAD * 2;
  return {
    w, h,
    draw(g, x, y, ctx) {
      g.appendChild(el("rect", { x, y, width: w, height: h, rx: 10, class: "frame" }));
      head.draw(g, x + (w - head.w) / 2, y + PAD, ctx);
      const top = y + PAD + head.h + GAP_Y;
      line(g, x + w / 2, y + PAD + head.h, x + w / 2, top, "arrow");
      body.draw(g, x + (w - body.w) / 2, top, ctx);
      // The loop-back edge, up the right-hand side of the frame.
      g.appendChild(el("path", {
        d: `M${x + w / 2},${top + body.h} L${x + w / 2},${top + body.h + 6} L${x + w - 6},${top + body.h + 6} L${x + w - 6},${y + PAD + head.h / 2} L${x + (w + head.w) / 2},${y + PAD + head.h / 2}`,
        class: "edge back arrow",
      }));
    },
  };
}

// More iterations or branches than this are drawn as one node; fewer, as they always were.
const COLLAPSE_OVER = 10, BRANCHES_SHOWN = 6, BAR_H = 8;
const number = n => Number(n).toLocaleString("en-US");
// The colour a group takes: failed if any task failed, then running, then done.
const GROUP_ORDER = ["FAILED", "FAILED_WITH_TERMINAL_ERROR", "TIMED_OUT", "IN_PROGRESS", "SCHEDULED",
  "CANCELED", "COMPLETED_WITH_ERRORS", "SKIPPED", "COMPLETED"];

// Every task of a loop's body (nested steps included), counted by status.
function bodyCounts(steps, ctx) {
  const total = {};
  const visit = list => list.forEach(step => {
    for (const [status, n] of Object.entries(ctx.countsOf(step.taskReferenceName)?.counts || {})) {
      total[status] = (total[status] || 0) + n;
    }
    visit(step.loopOver || []);
    (step.forkTasks || []).forEach(visit);
    Object.values(step.decisionCases || {}).forEach(visit);
    visit(step.defaultCase || []);
  });
  visit(steps);
  return total;
}

// One node for many tasks: how many of each status, as words and as a bar; a click opens it
// up or closes it again.
function groupNode(key, label, counts, kind, ctx) {
  const open = ctx.expanded.has(key);
  const entries = Object.entries(counts).sort((a, b) => b[1] - a[1]);
  const total = entries.reduce((sum, [, n]) => sum + n, 0);
  const words = entries.map(([status, n]) => `${number(n)} ${status}`).join(" · ") || "no tasks yet";
  const size = sized(`${open ? "▾" : "▸"} ${label}`, words, NODE_W + 40);
  const h = size.h + BAR_H + PAD_Y;
  const overall = GROUP_ORDER.find(status => counts[status]) || "NOT_STARTED";
  return {
    w: size.w, h,
    draw(g, x, y) {
      const node = el("g", { class: `node group ${kind}`, "data-group": key, "data-kind": kind,
        "data-count": total, "data-status": overall, "data-expanded": open ? "true" : "false", tabindex: "0" });
      node.appendChild(el("rect", { x, y, width: size.w, height: h, rx: 7 }));
      drawLabel(node, x, y, size);
      let left = x + PAD_X;
      const width = size.w - PAD_X * 2, top = y + size.h;
      for (const [status, n] of entries) {
        const part = total ? (width * n) / total : 0;
        node.appendChild(el("rect", { x: left, y: top, width: Math.max(part, 1), height: BAR_H, class: `seg s-${status}` }));
        left += part;
      }
      node.appendChild(el("title", {}, `${label}: ${words}. Click to ${open ? "close" : "open"}.`));
      node.addEventListener("click", () => ctx.onToggle(key));
      g.appendChild(node);
    },
  };
}

// A dynamic fork: its branches are in no definition; many of them are one node, and opened up
// the first few are drawn side by side with the count of the others.
function dynamicFork(step, ctx) {
  const ref = step.taskReferenceName;
  const head = box(step, "fork", ctx);
  const fan = ctx.branchesOf(ref);
  if (!fan || fan.count <= COLLAPSE_OVER) return head;
  const group = groupNode(ref, `${number(fan.count)} branches`, fan.counts, "fork", ctx);
  if (!ctx.expanded.has(ref)) return column([head, group]);
  const shown = fan.first.slice(0, BRANCHES_SHOWN);
  const cols = shown.map(b => box({ taskReferenceName: b.referenceTaskName, name: b.referenceTaskName,
    type: "branch" }, "branch", ctx, b.status));
  if (fan.count > shown.length) {
    const rest = sized(`+ ${number(fan.count - shown.length)} more`, "in the task table", NODE_W);
    cols.push({ w: rest.w, h: rest.h, draw(g, x, y) {
      const node = el("g", { class: "node more", "data-more": ref });
      node.appendChild(el("rect", { x, y, width: rest.w, height: rest.h, rx: 7 }));
      drawLabel(node, x, y, rest);
      g.appendChild(node);
    } });
  }
  return column([head, fanOut(group, cols)]);
}

function layoutStep(step, ctx) {
  switch (step.type) {
    case "FORK_JOIN":
      return branching(box(step, "fork", ctx), step.forkTasks || [], undefined, ctx);
    case "SWITCH":
    case "DECISION": {
      const cases = Object.entries(step.decisionCases || {});
      const branches = cases.map(([, tasks]) => tasks);
      const labels = cases.map(([name]) => name);
      branches.push(step.defaultCase || []);
      labels.push("default");
      return branching(box(step, "switch", ctx), branches, labels, ctx);
    }
    case "DO_WHILE":
      return loop(step, ctx);
    case "FORK_JOIN_DYNAMIC":
      return dynamicFork(step, ctx);
    default:
      return box(step, step.type === "JOIN" ? "join" : "", ctx);
  }
}

// Draws ``definition`` into ``container``; ``statusOf(ref)`` colours nodes, ``onSelect(ref)``
// is called when one is clicked, ``undoOf(ref)`` is the status of the step's compensation.
// ``groups`` has the run's task counts (GET .../task-counts: ``steps``, ``branches``), the
// set of groups opened up (``expanded``) and ``onToggle(ref)``, called when one is clicked.
export function drawWorkflow(container, definition, statusOf, onSelect, undoOf, groups) {
  const counts = groups?.counts || {};
  const ctx = { statusOf: statusOf || (() => null), onSelect: onSelect || (() => {}),
    undoOf: undoOf || (() => null), countsOf: ref => counts.steps?.[ref],
    branchesOf: ref => counts.branches?.[ref], expanded: groups?.expanded || new Set(),
    onToggle: groups?.onToggle || (() => {}) };
  const start = { w: 60, h: 24, draw(g, x, y) {
    g.appendChild(el("circle", { cx: x + 30, cy: y + 12, r: 11, class: "terminal" }));
  } };
  const body = sequence(definition.tasks || [], ctx);
  const parts = [start, body, start];
  const w = Math.max(...parts.map(p => p.w)) + 40;
  const h = parts.reduce((s, p) => s + p.h, 0) + GAP_Y * 2 + 40;
  const svg = el("svg", { viewBox: `0 0 ${w} ${h}`, width: w, height: h, class: "graph", role: "img" });
  const defs = el("defs");
  const marker = el("marker", { id: "arrowhead", markerWidth: 8, markerHeight: 8, refX: 7, refY: 4, orient: "auto" });
  marker.appendChild(el("path", { d: "M0,0 L8,4 L0,8 z", class: "arrowhead" }));
  defs.appendChild(marker);
  svg.appendChild(defs);
  const g = el("g");
  svg.appendChild(g);
  let top = 20;
  start.draw(g, (w - start.w) / 2, top, ctx);
  line(g, w / 2, top + 24, w / 2, top + 24 + GAP_Y, "arrow");
  top += 24 + GAP_Y;
  body.draw(g, (w - body.w) / 2, top, ctx);
  line(g, w / 2, top + body.h, w / 2, top + body.h + GAP_Y, "arrow");
  top += body.h + GAP_Y;
  g.appendChild(el("circle", { cx: w / 2, cy: top + 12, r: 11, class: "terminal end" }));
  container.replaceChildren(svg, ...legend(svg));
  // Compensations widen a step's layout on both sides to keep it on the axis; once drawn, the
  // picture is cropped to what it holds, so the unused side takes no room.
  const drawn = g.getBBox();
  if (drawn.width > 0) {
    const cw = Math.ceil(drawn.width + 40), ch = Math.ceil(drawn.height + 40);
    svg.setAttribute("viewBox", `${Math.floor(drawn.x - 20)} ${Math.floor(drawn.y - 20)} ${cw} ${ch}`);
    svg.setAttribute("width", cw);
    svg.setAttribute("height", ch);
  }
  return svg;
}

// What the graph's less obvious marks mean, for the marks it has.
function legend(svg) {
  if (!svg.querySelector(".node.compensation")) return [];
  const swatch = el("svg", { width: 34, height: 14, class: "swatch", "aria-hidden": "true" });
  swatch.appendChild(el("path", { d: "M0,7 L12,7", class: "edge undo" }));
  swatch.appendChild(el("rect", { x: 13, y: 1, width: 20, height: 12, rx: 3, class: "compensation-swatch" }));
  const item = document.createElement("span");
  item.className = "legend-item";
  item.append(swatch, "↺ compensation: runs to undo the step beside it if the run fails after that step " +
    "completed (newest first, one at a time)");
  const box = document.createElement("div");
  box.className = "legend";
  box.id = "graph-legend";
  box.append(item);
  return [box];
}
