//! Ingestion: the Sentry endpoints SDKs post to (`/api/{project}/envelope/` and the legacy
//! `/api/{project}/store/`). Authenticates the key, reads and decodes the body within the
//! size limits, parses the envelope, normalizes and groups each event (pure code from
//! `protocol` and `grouping`), hands it to the digest writer and answers once it is committed.

mod body;
mod error;
mod keys;
mod minidump;
mod ratelimit;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};

pub use error::IngestError;

use crate::digest::{Digest, SubmitError};
use crate::grouping;
use crate::protocol::{auth, envelope, event, json as lenient, multipart};
use crate::store::ingest::{NewAttachment, NewEvent, NewUserReport};
use crate::store::payload::{compress_payload, compress_raw, RawHeader};
use crate::store::{now_ms, Db};

/// Largest request body on the wire (compressed or not).
pub const MAX_BODY_BYTES: usize = 20 << 20;
/// Largest envelope once decoded.
pub const MAX_ENVELOPE_BYTES: usize = 20 << 20;
/// Largest event (or other JSON item) once decoded.
pub const MAX_EVENT_BYTES: usize = 1 << 20;
/// Largest attachment stored; bigger ones are dropped (and counted), the event is kept.
pub const MAX_ATTACHMENT_BYTES: usize = 10 << 20;
/// Attachments stored per event at most.
pub const MAX_ATTACHMENTS: usize = 30;

/// What the ingestion handlers share.
#[derive(Clone)]
pub struct Ingest {
    digest: Digest,
    keys: Arc<keys::KeyCache>,
    limiter: Arc<ratelimit::RateLimiter>,
    failures: Arc<keys::FailureLimiter>,
    trust_proxy: bool,
}

impl Ingest {
    /// Starts the digest writer on the current runtime.
    /// Ingestion over `db`; alerts (when `public_url` is given, for their links) are
    /// evaluated on what it stores.
    pub fn new(db: Db, trust_proxy: bool, public_url: Option<&str>) -> Ingest {
        if matches!(db, Db::Sqlite(_)) {
            let db = db.clone();
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(std::time::Duration::from_millis(500));
                loop {
                    tick.tick().await;
                    if let Err(e) = db.checkpoint().await {
                        tracing::debug!("WAL checkpoint: {e}");
                    }
                }
            });
        }
        Ingest {
            digest: Digest::start(db.clone(), public_url.map(|u| crate::alerts::start(db.clone(), u.to_string()))),
            keys: Arc::new(keys::KeyCache::new(db)),
            limiter: Arc::new(ratelimit::RateLimiter::default()),
            failures: Arc::new(keys::FailureLimiter::default()),
            trust_proxy,
        }
    }
}

/// The ingestion routes, with CORS (for browser SDKs) on them and only on them.
pub fn router(ingest: Ingest) -> Router {
    Router::new()
        .route("/api/{project_id}/envelope/", post(envelope_endpoint))
        .route("/api/{project_id}/envelope", post(envelope_endpoint))
        .route("/api/{project_id}/store/", post(store_endpoint))
        .route("/api/{project_id}/store", post(store_endpoint))
        .route("/api/{project_id}/security/", post(security_endpoint))
        .route("/api/{project_id}/security", post(security_endpoint))
        .route("/api/{project_id}/csp-report/", post(security_endpoint))
        .route("/api/{project_id}/csp-report", post(security_endpoint))
        .route("/api/{project_id}/minidump/", post(minidump_endpoint))
        .route("/api/{project_id}/minidump", post(minidump_endpoint))
        .layer(middleware::from_fn(cors))
        .with_state(ingest)
}

/// The endpoint names ingestion serves under `/api/{project_id}/`.
const ENDPOINTS: [&str; 5] = ["envelope", "store", "security", "csp-report", "minidump"];

