//! Ingestion: the Sentry endpoints SDKs post to (`/api/{project}/envelope/` and the legacy
//! `/api/{project}/store/`). Authenticates the key, reads and decodes the body within the
//! size limits, parses the envelope, normalizes and groups each event (pure code from
//! `protocol` and `grouping`), hands it to the digest writer and answers once it is committed.

mod body;
mod error;
mod keys;
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
use crate::protocol::{auth, envelope, event, json as lenient};
use crate::store::ingest::{compress_payload, NewAttachment, NewEvent, NewUserReport};
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
    trust_proxy: bool,
}

impl Ingest {
    /// Starts the digest writer on the current runtime.
    pub fn new(db: Db, trust_proxy: bool) -> Ingest {
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
            digest: Digest::start(db.clone()),
            keys: Arc::new(keys::KeyCache::new(db)),
            limiter: Arc::new(ratelimit::RateLimiter::default()),
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
        .layer(middleware::from_fn(cors))
        .with_state(ingest)
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
    let received_ms = now_ms();
    let project_id: i64 =
        project.parse().map_err(|_| IngestError::BadRequest(format!("invalid project id {project:?}")))?;
    let (parts, body) = req.into_parts();
    let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0);
    let client_ip = crate::server::client_ip(&parts.headers, peer, st.trust_proxy);

    // Authenticate before reading the body when the key comes in a header or the query.
    let presented = presented_auth(&parts.headers, parts.uri.query().unwrap_or(""))?;
    let mut key = match &presented {
        Some(auth) => Some(st.keys.check(&auth.public_key, project_id).await?),
        None => None,
    };

    let declared = parts.headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
    if declared.is_some_and(|n: usize| n > MAX_BODY_BYTES) {
        return Err(IngestError::TooLarge(format!("the body is larger than {MAX_BODY_BYTES} bytes")));
    }
    let raw = read_body(body).await?;
    let encoding = parts.headers.get(header::CONTENT_ENCODING).and_then(|v| v.to_str().ok());
    let limit = if endpoint == Endpoint::Store { MAX_EVENT_BYTES } else { MAX_ENVELOPE_BYTES };
    let data = body::decode(encoding, raw, limit).map_err(|e| match e {
        body::DecodeError::TooLarge => IngestError::TooLarge(format!("the decoded body is larger than {limit} bytes")),
        body::DecodeError::Unsupported(enc) => IngestError::UnsupportedEncoding(enc),
        body::DecodeError::Corrupt(why) => IngestError::BadRequest(why),
    })?;

    let ctx = |event_id: Option<String>, sent_at_ms: Option<i64>| event::Context {
        event_id,
        received_ms,
        sent_at_ms,
        client_ip: Some(client_ip.clone()),
    };

    let mut answer_id: Option<String>;
    let mut new_event: Option<NewEvent> = None;
    let mut reports: Vec<NewUserReport> = Vec::new();

