//! The event view model: hand-written events for each rule, and every payload of the
//! real-world corpus normalized, converted and rendered to HTML.

use std::path::{Path, PathBuf};

use leptos::prelude::*;
use serde_json::{json, Value};

use super::*;
use crate::protocol::event::{normalize, Context};

const NOW: i64 = 1_700_000_000_000;

/// An event as ingestion stores it.
fn stored(raw: Value) -> Value {
    normalize(raw, &Context { received_ms: NOW, ..Context::default() }).expect("normalizes").event
}

fn view_of(raw: Value) -> EventView {
    build(&stored(raw))
}

/// The HTML the server renders for an event.
fn html(event: EventView) -> String {
    Owner::new().with(|| view! { <EventBody event/> }.to_html())
}

#[test]
fn chained_exceptions_most_recent_first() {
    let ev = view_of(json!({
        "exception": {"values": [
            {"type": "KeyError", "value": "'id'"},
            {"type": "LookupFailed", "value": "no user", "mechanism": {"type": "chained", "handled": true}},
            {"type": "HTTPError", "value": "500", "mechanism": {"type": "django", "handled": false}},
        ]}
    }));
    let types: Vec<&str> = ev.exceptions.iter().map(|e| e.ty.as_str()).collect();
    assert_eq!(types, ["HTTPError", "LookupFailed", "KeyError"]);
    assert_eq!(ev.exceptions[0].mechanism.as_ref().unwrap().handled, Some(false));
    assert_eq!(ev.exceptions[0].mechanism.as_ref().unwrap().kind, "django");
    assert!(ev.exceptions[2].mechanism.is_none());
}

#[test]
fn frames_in_app_and_library() {
    let ev = view_of(json!({
        "exception": {"values": [{"type": "E", "stacktrace": {"frames": [
            {"filename": "app/main.py", "function": "main", "lineno": 3, "in_app": true},
            {"filename": "requests/api.py", "abs_path": "/venv/lib/requests/api.py", "function": "get", "in_app": false},
            {"module": "java.lang.Thread", "function": "run"},
            {"package": "C:\\Windows\\SYSTEM32\\ntdll.dll", "function": "RtlDispatchException", "instruction_addr": "0x7ff"},
            {"filename": "app/views.py", "function": "view", "lineno": 9, "colno": 4, "in_app": true},
            {"filename": "json/decoder.py", "function": "decode"},
        ]}}]}
    }));
    let st = ev.exceptions[0].stack.as_ref().expect("stack");
    let flags: Vec<bool> = st.frames.iter().map(|f| f.in_app).collect();
    assert_eq!(flags, [true, false, false, false, true, false]);
    assert!(st.has_in_app());
    // The innermost in-app frame opens first, not the library frame below it.
    assert_eq!(st.focus(), Some(4));
    let files: Vec<&str> = st.frames.iter().map(|f| f.file.as_str()).collect();
    assert_eq!(
        files,
        ["app/main.py", "requests/api.py", "java.lang.Thread", "ntdll.dll", "app/views.py", "json/decoder.py"]
    );
    assert_eq!(st.frames[1].abs_path.as_deref(), Some("/venv/lib/requests/api.py"));
    assert_eq!(st.frames[0].abs_path, None);
    assert_eq!(st.frames[3].instruction_addr.as_deref(), Some("0x7ff"));
    assert_eq!((st.frames[4].lineno, st.frames[4].colno), (Some(9), Some(4)));

    // No frame of the application: every frame shows, the innermost opens.
    let ev = view_of(json!({"exception": {"values": [{"type": "E", "stacktrace": {"frames": [
        {"function": "a"}, {"function": "b"}
    ]}}]}}));
    let st = ev.exceptions[0].stack.as_ref().unwrap();
    assert!(!st.has_in_app());
    assert_eq!(st.focus(), Some(1));

    // The rendered trace folds library frames and marks in-app ones.
    let page = html(view_of(json!({"exception": {"values": [{"type": "E", "stacktrace": {"frames": [
        {"filename": "lib.py", "function": "l1"}, {"filename": "lib.py", "function": "l2"},
        {"filename": "app.py", "function": "mine", "in_app": true},
    ]}}]}})));
    assert!(page.contains("2 library frames"), "{page}");
    assert!(page.contains("Show 2 library frames"), "{page}");
    assert!(!page.contains("1 library frame"), "one fold per run of library frames: {page}");
    assert!(page.contains("in app"), "{page}");

    // Once the event has frames of the application, a cause made of library frames only is
    // folded too; an event without any shows every frame.
    let page = html(view_of(json!({"exception": {"values": [
        {"type": "Cause", "stacktrace": {"frames": [{"filename": "lib.py", "function": "l1"}, {"filename": "lib.py", "function": "l2"}]}},
        {"type": "E", "stacktrace": {"frames": [{"filename": "app.py", "function": "mine", "in_app": true}]}},
    ]}})));
    assert_eq!(page.matches("2 library frames").count(), 2, "the fold and its toggle: {page}");
    let page = html(view_of(json!({"exception": {"values": [
        {"type": "E", "stacktrace": {"frames": [{"filename": "lib.py", "function": "l1"}, {"filename": "lib.py", "function": "l2"}]}},
    ]}})));
    assert!(!page.contains("library frame"), "{page}");
}