/// For a DSN with a path (`https://key@host/errors/42`), SDKs post to
/// `/errors/api/42/envelope/`; a proxy that keeps the prefix hands us that path. Returns the
/// path without its prefix when it is an ingestion path behind one, `None` otherwise.
pub fn unprefixed(path: &str) -> Option<&str> {
    if path.starts_with("/api/") {
        return None;
    }
    let tail = &path[path.rfind("/api/")?..];
    let mut segments = tail["/api/".len()..].trim_end_matches('/').split('/');
    let (id, endpoint) = (segments.next()?, segments.next()?);
    let ok = segments.next().is_none()
        && !id.is_empty()
        && id.bytes().all(|b| b.is_ascii_digit())
        && ENDPOINTS.contains(&endpoint);
    ok.then_some(tail)
}

/// Rewrites a prefixed ingestion path (see [`unprefixed`]) before routing.
pub async fn strip_path_prefix(mut req: Request, next: Next) -> Response {
    if let Some(tail) = unprefixed(req.uri().path()) {
        let target = match req.uri().query() {
            Some(q) => format!("{tail}?{q}"),
            None => tail.to_string(),
        };
        if let Ok(uri) = target.parse::<axum::http::Uri>() {
            *req.uri_mut() = uri;
        }
    }
    next.run(req).await
}

async fn cors(req: Request, next: Next) -> Response {
    let mut res = if req.method() == Method::OPTIONS {
        let mut res = StatusCode::OK.into_response();
        let h = res.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("POST, OPTIONS"));
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static(
                "content-type, content-encoding, x-sentry-auth, authorization, sentry-trace, baggage, user-agent",
            ),
        );
        h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("86400"));
        res
    } else {
        next.run(req).await
    };
    let h = res.headers_mut();
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    h.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("x-sentry-error, x-sentry-rate-limits, retry-after"),
    );
    res
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Envelope,
    Store,
}

async fn envelope_endpoint(state: State<Ingest>, path: Path<String>, req: Request) -> Response {
    handle(state, path, req, Endpoint::Envelope).await.unwrap_or_else(IntoResponse::into_response)
}

async fn store_endpoint(state: State<Ingest>, path: Path<String>, req: Request) -> Response {
    handle(state, path, req, Endpoint::Store).await.unwrap_or_else(IntoResponse::into_response)
}

