// A real GraphQL client (graphql-request) driving mock-semble's webhook API.
//
// Creates a subscription, lists it, reads it, updates it (label + deliveryPaused) and
// deletes it, checking every answer, plus two payload errors (a duplicate and an
// invalid url). One line per step on stdout; exit 0 on success, or 1 with a one-line
// reason on stderr.
//
//   cd examples && npm install
//   mock-semble serve &
//   node examples/node_client.mjs --url http://127.0.0.1:8000/graphql --token test-token

import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import { ClientError, GraphQLClient } from "graphql-request";

const FIELDS =
  "id secret url label eventTypes headers { key value } version createdAt updatedAt deleted deliveryPaused";
const CREATE = `
mutation CreateWebhook($input: CreateWebhookInput!) {
  createWebhook(input: $input) { data { ${FIELDS} } error }
}`;
const UPDATE = `
mutation UpdateWebhook($id: ID!, $input: UpdateWebhookInput!) {
  updateWebhook(id: $id, input: $input) { data { ${FIELDS} } error }
}`;
const DELETE = `
mutation DeleteWebhook($id: ID!) {
  deleteWebhook(id: $id) { data { ${FIELDS} } error }
}`;
const LIST = `
query ListWebhooks($includeDeleted: Boolean) {
  webhooks(includeDeleted: $includeDeleted) { ${FIELDS} }
}`;
const GET = `query GetWebhook($id: ID!) { webhook(id: $id) { ${FIELDS} } }`;

const DUPLICATE_ERROR =
  "A webhook subscription with this url and an overlapping event type already exists";
const INVALID_URL_ERROR = "url must be a valid HTTPS URL";
const DATETIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

class CheckFailed extends Error {}

function check(condition, message) {
  if (!condition) throw new CheckFailed(message);
}

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
const show = (value) => JSON.stringify(value);

let args;
try {
  ({ values: args } = parseArgs({
    options: {
      // the server's base URL or its /graphql URL (env: MOCK_SEMBLE_URL)
      url: { type: "string", default: process.env.MOCK_SEMBLE_URL || "http://127.0.0.1:8000" },
      token: { type: "string", default: "test-token" },
    },
  }));
} catch (error) {
  console.error(`usage: node node_client.mjs [--url URL] [--token TOKEN]\n${error.message}`);
  process.exit(2);
}

const graphqlUrl = args.url.trim().replace(/\/+$/, "").replace(/\/graphql$/, "") + "/graphql";
const client = new GraphQLClient(graphqlUrl, { headers: { "x-token": args.token } });
let step = "connect";
let createdId = null;
let deleted = false;

// rawRequest gives the whole response: data *and* extensions (payloadErrors).
// Top-level GraphQL errors (FORBIDDEN, UNAUTHENTICATED…) throw a ClientError.
const run = (query, variables = {}) => client.rawRequest(query, variables);

function payload(result, field) {
  const p = result.data?.[field];
  check(p != null, `${field} returned null`);
  check(p.error === null, `${field} failed: ${p.error}`);
  check(p.data !== null, `${field} returned no data and no error`);
  return p.data;
}

function payloadError(result, field, message, code) {
  const p = result.data?.[field];
  check(p != null, `${field} returned null`);
  check(p.data === null, `${field} expected data null, got ${show(p.data)}`);
  check(p.error === message, `${field} error ${show(p.error)} != ${show(message)}`);
  const errors = result.extensions?.payloadErrors ?? [];
  check(errors.length === 1, `expected one extensions.payloadErrors entry, got ${show(errors)}`);
  const [got] = errors;
  check(got.code === code, `payloadErrors[0].code ${show(got.code)} != ${show(code)}`);
  check(same(got.path, [field]), `payloadErrors[0].path ${show(got.path)}`);
  check(got.message === message, `payloadErrors[0].message ${show(got.message)}`);
}

