//! `faultline bench`: a load generator for any Sentry-compatible ingestion endpoint.
//!
//! It sends a realistic ~8 KB Python error event to a DSN from `concurrency` keep-alive
//! connections for a bounded time and reports accepted events/s, latency percentiles and
//! errors. Request bodies are rendered once per distinct event; each request only copies the
//! template and patches in a fresh `event_id` (for gzip, the id sits in a stored deflate block
//! so the compressed body is patched too, only the CRC is recomputed).

pub mod read;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use anyhow::{bail, Context};
use bytes::Bytes;
use clap::{Args, ValueEnum};
use http::header::{HeaderMap, HeaderValue, CONTENT_ENCODING, CONTENT_TYPE, HOST, USER_AGENT};
use http::{Request, StatusCode, Uri};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use serde_json::{json, Value};
use tokio::net::TcpStream;

/// Marks where the event id goes in a body template: 32 characters, like the id itself.
const PLACEHOLDER: &[u8; 32] = b"faultlinebencheventidplaceholder";
/// A request that takes longer than this counts as an error.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Most distinct events `--unique-events` may ask for (each is an ~8 KB template in memory).
const MAX_UNIQUE_EVENTS: usize = 10_000;

/// Options of `faultline bench`.
#[derive(Args, Debug, Clone)]
pub struct BenchArgs {
    /// Where to send events: http://KEY@HOST[:PORT][/PATH]/PROJECT_ID (any Sentry-compatible server).
    #[arg(long)]
    pub dsn: String,
    /// Number of concurrent connections, each sending one request at a time.
    #[arg(long, default_value_t = 32)]
    pub concurrency: usize,
    /// Measured time in seconds.
    #[arg(long, default_value_t = 10.0)]
    pub duration: f64,
    /// Seconds of load before measuring starts (not counted).
    #[arg(long, default_value_t = 1.0)]
    pub warmup: f64,
    /// Ingestion endpoint to use.
    #[arg(long, value_enum, default_value_t = Endpoint::Envelope)]
    pub endpoint: Endpoint,
    /// Send gzip-compressed bodies (Content-Encoding: gzip).
    #[arg(long)]
    pub gzip: bool,
    /// Number of distinct events (exception types and stack traces, so distinct issues) to rotate through.
    #[arg(long, default_value_t = 1)]
    pub unique_events: usize,
    /// Also print the report as one line of JSON.
    #[arg(long)]
    pub json: bool,
}

/// The Sentry ingestion endpoint: `/api/ID/envelope/` or the legacy `/api/ID/store/`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    Envelope,
    Store,
}

/// The parts of a DSN the client needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dsn {
    pub public_key: String,
    /// Host as written in the DSN (IPv6 addresses keep their brackets).
    pub host: String,
    pub port: u16,
    /// Path prefix before the project id, without a trailing slash ("" or "/sentry").
    pub path: String,
    pub project_id: String,
}

impl Dsn {
    /// Parses `http://KEY[:SECRET]@HOST[:PORT][/PATH]/PROJECT_ID`.
    pub fn parse(dsn: &str) -> anyhow::Result<Dsn> {
        let dsn = dsn.trim();
        let rest = match dsn.split_once("://") {
            Some(("http", rest)) => rest,
            Some(("https", _)) => {
                bail!("https DSNs are not supported by the bench client; point it at the http listener")
            }
            _ => bail!("invalid DSN {dsn:?}: expected http://KEY@HOST[:PORT]/PROJECT_ID"),
        };
        let Some((userinfo, rest)) = rest.split_once('@') else { bail!("invalid DSN {dsn:?}: no public key") };
        let public_key = userinfo.split(':').next().unwrap_or_default();
        if public_key.is_empty() {
            bail!("invalid DSN {dsn:?}: no public key");
        }
        let (authority, path) =
            rest.split_once('/').map(|(a, p)| (a, format!("/{p}"))).unwrap_or((rest, String::new()));
        let path = path.trim_end_matches('/');
        let (prefix, project_id) = path.rsplit_once('/').unwrap_or(("", ""));
        if project_id.is_empty() {
            bail!("invalid DSN {dsn:?}: no project id");
        }
        let (host, port) = split_host_port(authority).with_context(|| format!("invalid DSN {dsn:?}"))?;
        Ok(Dsn {
            public_key: public_key.to_string(),
            host: host.to_string(),
            port,
            path: prefix.to_string(),
            project_id: project_id.to_string(),
        })
    }

    /// The endpoint's path, e.g. `/api/1/envelope/`.
    pub fn endpoint_path(&self, endpoint: Endpoint) -> String {
        let name = match endpoint {
            Endpoint::Envelope => "envelope",
            Endpoint::Store => "store",
        };
        format!("{}/api/{}/{name}/", self.path, self.project_id)
    }