async fn handle(
    State(st): State<Ingest>,
    Path(project): Path<String>,
    req: Request,
    endpoint: Endpoint,
) -> Result<Response, IngestError> {
    let (inc, body) = Incoming::new(&st, &project, req)?;
    let received_ms = inc.received_ms;

    // Authenticate before any work on the body: by a header or the query before reading
    // it; else (envelopes only) by the `dsn` of the envelope's first line, decoded alone.
    let presented = presented_auth(&inc.parts.headers, inc.parts.uri.query().unwrap_or(""))?;
    let mut key = match &presented {
        Some(auth) => Some(inc.check_key(&st, &auth.public_key).await?),
        None if endpoint == Endpoint::Store => {
            return Err(IngestError::Unauthorized("missing authentication: no X-Sentry-Auth or sentry_key".into()))
        }
        None => None,
    };
    let raw = match key {
        Some(_) => inc.read_raw(body).await?,
        None => {
            let (raw, found) = inc.read_authenticating(&st, body).await?;
            key = Some(found);
            raw
        }
    };

    let limit = if endpoint == Endpoint::Store { MAX_EVENT_BYTES } else { MAX_ENVELOPE_BYTES };
    // Shared, so that attachments are slices of it rather than copies.
    let data = bytes::Bytes::from(inc.decode(raw, limit, "body")?);

    let ctx = |event_id: Option<String>, sent_at_ms: Option<i64>| inc.context(event_id, sent_at_ms);

    let mut answer_id: Option<String>;
    let mut new_event: Option<NewEvent> = None;
    let mut reports: Vec<NewUserReport> = Vec::new();

    match endpoint {
        Endpoint::Store => {
            let key = key.take().ok_or_else(|| IngestError::Unauthorized("missing authentication".into()))?;
            let json_bytes = if data.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') {
                data
            } else {
                lenient::decode_legacy_store_body(&data, MAX_EVENT_BYTES)
                    .map_err(|e| {
                        if e == "too large" {
                            IngestError::TooLarge(format!("the event is larger than {MAX_EVENT_BYTES} bytes"))
                        } else {
                            IngestError::BadRequest(e)
                        }
                    })?
                    .into()
            };
            st.limiter.check(&st.digest, key.project_id, key.rate_limit_per_minute)?;
            let ev = prepare_event_bytes(&json_bytes, ctx(None, None), key.project_id, received_ms)?;
            answer_id = Some(ev.event_id.clone());
            new_event = Some(ev);
        }
        Endpoint::Envelope => {
            let env = envelope::parse(&data).map_err(envelope_error)?;
            let key = key.take().ok_or_else(|| IngestError::Unauthorized("missing authentication".into()))?;
            let project_id = key.project_id;
            let header_event_id = env.header_str("event_id").and_then(event::normalize_event_id);
            let sent_at_ms = env.header_str("sent_at").and_then(event::parse_rfc3339);
            answer_id = header_event_id.clone();

            let mut attachments: Vec<NewAttachment> = Vec::new();
            for item in &env.items {
                match item.ty.as_str() {
                    "event" if new_event.is_none() => {
                        if item.payload.len() > MAX_EVENT_BYTES {
                            return Err(IngestError::TooLarge(format!(
                                "the event is larger than {MAX_EVENT_BYTES} bytes"
                            )));
                        }
                        st.limiter.check(&st.digest, project_id, key.rate_limit_per_minute)?;
                        let ctx = ctx(header_event_id.clone(), sent_at_ms);
                        let ev =
                            prepare_event_bytes(item.payload, ctx, project_id, received_ms).map_err(|e| match e {
                                IngestError::BadRequest(why) => IngestError::BadRequest(format!("event item: {why}")),
                                other => other,
                            })?;
                        answer_id = Some(ev.event_id.clone());
                        new_event = Some(ev);
                    }
                    "attachment" => {
                        if item.payload.len() > MAX_ATTACHMENT_BYTES || attachments.len() >= MAX_ATTACHMENTS {
                            st.digest.count(project_id, "attachment.dropped_too_large", 1);
                            continue;
                        }
                        attachments.push(NewAttachment {
                            filename: item.header_str("filename").unwrap_or("attachment").chars().take(200).collect(),
                            content_type: item.header_str("content_type").map(str::to_string),
                            attachment_type: item
                                .header_str("attachment_type")
                                .unwrap_or("event.attachment")
                                .to_string(),
                            data: data.slice_ref(item.payload),
                        });
                    }
                    "user_report" => match user_report(item.payload, project_id) {
                        Some(r) => reports.push(r),
                        None => st.digest.count(project_id, "user_report.invalid", 1),
                    },
                    "feedback" => match feedback(item.payload, project_id) {
                        Some(r) => reports.push(r),
                        None => st.digest.count(project_id, "feedback.invalid", 1),
                    },
                    // Transactions, sessions, client reports, check-ins, profiles, replays,
                    // spans, logs: accepted and counted, not stored. Any other type is
                    // counted under one name, so the counts stay a short, fixed list.
                    other => st.digest.count(project_id, counted_type(other), 1),
                }
            }
            match new_event.as_mut() {
                Some(ev) => ev.attachments = attachments,
                None if !attachments.is_empty() => {
                    // Attachments for an event sent earlier or not at all: not kept yet.
                    st.digest.count(project_id, "attachment.without_event", attachments.len() as i64);
                }
                None => {}
            }
        }
    }

    if let Some(ev) = new_event {
        st.digest.store_event(ev).await.map_err(submit_error)?;
    }
    for report in reports {
        st.digest.store_report(report).await.map_err(submit_error)?;
    }
    let body = match answer_id {
        Some(id) => json!({ "id": id }),
        None => json!({}),
    };
    Ok((StatusCode::OK, Json(body)).into_response())
}

/// Browsers' CSP violation reports: the key comes in the query (`?sentry_key=`), each
/// violation becomes an event (see `protocol::csp`), stored before the answer.
async fn security_endpoint(State(st): State<Ingest>, Path(project): Path<String>, req: Request) -> Response {
    security(st, project, req).await.unwrap_or_else(IntoResponse::into_response)
}

