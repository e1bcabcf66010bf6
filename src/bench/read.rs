//! `faultline bench-read`: measures the read side (pages, JSON API) of any HTTP server.
//!
//! For each path in turn, `concurrency` keep-alive connections send GET requests (with the
//! given headers, e.g. a session cookie or an API token) until the path has had its number
//! of requests or its time, after a few warm-up requests that are not counted; the report
//! gives per path the request rate, the errors (any non-2xx answer) and the latency
//! percentiles, measured to the last byte of the body.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use bytes::Bytes;
use clap::Args;
use http::header::{HeaderMap, HeaderName, HeaderValue, HOST, LOCATION, USER_AGENT};
use http::{Request, Uri};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;

use super::{connect, ms, split_host_port, thousands, REQUEST_TIMEOUT};

/// Options of `faultline bench-read`.
#[derive(Args, Debug, Clone)]
pub struct ReadArgs {
    /// The server: http://HOST[:PORT][/PREFIX] (any HTTP server, not only Faultline).
    #[arg(long)]
    pub url: String,
    /// A path to request, e.g. /projects/1 or '/api/0/projects/acme/backend/issues/?query=is:unresolved'
    /// (repeatable; measured one after the other).
    #[arg(long = "path")]
    pub paths: Vec<String>,
    /// A file with one path per line (blank lines and lines starting with # are skipped).
    #[arg(long)]
    pub paths_file: Option<PathBuf>,
    /// A request header 'Name: value' (repeatable), e.g. 'Authorization: Bearer flt_...' or
    /// 'Cookie: faultline_session=...'.
    #[arg(long = "header")]
    pub headers: Vec<String>,
    /// Number of connections, each sending one request at a time.
    #[arg(long, default_value_t = 4)]
    pub concurrency: usize,
    /// Measured requests per path.
    #[arg(long, default_value_t = 200)]
    pub requests: u64,
    /// Measure each path for this many seconds instead of a number of requests.
    #[arg(long)]
    pub duration: Option<f64>,
    /// Requests per path sent first and not counted (connections, caches).
    #[arg(long, default_value_t = 10)]
    pub warmup: u64,
    /// Also print the report as one line of JSON.
    #[arg(long)]
    pub json: bool,
}

/// The outcome for one path.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct PathReport {
    pub path: String,
    /// Measured requests (answered or not).
    pub requests: u64,
    /// Answers with a 2xx status.
    pub ok: u64,
    /// Non-2xx answers plus transport errors (connect, I/O, timeout).
    pub errors: u64,
    pub errors_by_status: BTreeMap<u16, u64>,
    pub transport_errors: u64,
    pub first_error: Option<String>,
    pub requests_per_sec: f64,
    /// Latency percentiles over every answered request (whatever its status), in ms.
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// Mean size of the answers' bodies.
    pub mean_bytes: f64,
}

/// The outcome of a run.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ReadReport {
    pub url: String,
    pub concurrency: usize,
    pub requests_per_path: Option<u64>,
    pub duration_secs: Option<f64>,
    pub paths: Vec<PathReport>,
}

/// When a path's measurement ends.
#[derive(Clone, Copy, Debug)]
enum Limit {
    Requests(u64),
    Duration(Duration),
}

/// What the workers of one path share.
struct Plan {
    addr: SocketAddr,
    uri: Uri,
    headers: HeaderMap,
    warmup: u64,
    limit: Limit,
    tickets: AtomicU64,
    /// Set by the first measured request (the clock of `Limit::Duration`).
    measure_from: OnceLock<Instant>,
}

#[derive(Default)]
struct Tally {
    latencies_us: Vec<u32>,
    requests: u64,
    ok: u64,
    bytes: u64,
    errors_by_status: BTreeMap<u16, u64>,
    transport_errors: u64,
    first_error: Option<String>,
    first_start: Option<Instant>,
    last_end: Option<Instant>,
}

impl Tally {
    fn merge(&mut self, t: Tally) {
        self.latencies_us.extend(t.latencies_us);
        self.requests += t.requests;
        self.ok += t.ok;
        self.bytes += t.bytes;
        for (s, n) in t.errors_by_status {
            *self.errors_by_status.entry(s).or_default() += n;
        }
        self.transport_errors += t.transport_errors;
        self.first_error = self.first_error.take().or(t.first_error);
        self.first_start = match (self.first_start, t.first_start) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.last_end = self.last_end.max(t.last_end);
    }
}

