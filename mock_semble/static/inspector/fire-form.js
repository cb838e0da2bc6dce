// mock-semble inspector: the "Fire an event" form (POST /__mock/events).
import { fillSelect, h } from "./render.js";

const $ = (id) => document.getElementById(id);

// state: the page's state (hello, world); api/act: calls and their result line;
// showSoon(id): select a delivery once the stream brings it.
export function setUpFireForm({ state, api, act, showSoon }) {
  function fillEventTypes(types) {
    const picker = $("fire-type");
    if (picker.options.length) return;
    const groups = new Map();
    for (const spec of types) {
      if (!groups.has(spec.group)) groups.set(spec.group, []);
      groups.get(spec.group).push(spec);
    }
    picker.replaceChildren(...[...groups].map(([group, specs]) => h("optgroup", { label: group },
      specs.map((s) => h("option", { value: s.type, text: s.type })))));
    picker.value = types.some((s) => s.type === "patient.created") ? "patient.created" : types[0].type;
    describeEventType();
  }

  function describeEventType() {
    const spec = (state.hello?.eventTypes || []).find((s) => s.type === $("fire-type").value);
    if (!spec) return;
    const parts = [];
    if (spec.required.length) parts.push(`required: ${spec.required.join(", ")}`);
    if (spec.alternatives.length) parts.push(`one of: ${spec.alternatives.map((a) => a.join(" | ")).join(", ")}`);
    if (spec.optional.length) parts.push(`optional: ${spec.optional.join(", ")}`);
    $("fire-identifiers-hint").textContent = parts.length
      ? `Keys ${parts.join("; ")}. Required keys left out are generated.`
      : "This event has no identifiers.";
    $("fire-metadata-group").hidden = spec.metadata.length === 0;
    $("fire-metadata-hint").textContent = spec.metadata
      .map((m) => `${m.key}${m.optional ? "?" : ""} (${m.type})`).join(", ");
    fillSubscriptions();
  }

  function fillSubscriptions() {
    const practice = state.world?.practices.find((p) => p.id === $("fire-practice").value);
    const type = $("fire-type").value;
    const subs = (practice?.subscriptions || []).filter((s) => !s.deleted && s.eventTypes.includes(type));
    fillSelect($("fire-subscription"), [["", "every subscription listening"],
      ...subs.map((s) => [s.id, `${s.label || s.url} (${s.id.slice(-6)})`])], "");
  }

  function jsonField(id) {
    const area = $(id);
    area.removeAttribute("aria-invalid");
    const text = area.value.trim();
    if (!text) return undefined;
    let value;
    try {
      value = JSON.parse(text);
    } catch {
      value = null;
    }
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      area.setAttribute("aria-invalid", "true");
      area.focus();
      throw new Error(`${area.labels[0].textContent}: not a JSON object`);
    }
    return value;
  }

  async function fire(event) {
    event.preventDefault();
    await act("fire-result", async () => {
      const body = { eventType: $("fire-type").value, practiceId: $("fire-practice").value };
      if ($("fire-subscription").value) body.subscriptionId = $("fire-subscription").value;
      const identifiers = jsonField("fire-identifiers");
      if (identifiers) body.identifiers = identifiers;
      if (!$("fire-metadata-group").hidden) {
        const metadata = jsonField("fire-metadata");
        if (metadata) body.metadata = metadata;
      }
      const { deliveries } = await api("POST", "/__mock/events", body);
      if (!deliveries.length) return `Fired ${body.eventType}: no subscription of this practice listens to it.`;
      showSoon(deliveries[0].id);
      return `Fired ${body.eventType}: ${deliveries.length} ${deliveries.length === 1 ? "delivery" : "deliveries"}.`;
    });
  }

  $("fire-form").addEventListener("submit", fire);
  $("fire-type").addEventListener("change", describeEventType);
  $("fire-practice").addEventListener("change", fillSubscriptions);
  return { fillEventTypes, fillSubscriptions };
}
