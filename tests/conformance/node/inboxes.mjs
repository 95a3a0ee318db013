// Runs the TypeScript snippets of the AgentMail "Inboxes" docs page with the official npm SDK (agentmail 0.5.20)
// against a Postroom server, and prints "label: value" lines that tests/conformance/test_node_sdk.py asserts.
//
// Usage: POSTROOM_BASE_URL=http://127.0.0.1:8080 POSTROOM_API_KEY=pr_... node inboxes.mjs
//    or: node inboxes.mjs <base-url> <api-key>
// Lines the page gets wrong for SDK 0.5.20 are corrected, with a comment quoting what the page had.

import { randomUUID } from "node:crypto";
import { AgentMailClient, AgentMailError } from "agentmail";

const baseUrl = process.env.POSTROOM_BASE_URL ?? process.argv[2];
const apiKey = process.env.POSTROOM_API_KEY ?? process.argv[3];
if (!baseUrl || !apiKey) {
  console.error("usage: node inboxes.mjs <base-url> <api-key>  (or set POSTROOM_BASE_URL and POSTROOM_API_KEY)");
  process.exit(2);
}
// The page uses domain.com / agentmail.to; a Postroom server's default domain needs no verification.
const domain = process.env.POSTROOM_DOMAIN ?? "postroom.localhost";
const websockets = baseUrl.replace(/^http/, "ws");
const tag = randomUUID().replaceAll("-", "").slice(0, 10);
const noRetry = { maxRetries: 0 };

function show(label, value) {
  console.log(`${label}: ${typeof value === "string" ? value : JSON.stringify(value ?? null)}`);
}

// The HTTP status a call ends with: 200 when it succeeds, else the status of the SDK's AgentMailError.
async function statusOf(call) {
  try {
    await call();
    return 200;
  } catch (error) {
    if (error instanceof AgentMailError) {
      return error.statusCode;
    }
    throw error;
  }
}

async function errorCodeOf(call) {
  try {
    await call();
    return "none";
  } catch (error) {
    if (error instanceof AgentMailError) {
      return `${error.statusCode} ${error.body?.code}`;
    }
    throw error;
  }
}

async function allInboxIds(client) {
  const ids = [];
  let pageToken;
  do {
    const page = await client.inboxes.list({ limit: 100, pageToken });
    ids.push(...page.inboxes.map((inbox) => inbox.inboxId));
    pageToken = page.nextPageToken;
  } while (pageToken);
  return ids;
}

async function coreCapabilities() {
  // Initialize the client
  // Page: new AgentMailClient({ apiKey: "YOUR_API_KEY" }) — baseUrl points the SDK at this server.
  const client = new AgentMailClient({ apiKey, baseUrl });

  // --- Create an Inbox ---
  // Creates a new inbox with a default agentmail.to domain
  const newInbox = await client.inboxes.create({
    username: `docs-testing-${tag}`,
    domain, // Page: domain: "domain.com"
    displayName: "Docs Tester",
  });
  console.log(`Created Inbox: ${newInbox.id}`); // as on the page: `id` is not a field, so this prints undefined
  console.log(`Created Inbox (inboxId): ${newInbox.inboxId}`); // corrected: the TS SDK names the field inboxId

  // --- Retrieve an Inbox ---
  // Gets a specific inbox by its ID
  // Page: const inboxId = newInbox.id;  (undefined: the get below would ask for /v0/inboxes/undefined)
  const inboxId = newInbox.inboxId;
  const retrievedInbox = await client.inboxes.get(inboxId);
  console.log(`Retrieved Inbox: ${retrievedInbox.inbox_id}`); // as on the page: snake_case is undefined in TS
  console.log(`Retrieved Inbox (inboxId): ${retrievedInbox.inboxId}`); // corrected
  show("Retrieved displayName", retrievedInbox.displayName);

  // --- List Inboxes ---
  // Lists all inboxes in your organization
  const allInboxes = await client.inboxes.list();
  console.log(`Total Inboxes: ${allInboxes.count}`);
  show("Listed page size", allInboxes.inboxes.length);

  const walked = await allInboxIds(client);
  show("Walked includes new inbox", walked.includes(inboxId));
  show("Walked duplicates", walked.length - new Set(walked).size);
  return { client, newInbox };
}