async function scenario() {
  const url = `https://example.com/hooks/${randomBytes(6).toString("hex")}`;
  const createdInput = {
    url,
    eventTypes: ["PATIENT_CREATED", "PATIENT_UPDATED"],
    label: "node example",
    headers: [{ key: "X-Example", value: "node" }],
  };

  step = "create";
  const sub = payload(await run(CREATE, { input: createdInput }), "createWebhook");
  createdId = sub.id;
  check(/^[0-9a-f]{24}$/.test(sub.id), `id ${show(sub.id)} is not 24-hex`);
  check(String(sub.secret).startsWith("whsec_"), "create payload has no whsec_ secret");
  check(sub.url === url, `url ${show(sub.url)} != ${show(url)}`);
  check(sub.label === "node example", `label ${show(sub.label)}`);
  check(same(sub.eventTypes, createdInput.eventTypes), `eventTypes ${show(sub.eventTypes)}`);
  check(same(sub.headers, createdInput.headers), `headers ${show(sub.headers)}`);
  check(sub.version === "1", `version ${show(sub.version)} != "1"`);
  check(sub.deleted === false && sub.deliveryPaused === false, "new flags not false");
  check(DATETIME.test(sub.createdAt ?? ""), `createdAt ${show(sub.createdAt)}`);
  check(sub.createdAt === sub.updatedAt, "createdAt != updatedAt on create");
  console.log(`create: ok id=${sub.id}`);

  step = "duplicate";
  const { headers: _ignored, ...duplicate } = {
    ...createdInput,
    eventTypes: ["PATIENT_UPDATED", "PATIENT_DELETED"],
  };
  let result = await run(CREATE, { input: duplicate });
  payloadError(result, "createWebhook", DUPLICATE_ERROR, "CONFLICT");
  console.log("duplicate: ok CONFLICT");

  step = "invalid url";
  const bad = { url: "http://example.com/hooks", eventTypes: ["PATIENT_CREATED"], label: "x" };
  result = await run(CREATE, { input: bad });
  payloadError(result, "createWebhook", INVALID_URL_ERROR, "INVALID_URL");
  console.log("invalid url: ok INVALID_URL");

  step = "list";
  let listed = (await run(LIST)).data?.webhooks;
  check(Array.isArray(listed), `webhooks is not a list: ${show(listed)}`);
  const mine = listed.filter((w) => w.id === sub.id);
  check(mine.length === 1, `created subscription ${sub.id} not listed exactly once`);
  check(mine[0].secret === null, "webhooks must not return the secret");
  check(mine[0].url === url, `listed url ${show(mine[0].url)}`);
  console.log(`list: ok ${listed.length} subscription(s)`);

  step = "get";
  let got = (await run(GET, { id: sub.id })).data?.webhook;
  check(got != null, `webhook(${sub.id}) returned null`);
  check(got.secret === null, "webhook(id) must not return the secret");
  check(same({ ...got, secret: null }, { ...sub, secret: null }), `webhook(id) ${show(got)}`);
  console.log("get: ok");

  step = "update";
  result = await run(UPDATE, {
    id: sub.id,
    input: { label: "node example (paused)", deliveryPaused: true },
  });
  const updated = payload(result, "updateWebhook");
  check(updated.id === sub.id, `updated id ${updated.id}`);
  check(updated.label === "node example (paused)", `label ${show(updated.label)}`);
  check(updated.deliveryPaused === true, "deliveryPaused did not become true");
  check(updated.url === url, "update changed the url");
  check(same(updated.eventTypes, sub.eventTypes), "update changed eventTypes");
  check(same(updated.headers, sub.headers), "update changed headers");
  check(updated.secret === sub.secret, "update payload secret differs from create's");
  check(updated.createdAt === sub.createdAt, "update changed createdAt");
  check(updated.updatedAt >= sub.updatedAt, "updatedAt went backwards");
  got = (await run(GET, { id: sub.id })).data?.webhook ?? {};
  check(got.label === "node example (paused)", "update not visible in webhook(id)");
  check(got.deliveryPaused === true, "deliveryPaused not visible in webhook(id)");
  console.log("update: ok label + deliveryPaused");

  step = "delete";
  const gone = payload(await run(DELETE, { id: sub.id }), "deleteWebhook");
  deleted = true;
  check(gone.id === sub.id, `deleted id ${gone.id}`);
  check(gone.deleted === true, "deleted is not true");
  check(gone.secret === null, "delete payload must not return the secret");
  listed = (await run(LIST)).data?.webhooks ?? [];
  check(listed.every((w) => w.id !== sub.id), "deleted subscription still listed");
  listed = (await run(LIST, { includeDeleted: true })).data?.webhooks ?? [];
  check(
    listed.some((w) => w.id === sub.id && w.deleted),
    "deleted subscription missing from webhooks(includeDeleted: true)",
  );
  got = (await run(GET, { id: sub.id })).data?.webhook;
  check(got != null && got.deleted === true, "webhook(id) after delete not deleted");
  console.log("delete: ok");

  step = "delete again";
  result = await run(DELETE, { id: sub.id });
  payloadError(result, "deleteWebhook", "Webhook not found", "NOT_FOUND");
  console.log("delete again: ok NOT_FOUND");
}

function reasonOf(error) {
  if (error instanceof CheckFailed) return error.message;
  if (error instanceof ClientError) {
    const first = error.response?.errors?.[0];
    if (first) {
      const code = first.extensions?.code;
      return code ? `${first.message} (${code})` : first.message;
    }
    return `HTTP ${error.response?.status}: ${error.response?.body ?? ""}`.slice(0, 300);
  }
  // fetch failures (refused, DNS) are TypeError("fetch failed") with the cause inside
  const cause = error?.cause?.code ?? error?.cause?.message;
  if (cause) return `cannot reach ${args.url}: ${cause}`;
  return `${error?.name ?? "Error"}: ${error?.message ?? error}`;
}

try {
  await scenario();
  console.log("node client: all checks passed");
  process.exitCode = 0;
} catch (error) {
  if (createdId && !deleted) {
    // best effort: do not leave the subscription behind
    await run(DELETE, { id: createdId }).catch(() => {});
  }
  const reason = reasonOf(error).split(/\s+/).join(" ");
  console.error(`node client: FAILED at ${step}: ${reason}`);
  process.exitCode = 1;
}
