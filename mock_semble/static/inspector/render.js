// mock-semble inspector: turning the stream's JSON into DOM. Text only goes through
// textContent (never innerHTML), so nothing a client sent can become markup.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "text") el.textContent = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

// Replace a container's content; keyboard focus stays on the "same" control when the
// new content has one with the same data-focus-key.
export function refill(container, nodes) {
  const active = document.activeElement;
  const key = active && container.contains(active) ? active.dataset.focusKey : undefined;
  container.replaceChildren(...nodes.flat().filter((n) => n !== null && n !== undefined));
  if (key) {
    const again = container.querySelector(`[data-focus-key="${CSS.escape(key)}"]`);
    if (again) again.focus();
  }
}

export const timeOf = (iso) => (iso ? iso.slice(11, 23) : "");
const dash = (value) => (value === null || value === undefined || value === "" ? "—" : String(value));

const STATUS_TONES = {
  succeeded: "ok", failed: "bad", retrying: "warn", pending: "info",
  skipped_paused: "warn", recorded: "info",
};
const SIGNATURES = {
  valid: ["ok", "Signature valid"],
  invalid: ["bad", "Signature invalid"],
  missing: ["bad", "Signature missing"],
  stale: ["warn", "Signature stale"],
  "not sent": ["info", "Not sent"],
  unchecked: ["info", "Signature not checked"],
};

export function badge(tone, text, extra = {}) {
  return h("span", { class: "badge", dataset: { tone, ...extra }, text });
}

const statusBadge = (status) => badge(STATUS_TONES[status] || "info", status.replace("_", " "));

function signatureBadge(check) {
  const [tone, text] = SIGNATURES[check.result] || ["info", check.result];
  return badge(tone, text, { signature: check.result });
}

function lastOutcome(delivery) {
  const last = delivery.attempts[delivery.attempts.length - 1];
  if (!last) return "—";
  if (last.responseStatus !== null) return String(last.responseStatus);
  if (delivery.status === "recorded") return "recorded";
  return last.error ? last.error.split(":")[0] : "—";
}

export function subscriptionName(subscriptions, id) {
  const sub = subscriptions.get(id);
  return sub ? sub.label || sub.url : id;
}

export function deliveryRows(deliveries, selectedId, subscriptions, onShow) {
  return deliveries.map((d) => {
    const time = timeOf(d.createdAt);
    return h(
      "tr",
      { "aria-current": d.id === selectedId ? "true" : null, dataset: { deliveryId: d.id } },
      h("td", {}, h("button", {
        type: "button", class: "row-button", text: time, title: d.createdAt,
        "aria-label": `Show delivery of ${d.eventType} at ${time}`,
        dataset: { focusKey: `show-${d.id}` }, onclick: () => onShow(d.id),
      })),
      h("td", {}, h("div", { text: d.eventType }),
        h("div", { class: "sub url", text: subscriptionName(subscriptions, d.subscriptionId) })),
      h("td", {}, statusBadge(d.status)),
      h("td", { text: lastOutcome(d) }),
      h("td", { text: String(d.attempts.length) }),
    );
  });
}