async fn security(st: Ingest, project: String, req: Request) -> Result<Response, IngestError> {
    let (inc, body) = Incoming::new(&st, &project, req)?;
    let key = inc.query_key(&st).await?;
    let data = inc.read_body(body, MAX_EVENT_BYTES, "report").await?;
    let report = lenient::parse_lenient(&data).map_err(IngestError::BadRequest)?;
    let events = crate::protocol::csp::events(&report).map_err(IngestError::BadRequest)?;
    let user_agent = inc.header(header::USER_AGENT.as_str()).map(str::to_string);
    let mut prepared = Vec::new();
    for mut raw in events {
        st.limiter.check(&st.digest, key.project_id, key.rate_limit_per_minute)?;
        if let (Some(ua), Some(request)) = (&user_agent, raw.get_mut("request").and_then(Value::as_object_mut)) {
            request.insert("headers".into(), json!({ "User-Agent": ua }));
        }
        prepared.push(prepare_event(raw, inc.context(None, None), key.project_id, inc.received_ms)?);
    }
    for ev in prepared {
        st.digest.store_event(ev).await.map_err(submit_error)?;
    }
    Ok((StatusCode::OK, Json(json!({}))).into_response())
}

/// Native crashes: a minidump, posted by Breakpad, Crashpad or Electron as the
/// `upload_file_minidump` field of a multipart form (with the event in a `sentry` field, as
/// JSON or as `sentry[key][...]` fields, and other files as attachments), or as the raw body.
/// The event carries what the dump says without symbolication (crash reason, address, OS,
/// CPU); the dump is stored as its attachment. Answered with the event id as text, as Relay.
async fn minidump_endpoint(State(st): State<Ingest>, Path(project): Path<String>, req: Request) -> Response {
    minidump(st, project, req).await.unwrap_or_else(IntoResponse::into_response)
}

async fn minidump(st: Ingest, project: String, req: Request) -> Result<Response, IngestError> {
    let (inc, body) = Incoming::new(&st, &project, req)?;
    let key = inc.query_key(&st).await?;
    let data = inc.read_body(body, MAX_ENVELOPE_BYTES, "body").await?;
    let content_type = inc.header(header::CONTENT_TYPE.as_str()).unwrap_or("");
    let crash = match multipart::boundary(content_type) {
        Some(boundary) => {
            let parts = multipart::parse(&data, &boundary).map_err(IngestError::BadRequest)?;
            minidump::form(&parts)?
        }
        None => minidump::form(&[multipart::Part {
            name: minidump::FIELD.into(),
            filename: Some("Minidump".into()),
            content_type: Some("application/x-dmp".into()),
            data: &data,
        }])?,
    };
    st.limiter.check(&st.digest, key.project_id, key.rate_limit_per_minute)?;
    let mut ev = prepare_event(crash.event, inc.context(None, None), key.project_id, inc.received_ms)?;
    ev.attachments = crash.attachments;
    let id = ev.event_id.clone();
    st.digest.store_event(ev).await.map_err(submit_error)?;
    let dashed = uuid::Uuid::parse_str(&id).map(|u| u.hyphenated().to_string()).unwrap_or(id);
    Ok((StatusCode::OK, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], dashed).into_response())
}

/// What every ingestion request starts with: the project of its path, when it came and from
/// where, and its head (the body is read separately, within a limit).
struct Incoming {
    project_id: i64,
    received_ms: i64,
    client_ip: String,
    parts: axum::http::request::Parts,
}

impl Incoming {
    fn new(st: &Ingest, project: &str, req: Request) -> Result<(Incoming, Body), IngestError> {
        let received_ms = now_ms();
        let project_id: i64 =
            project.parse().map_err(|_| IngestError::BadRequest(format!("invalid project id {project:?}")))?;
        let (parts, body) = req.into_parts();
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0);
        let client_ip = crate::server::client_ip(&parts.headers, peer, st.trust_proxy);
        Ok((Incoming { project_id, received_ms, client_ip, parts }, body))
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.parts.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn context(&self, event_id: Option<String>, sent_at_ms: Option<i64>) -> event::Context {
        event::Context { event_id, received_ms: self.received_ms, sent_at_ms, client_ip: Some(self.client_ip.clone()) }
    }