#[test]
fn source_context_has_line_numbers_and_the_current_line() {
    let ev = view_of(json!({"exception": {"values": [{"type": "E", "stacktrace": {"frames": [{
        "filename": "app.py", "function": "f", "lineno": 10, "in_app": true,
        "pre_context": ["a = 1", "b = 2", "c = 3"],
        "context_line": "    return a / 0",
        "post_context": ["", "def g():"],
        "vars": {"a": 1, "name": "'ann'", "items": [1, 2, 3], "none": null},
    }]}}]}}));
    let f = &ev.exceptions[0].stack.as_ref().unwrap().frames[0];
    let lines: Vec<(Option<u64>, &str, bool)> =
        f.context.iter().map(|l| (l.lineno, l.code.as_str(), l.current)).collect();
    assert_eq!(
        lines,
        [
            (Some(7), "a = 1", false),
            (Some(8), "b = 2", false),
            (Some(9), "c = 3", false),
            (Some(10), "    return a / 0", true),
            (Some(11), "", false),
            (Some(12), "def g():", false),
        ]
    );
    let vars: Vec<(&str, &str)> = f.vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert!(vars.contains(&("a", "1")) && vars.contains(&("name", "'ann'")) && vars.contains(&("items", "[1,2,3]")));
    assert!(vars.contains(&("none", "null")));

    // Without a line number the lines have none; line 1 has no line 0 above it.
    let ev = view_of(json!({"exception": {"values": [{"type": "E", "stacktrace": {"frames": [
        {"function": "f", "context_line": "x()", "pre_context": ["y"], "in_app": true},
        {"function": "g", "lineno": 1, "context_line": "first()", "pre_context": ["weird"], "in_app": true},
    ]}}]}}));
    let frames = &ev.exceptions[0].stack.as_ref().unwrap().frames;
    assert!(frames[0].context.iter().all(|l| l.lineno.is_none()));
    assert_eq!(frames[1].context[0].lineno, None);
    assert_eq!(frames[1].context[1].lineno, Some(1));

    // The page shows the frame's source with the current line marked.
    let page = html(ev);
    assert!(page.contains("src-line current"), "{page}");
}

#[test]
fn breadcrumbs_are_timed_relative_to_the_error() {
    let ev = view_of(json!({
        "timestamp": 1_699_999_990.5,
        "breadcrumbs": {"values": [
            {"timestamp": 1_699_999_988.0, "category": "http", "type": "http", "data": {"url": "/x", "status_code": 500}},
            {"timestamp": "2023-11-14T22:11:30.500Z", "message": "query", "level": "warning", "category": "db"},
            {"message": "no time"},
        ]}
    }));
    assert_eq!(ev.timestamp, 1_699_999_990_500);
    let c = &ev.breadcrumbs;
    assert_eq!(c[0].offset_ms, Some(-2_500));
    assert_eq!(format_offset(c[0].offset_ms.unwrap()), "-2.5s");
    assert_eq!(c[0].kind, "http");
    assert_eq!(c[0].data, [("status_code".to_string(), "500".to_string()), ("url".to_string(), "/x".to_string())]);
    assert_eq!(c[1].offset_ms, Some(-100_000));
    assert_eq!(format_offset(-100_000), "-1m 40s");
    assert_eq!((c[1].level.as_str(), c[1].category.as_str(), c[1].message.as_str()), ("warning", "db", "query"));
    assert_eq!((c[2].time, c[2].offset_ms, c[2].kind.as_str(), c[2].level.as_str()), (None, None, "default", "info"));
}

