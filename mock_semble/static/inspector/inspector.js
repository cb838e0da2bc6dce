// mock-semble inspector: reads /__mock/stream (server-sent events read with fetch, so
// the admin token can travel as a header) and calls the control plane for actions.
import { setUpFireForm } from "./fire-form.js";
import {
  deliveryDetail, deliveryRows, faultRows, fillSelect, h, patientViews, practiceViews, refill,
  requestRows,
} from "./render.js";
import { readEvents } from "./stream.js";

const $ = (id) => document.getElementById(id);
const TOKEN_KEY = "mock-semble-admin-token";
const MAX_DELIVERIES = 500;
const RECONNECT_MS = 1000;
const FAULTS_POLL_MS = 1000;
const tokenRequired =
  document.querySelector('meta[name="mock-semble-admin-token"]').content === "required";

const state = {
  hello: null,
  world: null,
  requests: { requests: [], count: 0 },
  deliveries: new Map(), // id -> delivery, journal order
  subscriptions: new Map(), // id -> subscription (from world)
  selected: null,
  pendingSelect: null, // a delivery to show as soon as the stream brings it
  secrets: new Map(), // revealed on request only
  faults: null,
};
let token = sessionStorage.getItem(TOKEN_KEY) || "";
let form = null; // the fire form's { fillEventTypes, fillSubscriptions }, once set up

// -- calls -------------------------------------------------------------------------

function headers(extra = {}) {
  return token ? { ...extra, "x-mock-admin-token": token } : { ...extra };
}