    /// The key of endpoints without an envelope (`?sentry_key=` or an auth header), checked.
    async fn query_key(&self, st: &Ingest) -> Result<crate::store::ingest::IngestKey, IngestError> {
        let auth = presented_auth(&self.parts.headers, self.parts.uri.query().unwrap_or(""))?
            .ok_or_else(|| IngestError::Unauthorized("missing authentication: no sentry_key".into()))?;
        self.check_key(st, &auth.public_key).await
    }

    /// The key checked for this request's project, refused at once (429) for an address
    /// that has failed too often lately; a refusal counts as a failure of the address.
    async fn check_key(&self, st: &Ingest, public_key: &str) -> Result<crate::store::ingest::IngestKey, IngestError> {
        st.failures.check(&self.client_ip)?;
        let checked = st.keys.check(public_key, self.project_id).await;
        // Only unknown keys count: a disabled key or one of another project is a
        // misconfigured SDK, not a guess, and must not get everyone behind its NAT refused.
        if matches!(checked, Err(IngestError::Unauthorized(_))) {
            st.failures.failed(&self.client_ip);
        }
        checked
    }

    /// The body's `Content-Length`, refused (413) before anything is read when over the limit.
    fn declared_length(&self) -> Result<Option<usize>, IngestError> {
        let declared = self.header(header::CONTENT_LENGTH.as_str()).and_then(|v| v.parse::<usize>().ok());
        if declared.is_some_and(|n| n > MAX_BODY_BYTES) {
            return Err(IngestError::TooLarge(format!("the body is larger than {MAX_BODY_BYTES} bytes")));
        }
        Ok(declared)
    }

    /// Reads the body (refusing an over-long `Content-Length` before reading), within
    /// [`BODY_DEADLINE`], as it came on the wire.
    async fn read_raw(&self, body: Body) -> Result<Vec<u8>, IngestError> {
        let declared = self.declared_length()?;
        tokio::time::timeout(BODY_DEADLINE, read_body_sized(body, declared)).await.map_err(|_| {
            IngestError::Timeout(format!("the body did not arrive within {} s", BODY_DEADLINE.as_secs()))
        })?
    }

    /// For an envelope without a key in its headers or query: reads the body only until its
    /// first line has arrived (decoded alone, at most [`UNAUTHENTICATED_BYTES`] of the wire),
    /// authenticates by that line's `dsn`, and only then reads the rest. So a sender without
    /// a key holds at most that much of the server's memory, whatever its body.
    async fn read_authenticating(
        &self,
        st: &Ingest,
        body: Body,
    ) -> Result<(Vec<u8>, crate::store::ingest::IngestKey), IngestError> {
        use http_body_util::BodyExt;
        self.declared_length()?;
        let encoding = self.header(header::CONTENT_ENCODING.as_str());
        let work = async {
            let mut body = body;
            let mut raw: Vec<u8> = Vec::new();
            let mut ended = false;
            // Where the first line was last looked for: looking again costs a decode of the
            // prefix, so it waits for a newline on the wire or another KiB (a body that
            // trickles in a byte at a time must not cost a decode per byte).
            let mut tried_at: Option<usize> = None;
            let line = loop {
                let limit = envelope::MAX_HEADER_BYTES;
                let due = ended || tried_at.is_none_or(|at| raw.len() >= at + 1024 || raw[at..].contains(&b'\n'));
                if due {
                    tried_at = Some(raw.len());
                    let found = body::first_line(encoding, &raw, limit, ended)
                        .map_err(|e| decode_error(e, "envelope header", limit))?;
                    if let Some(line) = found {
                        break line;
                    }
                }
                if raw.len() >= UNAUTHENTICATED_BYTES {
                    return Err(IngestError::Unauthorized(format!(
                        "missing authentication: no X-Sentry-Auth, sentry_key, or dsn in the first {UNAUTHENTICATED_BYTES} bytes"
                    )));
                }
                match body.frame().await {
                    None => ended = true,
                    Some(Ok(frame)) => {
                        if let Ok(data) = frame.into_data() {
                            raw.extend_from_slice(&data);
                        }
                    }
                    Some(Err(e)) => return Err(body_error(e)),
                }
            };
            let header = envelope::parse_first_line(&line).map_err(envelope_error)?;
            let dsn = header.get("dsn").and_then(Value::as_str).ok_or_else(|| {
                IngestError::Unauthorized("missing authentication: no X-Sentry-Auth, sentry_key or dsn".into())
            })?;
            let (public_key, _) = auth::parse_dsn(dsn)
                .ok_or_else(|| IngestError::Unauthorized("the envelope's dsn is malformed".into()))?;
            let key = self.check_key(st, &public_key).await?;
            if !ended {
                let rest = read_body_limited(body, MAX_BODY_BYTES.saturating_sub(raw.len())).await?;
                raw.extend_from_slice(&rest);
            }
            Ok((raw, key))
        };
        tokio::time::timeout(BODY_DEADLINE, work).await.map_err(|_| {
            IngestError::Timeout(format!("the body did not arrive within {} s", BODY_DEADLINE.as_secs()))
        })?
    }

