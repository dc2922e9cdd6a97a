// Signing in to a server with authentication on: a small form asks for an API key
// (keyId:keySecret), checks it, and keeps it for this tab; "Sign out" forgets it.
import { api, auth } from "./api.js";
import { h } from "./dom.js";

// Any view may say the server wants a key; the router shows the form.
export function requireKey(message) {
  window.dispatchEvent(new CustomEvent("podium:signin", { detail: message }));
}

export function signInView(message, onSignedIn) {
  const input = h("input", {
    type: "password", name: "apiKey", autocomplete: "off", required: true,
    placeholder: "keyId:keySecret", "aria-label": "API key",
  });
  const error = h("p", { class: "error", id: "signin-error", hidden: true });
  const form = h("form", { class: "signin", id: "signin", onsubmit: async event => {
    event.preventDefault();
    const key = input.value.trim();
    if (!/^[^:\s]+:\S+$/.test(key)) {
      error.hidden = false;
      error.textContent = "An API key is written keyId:keySecret.";
      return;
    }
    const answer = await api.check(key);
    if (answer.status === 401) {
      let body = null;
      try { body = await answer.json(); } catch { body = null; }
      error.hidden = false;
      error.textContent = `Not accepted: ${body && body.message ? body.message : "HTTP 401"}`;
      return;
    }
    auth.signIn(key);
    renderAccount();
    onSignedIn();
  } },
  h("h1", {}, "Sign in"),
  h("p", { class: "muted", id: "signin-reason" }, message || "This server requires an API key."),
  h("label", {}, "API key ", input),
  h("button", { type: "submit" }, "Sign in"),
  error,
  h("p", { class: "muted" }, "The key is kept for this browser tab only and sent with every request."));
  setTimeout(() => input.focus(), 0);
  return form;
}

// The header's account corner: the key id signed in with, and "Sign out".
export function renderAccount() {
  const box = document.getElementById("account");
  const key = auth.key();
  if (!key) { box.replaceChildren(); return; }
  box.replaceChildren(h("span", { class: "who", title: "Signed in with this API key" }, key.split(":")[0]), " ",
    h("a", { href: "#", id: "signout", onclick: event => {
      event.preventDefault();
      auth.signOut();
      renderAccount();
      window.dispatchEvent(new HashChangeEvent("hashchange"));
    } }, "Sign out"));
}