async function api(method, path, body) {
  const init = { method, cache: "no-store", headers: headers() };
  if (body !== undefined) {
    init.headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (response.status === 401) askForToken("The admin token was refused.");
  if (!response.ok) throw new Error((data && data.error) || `HTTP ${response.status}`);
  return data;
}

function say(id, text, kind = "ok") {
  const el = $(id);
  if (!el) return;
  el.textContent = text;
  el.dataset.kind = kind;
}

async function act(resultId, work) {
  try {
    say(resultId, await work());
  } catch (err) {
    say(resultId, err.message, "error");
  }
}

// -- the stream ------------------------------------------------------------------------

let generation = 0;
let streamAbort = null;

function setConnection(kind, text) {
  const el = $("connection");
  el.dataset.state = kind;
  el.textContent = text;
}

async function connect() {
  const mine = ++generation;
  if (streamAbort) streamAbort.abort();
  if (tokenRequired && !token) {
    askForToken();
    return;
  }
  const control = new AbortController();
  streamAbort = control;
  setConnection("connecting", "Connecting…");
  try {
    const response = await fetch("/__mock/stream?replay=200", {
      headers: headers({ accept: "text/event-stream" }),
      cache: "no-store",
      signal: control.signal,
    });
    if (response.status === 401) {
      askForToken("The admin token was refused.");
      return;
    }
    if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
    setConnection("live", "Live");
    await readEvents(response.body, onEvent);
    if (mine === generation) setConnection("connecting", "The server closed the stream; reconnecting…");
  } catch (err) {
    if (control.signal.aborted) return;
    setConnection("error", `Disconnected (${err.message}); retrying…`);
  }
  setTimeout(() => {
    if (mine === generation) connect();
  }, RECONNECT_MS);
}

function onEvent(event, data) {
  if (event === "hello") {
    state.hello = data;
    state.deliveries.clear(); // the replay that follows refills it
    form.fillEventTypes(data.eventTypes);
    $("tab-faults").hidden = !data.faults;
    if (data.faults) pollFaults();
    render("deliveries");
  } else if (event === "world") {
    state.world = data;
    state.subscriptions = new Map(
      data.practices.flatMap((p) => p.subscriptions.map((s) => [s.id, s])),
    );
    render("world", "deliveries");
  } else if (event === "requests") {
    state.requests = data;
    render("requests");
  } else if (event === "delivery") {
    const d = data.delivery;
    state.deliveries.set(d.id, d);
    while (state.deliveries.size > MAX_DELIVERIES) {
      state.deliveries.delete(state.deliveries.keys().next().value);
    }
    if (state.pendingSelect === d.id) {
      state.pendingSelect = null;
      state.selected = d.id;
    }
    render("deliveries");
  } else if (event === "removed") {
    for (const id of data.ids) state.deliveries.delete(id);
    render("deliveries");
  }
}

// -- rendering (batched: a burst of events renders once) --------------------------------

const dirty = new Set();
let renderTimer = null;

function render(...parts) {
  parts.forEach((part) => dirty.add(part));
  if (renderTimer === null) renderTimer = setTimeout(flush, 30);
}

function flush() {
  renderTimer = null;
  const parts = new Set(dirty);
  dirty.clear();
  if (parts.has("world") && state.world) renderWorld();
  if (parts.has("requests")) renderRequests();
  if (parts.has("deliveries")) renderDeliveries();
}

function renderDeliveries() {
  const newestFirst = [...state.deliveries.values()].reverse();
  if (state.selected && !state.deliveries.has(state.selected)) state.selected = null;
  refill($("delivery-rows"), deliveryRows(newestFirst, state.selected, state.subscriptions, select));
  $("deliveries-empty").hidden = newestFirst.length > 0;
  $("count-deliveries").textContent = `(${newestFirst.length})`;
  const detail = $("delivery-detail");
  const chosen = state.deliveries.get(state.selected);
  const result = $("detail-result");
  const kept = result ? [result.textContent, result.dataset.kind] : null;
  if (!chosen) {
    refill(detail, [h("p", { class: "empty", text: "Choose a delivery to see its body, attempts and signatures." })]);
    return;
  }
  const secret = state.secrets.get(chosen.subscriptionId);
  refill(detail, deliveryDetail(chosen, state.subscriptions, secret, { redeliver, reveal, hide }));
  if (kept && kept[0]) say("detail-result", kept[0], kept[1]);
}

function select(id) {
  state.selected = id;
  renderDeliveries();
  $("delivery-detail").focus();
}

function renderWorld() {
  const world = state.world;
  const practices = world.practices.map((p) => [p.id, `${p.name} (${p.id.slice(-6)})`]);
  fillSelect($("fire-practice"), practices, world.defaultPracticeId);
  fillSelect($("reset-scope"), [["", "everything"], ...practices.map(([v, t]) => [v, `practice ${t}`])], "");
  form.fillSubscriptions();
  refill($("practices"), practiceViews(world));
  refill($("patients"), patientViews(world));
  $("count-practices").textContent = `(${world.practiceCount})`;
  const patients = world.practices.reduce((sum, p) => sum + p.patients.count, 0);
  $("count-patients").textContent = `(${patients})`;
  const clock = world.clock;
  $("clock-state").textContent = clock.frozen
    ? `Clock: frozen at ${clock.frozenAt}`
    : `Clock: real time${clock.offsetSeconds ? ` ${clock.offsetSeconds > 0 ? "+" : ""}${clock.offsetSeconds} s` : ""}`;
}

function renderRequests() {
  const { requests, count } = state.requests;
  const rows = requestRows(requests);
  refill($("request-rows"), rows.length ? rows : [h("tr", {}, h("td", { colspan: 6, class: "empty", text: "No GraphQL requests yet." }))]);
  $("requests-caption").textContent = `GraphQL requests, newest first (${requests.length} of ${count})`;
  $("count-requests").textContent = `(${count})`;
}

function showSoon(id) {
  if (state.deliveries.has(id)) {
    state.selected = id;
    render("deliveries");
  } else {
    state.pendingSelect = id;
  }
}

// -- delivery actions ------------------------------------------------------------------------

async function redeliver(id) {
  await act("detail-result", async () => {
    const created = await api("POST", `/__mock/deliveries/${encodeURIComponent(id)}/redeliver`, {});
    showSoon(created.id);
    return `Redelivered as ${created.id}.`;
  });
}

async function reveal(subscriptionId) {
  await act("detail-result", async () => {
    const shown = await api("GET", `/__mock/view/subscriptions/${encodeURIComponent(subscriptionId)}/secret`);
    state.secrets.set(subscriptionId, shown.secret);
    render("deliveries");
    return "Secret revealed.";
  });
}

function hide(subscriptionId) {
  state.secrets.delete(subscriptionId);
  render("deliveries");
  say("detail-result", "Secret hidden.");
}

// -- faults ----------------------------------------------------------------------------------

let faultsTimer = null;

async function pollFaults() {
  clearTimeout(faultsTimer);
  try {
    const data = await api("GET", "/__mock/faults");
    const rules = Array.isArray(data) ? data : Object.values(data || {}).find(Array.isArray) || [];
    refill($("fault-rows"), faultRows(rules));
    $("count-faults").textContent = `(${rules.length})`;
  } catch (err) {
    refill($("fault-rows"), [h("tr", {}, h("td", { colspan: 6, text: `Cannot read fault rules: ${err.message}` }))]);
  }
  if (state.hello?.faults) faultsTimer = setTimeout(pollFaults, FAULTS_POLL_MS);
}

// -- token, tabs, buttons ------------------------------------------------------------------------

function askForToken(reason) {
  generation++; // stop reconnecting until a token is given
  if (streamAbort) streamAbort.abort();
  setConnection("token", reason || "Admin token needed");
  const form = $("token-form");
  form.hidden = false;
  $("token-input").focus();
}

function useToken(event) {
  event.preventDefault();
  token = $("token-input").value;
  sessionStorage.setItem(TOKEN_KEY, token);
  $("token-form").hidden = true;
  $("token-input").value = "";
  connect();
}

function setUpTabs() {
  const tabs = [...document.querySelectorAll('[role="tab"]')];
  const choose = (tab, focus) => {
    for (const other of tabs) {
      const on = other === tab;
      other.setAttribute("aria-selected", String(on));
      other.tabIndex = on ? 0 : -1;
      $(other.getAttribute("aria-controls")).hidden = !on;
    }
    if (focus) tab.focus();
  };
  for (const tab of tabs) tab.addEventListener("click", () => choose(tab, false));
  $("views").querySelector('[role="tablist"]').addEventListener("keydown", (event) => {
    const visible = tabs.filter((t) => !t.hidden);
    const at = visible.indexOf(document.activeElement);
    if (at === -1) return;
    const moves = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: visible.length - 1 };
    if (!(event.key in moves)) return;
    event.preventDefault();
    choose(visible[(moves[event.key] + visible.length) % visible.length], true);
  });
}

function setUp() {
  setUpTabs();
  form = setUpFireForm({ state, api, act, showSoon });
  $("token-form").addEventListener("submit", useToken);
  $("clock-freeze").addEventListener("click", () => act("control-result", async () => {
    const clock = await api("GET", "/__mock/clock");
    await api("PUT", "/__mock/clock", { frozenAt: clock.now });
    return `Clock frozen at ${clock.now}.`;
  }));
  $("clock-unfreeze").addEventListener("click", () => act("control-result", async () => {
    await api("DELETE", "/__mock/clock");
    return "Clock back to real time.";
  }));
  $("clear-journals").addEventListener("click", () => act("control-result", async () => {
    await api("DELETE", "/__mock/deliveries");
    await api("DELETE", "/__mock/requests");
    return "Delivery and request journals cleared.";
  }));
  $("reset-button").addEventListener("click", () => act("control-result", async () => {
    const practiceId = $("reset-scope").value;
    const query = practiceId ? `?practiceId=${encodeURIComponent(practiceId)}` : "";
    await api("POST", `/__mock/reset${query}`);
    return practiceId ? `Practice ${practiceId} reset.` : "Everything reset.";
  }));
  renderRequests();
  connect();
}

setUp();