/// `http://host:port/prefix` → (host, port, prefix without a trailing slash).
fn parse_base(url: &str) -> anyhow::Result<(String, u16, String)> {
    let rest = match url.trim().split_once("://") {
        Some(("http", rest)) => rest,
        Some(("https", _)) => bail!("https is not supported by the bench client; point it at the http listener"),
        _ => bail!("invalid URL {url:?}: expected http://HOST[:PORT]"),
    };
    let (authority, prefix) = match rest.find('/') {
        Some(i) => (&rest[..i], rest[i..].trim_end_matches('/')),
        None => (rest, ""),
    };
    let (host, port) = split_host_port(authority).with_context(|| format!("invalid URL {url:?}"))?;
    Ok((host.to_string(), port, prefix.to_string()))
}

fn parse_header(h: &str) -> anyhow::Result<(HeaderName, HeaderValue)> {
    let (name, value) = h.split_once(':').with_context(|| format!("invalid header {h:?}: expected 'Name: value'"))?;
    let name =
        HeaderName::from_bytes(name.trim().as_bytes()).with_context(|| format!("invalid header name in {h:?}"))?;
    let value = HeaderValue::from_str(value.trim()).with_context(|| format!("invalid header value in {h:?}"))?;
    Ok((name, value))
}

/// The paths of `--path` and `--paths-file`, in that order.
fn read_paths(args: &ReadArgs) -> anyhow::Result<Vec<String>> {
    let mut paths = args.paths.clone();
    if let Some(file) = &args.paths_file {
        let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
        paths.extend(text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).map(String::from));
    }
    if paths.is_empty() {
        bail!("no path to request: give --path or --paths-file");
    }
    Ok(paths)
}

/// Runs the benchmark, one path after the other, and returns the report.
pub async fn run(args: ReadArgs) -> anyhow::Result<ReadReport> {
    if args.concurrency == 0 {
        bail!("--concurrency must be at least 1");
    }
    let limit = match args.duration {
        Some(d) if d > 0.0 && d.is_finite() => Limit::Duration(Duration::from_secs_f64(d)),
        Some(_) => bail!("--duration must be positive"),
        None if args.requests == 0 => bail!("--requests must be at least 1"),
        None => Limit::Requests(args.requests),
    };
    let paths = read_paths(&args)?;
    let (host, port, prefix) = parse_base(&args.url)?;
    let addr = tokio::net::lookup_host((host.trim_start_matches('[').trim_end_matches(']'), port))
        .await
        .with_context(|| format!("cannot resolve {host}"))?
        .next()
        .with_context(|| format!("no address for {host}"))?;
    let mut headers = HeaderMap::new();
    headers.insert(HOST, HeaderValue::from_str(&format!("{host}:{port}")).context("invalid host")?);
    headers.insert(USER_AGENT, HeaderValue::from_static(concat!("faultline-bench-read/", env!("CARGO_PKG_VERSION"))));
    for h in &args.headers {
        let (name, value) = parse_header(h)?;
        headers.insert(name, value);
    }

    let mut report = ReadReport {
        url: args.url.trim_end_matches('/').to_string(),
        concurrency: args.concurrency,
        requests_per_path: args.duration.is_none().then_some(args.requests),
        duration_secs: args.duration,
        paths: Vec::new(),
    };
    for path in paths {
        let full = format!("{prefix}{}{path}", if path.starts_with('/') { "" } else { "/" });
        let uri: Uri = full.parse().with_context(|| format!("invalid path {path:?}"))?;
        let plan = Arc::new(Plan {
            addr,
            uri,
            headers: headers.clone(),
            warmup: args.warmup,
            limit,
            tickets: AtomicU64::new(0),
            measure_from: OnceLock::new(),
        });
        let workers: Vec<_> = (0..args.concurrency).map(|_| tokio::spawn(worker(plan.clone()))).collect();
        let mut total = Tally::default();
        for w in workers {
            total.merge(w.await.context("bench worker panicked")?);
        }
        report.paths.push(summarize(path, total));
    }
    Ok(report)
}

fn summarize(path: String, t: Tally) -> PathReport {
    let mut lat = t.latencies_us;
    lat.sort_unstable();
    let pct = |p: f64| -> f64 {
        if lat.is_empty() {
            return 0.0;
        }
        let rank = ((p * lat.len() as f64).ceil() as usize).clamp(1, lat.len());
        f64::from(lat[rank - 1]) / 1000.0
    };
    let secs = match (t.first_start, t.last_end) {
        (Some(a), Some(b)) => b.duration_since(a).as_secs_f64(),
        _ => 0.0,
    };
    let answered = lat.len() as u64;
    PathReport {
        path,
        requests: t.requests,
        ok: t.ok,
        errors: t.errors_by_status.values().sum::<u64>() + t.transport_errors,
        errors_by_status: t.errors_by_status,
        transport_errors: t.transport_errors,
        first_error: t.first_error,
        requests_per_sec: if secs > 0.0 { t.requests as f64 / secs } else { 0.0 },
        p50_ms: pct(0.50),
        p95_ms: pct(0.95),
        p99_ms: pct(0.99),
        max_ms: pct(1.0),
        mean_bytes: if answered > 0 { t.bytes as f64 / answered as f64 } else { 0.0 },
    }
}

