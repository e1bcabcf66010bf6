//! `faultline bench`: a load generator for any Sentry-compatible ingestion endpoint.