    /// `HOST:PORT`, for the Host header and for connecting.
    pub fn authority(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

fn split_host_port(authority: &str) -> anyhow::Result<(&str, u16)> {
    let (host, port) = if authority.starts_with('[') {
        let end = authority.find(']').context("unterminated IPv6 address")?;
        let port = authority[end + 1..].strip_prefix(':');
        (&authority[..=end], port)
    } else {
        match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if host.is_empty() || host == "[]" {
        bail!("no host");
    }
    let port = match port {
        Some(p) => p.parse().with_context(|| format!("invalid port {p:?}"))?,
        None => 80,
    };
    Ok((host, port))
}

/// A request body with holes for the event id: `chunks[0] ID chunks[1] ID ... chunks[n]`.
#[derive(Clone, Debug)]
pub struct BodyTemplate {
    chunks: Vec<Vec<u8>>,
    /// For gzip bodies: the uncompressed chunks (for the CRC) and the uncompressed size.
    gzip: Option<(Vec<Vec<u8>>, u32)>,
    /// Size of a rendered body.
    len: usize,
    /// Size of the uncompressed body.
    plain_len: usize,
}

impl BodyTemplate {
    /// Splits `body` at every occurrence of the placeholder; with `gzip`, compresses it.
    fn new(body: &[u8], gzip: bool) -> BodyTemplate {
        let mut plain = Vec::new();
        let mut start = 0;
        let mut i = 0;
        while i + PLACEHOLDER.len() <= body.len() {
            if &body[i..i + PLACEHOLDER.len()] == PLACEHOLDER {
                plain.push(body[start..i].to_vec());
                i += PLACEHOLDER.len();
                start = i;
            } else {
                i += 1;
            }
        }
        plain.push(body[start..].to_vec());
        let plain_len = body.len();
        if !gzip {
            return BodyTemplate { chunks: plain, gzip: None, len: plain_len, plain_len };
        }
        // Gzip member: header, then each chunk deflated on its own (sync flush, byte aligned,
        // no references outside the chunk) followed by a stored block announcing the 32-byte id.
        let mut chunks = Vec::with_capacity(plain.len());
        let last = plain.len() - 1;
        for (n, chunk) in plain.iter().enumerate() {
            let mut out = if n == 0 { vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff] } else { Vec::new() };
            let mut encoder = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
            encoder.write_all(chunk).expect("compressing into memory");
            if n == last {
                out.extend(encoder.finish().expect("compressing into memory"));
            } else {
                encoder.flush().expect("compressing into memory");
                out.extend(encoder.get_ref());
                // Stored block header: BFINAL=0, BTYPE=00, padding; LEN=32, NLEN=!32.
                out.extend([0x00, 32, 0, !32u8, 0xff]);
            }
            chunks.push(out);
        }
        let len = chunks.iter().map(Vec::len).sum::<usize>() + (chunks.len() - 1) * PLACEHOLDER.len() + 8;
        BodyTemplate { chunks, gzip: Some((plain, plain_len as u32)), len, plain_len }
    }

    /// The body with `id` in every hole.
    pub fn render(&self, id: &[u8; 32]) -> Bytes {
        let mut out = Vec::with_capacity(self.len);
        for (n, chunk) in self.chunks.iter().enumerate() {
            if n > 0 {
                out.extend_from_slice(id);
            }
            out.extend_from_slice(chunk);
        }
        if let Some((plain, size)) = &self.gzip {
            let mut crc = flate2::Crc::new();
            for (n, chunk) in plain.iter().enumerate() {
                if n > 0 {
                    crc.update(id);
                }
                crc.update(chunk);
            }
            out.extend_from_slice(&crc.sum().to_le_bytes());
            out.extend_from_slice(&size.to_le_bytes());
        }
        Bytes::from(out)
    }

    /// How many ids a rendered body contains.
    pub fn holes(&self) -> usize {
        self.chunks.len() - 1
    }
}

/// Makes unique event ids: a random per-run prefix and a shared counter, as 32 lowercase hex digits.
#[derive(Debug)]
pub struct IdSource {
    prefix: u64,
    counter: AtomicU64,
}

impl IdSource {
    pub fn new() -> IdSource {
        IdSource { prefix: uuid::Uuid::new_v4().as_u64_pair().0, counter: AtomicU64::new(0) }
    }

    /// The next id and its sequence number.
    pub fn next(&self) -> ([u8; 32], u64) {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let mut id = [0u8; 32];
        hex_u64(self.prefix, &mut id[..16]);
        hex_u64(n, &mut id[16..]);
        (id, n)
    }
}

impl Default for IdSource {
    fn default() -> Self {
        Self::new()
    }
}

fn hex_u64(value: u64, out: &mut [u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = DIGITS[((value >> (60 - 4 * i)) & 0xf) as usize];
    }
}

/// Exception types of the distinct events; beyond the list they get a numeric suffix.
const EXCEPTION_TYPES: [&str; 12] = [
    "ValueError",
    "KeyError",
    "TypeError",
    "AttributeError",
    "RuntimeError",
    "ZeroDivisionError",
    "IndexError",
    "ConnectionError",
    "TimeoutError",
    "PermissionError",
    "LookupError",
    "UnicodeDecodeError",
];

/// The exception type of distinct event number `variant`.
pub fn exception_type(variant: usize) -> String {
    let base = EXCEPTION_TYPES[variant % EXCEPTION_TYPES.len()];
    match variant / EXCEPTION_TYPES.len() {
        0 => base.to_string(),
        n => format!("{base}{n}"),
    }
}

/// Source lines the frames' context is taken from (short, with blank lines, like real code).
const SOURCE: [&str; 24] = [
    "def handle(self, req):",
    "    data = req.json",
    "    if not data:",
    "        return",
    "",
    "    items = data[\"items\"]",
    "    for it in items:",
    "        check(it)",
    "",
    "    try:",
    "        rv = submit(it)",
    "    except KeyError:",
    "        raise",
    "    return rv",
    "",
    "    user = get_user()",
    "    if user is None:",
    "        abort(403)",
    "",
    "    cart = load(cid)",
    "    qty = int(it.qty)",
    "    return price * qty",
    "    db.close()",
    "",
];

/// (module, function, in_app) from the outermost call to the raising frame.
const FRAMES: [(&str, &str, bool); 15] = [
    ("gunicorn.workers.sync", "handle_request", false),
    ("flask.app", "wsgi_app", false),
    ("flask.app", "full_dispatch_request", false),
    ("flask.app", "dispatch_request", false),
    ("app.middleware.auth", "require_login", true),
    ("app.views.orders", "create_order", true),
    ("app.services.orders", "place_order", true),
    ("sqlalchemy.orm.session", "execute", false),
    ("app.services.orders", "validate_cart", true),
    ("app.services.pricing", "compute_total", true),
    ("app.services.pricing", "line_total", true),
    ("decimal", "__new__", false),
    ("app.util.money", "parse_amount", true),
    ("babel.numbers", "parse_decimal", false),
    ("app.util.money", "check_amount", true),
];

/// One stack frame. In-app frames carry 5 lines of context either side and local variables;
/// library frames only their own line, which keeps the event near 8 KB.
fn stack_frame(variant: usize, index: usize) -> Value {
    let (module, base_function, in_app) = FRAMES[index];
    let function = if in_app && variant > 0 { format!("{base_function}_{variant}") } else { base_function.to_string() };
    let filename = format!("{}.py", module.replace('.', "/"));
    let abs_path = if in_app {
        format!("/srv/shop/{filename}")
    } else {
        format!("/usr/local/lib/python3.12/site-packages/{filename}")
    };
    let lineno = 40 + (index * 37 + variant * 11) % 400;
    let line = |k: usize| SOURCE[(index * 5 + variant + k) % SOURCE.len()];
    let mut frame = json!({
        "filename": filename,
        "abs_path": abs_path,
        "function": function,
        "module": module,
        "lineno": lineno,
        "in_app": in_app,
        "context_line": line(5),
    });
    if in_app {
        frame["pre_context"] = json!((0..5).map(line).collect::<Vec<_>>());
        frame["post_context"] = json!((6..11).map(line).collect::<Vec<_>>());
        frame["vars"] = json!({
            "self": "<OrderService at 0x7f3a2c1e9d50>",
            "order_id": format!("{}", 100_000 + index),
            "items": "[<Item 'A-1'>, <Item 'B-7'>]",
        });
    }
    frame
}

/// The event payload of distinct event number `variant`, with `event_id` as given.
pub fn event_json(variant: usize, event_id: &str, timestamp: &str) -> Value {
    let ty = exception_type(variant);
    let breadcrumbs: Vec<Value> = (0..10)
        .map(|i| match i % 3 {
            0 => json!({"type": "http", "category": "httplib", "level": "info", "timestamp": timestamp,
                "data": {"method": "GET", "url": format!("https://pay.example/v1/charges/{i}"), "status_code": 200}}),
            1 => json!({"category": "query", "level": "info", "timestamp": timestamp,
                "message": format!("SELECT sku, price FROM item WHERE cart = {i}")}),
            _ => json!({"category": "app", "level": "debug", "timestamp": timestamp,
                "message": format!("loaded cart {i}")}),
        })
        .collect();
    json!({
        "event_id": event_id,
        "timestamp": timestamp,
        "platform": "python",
        "level": "error",
        "logger": "app.services.pricing",
        "server_name": "web-3.bench.internal",
        "release": "bench@1.0.0",
        "environment": "bench",
        "transaction": "/api/orders",
        "exception": {"values": [{
            "type": ty,
            "value": format!("invalid literal for amount: 'N/A' (variant {variant})"),
            "module": "builtins",
            "mechanism": {"type": "flask", "handled": false},
            "stacktrace": {"frames": (0..FRAMES.len()).map(|i| stack_frame(variant, i)).collect::<Vec<_>>()},
        }]},
        "breadcrumbs": {"values": breadcrumbs},
        "tags": {"browser": "Firefox 128", "os": "Linux", "region": "eu-west-1", "plan": "pro",
            "feature": "checkout", "deployment": "blue"},
        "user": {"id": "4711", "email": "jane.doe@example.com", "ip_address": "203.0.113.7"},
        "request": {
            "url": "https://shop.example.com/api/orders",
            "method": "POST",
            "query_string": "currency=EUR&preview=0",
            "headers": {
                "Host": "shop.example.com",
                "User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
                "Accept": "application/json",
                "Accept-Language": "en-US,en;q=0.5",
                "Content-Type": "application/json",
                "Referer": "https://shop.example.com/cart",
            },
        },
        "contexts": {
            "os": {"name": "Linux", "version": "6.1.0", "build": "Debian 12"},
            "runtime": {"name": "CPython", "version": "3.12.4"},
        },
        "sdk": {"name": "sentry.python", "version": "2.19.0",
            "integrations": ["flask", "sqlalchemy", "logging", "stdlib"]},
    })
}

/// The request body (with placeholder ids) of distinct event `variant` for `endpoint`.
pub fn event_body(variant: usize, endpoint: Endpoint) -> Vec<u8> {
    let now = rfc3339(SystemTime::now());
    let id = std::str::from_utf8(PLACEHOLDER).expect("ASCII");
    let event = serde_json::to_vec(&event_json(variant, id, &now)).expect("serializing JSON");
    match endpoint {
        Endpoint::Store => event,
        Endpoint::Envelope => {
            let mut body = format!(
                "{{\"event_id\":\"{id}\",\"sent_at\":\"{now}\"}}\n{{\"type\":\"event\",\"length\":{}}}\n",
                event.len()
            )
            .into_bytes();
            body.extend(event);
            body.push(b'\n');
            body
        }
    }
}

/// `2024-05-01T12:34:56.789Z`.
fn rfc3339(time: SystemTime) -> String {
    let format = time::format_description::parse_borrowed::<2>(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z",
    )
    .expect("constant format");
    time::OffsetDateTime::from(time).format(&format).unwrap_or_default()
}

/// The outcome of a run.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Report {
    pub url: String,
    pub concurrency: usize,
    pub duration_secs: f64,
    pub endpoint: String,
    pub gzip: bool,
    pub unique_events: usize,
    /// Size of the uncompressed request body.
    pub body_bytes: usize,
    /// Size of the request body as sent (differs with gzip).
    pub wire_bytes: usize,
    /// Requests answered with 2xx.
    pub accepted: u64,
    /// Requests answered with 429.
    pub rejected_429: u64,
    /// The first Retry-After value seen on a 429.
    pub retry_after: Option<String>,
    /// Other HTTP error statuses plus transport errors (connect, I/O, timeout).
    pub errors: u64,
    pub errors_by_status: BTreeMap<u16, u64>,
    pub transport_errors: u64,
    pub first_error: Option<String>,
    pub events_per_sec: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
}

/// Counts kept by each worker, merged at the end.
#[derive(Default)]
struct Tally {
    /// Latencies of accepted requests, in microseconds.
    latencies_us: Vec<u32>,
    rejected_429: u64,
    retry_after: Option<String>,
    errors_by_status: BTreeMap<u16, u64>,
    transport_errors: u64,
    first_error: Option<String>,
}

impl Tally {
    fn error(&mut self, status: Option<u16>, message: impl FnOnce() -> String) {
        match status {
            Some(s) => *self.errors_by_status.entry(s).or_default() += 1,
            None => self.transport_errors += 1,
        }
        if self.first_error.is_none() {
            self.first_error = Some(message());
        }
    }
}

/// What every worker shares.
struct Plan {
    addr: SocketAddr,
    uri: Uri,
    headers: HeaderMap,
    templates: Vec<BodyTemplate>,
    ids: IdSource,
    /// Requests completing before this are warmup.
    measure_from: Instant,
    /// No request starts after this.
    end: Instant,
}

/// Runs the benchmark and returns the report (printing is up to the caller).
pub async fn run(args: BenchArgs) -> anyhow::Result<Report> {
    let dsn = Dsn::parse(&args.dsn)?;
    if args.concurrency == 0 {
        bail!("--concurrency must be at least 1");
    }
    if !(args.duration > 0.0 && args.duration.is_finite() && args.warmup >= 0.0 && args.warmup.is_finite()) {
        bail!("--duration must be positive and --warmup not negative");
    }
    if args.unique_events == 0 || args.unique_events > MAX_UNIQUE_EVENTS {
        bail!("--unique-events must be between 1 and {MAX_UNIQUE_EVENTS}");
    }
    let host = dsn.host.trim_start_matches('[').trim_end_matches(']');
    let addr = tokio::net::lookup_host((host, dsn.port))
        .await
        .with_context(|| format!("cannot resolve {}", dsn.host))?
        .next()
        .with_context(|| format!("no address for {}", dsn.host))?;
    let path = dsn.endpoint_path(args.endpoint);
    let uri: Uri = path.parse().context("invalid DSN path")?;
    let mut headers = HeaderMap::new();
    headers.insert(HOST, HeaderValue::from_str(&dsn.authority()).context("invalid DSN host")?);
    let auth = format!(
        "Sentry sentry_version=7, sentry_key={}, sentry_client=faultline-bench/{}",
        dsn.public_key,
        env!("CARGO_PKG_VERSION")
    );
    headers.insert("x-sentry-auth", HeaderValue::from_str(&auth).context("invalid DSN key")?);
    headers.insert(USER_AGENT, HeaderValue::from_static(concat!("faultline-bench/", env!("CARGO_PKG_VERSION"))));
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static(match args.endpoint {
            Endpoint::Envelope => "application/x-sentry-envelope",
            Endpoint::Store => "application/json",
        }),
    );
    if args.gzip {
        headers.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    let templates: Vec<BodyTemplate> =
        (0..args.unique_events).map(|v| BodyTemplate::new(&event_body(v, args.endpoint), args.gzip)).collect();

    let start = Instant::now();
    let measure_from = start + Duration::from_secs_f64(args.warmup);
    let end = measure_from + Duration::from_secs_f64(args.duration);
    let plan = Arc::new(Plan { addr, uri, headers, templates, ids: IdSource::new(), measure_from, end });
    let workers: Vec<_> = (0..args.concurrency).map(|_| tokio::spawn(worker(plan.clone()))).collect();
    let mut total = Tally::default();
    for w in workers {
        let t = w.await.context("bench worker panicked")?;
        total.latencies_us.extend(t.latencies_us);
        total.rejected_429 += t.rejected_429;
        total.retry_after = total.retry_after.or(t.retry_after);
        for (status, n) in t.errors_by_status {
            *total.errors_by_status.entry(status).or_default() += n;
        }
        total.transport_errors += t.transport_errors;
        total.first_error = total.first_error.or(t.first_error);
    }

    let mut lat = total.latencies_us;
    lat.sort_unstable();
    let pct = |p: f64| -> f64 {
        if lat.is_empty() {
            return 0.0;
        }
        let rank = ((p * lat.len() as f64).ceil() as usize).clamp(1, lat.len());
        f64::from(lat[rank - 1]) / 1000.0
    };
    let accepted = lat.len() as u64;
    let errors = total.errors_by_status.values().sum::<u64>() + total.transport_errors;
    Ok(Report {
        url: format!("http://{}{}", dsn.authority(), path),
        concurrency: args.concurrency,
        duration_secs: args.duration,
        endpoint: format!("{:?}", args.endpoint).to_lowercase(),
        gzip: args.gzip,
        unique_events: args.unique_events,
        body_bytes: plan.templates[0].plain_len,
        wire_bytes: plan.templates[0].len,
        accepted,
        rejected_429: total.rejected_429,
        retry_after: total.retry_after,
        errors,
        errors_by_status: total.errors_by_status,
        transport_errors: total.transport_errors,
        first_error: total.first_error,
        events_per_sec: accepted as f64 / args.duration,
        p50_ms: pct(0.50),
        p90_ms: pct(0.90),
        p99_ms: pct(0.99),
        p999_ms: pct(0.999),
        max_ms: pct(1.0),
    })
}

/// Opens a keep-alive HTTP/1.1 connection.
async fn connect(addr: SocketAddr) -> anyhow::Result<SendRequest<Full<Bytes>>> {
    let stream = tokio::time::timeout(REQUEST_TIMEOUT, TcpStream::connect(addr))
        .await
        .map_err(|_| anyhow::anyhow!("cannot connect to {addr}: timed out"))?
        .with_context(|| format!("cannot connect to {addr}"))?;
    stream.set_nodelay(true)?;
    let (sender, conn) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        // Errors surface on the sender too.
        let _ = conn.await;
    });
    Ok(sender)
}

