// Small DOM helpers: every value goes in as text, never as HTML.
export function h(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "class") node.className = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

export function statusBadge(status) {
  return h("span", { class: `status s-${status || "NONE"}` }, status || "—");
}

export function when(ms) {
  if (!ms) return "—";
  return new Date(ms).toLocaleString(undefined, { hour12: false });
}

export function duration(start, end) {
  if (!start) return "—";
  const ms = (end || Date.now()) - start;
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60000)} min ${Math.round((ms % 60000) / 1000)} s`;
}

export function json(value) {
  return h("pre", { class: "json" }, JSON.stringify(value, null, 2));
}

export function notice(message, kind) {
  const box = document.getElementById("notice");
  if (!message) { box.hidden = true; return; }
  box.hidden = false;
  box.className = `notice ${kind || "info"}`;
  box.textContent = message;
}
