// Sends errors to Faultline with the real @sentry/node SDK, as an application would.
// Usage: node send_node.mjs DSN
import * as Sentry from "@sentry/node";

Sentry.init({ dsn: process.argv[2], release: "api@3.1.0", environment: "production", tracesSampleRate: 0 });
Sentry.setUser({ id: "7", email: "bo@example.com" });

function loadProfile(user) {
  return user.profile.name;
}

// The SDK's Dedupe integration drops an event equal to the one just before it, so the
// second TypeError comes after a message.
for (let i = 0; i < 2; i++) {
  try {
    loadProfile({});
  } catch (e) {
    Sentry.captureException(e);
  }
  Sentry.captureMessage("Cache miss ratio above 90%", "warning");
}

try {
  JSON.parse("{not json");
} catch (e) {
  Sentry.captureException(e);
}

await Sentry.flush(10000);
console.log("sent");
