//! Real Sentry SDKs against a real server (filled in below).
