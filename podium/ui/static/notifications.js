// The notifications log: what was told to which channel about which run and service, its
// state and attempts, the last error of those not sent, and a replay button for each.
import { api, ApiError } from "./api.js";
import { h, when, notice } from "./dom.js";

const STATES = ["", "PENDING", "SENT", "DEAD"];

export function notificationsView(params) {
  const state = params.get("state") || "";
  const picker = h("select", { name: "state", "aria-label": "State", onchange: e => {
    location.hash = e.target.value ? `#/notifications?state=${e.target.value}` : "#/notifications";
  } }, STATES.map(s => h("option", { value: s, selected: s === state }, s || "every state")));
  const body = h("tbody");
  const root = h("section", { class: "notifications" }, h("h1", {}, "Notifications"),
    h("form", { class: "filters" }, picker),
    h("table", { id: "notifications" }, h("thead", {}, h("tr", {},
      ["Created", "Event", "Run", "Service", "Channel", "State", "Attempts", "Last error", ""]
        .map(t => h("th", {}, t)))), body));

  async function replay(id) {
    try {
      await api.replayNotification(id);
      notice(`Notification ${id} will be sent again.`, "ok");
    } catch (error) {
      notice(error instanceof ApiError ? error.message : String(error), "error");
    }
  }

  async function refresh() {
    const rows = await api.notifications(state ? { state } : {});
    body.replaceChildren(...rows.map(n => {
      const service = (n.message && n.message.service) || {};
      return h("tr", { "data-notification": n.id, "data-state": n.state },
        h("td", {}, when(n.createdAt)),
        h("td", {}, n.event),
        h("td", { class: "mono" }, n.runId ? h("a", { href: `#/run/${encodeURIComponent(n.runId)}` }, n.runId) : "—"),
        h("td", {}, n.service || "—", service.owner ? h("div", { class: "muted" }, service.owner) : "",
          service.runbook ? h("div", {}, h("a", { href: service.runbook, rel: "noopener", target: "_blank" }, "runbook")) : ""),
        h("td", { class: "mono" }, `${n.channel}`),
        h("td", {}, h("span", { class: `status s-${n.state}` }, n.state)),
        h("td", {}, String(n.attempts)),
        h("td", { class: "error-text" }, n.state === "SENT" ? "" : (n.lastError || "")),
        h("td", {}, h("button", { type: "button", "data-action": "replay",
          onclick: () => replay(n.id) }, n.state === "PENDING" ? "Send now" : "Replay")));
    }));
    if (!rows.length) body.append(h("tr", {}, h("td", { colspan: 9, class: "muted" }, "No notifications.")));
    return true;
  }
  return { root, refresh };
}
