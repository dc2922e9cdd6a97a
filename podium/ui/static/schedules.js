// The schedules: when each ticks (cron or interval, in its zone), its next ticks, its last runs
// linking to them, whether it is paused and why, its policies, and pause / resume buttons.
import { api, ApiError } from "./api.js";
import { h, statusBadge, notice } from "./dom.js";

const NEXT = 3;

// A time as the schedule's zone reads it, with the zone's abbreviation (CET, EST...).
export function zoned(ms, zone) {
  if (!ms) return "—";
  const options = { year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit",
    minute: "2-digit", second: "2-digit", hourCycle: "h23", timeZoneName: "short" };
  try {
    return new Intl.DateTimeFormat("sv-SE", { ...options, timeZone: zone || "UTC" }).format(new Date(ms));
  } catch {
    return new Intl.DateTimeFormat("sv-SE", { ...options, timeZone: "UTC" }).format(new Date(ms));
  }
}

function seconds(value) {
  for (const [unit, size] of [["d", 86400], ["h", 3600], ["min", 60]]) {
    if (value >= size && value % size === 0) return `${value / size} ${unit}`;
  }
  return `${value} s`;
}

function cadence(s) {
  return s.intervalSeconds ? `every ${seconds(s.intervalSeconds)}` : (s.cronExpression || "—");
}

function catchup(s) {
  const policy = s.catchupPolicy || (s.runCatchupScheduleInstances === false ? "NONE" : "ALL");
  return policy !== "NONE" && s.catchupWindowSeconds
    ? `${policy} within ${seconds(s.catchupWindowSeconds)}` : policy;
}

function policies(s) {
  const rows = [["overlap", s.overlapPolicy || "SKIP"], ["catch-up", catchup(s)]];
  if (s.jitterSeconds) rows.push(["jitter", seconds(s.jitterSeconds)]);
  if (s.pauseAfterFailures) rows.push(["pauses after", `${s.pauseAfterFailures} failures`]);
  return h("dl", { class: "policies" }, rows.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
}

function lastRuns(s, zone) {
  const runs = s.lastRuns || [];
  if (!runs.length) return h("span", { class: "muted" }, "no runs yet");
  return h("ul", { class: "last-runs" }, runs.slice(0, 5).map(run => h("li", { "data-tick": run.scheduledTime },
    run.workflowId
      ? h("a", { href: `#/run/${encodeURIComponent(run.workflowId)}` }, statusBadge(run.state))
      : statusBadge(run.state),
    " ", zoned(run.scheduledTime, zone))));
}

export function schedulesView() {
  const body = h("tbody");
  const count = h("span", { class: "muted" });
  const root = h("section", {}, h("div", { class: "heading" }, h("h1", {}, "Schedules"), count),
    h("div", { class: "table-scroll" }, h("table", { class: "schedules" },
      h("thead", {}, h("tr", {}, ["Schedule", "Workflow", "When", "Next", "Last runs", "Status", "Policies", ""]
        .map(t => h("th", {}, t)))), body)));
  // The next ticks of each schedule, fetched again only when its next run time moves.
  const nextCache = new Map();

  async function nextTimes(s) {
    const key = `${s.nextRunTime}|${s.cronExpression}|${s.intervalSeconds}|${s.zoneId}|${s.paused}`;
    const cached = nextCache.get(s.name);
    if (cached && cached.key === key) return cached.times;
    let times;
    try {
      times = await api.scheduleNext(s.name, NEXT);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      times = s.nextRunTime ? [s.nextRunTime] : [];
    }
    nextCache.set(s.name, { key, times });
    return times;
  }

  function act(call, done) {
    return async event => {
      event.target.disabled = true;
      try {
        await call();
        notice(done, "ok");
        await refresh();
      } catch (error) {
        notice(`Could not: ${error.message}`, "error");
      } finally {
        event.target.disabled = false;
      }
    };
  }

  function row(s, next) {
    const zone = s.zoneId || "UTC";
    const request = s.startWorkflowRequest || {};
    const status = s.paused
      ? h("div", {}, h("span", { class: "status s-PAUSED" }, "PAUSED"),
        s.pausedReason ? h("div", { class: "paused-reason muted" }, s.pausedReason) : "")
      : h("span", { class: "status s-RUNNING" }, "ACTIVE");
    const button = s.paused
      ? h("button", { type: "button", "data-action": "resume",
        onclick: act(() => api.resumeSchedule(s.name), `Resumed ${s.name}.`) }, "Resume")
      : h("button", { type: "button", "data-action": "pause",
        onclick: act(() => api.pauseSchedule(s.name, "paused from the UI"), `Paused ${s.name}.`) }, "Pause");
    return h("tr", { "data-schedule": s.name, "data-paused": String(Boolean(s.paused)) },
      h("td", {}, h("strong", {}, s.name), s.description ? h("div", { class: "muted" }, s.description) : ""),
      h("td", {}, request.name || "—", request.version ? h("span", { class: "muted" }, ` v${request.version}`) : ""),
      h("td", {}, h("span", { class: "mono" }, cadence(s)), h("div", { class: "muted" }, zone)),
      h("td", { class: "next" }, s.paused || !next.length ? h("span", { class: "muted" }, "—")
        : h("ul", { class: "next-times" }, next.map(t => h("li", {}, zoned(t, zone))))),
      h("td", {}, lastRuns(s, zone)),
      h("td", {}, status),
      h("td", {}, policies(s)),
      h("td", {}, button));
  }

  async function refresh() {
    const schedules = await api.schedules();
    const nexts = await Promise.all(schedules.map(s => (s.paused ? [] : nextTimes(s))));
    count.textContent = `${schedules.length} schedule${schedules.length === 1 ? "" : "s"}`;
    body.replaceChildren(...schedules.map((s, i) => row(s, nexts[i])));
    if (!schedules.length) {
      body.append(h("tr", {}, h("td", { colspan: 8, class: "muted" },
        "No schedules. Create one with `podium schedules create` or POST /api/scheduler/schedules.")));
    }
    return true;
  }
  return { root, refresh };
}