#[test]
fn offsets_and_ages() {
    for (ms, text) in [
        (0, "0ms"),
        (-40, "-40ms"),
        (-1_250, "-1.2s"),
        (1_500, "+1.5s"),
        (-42_000, "-42s"),
        (-3_605_000, "-1h 00m"),
        (-90_061_000, "-1d 1h"),
    ] {
        assert_eq!(format_offset(ms), text, "{ms}");
    }
    for (ago, text) in [
        (5_000, "just now"),
        (5 * 60_000, "5 min ago"),
        (3 * 3_600_000, "3 h ago"),
        (30 * 3_600_000, "yesterday"),
        (12 * 86_400_000, "12 days ago"),
        (800 * 86_400_000, "2 years ago"),
        (-5_000, "just now"),
    ] {
        assert_eq!(format_ago(NOW, NOW - ago), text, "{ago}");
    }
}

#[test]
fn request_user_contexts_sdk() {
    let ev = view_of(json!({
        "request": {
            "method": "post", "url": "https://shop.example/cart", "query_string": "?a=1&b=&c",
            "headers": {"Content-Type": "application/json"}, "cookies": "sid=abc; theme=dark",
            "data": {"items": [1, 2]}, "env": {"REMOTE_ADDR": "10.0.0.1"},
        },
        "user": {"ip_address": "10.0.0.1", "email": "ann@example.com", "id": 42, "geo": {"city": "Oslo"}},
        "contexts": {
            "runtime": {"name": "CPython", "version": "3.12"},
            "trace": {"trace_id": "abc", "span_id": "def", "type": "trace"},
            "server-os": {"type": "os", "name": "Linux"},
            "zeta": {"x": null},
            "os": {"name": "macOS"},
        },
        "sdk": {"name": "sentry.python", "version": "2.1", "integrations": ["logging"], "packages": [{"name": "pypi:sentry-sdk", "version": "2.1"}]},
        "tags": {"tenant": "acme"},
        "extra": {"order": {"id": 7}},
        "release": "shop@2.0", "server_name": "web-1",
    }));
    let r = ev.request.as_ref().unwrap();
    assert_eq!(r.method.as_deref(), Some("POST"));
    let q: Vec<(&str, &str)> = r.query.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(q, [("a", "1"), ("b", ""), ("c", "")]);
    assert_eq!(r.cookies[1], ("theme".to_string(), "dark".to_string()));
    assert_eq!(r.headers, [("Content-Type".to_string(), "application/json".to_string())]);
    assert_eq!(r.body.as_deref(), Some("{\n  \"items\": [\n    1,\n    2\n  ]\n}"));
    assert_eq!(r.env.len(), 1);
    let keys: Vec<&str> = ev.user.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["id", "email", "ip_address", "geo"]);
    assert_eq!(ev.user[0].1, "42");
    let ctx: Vec<(&str, &str)> = ev.contexts.iter().map(|c| (c.key.as_str(), c.title.as_str())).collect();
    assert_eq!(
        ctx,
        [
            ("trace", "Trace"),
            ("os", "Operating system"),
            ("runtime", "Runtime"),
            ("server-os", "Operating system (server-os)")
        ]
    );
    assert!(ev.contexts[0].entries.iter().all(|(k, _)| k != "type"));
    let sdk = ev.sdk.as_ref().unwrap();
    assert_eq!((sdk.name.as_str(), sdk.version.as_str()), ("sentry.python", "2.1"));
    assert_eq!(sdk.packages, ["pypi:sentry-sdk 2.1"]);
    assert_eq!(ev.tags, [("tenant".to_string(), "acme".to_string())]);
    assert_eq!(ev.extra, [("order".to_string(), "{\"id\":7}".to_string())]);
    assert_eq!((ev.release.as_deref(), ev.server_name.as_deref()), (Some("shop@2.0"), Some("web-1")));
    assert_eq!(ev.environment.as_deref(), Some("production"));
}

#[test]
fn messages_and_thread_stacks() {
    let ev = view_of(json!({
        "message": "Payment failed for order 1234",
        "stacktrace": {"frames": [{"function": "pay", "in_app": true}]},
    }));
    assert_eq!(ev.message.as_deref(), Some("Payment failed for order 1234"));
    assert!(ev.exceptions.is_empty());
    assert_eq!(ev.stacktrace.as_ref().unwrap().frames[0].function.as_deref(), Some("pay"));

    // A native crash: the exception's trace is on the thread it names.
    let ev = view_of(json!({
        "exception": {"values": [{"type": "EXC_BAD_ACCESS", "thread_id": 2}]},
        "threads": {"values": [
            {"id": 1, "stacktrace": {"frames": [{"function": "idle"}]}},
            {"id": 2, "crashed": true, "stacktrace": {"frames": [{"function": "crash"}]}},
        ]},
    }));
    assert_eq!(ev.exceptions[0].stack.as_ref().unwrap().frames[0].function.as_deref(), Some("crash"));
    assert!(ev.stacktrace.is_none());

    // No exception: the crashed thread's trace.
    let ev = view_of(json!({
        "message": "hang",
        "threads": {"values": [
            {"id": 1, "stacktrace": {"frames": [{"function": "idle"}]}},
            {"id": 2, "crashed": true, "stacktrace": {"frames": [{"function": "stuck"}]}},
        ]},
    }));
    assert_eq!(ev.stacktrace.as_ref().unwrap().frames[0].function.as_deref(), Some("stuck"));
}