/// Sends one request after the other on one connection until the path is done.
async fn worker(plan: Arc<Plan>) -> Tally {
    let mut tally = Tally::default();
    let mut sender: Option<SendRequest<Full<Bytes>>> = None;
    loop {
        let ticket = plan.tickets.fetch_add(1, Ordering::Relaxed);
        let measured = ticket >= plan.warmup;
        if measured {
            match plan.limit {
                Limit::Requests(n) if ticket >= plan.warmup + n => return tally,
                Limit::Duration(d) if plan.measure_from.get_or_init(Instant::now).elapsed() >= d => return tally,
                _ => {}
            }
        }
        // A connection the server closed is replaced.
        if let Some(s) = sender.as_mut() {
            if s.ready().await.is_err() {
                sender = None;
            }
        }
        let started = Instant::now();
        let s = match sender.as_mut() {
            Some(s) => s,
            None => match connect(plan.addr).await {
                Ok(s) => sender.insert(s),
                Err(e) => {
                    if measured {
                        tally.requests += 1;
                        tally.transport_errors += 1;
                        tally.first_error.get_or_insert_with(|| format!("{e:#}"));
                    }
                    // Do not spin on a refused connection.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let mut request = Request::get(plan.uri.clone()).body(Full::new(Bytes::new())).expect("valid request");
        *request.headers_mut() = plan.headers.clone();
        let result = tokio::time::timeout(REQUEST_TIMEOUT, async {
            let response = s.send_request(request).await?;
            let (parts, body) = response.into_parts();
            let body = body.collect().await?.to_bytes();
            Ok::<_, hyper::Error>((parts, body))
        })
        .await;
        let done = Instant::now();
        if !measured {
            if !matches!(result, Ok(Ok(_))) {
                sender = None;
            }
            continue;
        }
        tally.requests += 1;
        tally.first_start = Some(tally.first_start.map_or(started, |s| s.min(started)));
        tally.last_end = Some(done);
        match result {
            Ok(Ok((parts, body))) => {
                let us = done.duration_since(started).as_micros();
                tally.latencies_us.push(us.min(u128::from(u32::MAX)) as u32);
                tally.bytes += body.len() as u64;
                if parts.status.is_success() {
                    tally.ok += 1;
                } else {
                    *tally.errors_by_status.entry(parts.status.as_u16()).or_default() += 1;
                    tally.first_error.get_or_insert_with(|| {
                        let location = parts.headers.get(LOCATION).and_then(|l| l.to_str().ok());
                        let text = String::from_utf8_lossy(&body);
                        let text: String = text.trim().chars().take(200).collect();
                        match location {
                            Some(l) => format!("HTTP {} (Location: {l})", parts.status),
                            None if text.is_empty() => format!("HTTP {}", parts.status),
                            None => format!("HTTP {}: {text}", parts.status),
                        }
                    });
                }
            }
            Ok(Err(e)) => {
                sender = None;
                tally.transport_errors += 1;
                tally.first_error.get_or_insert_with(|| format!("{e}"));
            }
            Err(_) => {
                sender = None;
                tally.transport_errors += 1;
                tally.first_error.get_or_insert_with(|| format!("no response within {} s", REQUEST_TIMEOUT.as_secs()));
            }
        }
    }
}

impl ReadReport {
    /// The human-readable report: one line per path.
    pub fn text(&self) -> String {
        let mut out = String::new();
        let amount = match (self.duration_secs, self.requests_per_path) {
            (Some(d), _) => format!("{d} s per path"),
            (None, Some(n)) => format!("{} requests per path", thousands(n)),
            (None, None) => String::new(),
        };
        let _ = writeln!(out, "faultline bench-read: {}  concurrency {}  {amount}", self.url, self.concurrency);
        let width = self.paths.iter().map(|p| p.path.chars().count()).max().unwrap_or(4).clamp(4, 70);
        let _ = writeln!(
            out,
            "{:<width$}  {:>8} {:>7} {:>8} {:>9} {:>9} {:>9} {:>9} {:>9}",
            "path", "requests", "errors", "req/s", "p50", "p95", "p99", "max", "size"
        );
        for p in &self.paths {
            let _ = writeln!(
                out,
                "{:<width$}  {:>8} {:>7} {:>8} {:>9} {:>9} {:>9} {:>9} {:>9}",
                p.path,
                thousands(p.requests),
                thousands(p.errors),
                thousands(p.requests_per_sec.round() as u64),
                ms(p.p50_ms),
                ms(p.p95_ms),
                ms(p.p99_ms),
                ms(p.max_ms),
                format!("{:.1} KB", p.mean_bytes / 1024.0),
            );
            if let Some(e) = &p.first_error {
                let _ = writeln!(out, "{:<width$}  first error: {e}", "");
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use super::*;

    fn args(url: String, paths: &[&str]) -> ReadArgs {
        ReadArgs {
            url,
            paths: paths.iter().map(|p| p.to_string()).collect(),
            paths_file: None,
            headers: vec!["X-Token: secret".into()],
            concurrency: 3,
            requests: 50,
            duration: None,
            warmup: 5,
            json: false,
        }
    }

    #[test]
    fn parses_urls_and_headers() {
        assert_eq!(parse_base("http://127.0.0.1:8000").unwrap(), ("127.0.0.1".into(), 8000, String::new()));
        assert_eq!(parse_base("http://h/errors/").unwrap(), ("h".into(), 80, "/errors".into()));
        assert!(parse_base("https://h").is_err());
        assert!(parse_base("h:80").is_err());
        let (name, value) = parse_header("Authorization: Bearer flt_x").unwrap();
        assert_eq!((name.as_str(), value.to_str().unwrap()), ("authorization", "Bearer flt_x"));
        assert!(parse_header("no colon").is_err());
    }

    /// Against a throwaway server: exact request counts, headers sent, errors counted.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn counts_requests_and_errors() {
        use axum::routing::get;
        let hits = Arc::new(AtomicUsize::new(0));
        let hits2 = hits.clone();
        let app = axum::Router::new().route(
            "/base/ok",
            get(move |headers: axum::http::HeaderMap| {
                let hits = hits2.clone();
                async move {
                    hits.fetch_add(1, Ordering::Relaxed);
                    if headers.get("x-token").and_then(|v| v.to_str().ok()) != Some("secret") {
                        return (axum::http::StatusCode::UNAUTHORIZED, "no token").into_response();
                    }
                    "hello".into_response()
                }
            }),
        );
        use axum::response::IntoResponse;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("paths");
        std::fs::write(&file, "# comment\n\n/missing\n").unwrap();
        let mut a = args(format!("http://127.0.0.1:{port}/base/"), &["/ok"]);
        a.paths_file = Some(file);
        let report = run(a).await.unwrap();
        print!("{}", report.text());
        let [ok, missing] = &report.paths[..] else { panic!("{report:?}") };
        assert_eq!((ok.path.as_str(), ok.requests, ok.ok, ok.errors), ("/ok", 50, 50, 0));
        assert_eq!(hits.load(Ordering::Relaxed), 55, "50 measured + 5 warm-up");
        assert!((ok.mean_bytes - 5.0).abs() < 1e-9);
        assert!(ok.p50_ms > 0.0 && ok.p50_ms <= ok.p95_ms && ok.p95_ms <= ok.p99_ms && ok.p99_ms <= ok.max_ms);
        assert!(ok.requests_per_sec > 0.0);
        assert_eq!((missing.requests, missing.ok, missing.errors), (50, 0, 50));
        assert_eq!(missing.errors_by_status.get(&404), Some(&50));
        assert!(missing.first_error.as_deref().unwrap().starts_with("HTTP 404"), "{:?}", missing.first_error);
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["paths"][1]["errors"], 50);

        // Without the header, every answer is an error; by time instead of count.
        let mut a = args(format!("http://127.0.0.1:{port}/base"), &["ok"]);
        a.headers.clear();
        a.duration = Some(0.3);
        let report = run(a).await.unwrap();
        let p = &report.paths[0];
        assert!(p.requests > 0 && p.errors == p.requests, "{p:?}");
        assert_eq!(p.first_error.as_deref(), Some("HTTP 401 Unauthorized: no token"));

        // Nobody listening: transport errors, not a hang.
        drop(dir);
        let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap().port();
        let mut a = args(format!("http://127.0.0.1:{closed}"), &["/"]);
        a.requests = 3;
        a.warmup = 0;
        let p = &run(a).await.unwrap().paths[0];
        assert_eq!((p.requests, p.transport_errors), (3, 3));
    }
}
