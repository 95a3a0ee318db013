// Connects the official npm SDK's websocket client (agentmail 0.5.20) to a Postroom server, subscribes to one
// inbox and prints a line per frame, for tests/conformance/test_node_sdk_websocket.py to drive and check.
//
// Usage: POSTROOM_BASE_URL=http://127.0.0.1:8080 POSTROOM_API_KEY=pr_... POSTROOM_INBOX=a@b node websocket.mjs <count>
// Prints "subscribed: {...}" once, then "event: {...}" for each event, and exits after <count> events.

import { AgentMailClient } from "agentmail";

const baseUrl = process.env.POSTROOM_BASE_URL;
const apiKey = process.env.POSTROOM_API_KEY;
const inboxId = process.env.POSTROOM_INBOX;
const wanted = Number(process.argv[2] ?? "1");
if (!baseUrl || !apiKey || !inboxId) {
  console.error("set POSTROOM_BASE_URL, POSTROOM_API_KEY and POSTROOM_INBOX");
  process.exit(2);
}

const client = new AgentMailClient({ apiKey, baseUrl });
const socket = await client.websockets.connect({ reconnectAttempts: 0 });
let seen = 0;
socket.on("message", (frame) => {
  if (frame.type === "subscribed") {
    console.log(`subscribed: ${JSON.stringify(frame)}`);
  } else if (frame.type === "event") {
    console.log(`event: ${JSON.stringify({ eventType: frame.eventType, messageId: frame.message?.messageId, subject: frame.message?.subject, threadId: frame.thread?.threadId })}`);
    seen += 1;
    if (seen >= wanted) {
      socket.close();
      process.exit(0);
    }
  } else {
    console.log(`other: ${JSON.stringify(frame)}`);
  }
});
socket.on("error", (error) => {
  console.error(`error: ${error?.message ?? error}`);
  process.exit(1);
});
await socket.waitForOpen();
socket.sendSubscribe({ type: "subscribe", inboxIds: [inboxId], eventTypes: ["message.received"] });