    /// Decodes a body read by [`Self::read_raw`] per its `Content-Encoding`, at most `limit`
    /// bytes once decoded. `what` names it in errors.
    fn decode(&self, raw: Vec<u8>, limit: usize, what: &str) -> Result<Vec<u8>, IngestError> {
        body::decode(self.header(header::CONTENT_ENCODING.as_str()), raw, limit)
            .map_err(|e| decode_error(e, what, limit))
    }

    /// [`Self::read_raw`] then [`Self::decode`].
    async fn read_body(&self, body: Body, limit: usize, what: &str) -> Result<Vec<u8>, IngestError> {
        let raw = self.read_raw(body).await?;
        self.decode(raw, limit, what)
    }
}

/// The most of a body read before its sender is known (an envelope authenticated by the
/// `dsn` of its first line): SDKs' envelope headers are well under 1 KB.
pub const UNAUTHENTICATED_BYTES: usize = 64 << 10;

/// How long a request's body may take to arrive. An SDK sends a whole event in well under a
/// second; a body trickling in a byte at a time holds a connection and its buffer for
/// nothing, and gets 408.
pub const BODY_DEADLINE: std::time::Duration = std::time::Duration::from_secs(30);

fn decode_error(e: body::DecodeError, what: &str, limit: usize) -> IngestError {
    match e {
        body::DecodeError::TooLarge => {
            IngestError::TooLarge(format!("the decoded {what} is larger than {limit} bytes"))
        }
        body::DecodeError::Unsupported(enc) => IngestError::UnsupportedEncoding(enc),
        body::DecodeError::Corrupt(why) => IngestError::BadRequest(why),
    }
}

fn envelope_error(e: envelope::EnvelopeError) -> IngestError {
    match e {
        envelope::EnvelopeError::Malformed(why) => IngestError::BadRequest(format!("malformed envelope: {why}")),
        envelope::EnvelopeError::TooLarge(why) => IngestError::TooLarge(why),
    }
}

/// The item types counted by name (what Sentry's SDKs send, and Relay knows); any other is
/// counted as `unknown`, so an envelope of made-up types adds no rows.
fn counted_type(ty: &str) -> &str {
    const KNOWN: &[&str] = &[
        "transaction",
        "session",
        "sessions",
        "client_report",
        "check_in",
        "profile",
        "profile_chunk",
        "replay_event",
        "replay_recording",
        "replay_video",
        "span",
        "otel_span",
        "log",
        "otel_log",
        "statsd",
        "metric_buckets",
        "metric_meta",
        "security",
        "raw_security",
        "form_data",
        "nel",
        "unreal_report",
        "trace_metric",
    ];
    KNOWN.iter().find(|k| **k == ty).copied().unwrap_or("unknown")
}

fn submit_error(e: SubmitError) -> IngestError {
    match e {
        SubmitError::Overloaded => IngestError::Overloaded { retry_after: 1 },
        SubmitError::Failed(why) => {
            tracing::error!("an accepted event could not be stored: {why}");
            IngestError::Overloaded { retry_after: 10 }
        }
    }
}

