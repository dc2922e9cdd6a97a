// The REST API as the UI uses it. A route this server does not have (a feature another
// release adds) raises MissingFeature, so views can say so instead of failing. A server with
// authentication on answers 401 until the operator gives an API key (keyId:keySecret), which
// is kept for the browser tab (sessionStorage) and sent as "Authorization: Bearer <key>".
export class MissingFeature extends Error {}
export class AuthRequired extends Error {}
const KEY_ITEM = "podium.apiKey";

export const auth = {
  key: () => sessionStorage.getItem(KEY_ITEM) || "",
  signIn: key => sessionStorage.setItem(KEY_ITEM, key),
  signOut: () => sessionStorage.removeItem(KEY_ITEM),
};
export class ApiError extends Error {
  constructor(status, body) {
    super(body && body.message ? body.message : `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

async function request(method, path, body, what) {
  const init = { method, headers: { Accept: "application/json" } };
  const key = auth.key();
  if (key) init.headers.Authorization = `Bearer ${key}`;
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = text; }
  if (response.ok) return data;
  if (response.status === 401) {
    throw new AuthRequired(data && data.message ? data.message : "this server requires an API key");
  }
  // FastAPI answers an unknown route with E_HTTP 404 (or 405 for an unknown method); a known
  // route answers with its own error code.
  const unknownRoute = (response.status === 404 || response.status === 405) &&
    (!data || data.code === "E_HTTP" || data.detail === "Not Found");
  if (unknownRoute && what) throw new MissingFeature(what);
  throw new ApiError(response.status, data);
}

// Query parameters without the empty ones.
const query = params => new URLSearchParams(
  Object.entries(params).filter(([, value]) => value !== "" && value !== null && value !== undefined));

export const api = {
  search: params => request("GET", "/api/workflow/search?" + new URLSearchParams(params)),
  run: id => request("GET", `/api/workflow/${encodeURIComponent(id)}`),
  // A big run is read in parts: the run without its tasks, a page of tasks, counts by step,
  // all three from one read of the run (overview), or a page of tasks alone.
  tasks: (id, params) => request("GET", `/api/workflow/${encodeURIComponent(id)}/tasks?` + query(params)),
  overview: (id, params) => request("GET",
    `/api/workflow/${encodeURIComponent(id)}/overview?` + query(params)),
  definitions: () => request("GET", "/api/metadata/workflow"),
  definition: (name, version) => request("GET",
    `/api/metadata/workflow/${encodeURIComponent(name)}` + (version ? `?version=${version}` : "")),
  services: () => request("GET", "/api/services"),
  schedules: () => request("GET", "/api/scheduler/schedules", undefined,
    "schedules (GET /api/scheduler/schedules)"),
  scheduleNext: (name, limit) => request("GET",
    `/api/scheduler/schedules/${encodeURIComponent(name)}/next?` + query({ limit })),
  pauseSchedule: (name, reason) => request("PUT",
    `/api/scheduler/schedules/${encodeURIComponent(name)}/pause?` + query({ reason })),
  resumeSchedule: name => request("PUT", `/api/scheduler/schedules/${encodeURIComponent(name)}/resume`),
  slos: () => request("GET", "/api/slos", undefined, "SLOs (GET /api/slos)"),
  trace: cid => request("GET", `/api/trace/${encodeURIComponent(cid)}`, undefined,
    "the correlation trace (GET /api/trace/{correlationId})"),
  // Checks a key without keeping it: a cheap read that needs the READ permission.
  check: key => fetch("/api/metadata/workflow", {
    headers: { Accept: "application/json", Authorization: `Bearer ${key}` },
  }),
  retry: id => request("POST", `/api/workflow/${id}/retry`),
  // A dry run (dryRun: true, filter) lists what a bulk retry would take; runIds retries those.
  bulkRerun: body => request("POST", "/api/bulk/rerun", body, "bulk retry (POST /api/bulk/rerun)"),
  restart: id => request("POST", `/api/workflow/${id}/restart`),
  pause: id => request("PUT", `/api/workflow/${id}/pause`),
  resume: id => request("PUT", `/api/workflow/${id}/resume`),
  // With compensate, a saga's completed steps are undone before the run ends.
  terminate: (id, reason, compensate) => request("DELETE", `/api/workflow/${id}?` + new URLSearchParams({
    reason: reason || "terminated from the UI", ...(compensate ? { compensate: "true" } : {}),
  })),
  rerun: (id, taskId) => request("POST", `/api/workflow/${id}/rerun`,
    { reRunFromWorkflowId: id, reRunFromTaskId: taskId },
    "re-running from a task (POST /api/workflow/{id}/rerun)"),
  skip: (id, ref) => request("PUT", `/api/workflow/${id}/skiptask/${encodeURIComponent(ref)}`, {},
    "skipping a task (PUT /api/workflow/{id}/skiptask/{ref})"),
  // Finishing a HUMAN or WAIT task from outside, or signalling one, is the same call.
  finishTask: (id, ref, status, output) => request("POST",
    `/api/tasks/${id}/${encodeURIComponent(ref)}/${status}`, output || {}),
};