function prettyBody(text) {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

function definitions(pairs) {
  return h("dl", {}, pairs.filter(([, v]) => v !== undefined).flatMap(([term, value]) => [
    h("dt", { text: term }),
    h("dd", {}, value instanceof Node ? value : dash(value)),
  ]));
}

function headerTable(headers, caption) {
  const names = Object.keys(headers);
  if (!names.length) return h("p", { class: "empty", text: "No request headers (never sent)." });
  return h("div", { class: "scroll" }, h("table", {},
    h("caption", { text: caption }),
    h("thead", {}, h("tr", {}, h("th", { scope: "col", text: "Header" }),
      h("th", { scope: "col", text: "Value" }))),
    h("tbody", {}, names.map((name) => h("tr", {},
      h("th", { scope: "row", class: "mono", text: name }),
      h("td", { class: "mono url", text: headers[name] })))),
  ));
}

function attemptView(attempt) {
  const check = attempt.signatureCheck || { result: "unchecked", detail: "" };
  return h("section", { class: "attempt", "aria-label": `Attempt ${attempt.number}` },
    h("h4", {}, `Attempt ${attempt.number} `, signatureBadge(check)),
    definitions([
      ["Sent at", attempt.at],
      ["Response status", attempt.responseStatus],
      ["Duration", `${attempt.durationMs} ms`],
      ["Error", attempt.error],
      ["Signature", check.detail],
    ]),
    headerTable(attempt.requestHeaders, `Request headers of attempt ${attempt.number}`),
    attempt.responseBody === null ? null : h("h5", { text: "Response body (first 4 KiB)" }),
    attempt.responseBody === null ? null : h("pre", { text: attempt.responseBody }),
  );
}

export function deliveryDetail(d, subscriptions, secret, actions) {
  const sub = subscriptions.get(d.subscriptionId);
  const secretArea = secret === undefined
    ? h("button", {
      type: "button", class: "secondary", text: "Reveal secret",
      dataset: { focusKey: "reveal" }, onclick: () => actions.reveal(d.subscriptionId),
    })
    : h("span", { class: "secret" },
      h("span", { text: "Secret:" }), h("code", { text: secret }),
      h("button", {
        type: "button", class: "secondary", text: "Hide secret",
        dataset: { focusKey: "reveal" }, onclick: () => actions.hide(d.subscriptionId),
      }));
  return [
    h("h2", { id: "delivery-title" }, `${d.eventType} `, statusBadge(d.status)),
    definitions([
      ["Delivery", h("span", { class: "id", text: d.id })],
      ["Event id", h("span", { class: "id", text: d.eventId })],
      ["Subscription", sub ? `${sub.label || "(no label)"} — ${d.subscriptionId}` : d.subscriptionId],
      ["Practice", h("span", { class: "id", text: d.practiceId })],
      ["URL", h("span", { class: "url", text: d.url })],
      ["Sent to", d.targetUrl !== d.url ? h("span", { class: "url", text: d.targetUrl }) : undefined],
      ["Created", d.createdAt],
      ["Fault", d.fault === undefined ? undefined : JSON.stringify(d.fault)],
      ["Paused its subscription", d.pausedSubscription ? "yes (circuit breaker)" : undefined],
    ]),
    h("div", { class: "buttons" },
      h("button", {
        type: "button", text: "Redeliver", dataset: { focusKey: "redeliver" },
        onclick: () => actions.redeliver(d.id),
      }),
      secretArea,
    ),
    h("p", { id: "detail-result", class: "result", role: "status" }),
    h("h3", { text: "Body" }),
    h("pre", { class: "body", text: prettyBody(d.body) }),
    h("h3", { text: `Attempts (${d.attempts.length})` }),
    d.attempts.length ? d.attempts.map(attemptView) : h("p", { class: "empty", text: "No attempt yet." }),
  ];
}

function table(caption, columns, rows) {
  return h("div", { class: "scroll" }, h("table", {},
    h("caption", { text: caption }),
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col", text: c })))),
    h("tbody", {}, rows),
  ));
}

function subscriptionState(sub) {
  if (sub.deleted) return badge("bad", "deleted");
  if (sub.paused) return badge("warn", "paused");
  return badge("ok", "active");
}

export function practiceViews(world) {
  return world.practices.map((p) => {
    const subs = p.subscriptions.slice().reverse();
    const more = p.subscriptionCount > subs.length ? ` (newest ${subs.length} of ${p.subscriptionCount})` : "";
    return h("article", { class: "practice", "aria-labelledby": `practice-${p.id}` },
      h("h2", { id: `practice-${p.id}`, text: p.name }),
      definitions([
        ["Id", h("span", { class: "id", text: p.id })],
        ["Webhooks enabled", p.webhooksEnabled ? "yes" : "no"],
        ["Patients", String(p.patients.count)],
      ]),
      subs.length
        ? table(`Subscriptions of ${p.name}${more}`,
          ["Label", "URL", "Events", "State", "Custom headers", "Updated"],
          subs.map((s) => h("tr", {},
            h("td", {}, h("div", { text: s.label || "(no label)" }), h("div", { class: "id", text: s.id })),
            h("td", { class: "url", text: s.url }),
            h("td", { text: s.eventTypes.join(", ") }),
            h("td", {}, subscriptionState(s)),
            h("td", { class: "mono", text: s.headerNames.join(", ") || "—" }),
            h("td", { text: s.updatedAt }))))
        : h("p", { class: "empty", text: "No subscriptions." }),
    );
  });
}

export function patientViews(world) {
  return world.practices.map((p) => {
    const { count, newest } = p.patients;
    return h("article", { class: "practice", "aria-labelledby": `patients-${p.id}` },
      h("h2", { id: `patients-${p.id}`, text: `${p.name}: ${count} patient${count === 1 ? "" : "s"}` }),
      newest.length
        ? table(`Patients of ${p.name}, newest first${count > newest.length ? ` (${newest.length} of ${count})` : ""}`,
          ["Name", "Id", "Status", "Updated"],
          newest.map((x) => h("tr", {},
            h("td", { text: [x.firstName, x.lastName].filter(Boolean).join(" ") || "—" }),
            h("td", { class: "id", text: x.id }),
            h("td", {}, badge(x.status === "active" ? "ok" : x.status === "deleted" ? "bad" : "warn", x.status)),
            h("td", { text: x.updatedAt }))))
        : h("p", { class: "empty", text: "No patients." }),
    );
  });
}

export function requestRows(requests) {
  return requests.map((r) => h("tr", {},
    h("td", { title: r.time, text: timeOf(r.time) }),
    h("td", { text: dash(r.operationName) }),
    h("td", { class: "id", text: dash(r.practiceId) }),
    h("td", { text: String(r.status) }),
    h("td", { class: "mono", text: r.errorCodes.join(", ") || "—" }),
    h("td", { class: "id", text: dash(r.fault) }),
  ));
}

export function faultRows(rules) {
  if (!rules.length) {
    return [h("tr", {}, h("td", { colspan: 6, class: "empty", text: "No active fault rules." }))];
  }
  return rules.map((r) => h("tr", {},
    h("td", { class: "id", text: dash(r.id) }),
    h("td", { class: "mono", text: JSON.stringify(r.match ?? {}) }),
    h("td", { class: "mono", text: JSON.stringify(r.action ?? null) }),
    h("td", { text: r.times === null ? "until deleted" : dash(r.times) }),
    h("td", { text: dash(r.probability) }),
    h("td", { text: dash(r.hits) }),
  ));
}

// Options of a <select> as [value, text] pairs; left alone when unchanged (so an open
// picker is not disturbed), keeping the chosen value when it still exists.
function sameOptions(selectEl, options) {
  const now = [...selectEl.options].map((o) => `${o.value}=${o.textContent}`).join("\n");
  return now === options.map(([v, t]) => `${v}=${t}`).join("\n");
}

export function fillSelect(selectEl, options, preferred) {
  if (sameOptions(selectEl, options)) return;
  const previous = selectEl.value;
  selectEl.replaceChildren(...options.map(([value, text]) => h("option", { value, text })));
  const values = options.map(([v]) => v);
  selectEl.value = values.includes(previous) ? previous : values.includes(preferred) ? preferred : values[0] ?? "";
}
