//! Fuzzing the pure protocol code with mutated real payloads: envelopes, events, multipart
//! forms and minidumps. Whatever the bytes, parsing returns a value or an error, never panics
//! and never loops; an event that parses normalizes and groups. Deterministic (a fixed seed),
//! so a failure reproduces; `FAULTLINE_FUZZ_ROUNDS` runs more rounds.

mod common;

use faultline::grouping;
use faultline::protocol::{envelope, event, json, minidump, multipart};

/// xorshift64*: small, fast and reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Bytes that matter to the parsers, to splice in.
const TOKENS: &[&[u8]] = &[
    b"\n",
    b"{",
    b"}",
    b"[",
    b"]",
    b"\"",
    b",",
    b":",
    b"null",
    b"NaN",
    b"-Infinity",
    b"1e999",
    b"\\u0000",
    b"\\ud800",
    b"{\"type\":\"event\",\"length\":",
    b"{\"type\":\"attachment\",\"length\":99999999}",
    b"\"length\":-1",
    b"\"values\":",
    b"\"frames\":[",
    b"\"exception\":",
    b"\"fingerprint\":[\"{{ default }}\"",
    b"\xff\xfe",
    b"\r\n--b\r\n",
    b"MDMP",
    b"\"stacktrace\":{\"frames\":null}",
    b"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
];

fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(out.len() + 1);
        match rng.below(6) {
            0 if !out.is_empty() => {
                let i = rng.below(out.len());
                out[i] ^= 1 << rng.below(8);
            }
            1 => {
                let tok = TOKENS[rng.below(TOKENS.len())];
                out.splice(at..at, tok.iter().copied());
            }
            2 if at < out.len() => {
                let end = (at + 1 + rng.below(64)).min(out.len());
                out.drain(at..end);
            }
            3 => out.truncate(at),
            4 if at < out.len() => {
                // Repeat a slice: deep nesting and long runs.
                let end = (at + 1 + rng.below(32)).min(out.len());
                let chunk = out[at..end].to_vec();
                for _ in 0..rng.below(40) {
                    out.splice(at..at, chunk.iter().copied());
                }
            }
            _ => out.insert(at.min(out.len()), rng.next() as u8),
        }
    }
    out
}

