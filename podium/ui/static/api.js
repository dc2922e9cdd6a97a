// The REST API as the UI uses it. A route this server does not have (a feature another
// release adds) raises MissingFeature, so views can say so instead of failing.
export class MissingFeature extends Error {}
export class ApiError extends Error {
  constructor(status, body) {
    super(body && body.message ? body.message : `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

async function request(method, path, body, what) {
  const init = { method, headers: { Accept: "application/json" } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = text; }
  if (response.ok) return data;
  // FastAPI answers an unknown route with E_HTTP 404 (or 405 for an unknown method); a known
  // route answers with its own error code.
  const unknownRoute = (response.status === 404 || response.status === 405) &&
    (!data || data.code === "E_HTTP" || data.detail === "Not Found");
  if (unknownRoute && what) throw new MissingFeature(what);
  throw new ApiError(response.status, data);
}

export const api = {
  search: params => request("GET", "/api/workflow/search?" + new URLSearchParams(params)),
  run: id => request("GET", `/api/workflow/${encodeURIComponent(id)}`),
  definitions: () => request("GET", "/api/metadata/workflow"),
  definition: (name, version) => request("GET",
    `/api/metadata/workflow/${encodeURIComponent(name)}` + (version ? `?version=${version}` : "")),
  services: () => request("GET", "/api/services"),
  trace: cid => request("GET", `/api/trace/${encodeURIComponent(cid)}`, undefined,
    "the correlation trace (GET /api/trace/{correlationId}) comes with the event bus"),
  retry: id => request("POST", `/api/workflow/${id}/retry`),
  restart: id => request("POST", `/api/workflow/${id}/restart`),
  pause: id => request("PUT", `/api/workflow/${id}/pause`),
  resume: id => request("PUT", `/api/workflow/${id}/resume`),
  terminate: (id, reason) => request("DELETE",
    `/api/workflow/${id}?reason=${encodeURIComponent(reason || "terminated from the UI")}`),
  rerun: (id, taskId) => request("POST", `/api/workflow/${id}/rerun`,
    { reRunFromWorkflowId: id, reRunFromTaskId: taskId },
    "re-running from a task (POST /api/workflow/{id}/rerun)"),
  skip: (id, ref) => request("PUT", `/api/workflow/${id}/skiptask/${encodeURIComponent(ref)}`, {},
    "skipping a task (PUT /api/workflow/{id}/skiptask/{ref})"),
  // Finishing a HUMAN or WAIT task from outside, or signalling one, is the same call.
  finishTask: (id, ref, status, output) => request("POST",
    `/api/tasks/${id}/${encodeURIComponent(ref)}/${status}`, output || {}),
};
