// Lays a Conductor workflow definition out as an SVG graph: sequences top to bottom, forks and
// switch cases side by side, DO_WHILE bodies inside a frame with a loop-back edge.
const NODE_W = 168, NODE_H = 40, GAP_Y = 26, GAP_X = 22, PAD = 14;
const SVG_NS = "http://www.w3.org/2000/svg";

function el(name, attrs, text) {
  const node = document.createElementNS(SVG_NS, name);
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

// Each layout is {w, h, draw(g, x, y)} where (x, y) is its top-left corner; the entry point is
// at the top centre and the exit at the bottom centre.
function box(step, kind) {
  return {
    w: NODE_W, h: NODE_H,
    draw(g, x, y, ctx) {
      const node = el("g", {
        class: `node ${kind || ""}`, "data-ref": step.taskReferenceName,
        "data-type": step.type || "SIMPLE", tabindex: "0",
      });
      const status = ctx.statusOf(step.taskReferenceName);
      node.setAttribute("data-status", status || "NOT_STARTED");
      node.appendChild(el("rect", { x, y, width: NODE_W, height: NODE_H, rx: 7 }));
      node.appendChild(el("text", { x: x + NODE_W / 2, y: y + 17, class: "ref" },
        clip(step.taskReferenceName, 22)));
      node.appendChild(el("text", { x: x + NODE_W / 2, y: y + 32, class: "type" },
        clip(`${step.type || "SIMPLE"}${status ? " · " + status : ""}`, 28)));
      // A saga step that was undone: its compensation's status in a tag on the corner.
      const undo = ctx.undoOf(step.taskReferenceName);
      if (undo) {
        node.setAttribute("data-compensation", undo);
        node.classList.add("undone");
        const tag = el("g", { class: `undo u-${undo}` });
        tag.appendChild(el("rect", { x: x + NODE_W - 30, y: y - 8, width: 36, height: 16, rx: 8 }));
        tag.appendChild(el("text", { x: x + NODE_W - 12, y: y + 4 }, "↺"));
        node.appendChild(tag);
      }
      const title = el("title", {}, `${step.taskReferenceName} (${step.name})${status ? ": " + status : ""}` +
        (undo ? `; compensation ${undo}` : ""));
      node.appendChild(title);
      node.addEventListener("click", () => ctx.onSelect(step.taskReferenceName));
      g.appendChild(node);
    },
  };
}

function clip(text, n) { return text.length > n ? text.slice(0, n - 1) + "…" : text; }

function line(g, x1, y1, x2, y2, cls) {
  g.appendChild(el("path", { d: `M${x1},${y1} L${x2},${y2}`, class: `edge ${cls || ""}` }));
}

function sequence(steps) {
  const parts = steps.map(layoutStep);
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
function branching(head, branches, labels) {
  const cols = branches.map(sequence);
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
          g.appendChild(el("text", { x: cx + 4, y: top - 6, class: "case" }, clip(String(labels[i]), 18)));
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

function loop(step) {
  const head = box(step, "loop");
  const body = sequence(step.loopOver || []);
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

function layoutStep(step) {
  switch (step.type) {
    case "FORK_JOIN":
      return branching(box(step, "fork"), step.forkTasks || []);
    case "SWITCH":
    case "DECISION": {
      const cases = Object.entries(step.decisionCases || {});
      const branches = cases.map(([, tasks]) => tasks);
      const labels = cases.map(([name]) => name);
      branches.push(step.defaultCase || []);
      labels.push("default");
      return branching(box(step, "switch"), branches, labels);
    }
    case "DO_WHILE":
      return loop(step);
    default:
      return box(step, step.type === "JOIN" ? "join" : "");
  }
}

// Draws ``definition`` into ``container``; ``statusOf(ref)`` colours nodes, ``onSelect(ref)``
// is called when one is clicked, ``undoOf(ref)`` is the status of the step's compensation.
export function drawWorkflow(container, definition, statusOf, onSelect, undoOf) {
  const ctx = { statusOf: statusOf || (() => null), onSelect: onSelect || (() => {}),
    undoOf: undoOf || (() => null) };
  const start = { w: 60, h: 24, draw(g, x, y) {
    g.appendChild(el("circle", { cx: x + 30, cy: y + 12, r: 11, class: "terminal" }));
  } };
  const body = sequence(definition.tasks || []);
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
  container.replaceChildren(svg);
  return svg;
}