    match endpoint {
        Endpoint::Store => {
            let key = key.take().ok_or_else(|| IngestError::Unauthorized("missing authentication".into()))?;
            let json_bytes = if data.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') {
                data
            } else {
                lenient::decode_legacy_store_body(&data, MAX_EVENT_BYTES).map_err(|e| {
                    if e == "too large" {
                        IngestError::TooLarge(format!("the event is larger than {MAX_EVENT_BYTES} bytes"))
                    } else {
                        IngestError::BadRequest(e)
                    }
                })?
            };
            st.limiter.check(&st.digest, key.project_id, key.rate_limit_per_minute)?;
            let raw = lenient::parse_lenient(&json_bytes).map_err(IngestError::BadRequest)?;
            let ev = prepare_event(raw, ctx(None, None), key.project_id, received_ms)?;
            answer_id = Some(ev.event_id.clone());
            new_event = Some(ev);
        }
        Endpoint::Envelope => {
            let env =
                envelope::parse(&data).map_err(|e| IngestError::BadRequest(format!("malformed envelope: {e}")))?;
            if key.is_none() {
                let dsn = env.header_str("dsn").ok_or_else(|| {
                    IngestError::Unauthorized("missing authentication: no X-Sentry-Auth, sentry_key or dsn".into())
                })?;
                let (public_key, _) = auth::parse_dsn(dsn)
                    .ok_or_else(|| IngestError::Unauthorized("the envelope's dsn is malformed".into()))?;
                key = Some(st.keys.check(&public_key, project_id).await?);
            }
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
                        let raw = lenient::parse_lenient(item.payload)
                            .map_err(|e| IngestError::BadRequest(format!("event item: {e}")))?;
                        let ev = prepare_event(raw, ctx(header_event_id.clone(), sent_at_ms), project_id, received_ms)?;
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
                            data: item.payload.to_vec(),
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
                    // spans, logs and whatever comes next: accepted and counted, not stored.
                    other => st.digest.count(project_id, other, 1),
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
    let received_ms = now_ms();
    let project_id: i64 =
        project.parse().map_err(|_| IngestError::BadRequest(format!("invalid project id {project:?}")))?;
    let (parts, body) = req.into_parts();
    let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0);
    let client_ip = crate::server::client_ip(&parts.headers, peer, st.trust_proxy);
    let auth = presented_auth(&parts.headers, parts.uri.query().unwrap_or(""))?
        .ok_or_else(|| IngestError::Unauthorized("missing authentication: no sentry_key".into()))?;
    let key = st.keys.check(&auth.public_key, project_id).await?;
    let raw = read_body(body).await?;
    let encoding = parts.headers.get(header::CONTENT_ENCODING).and_then(|v| v.to_str().ok());
    let data = body::decode(encoding, raw, MAX_EVENT_BYTES).map_err(|e| match e {
        body::DecodeError::TooLarge => {
            IngestError::TooLarge(format!("the report is larger than {MAX_EVENT_BYTES} bytes"))
        }
        body::DecodeError::Unsupported(enc) => IngestError::UnsupportedEncoding(enc),
        body::DecodeError::Corrupt(why) => IngestError::BadRequest(why),
    })?;
    let report = lenient::parse_lenient(&data).map_err(IngestError::BadRequest)?;
    let events = crate::protocol::csp::events(&report).map_err(IngestError::BadRequest)?;
    let user_agent = parts.headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_string);
    let mut prepared = Vec::new();
    for mut raw in events {
        st.limiter.check(&st.digest, key.project_id, key.rate_limit_per_minute)?;
        if let (Some(ua), Some(request)) = (&user_agent, raw.get_mut("request").and_then(Value::as_object_mut)) {
            request.insert("headers".into(), json!({ "User-Agent": ua }));
        }
        let ctx = event::Context { event_id: None, received_ms, sent_at_ms: None, client_ip: Some(client_ip.clone()) };
        prepared.push(prepare_event(raw, ctx, key.project_id, received_ms)?);
    }
    for ev in prepared {
        st.digest.store_event(ev).await.map_err(submit_error)?;
    }
    Ok((StatusCode::OK, Json(json!({}))).into_response())
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

async fn read_body(body: Body) -> Result<Vec<u8>, IngestError> {
    match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(bytes) => Ok(bytes.to_vec()),
        Err(e) => {
            let too_large = std::error::Error::source(&e).is_some_and(|s| s.is::<http_body_util::LengthLimitError>())
                || e.to_string().contains("length limit");
            if too_large {
                Err(IngestError::TooLarge(format!("the body is larger than {MAX_BODY_BYTES} bytes")))
            } else {
                Err(IngestError::BadRequest(format!("cannot read the body: {e}")))
            }
        }
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
    Ok(NewEvent {
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
        payload: compress_payload(&json_bytes),
        attachments: Vec::new(),
    })
}

/// The first half of [`prepare_event`]: the normalized event as it is stored (with its
/// grouping, title and culprit added), its summary and its grouping. `faultline seed` builds
/// its issue templates with it.
pub fn normalize_and_group(
    raw: Value,
    ctx: &event::Context,
) -> Result<(Value, event::Summary, grouping::Grouping), IngestError> {
    let normalized = event::normalize(raw, ctx).map_err(IngestError::BadRequest)?;
    let grouping = grouping::group(&normalized.event);
    let mut ev = normalized.event;
    if let Value::Object(map) = &mut ev {
        map.insert(
            "grouping".into(),
            json!({"version": grouping.version, "hash": grouping.hash, "components": grouping.components}),
        );
        map.insert("title".into(), json!(grouping.title));
        map.entry("culprit").or_insert(json!(grouping.culprit));
    }
    Ok((ev, normalized.summary, grouping))
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