fn corpus() -> Vec<Vec<u8>> {
    let files = common::corpus_files();
    let mut out: Vec<Vec<u8>> = files.iter().filter_map(|f| std::fs::read(f).ok()).collect();
    out.push(br#"{"exception":{"values":[{"type":"E","value":"v","stacktrace":{"frames":[{"function":"f","module":"m","in_app":true}]}}]},"fingerprint":["{{ default }}","x"],"tags":[["a","b"]],"message":{"message":"m %s","params":[1]}}"#.to_vec());
    out
}

/// Envelopes around corpus events: with and without `length`, with an attachment.
fn envelopes(events: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for (i, ev) in events.iter().enumerate() {
        let mut e = format!("{{\"event_id\":\"{:032x}\",\"sent_at\":\"2026-11-29T12:00:00Z\"}}\n", i + 1).into_bytes();
        if i % 2 == 0 {
            e.extend_from_slice(format!("{{\"type\":\"event\",\"length\":{}}}\n", ev.len()).as_bytes());
        } else {
            e.extend_from_slice(b"{\"type\":\"event\"}\n");
        }
        let line: Vec<u8> = ev.iter().copied().filter(|b| *b != b'\n').collect();
        e.extend_from_slice(if i % 2 == 0 { ev } else { &line });
        e.extend_from_slice(b"\n{\"type\":\"attachment\",\"length\":5,\"filename\":\"a.txt\"}\nhello\n");
        out.push(e);
    }
    out
}

fn rounds() -> usize {
    std::env::var("FAULTLINE_FUZZ_ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(20_000)
}

/// What ingestion does with an event item, minus the I/O.
fn digest_event(payload: &[u8]) {
    if let Ok(raw) = json::parse_lenient(payload) {
        let ctx = event::Context { received_ms: 1_800_000_000_000, ..Default::default() };
        if let Ok(n) = event::normalize(raw, &ctx) {
            let g = grouping::group(&n.event);
            assert!(!g.hash.is_empty());
            assert_eq!(n.summary.event_id.len(), 32);
        }
    }
}

#[test]
fn mutated_envelopes_and_events_never_panic() {
    let events = corpus();
    assert!(events.len() > 100, "the shared corpus is missing");
    let seeds = envelopes(&events);
    let mut rng = Rng(0x5eed_f417_11e5);
    let mut parsed = 0;
    for round in 0..rounds() {
        let input = mutate(&mut rng, &seeds[round % seeds.len()]);
        if let Ok(env) = envelope::parse(&input) {
            parsed += 1;
            for item in env.items.iter().filter(|i| i.ty == "event") {
                digest_event(item.payload);
            }
        }
        digest_event(&mutate(&mut rng, &events[round % events.len()]));
    }
    assert!(parsed > rounds() / 10, "the mutations should leave many envelopes parseable: {parsed}");
}

#[test]
fn deep_nesting_and_huge_numbers_are_refused_or_kept() {
    for depth in [10, 127, 128, 129, 10_000] {
        let doc = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let ev = format!("{{\"extra\":{{\"deep\":{doc}}},\"message\":\"m\"}}");
        digest_event(ev.as_bytes());
        let _ = envelope::parse(format!("{{}}\n{{\"type\":\"event\"}}\n{ev}").as_bytes());
    }
    digest_event(br#"{"timestamp": 1e308, "level": 1e999, "exception": {"values": [{"stacktrace": {"frames": [{"lineno": -1e300}]}}]}}"#);
}

#[test]
fn mutated_multipart_forms_and_minidumps_never_panic() {
    let mut dump = b"MDMP".to_vec();
    for v in [0xa793u32, 2, 32, 0, 0, 0, 0, 6, 168, 56, 7, 56, 224] {
        dump.extend_from_slice(&v.to_le_bytes());
    }
    dump.resize(280, 0);
    let form = [
        b"--b\r\nContent-Disposition: form-data; name=\"sentry\"\r\n\r\n{\"release\":\"r\"}\r\n".to_vec(),
        b"--b\r\nContent-Disposition: form-data; name=\"upload_file_minidump\"; filename=\"d\"\r\n\r\n".to_vec(),
        dump.clone(),
        b"\r\n--b--\r\n".to_vec(),
    ]
    .concat();
    let mut rng = Rng(0xd0d0_cafe);
    for _ in 0..rounds() {
        let input = mutate(&mut rng, &form);
        if let Ok(parts) = multipart::parse(&input, "b") {
            for p in parts {
                let _ = minidump::summarize(p.data);
            }
        }
        let _ = minidump::summarize(&mutate(&mut rng, &dump));
    }
}

/// The fast path (skim, store the payload as it came, normalize when read) and the full path
/// (parse, normalize, store the normalized event) agree on everything: the indexed summary,
/// the grouping, and the event read back. Over the whole corpus, the bench event, and the
/// corpus mutated.
#[test]
fn the_fast_path_stores_what_the_full_path_stores() {
    use faultline::ingest::{prepare_event, prepare_event_bytes};
    use faultline::store::payload::decompress_payload;

    let mut events = corpus();
    events.push(faultline::bench::event_body(0, faultline::bench::Endpoint::Store));
    let mut rng = Rng(0xfa57_0fa5);
    let mutated: Vec<Vec<u8>> = (0..2000).map(|i| mutate(&mut rng, &events[i % events.len()])).collect();
    let mut fast = 0;
    for (i, bytes) in events.iter().chain(mutated.iter()).enumerate() {
        for header_id in [Some(format!("{:032x}", i + 1)), None] {
            let ctx = event::Context {
                event_id: header_id.clone(),
                received_ms: 1_800_000_000_000,
                sent_at_ms: Some(1_799_999_990_000),
                client_ip: Some("203.0.113.9".into()),
            };
            let Ok(raw) = json::parse_lenient(bytes) else { continue };
            let Ok(slow) = prepare_event(raw, ctx.clone(), 1, ctx.received_ms) else { continue };
            let quick = prepare_event_bytes(bytes, ctx.clone(), 1, ctx.received_ms).expect("the full path took it");
            if header_id.is_none() && slow.event_id != quick.event_id {
                // No id anywhere: each path drew its own random one.
                continue;
            }
            let what = format!("event {i} (header id {header_id:?})");
            assert_eq!(slow.event_id, quick.event_id, "{what}");
            assert_eq!(
                (
                    slow.timestamp,
                    &slow.level,
                    &slow.platform,
                    &slow.release,
                    &slow.environment,
                    &slow.user_key,
                    &slow.tags
                ),
                (
                    quick.timestamp,
                    &quick.level,
                    &quick.platform,
                    &quick.release,
                    &quick.environment,
                    &quick.user_key,
                    &quick.tags
                ),
                "{what}"
            );
            assert_eq!(slow.grouping, quick.grouping, "{what}");
            let a: serde_json::Value = serde_json::from_slice(&decompress_payload(&slow.payload)).unwrap();
            let b: serde_json::Value = serde_json::from_slice(&decompress_payload(&quick.payload)).unwrap();
            assert_eq!(a, b, "{what}");
            if slow.payload != quick.payload {
                fast += 1;
            }
        }
    }
    assert!(fast > events.len(), "most events take the fast path: {fast}");
}

/// What the full path alone takes: the lenient parse, then normalize and group.
fn full_path(bytes: &[u8], ctx: &event::Context) -> Result<faultline::store::ingest::NewEvent, String> {
    let raw = json::parse_lenient(bytes)?;
    faultline::ingest::prepare_event(raw, ctx.clone(), 1, ctx.received_ms).map_err(|e| e.to_string())
}

/// A corpus event made hostile the way a fuzzer that knows the format would: deep values
/// where SDKs put databags (`extra`, breadcrumbs, `request.data`, frame `vars`), then, in the
/// bytes, escapes of lone surrogates, bytes that are not UTF-8, numbers out of range and
/// Python's `NaN` spliced into strings and values.
fn hostile(rng: &mut Rng, event: &[u8]) -> Vec<u8> {
    let mut v: serde_json::Value = match serde_json::from_slice(event) {
        Ok(v @ serde_json::Value::Object(_)) => v,
        _ => return mutate(rng, event),
    };
    if rng.below(2) == 0 {
        let depth = 20 + rng.below(120);
        let mut deep = serde_json::json!("bottom");
        for i in 0..depth {
            deep = if i % 2 == 0 { serde_json::json!([deep]) } else { serde_json::json!({ "k": deep }) };
        }
        let spots = ["/extra", "/request", "/breadcrumbs", "/contexts"];
        let spot = spots[rng.below(spots.len())];
        let obj = v.as_object_mut().unwrap();
        let key = &spot[1..];
        match key {
            "breadcrumbs" => {
                obj.insert(key.into(), serde_json::json!({ "values": [{ "message": "m", "data": deep }] }))
            }
            "request" => obj.insert(key.into(), serde_json::json!({ "url": "http://x/", "data": deep })),
            _ => obj.insert(key.into(), serde_json::json!({ "deep": deep })),
        };
    }
    let mut bytes = serde_json::to_vec(&v).unwrap();
    const SPLICES: &[&[u8]] =
        &[b"\\udc00", b"\\ud800", b"\\udbff\\udfff", b"\\ud83d\\ude00", b"\\\\udc00", b"\xe9", b"\xff\xfe", b"\xc3"];
    for _ in 0..1 + rng.below(3) {
        // Into strings (after an opening quote), or a field after an object's `{`.
        let opening: Vec<usize> = (1..bytes.len())
            .filter(|&i| bytes[i] == b'"' && matches!(bytes[i - 1], b'{' | b'[' | b',' | b':'))
            .collect();
        if opening.is_empty() {
            break;
        }
        if rng.below(8) == 0 {
            let braces: Vec<usize> = bytes.iter().enumerate().filter(|(_, b)| **b == b'{').map(|(i, _)| i).collect();
            let at = braces[rng.below(braces.len())] + 1;
            let field: &[u8] = if rng.below(2) == 0 { b"\"fuzz\":1e999," } else { b"\"fuzz\":NaN," };
            bytes.splice(at..at, field.iter().copied());
            continue;
        }
        let at = opening[rng.below(opening.len())] + 1;
        let what = SPLICES[rng.below(SPLICES.len())];
        bytes.splice(at..at, what.iter().copied());
    }
    bytes
}

/// One verdict: whatever the bytes, the fast path accepts exactly what the full path
/// accepts, and an accepted event reads back whole (as the full path would store it), never
/// empty and never as the internal header. Over the corpus made hostile (structure-aware)
/// and plain byte mutations; `FAULTLINE_FUZZ_ROUNDS` runs longer.
#[test]
fn both_paths_give_one_verdict_and_read_back_whole() {
    use faultline::ingest::prepare_event_bytes;
    use faultline::store::payload::decompress_payload;

    let events = corpus();
    let mut rng = Rng(0x0e_e7d1c7);
    let (mut accepted, mut refused, mut fast) = (0usize, 0usize, 0usize);
    let ctx = event::Context {
        event_id: Some(format!("{:032x}", 7)),
        received_ms: 1_800_000_000_000,
        sent_at_ms: None,
        client_ip: Some("203.0.113.9".into()),
    };
    let rounds = std::env::var("FAULTLINE_FUZZ_ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(3000usize);
    for round in 0..rounds {
        let seed = &events[round % events.len()];
        let bytes = if round % 3 == 2 { mutate(&mut rng, seed) } else { hostile(&mut rng, seed) };
        let quick = prepare_event_bytes(&bytes, ctx.clone(), 1, ctx.received_ms);
        let slow = full_path(&bytes, &ctx);
        let what = || format!("round {round}: {}", String::from_utf8_lossy(&bytes[..bytes.len().min(300)]));
        match (quick, slow) {
            (Ok(q), Ok(s)) => {
                accepted += 1;
                let read = decompress_payload(&q.payload);
                assert!(!read.starts_with(b"\0"), "{}", what());
                let a: serde_json::Value = serde_json::from_slice(&read).unwrap_or_else(|e| panic!("{e}: {}", what()));
                let b: serde_json::Value = serde_json::from_slice(&decompress_payload(&s.payload)).unwrap();
                assert!(!a.to_string().contains("unreadable_payload"), "{}", what());
                assert_eq!(a, b, "{}", what());
                assert_eq!((&q.grouping, &q.tags, q.timestamp), (&s.grouping, &s.tags, s.timestamp), "{}", what());
                if q.payload != s.payload {
                    fast += 1;
                }
            }
            (Err(_), Err(_)) => refused += 1,
            (q, s) => panic!("the paths disagree: fast {:?}, full {:?}: {}", q.map(|_| ()), s.map(|_| ()), what()),
        }
    }
    assert!(accepted > rounds / 3 && refused > 0 && fast > 0, "accepted {accepted}, refused {refused}, fast {fast}");
    eprintln!("one verdict: {accepted} accepted ({fast} by the fast path), {refused} refused");
}
