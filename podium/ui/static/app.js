// The UI's router: #/runs, #/run/<id>, #/definitions, #/definition/<name>/<version>,
// #/schedules, #/slos, #/services, #/trace/<correlationId>. Views that show live data refresh by polling.
import { api, MissingFeature, AuthRequired } from "./api.js";
import { notice } from "./dom.js";
import { signInView, renderAccount } from "./auth.js";
import { runsView } from "./runs.js";
import { runView } from "./run.js";
import { schedulesView } from "./schedules.js";
import { slosView } from "./slos.js";
import { definitionsView, definitionView, servicesView, traceView } from "./catalogue.js";

const REFRESH_MS = 1000;
let current = null;   // {refresh, dispose}
let timer = null;
let generation = 0;

const routes = [
  [/^#\/run\/([^/]+)$/, m => runView(decodeURIComponent(m[1]))],
  [/^#\/definitions$/, () => definitionsView()],
  [/^#\/definition\/([^/]+)\/(\d+)$/, m => definitionView(decodeURIComponent(m[1]), m[2])],
  [/^#\/schedules$/, () => schedulesView()],
  [/^#\/slos$/, () => slosView()],
  [/^#\/services$/, () => servicesView()],
  [/^#\/trace(?:\/(.*))?$/, m => traceView(m[1] ? decodeURIComponent(m[1]) : "")],
  [/^#\/runs(?:\?(.*))?$/, m => runsView(new URLSearchParams(m[1] || ""))],
];

async function route() {
  const mine = ++generation;
  clearTimeout(timer);
  if (current && current.dispose) current.dispose();
  notice(null);
  const hash = location.hash || "#/runs";
  const section = hash.split("/")[1].split("?")[0];
  document.querySelectorAll("[data-nav]").forEach(a => {
    const nav = a.dataset.nav;
    a.classList.toggle("active", nav === section || (nav === "runs" && section === "run") ||
      (nav === "definitions" && section === "definition"));
  });
  const view = document.getElementById("view");
  const match = routes.map(([pattern, make]) => [hash.match(pattern), make]).find(([m]) => m);
  if (!match) { location.hash = "#/runs"; return; }
  current = match[1](match[0]);
  view.replaceChildren(current.root);
  await tick(mine);
}

async function tick(mine) {
  if (mine !== generation) return;
  const live = document.getElementById("live");
  try {
    const keepGoing = await current.refresh();
    live.classList.toggle("on", Boolean(keepGoing));
    if (keepGoing && mine === generation) timer = setTimeout(() => tick(mine), REFRESH_MS);
  } catch (error) {
    live.classList.remove("on");
    if (error instanceof AuthRequired) {
      if (mine === generation) askForKey(error.message);
    } else if (error instanceof MissingFeature) {
      notice(`This server does not offer ${error.message} yet.`, "missing");
    } else {
      notice(`Could not load: ${error.message}`, "error");
      if (mine === generation) timer = setTimeout(() => tick(mine), REFRESH_MS * 3);
    }
  }
}

// The server answered 401: stop refreshing and ask for a key; once given, show the page again.
function askForKey(message) {
  generation++;
  clearTimeout(timer);
  if (current && current.dispose) current.dispose();
  current = null;
  notice(null);
  document.getElementById("live").classList.remove("on");
  document.getElementById("view").replaceChildren(signInView(message, route));
}

window.addEventListener("hashchange", route);
window.addEventListener("DOMContentLoaded", () => { renderAccount(); route(); });
window.addEventListener("podium:signin", event => askForKey(event.detail));
window.podium = { api };