/// Exactly one way of authenticating may be used; `Ok(None)` leaves the envelope's `dsn`.
fn presented_auth(headers: &HeaderMap, query: &str) -> Result<Option<auth::ClientAuth>, IngestError> {
    // A protocol version we do not speak is a bad request, not a bad key.
    let refuse = |what: &str, e: String| {
        if e.starts_with("unsupported protocol version") {
            IngestError::BadRequest(e)
        } else {
            IngestError::Unauthorized(format!("{what}: {e}"))
        }
    };
    let mut found: Vec<auth::ClientAuth> = Vec::new();
    for name in ["x-sentry-auth", "authorization"] {
        for value in headers.get_all(name) {
            let value = value.to_str().map_err(|_| IngestError::Unauthorized(format!("malformed {name} header")))?;
            if let Some(a) = auth::parse_header(value).map_err(|e| refuse(name, e))? {
                found.push(a);
            }
        }
    }
    if let Some(a) = auth::parse_query(query).map_err(|e| refuse("query", e))? {
        found.push(a);
    }
    if found.windows(2).any(|w| w[0].public_key != w[1].public_key) {
        return Err(IngestError::Unauthorized("several different keys presented".into()));
    }
    Ok(found.into_iter().next())
}

/// A whole body, at most [`MAX_BODY_BYTES`]. With a declared length (already checked against
/// the limit) it is read into a buffer of exactly that size: collecting into a growing one
/// held up to twice a large upload.
async fn read_body_sized(body: Body, declared: Option<usize>) -> Result<Vec<u8>, IngestError> {
    use http_body_util::BodyExt;
    let Some(len) = declared else { return read_body_limited(body, MAX_BODY_BYTES).await };
    let mut body = body;
    let mut out = Vec::with_capacity(len);
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(body_error)?;
        if let Ok(data) = frame.into_data() {
            if out.len() + data.len() > MAX_BODY_BYTES {
                return Err(IngestError::TooLarge(format!("the body is larger than {MAX_BODY_BYTES} bytes")));
            }
            out.extend_from_slice(&data);
        }
    }
    Ok(out)
}

/// The rest of a body, at most `limit` bytes (the whole body is at most [`MAX_BODY_BYTES`]).
async fn read_body_limited(body: Body, limit: usize) -> Result<Vec<u8>, IngestError> {
    // `Vec::from` takes the buffer over where it can instead of copying it.
    axum::body::to_bytes(body, limit).await.map(Vec::from).map_err(body_error)
}

/// What an error reading a body means for the sender: too slow (408), too large (413), or
/// broken (400).
fn body_error(e: axum::Error) -> IngestError {
    if crate::listen::is_body_timeout(&e) {
        return IngestError::Timeout(e.to_string());
    }
    let too_large = std::error::Error::source(&e).is_some_and(|s| s.is::<http_body_util::LengthLimitError>())
        || e.to_string().contains("length limit");
    if too_large {
        IngestError::TooLarge(format!("the body is larger than {MAX_BODY_BYTES} bytes"))
    } else {
        IngestError::BadRequest(format!("cannot read the body: {e}"))
    }
}

/// Normalizes and groups an event and compresses it for the store (CPU only).
pub fn prepare_event(
    raw: Value,
    ctx: event::Context,
    project_id: i64,
    received_ms: i64,
) -> Result<NewEvent, IngestError> {
    let (ev, s, grouping) = normalize_and_group(raw, &ctx)?;
    let json_bytes = serde_json::to_vec(&ev).map_err(|e| IngestError::BadRequest(e.to_string()))?;
    Ok(new_event(project_id, received_ms, s, grouping, compress_payload(&json_bytes)))
}

/// An event to store: its summary's indexed fields, its grouping and its compressed payload.
fn new_event(
    project_id: i64,
    received_ms: i64,
    s: event::Summary,
    grouping: grouping::Grouping,
    payload: Vec<u8>,
) -> NewEvent {
    NewEvent {
        project_id,
        event_id: s.event_id,
        timestamp: s.timestamp_ms,
        received_at: received_ms,
        level: s.level,
        platform: s.platform,
        release: s.release,
        environment: s.environment,
        user_key: s.user_key,
        tags: s.tags,
        grouping,
        payload,
        attachments: Vec::new(),
    }
}

/// The first half of [`prepare_event`]: the normalized event as it is stored (with its
/// grouping, title and culprit added), its summary and its grouping. `faultline seed` builds
/// its issue templates with it.
pub fn normalize_and_group(
    raw: Value,
    ctx: &event::Context,
) -> Result<(Value, event::Summary, grouping::Grouping), IngestError> {
    grouping::normalize_and_group(raw, ctx).map_err(IngestError::BadRequest)
}