#[test]
fn strings_stay_text() {
    let evil = "<script>alert(1)</script><img src=x onerror=alert(2)>";
    let ev = view_of(json!({
        "exception": {"values": [{"type": "Evil<b>", "value": evil, "stacktrace": {"frames": [
            {"filename": "<x>.py", "function": evil, "lineno": 1, "context_line": evil, "in_app": true, "vars": {"v": evil}}
        ]}}]},
        "message": evil,
        "breadcrumbs": [{"message": evil, "data": {"k": evil}}],
        "tags": {"t": evil},
        "user": {"email": evil},
        "request": {"url": evil, "headers": {"X": evil}, "data": evil},
        "contexts": {"os": {"name": evil}},
        "extra": {"e": evil},
    }));
    let exc = &ev.exceptions[0];
    assert_eq!((exc.ty.as_str(), exc.value.as_str()), ("Evil<b>", evil));
    let f = &exc.stack.as_ref().unwrap().frames[0];
    assert_eq!((f.function.as_deref(), f.context[0].code.as_str()), (Some(evil), evil));
    assert_eq!(f.vars[0].1, evil);
    assert_eq!(ev.breadcrumbs[0].message, evil);
    assert_eq!(ev.request.as_ref().unwrap().body.as_deref(), Some(evil));

    let page = html(ev);
    assert!(!page.contains("<script>") && !page.contains("<img") && !page.contains("<b>"), "{page}");
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{page}");
}

#[test]
fn long_values_are_cut_with_a_way_to_see_all() {
    let long = "x".repeat(5000);
    let page = html(view_of(json!({"exception": {"values": [{"type": "E", "value": long}]}})));
    assert!(page.contains("show all 5000 characters"), "{page}");
    assert!(!page.contains(&long));
}

/// The corpus of real event payloads shared by the project's tests.
fn corpus_dir() -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus/event-samples")).to_path_buf()
}

fn json_files(dir: &Path) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&current) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "json") {
                out.push((path.strip_prefix(dir).unwrap_or(&path).to_string_lossy().into_owned(), path));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn every_corpus_event_converts_and_renders() {
    let dir = corpus_dir();
    if !dir.is_dir() {
        eprintln!("skipping corpus test: {} is missing", dir.display());
        return;
    }
    let mut done = 0;
    for (name, path) in json_files(&dir) {
        let Ok(raw) = std::fs::read_to_string(&path)
            .map_err(|_| ())
            .and_then(|t| serde_json::from_str::<Value>(&t).map_err(|_| ()))
        else {
            continue;
        };
        let Ok(n) = normalize(raw, &Context { received_ms: NOW, ..Context::default() }) else { continue };
        let ev = build(&n.event);
        assert_eq!(ev.event_id, n.summary.event_id, "{name}");
        // Every frame of every exception is there, in order.
        let sent: Vec<usize> = n.event["exception"]["values"]
            .as_array()
            .map(|l| l.iter().rev().map(|e| e["stacktrace"]["frames"].as_array().map_or(0, Vec::len)).collect())
            .unwrap_or_default();
        let shown: Vec<usize> = ev
            .exceptions
            .iter()
            .map(|e| e.stack.as_ref().map_or(0, |s| s.frames.len()))
            .zip(sent.iter())
            .map(|(shown, sent)| if *sent == 0 { 0 } else { shown })
            .collect();
        assert_eq!(shown, sent, "{name}: frames per exception");
        for st in ev.exceptions.iter().filter_map(|e| e.stack.as_ref()).chain(ev.stacktrace.as_ref()) {
            for f in &st.frames {
                if !f.context.is_empty() {
                    assert_eq!(f.context.iter().filter(|l| l.current).count(), 1, "{name}: one current line");
                }
            }
        }
        // The model crosses the wire intact.
        let wire = serde_json::to_string(&ev).expect("serializes");
        assert_eq!(serde_json::from_str::<EventView>(&wire).expect("deserializes"), ev, "{name}");
        let page = html(ev);
        assert!(page.len() > 100, "{name}");
        done += 1;
    }
    assert!(done >= 100, "only {done} corpus events converted");
}
