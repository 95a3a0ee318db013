// Sends and replies with the official npm SDK (agentmail 0.5.20) against a Postroom server; prints one JSON line
// that tests/conformance/test_send.py checks against what the sink SMTP server received.
//
// Usage: POSTROOM_BASE_URL=http://127.0.0.1:8080 POSTROOM_API_KEY=pr_... POSTROOM_TO=someone@example.org node send.mjs

import { randomUUID } from "node:crypto";
import { AgentMailClient, AgentMailError } from "agentmail";

const baseUrl = process.env.POSTROOM_BASE_URL;
const apiKey = process.env.POSTROOM_API_KEY;
const to = process.env.POSTROOM_TO;
if (!baseUrl || !apiKey || !to) {
  console.error("set POSTROOM_BASE_URL, POSTROOM_API_KEY and POSTROOM_TO");
  process.exit(2);
}
const client = new AgentMailClient({ apiKey, baseUrl });
const tag = randomUUID().replaceAll("-", "").slice(0, 10);

async function failure(call) {
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

const inbox = await client.inboxes.create({ username: `node-send-${tag}`, displayName: "Node Agent" });
const request = {
  to: [to],
  subject: "From Node",
  text: "Hello from the npm SDK.",
  html: "<p>Hello from the <b>npm</b> SDK.</p>",
  labels: ["node"],
  headers: { "X-Node-Sdk": "yes" },
  attachments: [{ filename: "note.txt", contentType: "text/plain", content: Buffer.from("node bytes").toString("base64") }],
};
const idempotencyKey = `node-${tag}`;
const sent = await client.inboxes.messages.send(inbox.inboxId, request, { idempotencyKey });
const replayed = await client.inboxes.messages.send(inbox.inboxId, request, { idempotencyKey });
const conflict = await failure(() =>
  client.inboxes.messages.send(inbox.inboxId, { ...request, text: "changed" }, { idempotencyKey, maxRetries: 0 }),
);
const reply = await client.inboxes.messages.reply(inbox.inboxId, sent.messageId, { text: "A follow-up from Node." });
const noRecipients = await failure(() =>
  client.inboxes.messages.send(inbox.inboxId, { text: "nobody" }, { maxRetries: 0 }),
);
const copy = await client.inboxes.messages.get(inbox.inboxId, reply.messageId);

console.log(
  JSON.stringify({
    inboxId: inbox.inboxId,
    sent,
    replayed,
    conflict,
    reply,
    noRecipients,
    replyInReplyTo: copy.inReplyTo,
    replySubject: copy.subject,
    replyLabels: copy.labels,
  }),
);