/// [`prepare_event`] for an event's JSON bytes. The fast path, for events in the modern shape
/// with nothing to correct: skim the fields that are indexed and grouped on (see
/// `protocol::skim`), and store the payload as it came, with what its normalization needs
/// (`store::payload::compress_raw`); it is normalized when read. Anything else (Python's
/// `NaN`, legacy keys, fields of the wrong type) takes the full path, whose outcome is the
/// same (tested over the whole corpus).
pub fn prepare_event_bytes(
    payload: &[u8],
    ctx: event::Context,
    project_id: i64,
    received_ms: i64,
) -> Result<NewEvent, IngestError> {
    // Only what the full path's parser takes as it is may skip it: one verdict for both.
    let skimmed = lenient::fast_path_safe(payload).then(|| crate::protocol::skim::skim(payload)).flatten();
    if let Some(skimmed) = skimmed {
        if let Ok((ev, s, grouping)) = grouping::normalize_and_group(skimmed, &ctx) {
            if ev.get("errors").is_none() {
                let annotations = ["grouping", "title", "culprit"]
                    .into_iter()
                    .filter_map(|k| ev.get(k).map(|v| (k.to_string(), v.clone())))
                    .collect();
                let header = RawHeader {
                    event_id: s.event_id.clone(),
                    received_ms: ctx.received_ms,
                    sent_at_ms: ctx.sent_at_ms,
                    client_ip: ctx.client_ip.clone(),
                    annotations,
                };
                return Ok(new_event(project_id, received_ms, s, grouping, compress_raw(&header, payload)));
            }
        }
    }
    let raw = lenient::parse_lenient(payload).map_err(IngestError::BadRequest)?;
    prepare_event(raw, ctx, project_id, received_ms)
}

/// A legacy `user_report` item: `{event_id, name, email, comments}`.
fn user_report(payload: &[u8], project_id: i64) -> Option<NewUserReport> {
    let v: Value = lenient::parse_lenient(payload).ok()?;
    let comments = v.get("comments").and_then(Value::as_str)?.trim().to_string();
    (!comments.is_empty()).then(|| NewUserReport {
        project_id,
        event_id: v.get("event_id").and_then(Value::as_str).and_then(event::normalize_event_id),
        name: v.get("name").and_then(Value::as_str).map(|s| event::truncate(s, 200)),
        email: v.get("email").and_then(Value::as_str).map(|s| event::truncate(s, 200)),
        comments: event::truncate(&comments, 8192),
    })
}

/// A `feedback` item: an event whose `contexts.feedback` holds the message.
fn feedback(payload: &[u8], project_id: i64) -> Option<NewUserReport> {
    let v: Value = lenient::parse_lenient(payload).ok()?;
    let f = v.get("contexts")?.get("feedback")?;
    let message = f.get("message").and_then(Value::as_str)?.trim().to_string();
    (!message.is_empty()).then(|| NewUserReport {
        project_id,
        event_id: f.get("associated_event_id").and_then(Value::as_str).and_then(event::normalize_event_id),
        name: f.get("name").and_then(Value::as_str).map(|s| event::truncate(s, 200)),
        email: f.get("contact_email").and_then(Value::as_str).map(|s| event::truncate(s, 200)),
        comments: event::truncate(&message, 8192),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_a_dsn_path_prefix_from_ingestion_paths_only() {
        for (path, expected) in [
            ("/errors/api/42/envelope/", Some("/api/42/envelope/")),
            ("/a/b/api/7/store", Some("/api/7/store")),
            ("/x/api/1/minidump/", Some("/api/1/minidump/")),
            ("/x/api/1/csp-report/", Some("/api/1/csp-report/")),
            ("/api/42/envelope/", None),
            ("/x/api/0/projects/", None),
            ("/x/api/abc/envelope/", None),
            ("/x/api/1/envelope/extra", None),
            ("/projects/1", None),
        ] {
            assert_eq!(unprefixed(path), expected, "{path}");
        }
    }
}