async function metadata(client) {
  const supportAgent = `support-agent-${tag}`; // Page: "support-agent" (a suffix keeps the shared server unique)
  // Attach metadata when creating an inbox; values may be a string, int, float, or boolean
  const inbox = await client.inboxes.create({
    username: supportAgent,
    metadata: {
      tenant_id: "acme", // string
      seat_count: 5, // int
      monthly_spend: 19.99, // float
      active: true, // boolean
    },
  });

  // Read it back from any inbox response
  console.log(inbox.metadata);
  show("Created metadata", inbox.metadata);

  // Page: "support-agent@agentmail.to" — here the inbox just created, on this server's default domain.
  const address = inbox.inboxId;

  // Add or overwrite keys; the keys you omit stay unchanged
  await client.inboxes.update(address, {
    metadata: { tier: "enterprise" },
  });
  show("Metadata after add", (await client.inboxes.get(address)).metadata);

  // Remove a single key
  await client.inboxes.update(address, {
    metadata: { tier: null },
  });
  show("Metadata after remove", (await client.inboxes.get(address)).metadata);

  // Clear all metadata
  await client.inboxes.update(address, {
    metadata: null,
  });
  show("Metadata after clear", (await client.inboxes.get(address)).metadata);
  show("Support agent inbox", address);
  show("Empty metadata update", await errorCodeOf(() => client.inboxes.update(address, { metadata: {} }, noRetry)));
  show("Empty update", await errorCodeOf(() => client.inboxes.update(address, {}, noRetry)));
}

async function inboxScopedKeys(client, newInbox) {
  // Page: client.inboxes.apiKeys.create(newInbox.id, { ... }) — the field is inboxId.
  const key = await client.inboxes.apiKeys.create(newInbox.inboxId, {
    name: "support-agent-key",
  });

  // The full key is only returned once
  console.log(key.apiKey);
  show("Key inboxId", key.inboxId);
  show("Key prefix matches", key.prefix === key.apiKey.slice(0, 12));

  const listed = await client.inboxes.apiKeys.list(newInbox.inboxId);
  show("Inbox key names", listed.apiKeys.map((item) => item.name));
  show("Listed key has secret", listed.apiKeys.some((item) => "apiKey" in item || "api_key" in item));

  const other = await client.inboxes.create();
  const scoped = new AgentMailClient({ apiKey: key.apiKey, environment: { http: baseUrl, websockets } });
  show("Scoped list", (await scoped.inboxes.list()).inboxes.map((inbox) => inbox.inboxId));
  show("Scoped get own", (await scoped.inboxes.get(newInbox.inboxId)).inboxId);
  show("Scoped get other", await errorCodeOf(() => scoped.inboxes.get(other.inboxId, noRetry)));
  show("Scoped me", (await scoped.auth.me()).scopeType);

  await client.inboxes.apiKeys.delete(newInbox.inboxId, key.apiKeyId);
  show("Scoped after key delete", await statusOf(() => scoped.inboxes.list(undefined, noRetry)));
}

async function copyForCursor() {
  // Page: new AgentMailClient({ apiKey: process.env.AGENTMAIL_API_KEY! }) — plus this server's environment.
  const client = new AgentMailClient({ apiKey, environment: { http: baseUrl, websockets } });
  const inbox = await client.inboxes.create({ clientId: "my-inbox-v1" });
  const retrieved = await client.inboxes.get(inbox.inboxId);
  const allInboxes = await client.inboxes.list({ limit: 20 });
  console.log("Total:", allInboxes.count);
  show("Cursor retrieved clientId", retrieved.clientId);
  const again = await client.inboxes.create({ clientId: "my-inbox-v1" });
  show("Cursor client_id retry same inbox", again.inboxId === inbox.inboxId);
  show("Environment me", (await client.auth.me()).scopeType);
}

async function pathEncoding(client, newInbox) {
  // The TS SDK percent-encodes path parameters (encodeURIComponent: "@" → %40, "+" → %2B).
  const upper = newInbox.inboxId.toUpperCase();
  show("Upper-case get", (await client.inboxes.get(upper)).inboxId);
  show("Upper-case update", (await client.inboxes.update(upper, { displayName: "Renamed" })).displayName);

  const punctuated = await client.inboxes.create({ username: `a.b-c_d-${tag}` });
  show("Punctuated create", punctuated.inboxId);
  show("Punctuated get", (await client.inboxes.get(punctuated.inboxId)).inboxId);
  const keyList = await client.inboxes.apiKeys.list(punctuated.inboxId);
  show("Punctuated key list count", keyList.count);

  show("Plus address get", await errorCodeOf(() => client.inboxes.get(`docs-testing+${tag}@${domain}`, noRetry)));
  show("Plus username create", await errorCodeOf(() => client.inboxes.create({ username: `a+${tag}` }, noRetry)));
  show("Taken username create", await errorCodeOf(() => client.inboxes.create({ username: `a.b-c_d-${tag}` }, noRetry)));
  show("Unknown domain create", await errorCodeOf(() => client.inboxes.create({ domain: "example.com" }, noRetry)));

  await client.inboxes.delete(upper);
  show("Get after delete", await errorCodeOf(() => client.inboxes.get(newInbox.inboxId, noRetry)));
}

async function main() {
  const { client, newInbox } = await coreCapabilities();
  await metadata(client);
  await inboxScopedKeys(client, newInbox);
  await copyForCursor();
  await pathEncoding(client, newInbox);
  console.log("Done: ok");
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