/// Sends requests one after the other on one connection until the end of the run.
async fn worker(plan: Arc<Plan>) -> Tally {
    let mut tally = Tally::default();
    let mut sender: Option<SendRequest<Full<Bytes>>> = None;
    loop {
        if Instant::now() >= plan.end {
            return tally;
        }
        let counted = |at: Instant| at >= plan.measure_from;
        // A connection the server closed (e.g. after Connection: close) is replaced silently.
        if let Some(s) = sender.as_mut() {
            if s.ready().await.is_err() {
                sender = None;
            }
        }
        let s = match sender.as_mut() {
            Some(s) => s,
            None => match connect(plan.addr).await {
                Ok(s) => sender.insert(s),
                Err(e) => {
                    if counted(Instant::now()) {
                        tally.error(None, || format!("{e:#}"));
                    }
                    // Do not spin on a refused connection.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let (id, n) = plan.ids.next();
        let body = plan.templates[n as usize % plan.templates.len()].render(&id);
        let mut request = Request::post(plan.uri.clone()).body(Full::new(body)).expect("valid request");
        *request.headers_mut() = plan.headers.clone();
        let started = Instant::now();
        let result = tokio::time::timeout(REQUEST_TIMEOUT, async {
            let response = s.send_request(request).await?;
            let (parts, body) = response.into_parts();
            let body = body.collect().await?.to_bytes();
            Ok::<_, hyper::Error>((parts, body))
        })
        .await;
        let done = Instant::now();
        match result {
            Ok(Ok((parts, body))) => {
                if !counted(done) {
                    continue;
                }
                if parts.status.is_success() {
                    let us = done.duration_since(started).as_micros();
                    tally.latencies_us.push(us.min(u128::from(u32::MAX)) as u32);
                } else if parts.status == StatusCode::TOO_MANY_REQUESTS {
                    tally.rejected_429 += 1;
                    if tally.retry_after.is_none() {
                        tally.retry_after = parts
                            .headers
                            .get(http::header::RETRY_AFTER)
                            .and_then(|v| v.to_str().ok())
                            .map(str::to_string);
                    }
                } else {
                    tally.error(Some(parts.status.as_u16()), || {
                        let text = String::from_utf8_lossy(&body);
                        let text: String = text.trim().chars().take(200).collect();
                        if text.is_empty() {
                            format!("HTTP {}", parts.status)
                        } else {
                            format!("HTTP {}: {text}", parts.status)
                        }
                    });
                }
            }
            Ok(Err(e)) => {
                sender = None;
                if counted(done) {
                    tally.error(None, || format!("{e}"));
                }
            }
            Err(_) => {
                sender = None;
                if counted(done) {
                    tally.error(None, || format!("no response within {} s", REQUEST_TIMEOUT.as_secs()));
                }
            }
        }
    }
}

/// `153204` → `153,204`.
pub(crate) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Milliseconds with about three significant digits.
fn ms(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0} ms")
    } else if v >= 10.0 {
        format!("{v:.1} ms")
    } else {
        format!("{v:.2} ms")
    }
}

impl Report {
    /// The human-readable report.
    pub fn text(&self) -> String {
        let mut out = String::new();
        let size = if self.gzip {
            format!("{:.1} KB, gzip {:.1} KB", self.body_bytes as f64 / 1024.0, self.wire_bytes as f64 / 1024.0)
        } else {
            format!("{:.1} KB", self.body_bytes as f64 / 1024.0)
        };
        let _ = writeln!(
            out,
            "faultline bench: {}  concurrency {}  duration {} s  event {} ({}, {}{})",
            self.url,
            self.concurrency,
            self.duration_secs,
            size,
            self.endpoint,
            if self.gzip { "gzip" } else { "plain" },
            if self.unique_events > 1 { format!(", {} distinct", self.unique_events) } else { String::new() },
        );
        let _ = writeln!(
            out,
            "accepted   {}   {} events/s",
            thousands(self.accepted),
            thousands(self.events_per_sec.round() as u64)
        );
        let _ = writeln!(
            out,
            "latency    p50 {}   p90 {}   p99 {}   p99.9 {}   max {}",
            ms(self.p50_ms),
            ms(self.p90_ms),
            ms(self.p99_ms),
            ms(self.p999_ms),
            ms(self.max_ms)
        );
        let retry = self.retry_after.as_ref().map(|r| format!(", Retry-After: {r}")).unwrap_or_default();
        let _ = writeln!(
            out,
            "rejected   {} (429{retry})   errors {}",
            thousands(self.rejected_429),
            thousands(self.errors)
        );
        if self.errors > 0 {
            let mut kinds: Vec<String> =
                self.errors_by_status.iter().map(|(s, n)| format!("HTTP {s}: {}", thousands(*n))).collect();
            if self.transport_errors > 0 {
                kinds.push(format!("transport: {}", thousands(self.transport_errors)));
            }
            let _ = writeln!(out, "errors     {}", kinds.join("   "));
        }
        if let Some(e) = &self.first_error {
            let _ = writeln!(out, "first error  {e}");
        }
        out
    }
}

/// Where the CPU time of ingesting one event goes, per phase, in microseconds averaged
/// over `iterations` runs of `envelope` .
fn pipeline_timings(envelope: &[u8], iterations: u32) -> Result<Vec<(&'static str, f64)>, String> {
    let mut spent = [0u128; 6];
    for _ in 0..iterations.max(1) {
        let t = Instant::now();
        let env = crate::protocol::envelope::parse(envelope).map_err(|e| e.to_string())?;
        let item = env.items.iter().find(|i| i.ty == "event").ok_or("no event item")?;
        spent[0] += t.elapsed().as_nanos();
        let t = Instant::now();
        let raw = crate::protocol::json::parse_lenient(item.payload)?;
        spent[1] += t.elapsed().as_nanos();
        let t = Instant::now();
        let ctx = crate::protocol::event::Context { received_ms: crate::store::now_ms(), ..Default::default() };
        let normalized = crate::protocol::event::normalize(raw, &ctx)?;
        spent[2] += t.elapsed().as_nanos();
        let t = Instant::now();
        let grouping = crate::grouping::group(&normalized.event);
        spent[3] += t.elapsed().as_nanos();
        let t = Instant::now();
        let bytes = serde_json::to_vec(&normalized.event).map_err(|e| e.to_string())?;
        spent[4] += t.elapsed().as_nanos();
        let t = Instant::now();
        let compressed = crate::store::payload::compress_payload(&bytes);
        spent[5] += t.elapsed().as_nanos();
        std::hint::black_box((grouping, compressed));
    }
    let n = f64::from(iterations.max(1)) * 1000.0;
    let names = ["envelope", "parse JSON", "normalize", "group", "serialize", "compress"];
    Ok(names.into_iter().zip(spent).map(|(name, ns)| (name, ns as f64 / n)).collect())
}

/// `faultline bench-pipeline`: prints the CPU cost of each ingestion phase for the bench
/// event and, with `store_batch`, the store's cost per event when writing batches of that
/// size to `database_url` (one writer, no HTTP).
pub async fn pipeline(iterations: u32, store_batch: Option<usize>, database_url: &str) -> anyhow::Result<()> {
    use crate::protocol::{envelope, event, json};
    use crate::store::{now_ms, Db};
    let body = event_body(0, Endpoint::Envelope);
    let timings = pipeline_timings(&body, iterations).map_err(anyhow::Error::msg)?;
    let total: f64 = timings.iter().map(|t| t.1).sum();
    for (phase, micros) in timings {
        println!("{phase:<12} {micros:>8.1} µs");
    }
    println!("{:<12} {total:>8.1} µs per event ({} bytes)", "total", body.len());
    // The fast path of the same event: skim, normalize and group the skimmed fields, compress
    // the payload as it came (what ingestion does for events like this one).
    let env = envelope::parse(&body).map_err(anyhow::Error::msg)?;
    let payload = env.items[0].payload;
    // The scan that decides whether the fast path may take an event (valid UTF-8, no lone
    // surrogate, numbers in range, shallow nesting): part of the fast path below.
    let started = Instant::now();
    for _ in 0..iterations.max(1) {
        std::hint::black_box(json::fast_path_safe(std::hint::black_box(payload)));
    }
    let verdict = started.elapsed().as_secs_f64() * 1e6 / f64::from(iterations.max(1));
    println!("{:<12} {verdict:>8.1} µs per event (the scan that admits it to the fast path)", "verdict");
    let started = Instant::now();
    for i in 0..iterations.max(1) {
        let ctx = event::Context { event_id: Some(format!("{i:032x}")), received_ms: now_ms(), ..Default::default() };
        std::hint::black_box(crate::ingest::prepare_event_bytes(payload, ctx, 1, now_ms())?);
    }
    let fast = started.elapsed().as_secs_f64() * 1e6 / f64::from(iterations.max(1));
    println!("{:<12} {fast:>8.1} µs per event (skim, normalize and group that, compress as sent)", "fast path");
    let started = Instant::now();
    let stored = crate::ingest::prepare_event_bytes(payload, event::Context::default(), 1, now_ms())?.payload;
    for _ in 0..iterations.max(1) / 10 {
        std::hint::black_box(crate::store::payload::decompress_payload(&stored));
    }
    let read = started.elapsed().as_secs_f64() * 1e6 / f64::from((iterations.max(1) / 10).max(1));
    println!("{:<12} {read:>8.1} µs per event read back (normalized when read)", "fast read");
    let Some(batch) = store_batch else { return Ok(()) };
    let db = Db::connect(database_url).await?;
    db.migrate().await?;
    let org = db.create_org(&format!("bench{}", now_ms()), "bench").await?;
    let (project, _) = db.create_project(org.id, "bench", "bench", "python").await?;
    let env = envelope::parse(&body).map_err(anyhow::Error::msg)?;
    let raw = json::parse_lenient(env.items[0].payload).map_err(anyhow::Error::msg)?;
    let events: Vec<_> = (0..iterations)
        .map(|i| {
            let ctx = event::Context {
                event_id: Some(format!("{:032x}", u128::from(i) + 1)),
                received_ms: now_ms(),
                ..Default::default()
            };
            crate::ingest::prepare_event(raw.clone(), ctx, project.id, now_ms())
        })
        .collect::<Result<_, _>>()?;
    // What the ingestion writer stores through (on an SQLite file, its own connection), each
    // batch made durable before the next as the digest's syncer does.
    let (writer, mut wal) = db.dedicated_writer().await?;
    let started = Instant::now();
    for chunk in events.chunks(batch.max(1)) {
        writer.write_batch(chunk, &[], &[]).await?;
        if let Some(wal) = wal.as_mut() {
            wal.sync()?;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    drop(writer);
    println!(
        "store        {:>8.1} µs per event in batches of {batch} ({:.0} events/s, one writer, fsync each)",
        secs * 1e6 / f64::from(iterations),
        f64::from(iterations) / secs
    );
    db.close().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Read as _;
    use std::time::UNIX_EPOCH;

    use super::*;

    fn args(dsn: String) -> BenchArgs {
        BenchArgs {
            dsn,
            concurrency: 4,
            duration: 1.0,
            warmup: 0.2,
            endpoint: Endpoint::Envelope,
            gzip: false,
            unique_events: 1,
            json: false,
        }
    }

    #[test]
    fn parses_dsns() {
        let d = Dsn::parse("http://abc123@127.0.0.1:8000/42").unwrap();
        assert_eq!((d.public_key.as_str(), d.host.as_str(), d.port), ("abc123", "127.0.0.1", 8000));
        assert_eq!((d.path.as_str(), d.project_id.as_str()), ("", "42"));
        assert_eq!(d.endpoint_path(Endpoint::Envelope), "/api/42/envelope/");

        let d = Dsn::parse("http://key:secret@sentry.example.com/sentry/prefix/7").unwrap();
        assert_eq!((d.public_key.as_str(), d.host.as_str(), d.port), ("key", "sentry.example.com", 80));
        assert_eq!(d.endpoint_path(Endpoint::Store), "/sentry/prefix/api/7/store/");

        let d = Dsn::parse("http://k@[::1]:9000/3").unwrap();
        assert_eq!((d.host.as_str(), d.port, d.authority()), ("[::1]", 9000, "[::1]:9000".to_string()));

        for bad in ["http://127.0.0.1:8000/1", "http://k@127.0.0.1:8000", "http://k@127.0.0.1:8000/", "k@host/1"] {
            assert!(Dsn::parse(bad).is_err(), "{bad}");
        }
        assert!(Dsn::parse("http://k@host:notaport/1").is_err());
        let err = Dsn::parse("https://k@host/1").unwrap_err().to_string();
        assert!(err.contains("https DSNs are not supported"), "{err}");
    }

    #[test]
    fn event_is_about_8_kb_of_valid_json() {
        let body = event_body(0, Endpoint::Store);
        assert!((7 * 1024..=9 * 1024).contains(&body.len()), "{} bytes", body.len());
        let event: Value = serde_json::from_slice(&body).unwrap();
        let frames = event["exception"]["values"][0]["stacktrace"]["frames"].as_array().unwrap();
        assert!((15..=20).contains(&frames.len()));
        assert_eq!(event["exception"]["values"][0]["type"], "ValueError");
    }

    /// Splits an envelope into its header and the event payload.
    fn parse_envelope(body: &[u8]) -> (Value, Value) {
        let mut lines = body.splitn(3, |b| *b == b'\n');
        let header: Value = serde_json::from_slice(lines.next().unwrap()).unwrap();
        let item: Value = serde_json::from_slice(lines.next().unwrap()).unwrap();
        let rest = lines.next().unwrap();
        let len = item["length"].as_u64().unwrap() as usize;
        assert_eq!(item["type"], "event");
        assert_eq!(&rest[len..], b"\n");
        (header, serde_json::from_slice(&rest[..len]).unwrap())
    }

    #[test]
    fn patched_ids_make_valid_envelopes() {
        let template = BodyTemplate::new(&event_body(0, Endpoint::Envelope), false);
        assert_eq!(template.holes(), 2);
        let ids = IdSource::new();
        let (id1, _) = ids.next();
        let (id2, _) = ids.next();
        assert_ne!(id1, id2);
        for id in [id1, id2] {
            let (header, event) = parse_envelope(&template.render(&id));
            let id = std::str::from_utf8(&id).unwrap();
            assert!(id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
            assert_eq!(header["event_id"], id);
            assert_eq!(event["event_id"], id);
            assert!(header["sent_at"].as_str().unwrap().ends_with('Z'));
        }
        let store = BodyTemplate::new(&event_body(0, Endpoint::Store), false);
        assert_eq!(store.holes(), 1);
    }

    #[test]
    fn patched_gzip_bodies_decompress() {
        let plain = BodyTemplate::new(&event_body(1, Endpoint::Envelope), false);
        let gzip = BodyTemplate::new(&event_body(1, Endpoint::Envelope), true);
        let (id, _) = IdSource::new().next();
        let compressed = gzip.render(&id);
        assert_eq!(compressed.len(), gzip.len);
        assert!(compressed.len() < plain.len / 3, "{} bytes", compressed.len());
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&compressed[..]).read_to_end(&mut out).unwrap();
        // Same timestamps only if both were built in the same millisecond; compare the ids.
        let (header, event) = parse_envelope(&out);
        assert_eq!(header["event_id"], std::str::from_utf8(&id).unwrap());
        assert_eq!(event["event_id"], header["event_id"]);
        assert_eq!(out.len(), gzip.plain_len);
    }

    #[test]
    fn unique_events_differ_in_exception_type() {
        let types: Vec<String> = (0..30)
            .map(|v| {
                let event: Value = serde_json::from_slice(&event_body(v, Endpoint::Store)).unwrap();
                event["exception"]["values"][0]["type"].as_str().unwrap().to_string()
            })
            .collect();
        let distinct: std::collections::HashSet<_> = types.iter().collect();
        assert_eq!(distinct.len(), types.len());
        let f0 = event_json(0, "x", "t")["exception"]["values"][0]["stacktrace"]["frames"][5]["function"].clone();
        let f1 = event_json(1, "x", "t")["exception"]["values"][0]["stacktrace"]["frames"][5]["function"].clone();
        assert_ne!(f0, f1);
    }

    #[test]
    fn formats_numbers_and_dates() {
        assert_eq!(thousands(153_204), "153,204");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000_000), "1,000,000");
        assert_eq!(rfc3339(UNIX_EPOCH + Duration::from_millis(1_714_566_896_789)), "2024-05-01T12:34:56.789Z");
        assert_eq!(rfc3339(UNIX_EPOCH + Duration::from_secs(951_782_400)), "2000-02-29T00:00:00.000Z");
    }

    /// End to end against a throwaway server that accepts everything.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn runs_against_a_server() {
        use axum::routing::post;
        let seen = Arc::new(std::sync::Mutex::new(std::collections::HashSet::new()));
        let seen2 = seen.clone();
        let app = axum::Router::new().route(
            "/api/1/envelope/",
            post(move |headers: axum::http::HeaderMap, body: Bytes| {
                let seen = seen2.clone();
                async move {
                    assert!(headers["x-sentry-auth"].to_str().unwrap().contains("sentry_key=testkey"));
                    assert_eq!(headers["content-type"], "application/x-sentry-envelope");
                    let (header, _) = parse_envelope(&body);
                    let id = header["event_id"].as_str().unwrap().to_string();
                    assert!(seen.lock().unwrap().insert(id.clone()), "duplicate id {id}");
                    axum::Json(json!({ "id": id }))
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

        let mut a = args(format!("http://testkey@127.0.0.1:{port}/1"));
        a.unique_events = 3;
        let report = run(a).await.unwrap();
        print!("{}", report.text());
        assert!(report.accepted > 0);
        assert_eq!(report.errors, 0, "{:?}", report.first_error);
        assert!(report.p50_ms > 0.0 && report.p50_ms <= report.p99_ms && report.p99_ms <= report.max_ms);
        assert!(seen.lock().unwrap().len() as u64 >= report.accepted);

        // A wrong path is counted per status, with the first error.
        let mut a = args(format!("http://testkey@127.0.0.1:{port}/2"));
        a.duration = 0.3;
        a.warmup = 0.0;
        let report = run(a).await.unwrap();
        print!("{}", report.text());
        assert_eq!(report.accepted, 0);
        assert!(report.errors_by_status.get(&404).copied().unwrap_or(0) > 0);
        assert!(report.first_error.as_deref().unwrap().starts_with("HTTP 404"));
    }
}
