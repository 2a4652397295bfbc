// Send identify, group, track and page calls to a Kizuna with an official Node server library,
// used exactly as its README shows: only the host points at Kizuna instead of the vendor.
//
//   node send.js segment|rudderstack HOST WRITE_KEY USER_ID GROUP_ID
//
// Exits 0 once the library reports everything delivered, 1 (with the error) otherwise.
"use strict";

const [library, host, writeKey, userId, groupId] = process.argv.slice(2);
if (!groupId) {
  console.error("usage: node send.js segment|rudderstack HOST WRITE_KEY USER_ID GROUP_ID");
  process.exit(2);
}

// The calls both libraries take in the same shape (Segment's spec).
const calls = [
  ["identify", { userId, traits: { name: "伊藤 大輔", email: "ito@example.jp", title: "Manager" } }],
  ["group", { userId, groupId, traits: { employees: 120 } }],
  ["track", { userId, event: "Report Exported", properties: { format: "xlsx", rows: 1200 }, context: { groupId } }],
  ["page", { userId, name: "Reports", properties: { path: "/reports", url: "https://app.example.jp/reports" } }],
];

function fail(error) {
  const status = error && error.response ? ` (HTTP ${error.response.status})` : "";
  console.error(`${library}: ${error && error.message ? error.message : error}${status}`);
  process.exit(1);
}

async function segment() {
  const { Analytics } = require("@segment/analytics-node");
  const analytics = new Analytics({ writeKey, host, maxRetries: 2 });
  const errors = [];
  analytics.on("error", (error) => errors.push(error));
  for (const [method, message] of calls) analytics[method](message);
  await analytics.closeAndFlush({ timeout: 20000 });
  if (errors.length) throw errors[0].reason || errors[0];
}

async function rudderstack() {
  const Analytics = require("@rudderstack/rudder-sdk-node");
  const client = new Analytics(writeKey, { dataPlaneUrl: host, retryCount: 1, logLevel: "error" });
  for (const [method, message] of calls) client[method](message);
  await new Promise((resolve, reject) => {
    client.flush((error) => (error ? reject(error) : resolve())).catch(reject);
  });
}

const senders = { segment, rudderstack };
if (!senders[library]) fail(`unknown library ${library}`);
senders[library]().then(() => process.exit(0), fail);
