//! Data-driven tests: hand-written events, `normalize_message` cases and the real-world corpus.

use super::*;
use serde_json::json;
use std::path::{Path, PathBuf};

/// Groups `event_json`, checks its title and culprit, and returns the grouping.
fn check(event_json: &str, expected_title: &str, expected_culprit: &str) -> Grouping {
    let event: Value = serde_json::from_str(event_json).expect("test event is valid JSON");
    let grouping = group(&event);
    assert_eq!(grouping.title, expected_title, "title of {event_json}");
    assert_eq!(grouping.culprit, expected_culprit, "culprit of {event_json}");
    assert_eq!(grouping.version, GROUPING_VERSION);
    assert_hash_format(&grouping.hash);
    grouping
}

fn assert_hash_format(hash: &str) {
    assert_eq!(hash.len(), 32, "hash {hash}");
    assert!(hash.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)), "hash {hash}");
}

/// A Python event raising `ty(value)` in the given frames (`(module, function, lineno, in_app)`).
fn python_event(ty: &str, value: &str, frames: &[(&str, &str, u32, bool)]) -> String {
    let frames: Vec<Value> = frames
        .iter()
        .map(|(module, function, lineno, in_app)| {
            json!({"module": module, "function": function, "lineno": lineno, "in_app": in_app,
                   "filename": format!("{}.py", module.replace('.', "/")), "context_line": "    return a / b"})
        })
        .collect();
    json!({"platform": "python", "exception": {"values": [
        {"type": ty, "value": value, "stacktrace": {"frames": frames}}
    ]}})
    .to_string()
}

const DIVIDE: &[(&str, &str, u32, bool)] = &[
    ("django.core.handlers", "inner", 47, false),
    ("app.views", "index", 10, true),
    ("app.views", "divide", 21, true),
];

#[test]
fn python_exception() {
    let g = check(
        &python_event("ZeroDivisionError", "division by zero", DIVIDE),
        "ZeroDivisionError: division by zero",
        "app.views in divide",
    );
    assert_eq!(
        g.components,
        ["exception type: ZeroDivisionError", "frame: app.views index", "frame: app.views divide"]
    );
    assert_eq!(g.kind, "error");
    assert_eq!(g.exception_type.as_deref(), Some("ZeroDivisionError"));
    assert_eq!(g.exception_value.as_deref(), Some("division by zero"));
}

#[test]
fn same_exception_other_lines_and_values_groups_together() {
    let a = check(&python_event("ValueError", "bad 1", DIVIDE), "ValueError: bad 1", "app.views in divide");
    let moved: Vec<_> = DIVIDE.iter().map(|(m, f, l, i)| (*m, *f, l + 7, *i)).collect();
    let b = check(
        &python_event("ValueError", "something else", &moved),
        "ValueError: something else",
        "app.views in divide",
    );
    assert_eq!(a.hash, b.hash);
}

#[test]
fn different_function_splits() {
    let a = check(&python_event("ValueError", "x", DIVIDE), "ValueError: x", "app.views in divide");
    let other = [DIVIDE[0], DIVIDE[1], ("app.views", "multiply", 21, true)];
    let b = check(&python_event("ValueError", "x", &other), "ValueError: x", "app.views in multiply");
    assert_ne!(a.hash, b.hash);
}

#[test]
fn non_in_app_frames_do_not_count_when_some_are_in_app() {
    let a = check(&python_event("ValueError", "x", DIVIDE), "ValueError: x", "app.views in divide");
    let more = [("gunicorn.workers", "run", 1, false), DIVIDE[0], DIVIDE[1], DIVIDE[2], ("decimal", "div", 3, false)];
    let b = check(&python_event("ValueError", "x", &more), "ValueError: x", "app.views in divide");
    assert_eq!(a.hash, b.hash);
    assert_eq!(a.components, b.components);
}

#[test]
fn no_in_app_frames_use_all_frames() {
    let frames = [("lib.a", "one", 1, false), ("lib.b", "two", 2, false)];
    let g = check(&python_event("KeyError", "'k'", &frames), "KeyError: 'k'", "lib.b in two");
    assert_eq!(g.components, ["exception type: KeyError", "frame: lib.a one", "frame: lib.b two"]);
}

#[test]
fn no_frames_use_type_and_normalized_value() {
    let a = check(
        r#"{"exception": {"values": [{"type": "Timeout", "value": "after 30 tries"}]}}"#,
        "Timeout: after 30 tries",
        "",
    );
    let b = check(
        r#"{"exception": {"values": [{"type": "Timeout", "value": "after 5 tries"}]}}"#,
        "Timeout: after 5 tries",
        "",
    );
    assert_eq!(a.hash, b.hash);
    assert_eq!(a.components, ["exception type: Timeout", "exception value: after <int> tries"]);
    let c = check(r#"{"exception": {"values": [{"type": "Timeout", "value": "never"}]}}"#, "Timeout: never", "");
    assert_ne!(a.hash, c.hash);
}

#[test]
fn chained_exceptions_all_count() {
    let event = |inner: &str| {
        json!({"platform": "java", "exception": {"values": [
            {"type": inner, "value": "inner", "stacktrace": {"frames": [{"module": "a.B", "function": "low", "in_app": true}]}},
            {"type": "RuntimeException", "value": "outer", "stacktrace": {"frames": [{"module": "a.C", "function": "high", "in_app": true}]}}
        ]}})
        .to_string()
    };
    let a = check(&event("IOException"), "RuntimeException: outer", "a.C in high");
    let b = check(&event("SQLException"), "RuntimeException: outer", "a.C in high");
    assert_ne!(a.hash, b.hash);
    assert_eq!(
        a.components,
        ["exception type: IOException", "frame: a.B low", "exception type: RuntimeException", "frame: a.C high"]
    );
}

#[test]
fn message_template_with_params() {
    let a = check(
        r#"{"logentry": {"message": "User %s not found", "params": ["bob"], "formatted": "User bob not found"}}"#,
        "User bob not found",
        "",
    );
    let b = check(r#"{"logentry": {"message": "User %s not found", "params": ["alice"]}}"#, "User alice not found", "");
    assert_eq!(a.hash, b.hash);
    assert_eq!(a.components, ["message: User %s not found"]);
    assert_eq!(a.kind, "default");
    assert_eq!(a.exception_type, None);
    // A template equal to the formatted text is normalized like a plain message.
    let c = check(r#"{"logentry": {"message": "Took 15ms", "formatted": "Took 15ms"}}"#, "Took 15ms", "");
    assert_eq!(c.components, ["message: Took <duration>"]);
    // Named .NET placeholders differ from the formatted text: the template is the key.
    let d =
        check(r#"{"logentry": {"message": "Failed: {Err}", "formatted": "Failed: \"down\""}}"#, "Failed: \"down\"", "");
    assert_eq!(d.components, ["message: Failed: {Err}"]);
}

#[test]
fn message_variable_parts_are_normalized() {
    let a = check(
        r#"{"message": "Invalid user 42 (bob@example.com) session 0b6c4d1e-7b0e-4a6e-9a55-3b8c2f1d9e00", "transaction": "/login"}"#,
        "Invalid user 42 (bob@example.com) session 0b6c4d1e-7b0e-4a6e-9a55-3b8c2f1d9e00",
        "/login",
    );
    let b = check(
        r#"{"message": "Invalid user 7 (eve@example.org) session 11111111-2222-3333-4444-555555555555"}"#,
        "Invalid user 7 (eve@example.org) session 11111111-2222-3333-4444-555555555555",
        "",
    );
    assert_eq!(a.hash, b.hash);
    assert_eq!(a.components, ["message: Invalid user <int> (<email>) session <uuid>"]);
}

#[test]
fn message_shapes() {
    // `message` as an object, `logentry` as a string, legacy interface, params as an object.
    check(r#"{"message": {"message": "Hello %s", "params": ["you"]}}"#, "Hello you", "");
    check(r#"{"logentry": "plain text\nsecond line"}"#, "plain text", "");
    check(r#"{"sentry.interfaces.Message": {"message": "legacy"}}"#, "legacy", "");
    check(r#"{"logentry": {"message": "%(who)s left", "params": {"who": "ann"}}}"#, "ann left", "");
    check(r#"{"logentry": {"message": "{0} and {1}", "params": ["a", 2]}}"#, "a and 2", "");
    let g = check(r#"{"logentry": {"params": [1]}, "message": 5}"#, "<unlabeled event>", "");
    assert_eq!(g.components, ["fallback"]);
}

#[test]
fn fallback_groups_everything_else_together() {
    let a = check("{}", "<unlabeled event>", "");
    let b = check(r#"{"platform": "python", "level": "info"}"#, "<unlabeled event>", "");
    assert_eq!(a.components, ["fallback"]);
    assert_eq!(a.hash, b.hash);
    for odd in ["null", "[]", "42", "\"text\"", "[{\"exception\": 1}]"] {
        let g = check(odd, "<unlabeled event>", "");
        assert_eq!(g.components, ["fallback"]);
    }
}

#[test]
fn fingerprint_overrides() {
    let g = check(
        r#"{"fingerprint": ["my-key", 7, 1.5, null, {"x": 1}], "exception": [{"type": "E", "value": "v"}]}"#,
        "E: v",
        "",
    );
    assert_eq!(g.components, ["fingerprint: my-key", "fingerprint: 7", "fingerprint: 1.5"]);
    let same = check(r#"{"fingerprint": ["my-key", "7", "1.5"], "message": "other"}"#, "other", "");
    assert_eq!(g.hash, same.hash);
    // An empty (or unusable) fingerprint is ignored.
    let plain = check(r#"{"message": "hello"}"#, "hello", "");
    let empty = check(r#"{"fingerprint": [], "message": "hello"}"#, "hello", "");
    let nulls = check(r#"{"fingerprint": [null], "message": "hello"}"#, "hello", "");
    let wrong = check(r#"{"fingerprint": "x", "message": "hello"}"#, "hello", "");
    assert_eq!(plain.hash, empty.hash);
    assert_eq!(plain.hash, nulls.hash);
    assert_eq!(plain.hash, wrong.hash);
}

#[test]
fn fingerprint_variables() {
    let base = python_event("ZeroDivisionError", "division by zero", DIVIDE);
    let plain = check(&base, "ZeroDivisionError: division by zero", "app.views in divide");
    let with = |fingerprint: Value| {
        let mut event: Value = serde_json::from_str(&base).expect("valid");
        event["fingerprint"] = fingerprint;
        event["transaction"] = json!("/divide");
        check(&event.to_string(), "ZeroDivisionError: division by zero", "app.views in divide")
    };
    let default = with(json!(["{{ default }}"]));
    assert_eq!(default.hash, plain.hash);
    assert_eq!(default.components, plain.components);
    let tight = with(json!(["{{default}}"]));
    assert_eq!(tight.hash, plain.hash);
    let extended = with(json!(["{{ Default }}", "tenant-1"]));
    assert_ne!(extended.hash, plain.hash);
    assert_eq!(extended.components.last().map(String::as_str), Some("fingerprint: tenant-1"));
    let vars = with(json!(["{{ type }}", "{{transaction}}", "{{ level }}", "{{ function }}", "{{ nope }}"]));
    assert_eq!(
        vars.components,
        [
            "fingerprint: ZeroDivisionError",
            "fingerprint: /divide",
            "fingerprint: error",
            "fingerprint: divide",
            "fingerprint: {{ nope }}"
        ]
    );
}

#[test]
fn null_frames_and_null_entries() {
    let g = check(
        r#"{"exception": {"values": [null, {"type": "E", "value": "v 1", "stacktrace": {"frames": [null, {"function": "f", "module": "m"}, 3]}}]}}"#,
        "E: v 1",
        "m in f",
    );
    assert_eq!(g.components, ["exception type: E", "frame: m f"]);
    let g = check(
        r#"{"exception": {"values": [{"type": "E", "value": "v 1", "stacktrace": {"frames": null}}]}}"#,
        "E: v 1",
        "",
    );
    assert_eq!(g.components, ["exception type: E", "exception value: v <int>"]);
    check(r#"{"exception": {"values": [{"type": "E", "stacktrace": null}]}}"#, "E", "");
    check(r#"{"exception": {"values": [{"value": "only a value"}]}}"#, "only a value", "");
    // Entries without type, value or frames are skipped; nothing left means no exception.
    let g = check(r#"{"exception": {"values": [{}, {"mechanism": {}}]}, "message": "m"}"#, "m", "");
    assert_eq!(g.kind, "default");
}

#[test]
fn exception_as_bare_list_and_legacy_interface() {
    let normal = check(r#"{"exception": {"values": [{"type": "E", "value": "v"}]}}"#, "E: v", "");
    let bare = check(r#"{"exception": [{"type": "E", "value": "v"}]}"#, "E: v", "");
    let legacy = check(r#"{"sentry.interfaces.Exception": {"values": [{"type": "E", "value": "v"}]}}"#, "E: v", "");
    let single = check(r#"{"exception": {"type": "E", "value": "v"}}"#, "E: v", "");
    assert_eq!(normal.hash, bare.hash);
    assert_eq!(normal.hash, legacy.hash);
    assert_eq!(normal.hash, single.hash);
}

#[test]
fn wrong_types_are_ignored() {
    let g = check(
        r#"{"exception": {"values": [{"type": 12, "value": ["x"], "stacktrace": {"frames": [{"function": 5, "module": {"a": 1}, "in_app": "yes", "filename": "src/Main.PY?x=1"}]}}]}, "culprit": 3, "platform": []}"#,
        "12",
        "src/Main.PY?x=1 in ?",
    );
    assert_eq!(g.components, ["exception type: 12", "frame: main.py"]);
}

#[test]
fn javascript_frames_and_culprit() {
    let event = |url: &str, line: u32| {
        json!({"platform": "javascript", "exception": {"values": [{"type": "TypeError", "value": "x is undefined",
        "stacktrace": {"frames": [
            {"filename": "https://cdn.example.com/vendor.js?v=3", "function": "dispatch", "lineno": 1},
            {"filename": url, "function": "onClick", "lineno": line, "colno": 9},
            {"filename": "<anonymous>", "function": "?", "lineno": 1}
        ]}}]}})
        .to_string()
    };
    let a = check(
        &event("webpack:///./src/Button.js", 10),
        "TypeError: x is undefined",
        "onClick(webpack:///./src/Button.js)",
    );
    assert_eq!(a.components, ["exception type: TypeError", "frame: dispatch", "frame: button.js onClick"]);
    let b = check(
        &event("webpack:///./src/Button.js#x", 99),
        "TypeError: x is undefined",
        "onClick(webpack:///./src/Button.js#x)",
    );
    assert_eq!(a.hash, b.hash);
    // A URL file does not count, only the function.
    let c = check(
        &event("https://app.example.com/static/Button.js", 3),
        "TypeError: x is undefined",
        "onClick(https://app.example.com/static/Button.js)",
    );
    assert_eq!(c.components, ["exception type: TypeError", "frame: dispatch", "frame: onClick"]);
    // Without a function the short context line counts.
    let g = check(
        r#"{"platform": "node", "exception": [{"type": "Error", "value": "boom", "stacktrace": {"frames": [{"filename": "/srv/app.js", "context_line": "  throw new Error('boom') ", "in_app": true}]}}]}"#,
        "Error: boom",
        "?(/srv/app.js)",
    );
    assert_eq!(g.components, ["exception type: Error", "frame: app.js | throw new Error('boom')"]);
}

#[test]
fn native_frames_and_culprit() {
    let g = check(
        r#"{"platform": "native", "exception": {"values": [{"type": "SIGSEGV", "value": "Segfault", "stacktrace": {"frames": [
            {"function": "main", "instruction_addr": "0x1000", "package": "/bin/app"},
            {"function": "crash_here", "instruction_addr": "0x1010", "package": "/bin/app"},
            {"instruction_addr": "0x7fff0000"}
        ]}}]}}"#,
        "SIGSEGV: Segfault",
        "crash_here",
    );
    assert_eq!(g.components, ["exception type: SIGSEGV", "frame: main", "frame: crash_here"]);
    check(
        r#"{"platform": "cocoa", "exception": [{"type": "EXC", "stacktrace": {"frames": [{"instruction_addr": "0x1"}]}}]}"#,
        "EXC",
        "?",
    );
}

#[test]
fn recursion_is_dropped() {
    let once = [("app.tree", "walk", 1, true), ("app.tree", "visit", 2, true)];
    let deep = [
        ("app.tree", "walk", 1, true),
        ("app.tree", "visit", 2, true),
        ("app.tree", "visit", 2, true),
        ("app.tree", "visit", 5, true),
    ];
    let a = check(&python_event("RecursionError", "too deep", &once), "RecursionError: too deep", "app.tree in visit");
    let b = check(&python_event("RecursionError", "too deep", &deep), "RecursionError: too deep", "app.tree in visit");
    assert_eq!(a.hash, b.hash);
}

#[test]
fn java_generated_names_are_normalized() {
    let event = |module: &str, function: &str| {
        json!({"platform": "java", "exception": [{"type": "E", "stacktrace": {"frames": [
            {"module": module, "function": function, "in_app": true}
        ]}}]})
        .to_string()
    };
    let a = check(
        &event("com.x.Svc$$EnhancerBySpringCGLIB$$1a2b3c", "lambda$run$0"),
        "E",
        "com.x.Svc$$EnhancerBySpringCGLIB$$1a2b3c in lambda$run$0",
    );
    let b = check(
        &event("com.x.Svc$$EnhancerBySpringCGLIB$$9f8e7d", "lambda$run$3"),
        "E",
        "com.x.Svc$$EnhancerBySpringCGLIB$$9f8e7d in lambda$run$3",
    );
    assert_eq!(a.hash, b.hash);
    assert_eq!(a.components, ["exception type: E", "frame: com.x.Svc lambda$run$"]);
    let c = check(
        &event("com.x.Job$$Lambda$123/0x0000000800c01234", "apply"),
        "E",
        "com.x.Job$$Lambda$123/0x0000000800c01234 in apply",
    );
    assert_eq!(c.components, ["exception type: E", "frame: com.x.Job$$Lambda apply"]);
}

#[test]
fn threads_and_top_level_stacktrace() {
    let g = check(
        r#"{"platform": "python", "message": "hung", "threads": {"values": [
            {"id": 1, "stacktrace": {"frames": [{"module": "idle", "function": "sleep"}]}},
            {"id": 2, "crashed": true, "stacktrace": {"frames": [{"module": "app.worker", "function": "spin"}]}}
        ]}}"#,
        "hung",
        "app.worker in spin",
    );
    assert_eq!(g.components, ["frame: app.worker spin"]);
    let g = check(
        r#"{"platform": "python", "message": "x", "sentry.interfaces.Stacktrace": {"frames": [{"module": "m", "function": "f"}]}}"#,
        "x",
        "m in f",
    );
    assert_eq!(g.components, ["frame: m f"]);
}

#[test]
fn title_and_culprit_are_truncated_and_explicit_culprit_wins() {
    let long = "x".repeat(300);
    let event = json!({"culprit": long, "exception": [{"type": "E", "value": format!("{long}\nsecond")}]}).to_string();
    let expected = format!("{}…", "x".repeat(199));
    let g = check(&event, &format!("E: {}…", "x".repeat(196)), &expected);
    assert_eq!(g.title.chars().count(), 200);
    check(r#"{"culprit": "given", "transaction": "t", "message": "m"}"#, "m", "given");
    check(r#"{"request": {"url": "https://x.test/a"}, "message": "m"}"#, "m", "https://x.test/a");
}

#[test]
fn hash_depends_on_every_component() {
    assert_ne!(hash(1, &["a\nb".to_string()]), hash(1, &["a".to_string(), "b".to_string()]));
    assert_ne!(hash(1, &["a".to_string()]), hash(2, &["a".to_string()]));
    assert_eq!(hash(1, &["a".to_string()]), hash(1, &["a".to_string()]));
}

#[test]
fn normalize_message_table() {
    let cases = [
        ("Invalid user 42", "Invalid user <int>"),
        ("price 3.14 EUR", "price <float> EUR"),
        ("mail bob.smith+x@example.co.uk now", "mail <email> now"),
        ("GET https://api.example.com/v1/users/42?x=1 failed.", "GET <url> failed."),
        ("connect to db.internal.example.com refused", "connect to <hostname> refused"),
        ("module app.io.reader failed", "module app.io.reader failed"),
        ("from 192.168.0.12:5432", "from <ip>:<int>"),
        ("from 2001:db8::8a2e:370:7334 and ::1", "from <ip> and <ip>"),
        ("std::vector<int> and ab::cd", "std::vector<int> and ab::cd"),
        ("id 123e4567-e89b-12d3-a456-426614174000", "id <uuid>"),
        ("commit 2fd4e1c67a2d28fced849ee1bb76e7391b93eb12", "commit <sha1>"),
        ("md5 d41d8cd98f00b204e9800998ecf8427e", "md5 <md5>"),
        ("at 2024-03-01T12:30:45.123Z and 2024-03-01", "at <date> and <date>"),
        ("Wed Apr 17 22:31:45 2019: foo", "<date>: foo"),
        ("at 22:31:45 today", "at <date> today"),
        ("took 15ms, then 2.5s, then 3 seconds", "took <duration>, then <duration>, then <duration>"),
        ("addr 0xdeadbeef", "addr <hex>"),
        ("request 5f3a9b2c1d7e", "request <hex>"),
        ("word deadbeefcafe stays", "word deadbeefcafe stays"),
        ("key=\"abc 1\" other='x'", "key=<quoted> other=<quoted>"),
        ("user42 stays", "user42 stays"),
        ("", ""),
        ("ünïcødé 5 ✓", "ünïcødé <int> ✓"),
    ];
    for (input, expected) in cases {
        assert_eq!(normalize_message(input), expected, "normalize_message({input:?})");
    }
}

/// The corpus of real event payloads shared by the project's tests.
fn corpus_dir() -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus/event-samples")).to_path_buf()
}

/// Every `*.json` file under `dir`, sorted, as (name relative to the corpus, path).
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
                let name = path.strip_prefix(dir).unwrap_or(&path).to_string_lossy().into_owned();
                out.push((name, path));
            }
        }
    }
    out.sort();
    out
}

/// Parses every corpus file (skipping the ones serde_json rejects) and groups it.
fn corpus() -> Option<Vec<(String, Value, Grouping)>> {
    let dir = corpus_dir();
    if !dir.is_dir() {
        eprintln!("skipping corpus test: {} is missing", dir.display());
        return None;
    }
    let mut out = Vec::new();
    for (name, path) in json_files(&dir) {
        let Ok(text) = std::fs::read_to_string(&path) else {
            eprintln!("skipping unreadable {name}");
            continue;
        };
        match serde_json::from_str::<Value>(&text) {
            Ok(event) => {
                let grouping = group(&event);
                out.push((name, event, grouping));
            }
            Err(e) => eprintln!("skipping {name}: not JSON serde_json accepts ({e})"),
        }
    }
    Some(out)
}

#[test]
fn corpus_groups_sensibly() {
    let Some(corpus) = corpus() else { return };
    assert!(corpus.len() >= 100, "only {} corpus files parsed", corpus.len());
    for (name, event, g) in &corpus {
        assert_hash_format(&g.hash);
        assert!(!g.components.is_empty(), "{name}: no components");
        assert!(g.title.chars().count() <= MAX_TEXT && g.culprit.chars().count() <= MAX_TEXT, "{name}");
        let has_content =
            ["exception", "logentry", "message", "sentry.interfaces.Message"].iter().any(|k| event.get(k).is_some());
        if has_content {
            assert!(!g.title.is_empty() && g.title != "<unlabeled event>", "{name}: title {:?}", g.title);
        }
        assert_eq!(g.kind == "error", g.exception_type.is_some(), "{name}");
        // Grouping is deterministic.
        assert_eq!(&group(event), g, "{name}");
    }
}

#[test]
fn corpus_snapshot() {
    let Some(corpus) = corpus() else { return };
    for (name, _, g) in &corpus {
        eprintln!("{name} → {} | {}", g.title, g.culprit);
        if std::env::var_os("GROUPING_COMPONENTS").is_some() {
            eprintln!("    {}", g.components.join("\n    "));
        }
    }
    let find = |wanted: &str| {
        corpus
            .iter()
            .find(|(name, _, _)| name == wanted)
            .map(|(_, _, g)| g.clone())
            .unwrap_or_else(|| panic!("{wanted} missing"))
    };
    let expect = |name: &str, title: &str, culprit: &str| {
        let g = find(name);
        assert_eq!((g.title.as_str(), g.culprit.as_str()), (title, culprit), "{name}");
        g
    };

    let dotnet = expect(
        "glitchtip/dotnet_divide_zero.json",
        "System.DivideByZeroException: Attempted to divide by zero.",
        "myWebApp.Pages.DivideZeroModel in DivideByZero",
    );
    assert_eq!(
        dotnet.components,
        [
            "exception type: System.DivideByZeroException",
            "frame: myWebApp.Pages.DivideZeroModel OnGet",
            "frame: myWebApp.Pages.DivideZeroModel DivideByZero"
        ]
    );
    let java = expect(
        "sentry/java-chained.json",
        "LifecycleException: Failed to start component [Connector[HTTP/1.1-8080]]",
        "io.sentry.example.Application in main",
    );
    assert_eq!(java.components.iter().filter(|c| c.starts_with("exception type:")).count(), 3);
    let custom = expect(
        "sentry/custom-fingerprint.json",
        "SoftTimeLimitExceeded: SoftTimeLimitExceeded()",
        "sentry.tasks.store.process_event",
    );
    assert_eq!(
        custom.components,
        ["fingerprint: celery", "fingerprint: SoftTimeLimitExceeded", "fingerprint: sentry.tasks.store.process_event"]
    );
    expect("bugsink/logmessage-w-params.json", "Error during cleanup of <StorageCleanupTodo: StorageCleanupTodo(74e45def-dd8e-4b7a-b5a7-fab97a534875, local_flat_files)>: AttributeError(\"'StorageCleanupTodo' object has no attribute 'storage_name'\")", "/api/{project_pk}/envelope/");
    expect("bugsink/exception_null_frames.json", "CapturedStacktraceFo: 4 kinds of frames", "");
    let python = expect(
        "bugsink/visualshots-rich.json",
        "VisualshotsCheckoutError: Could not complete payment authorization",
        "visualshots/payment.py in complete_with_code_only",
    );
    assert_eq!(
        python.components,
        [
            "exception type: VisualshotsCheckoutError",
            "frame: app.py complete_with_code_and_vars",
            "frame: app.py complete_with_vars_only",
            "frame: payment.py complete_with_code_only"
        ]
    );
    let js = expect(
        "bugsink/uglifyjs-minified-sourcemaps-in-bundle-multi-file.json",
        "Error: Sentry Test Error",
        "bar(file:///home/klaas/dev/mksourcemaps/bundled.min.js)",
    );
    assert_eq!(js.components.last().map(String::as_str), Some("frame: bundled.min.js bar"));
    let native = expect("sentry/mobile1-xra.json", "SIGSEGV: Segfault", "getenv");
    assert_eq!(native.components.last().map(String::as_str), Some("frame: getenv"));
    // Message events: a template with named placeholders is the key.
    let dotnet_log =
        expect("bugsink/111.json", "[API] Fout tijdens verbinden: \"api op geen enkele uri bereikbaar\"", "");
    assert_eq!(dotnet_log.components, ["message: [API] Fout tijdens verbinden: {Err}"]);
}

/// JSON pointers of the nodes of `value` down to `depth` levels.
fn pointers(value: &Value, prefix: String, depth: usize, out: &mut Vec<String>) {
    if depth == 0 {
        return;
    }
    let children: Vec<(String, &Value)> = match value {
        Value::Object(map) => map.iter().map(|(k, v)| (k.replace('~', "~0").replace('/', "~1"), v)).collect(),
        Value::Array(items) => items.iter().enumerate().map(|(i, v)| (i.to_string(), v)).collect(),
        _ => Vec::new(),
    };
    for (key, child) in children {
        let pointer = format!("{prefix}/{key}");
        out.push(pointer.clone());
        pointers(child, pointer, depth - 1, out);
    }
}

#[test]
fn corpus_mutations_never_panic() {
    let Some(corpus) = corpus() else { return };
    let replacements = [Value::Null, json!("x"), json!(7), json!([]), json!({"values": [null]})];
    for (name, event, _) in corpus {
        let mut event = event;
        let mut all = Vec::new();
        pointers(&event, String::new(), 7, &mut all);
        // A spread of at most 25 nodes per file keeps the test fast.
        let step = all.len().div_ceil(25).max(1);
        for pointer in all.iter().step_by(step) {
            for replacement in &replacements {
                let Some(node) = event.pointer_mut(pointer) else { continue };
                let original = std::mem::replace(node, replacement.clone());
                let g = group(&event);
                assert_hash_format(&g.hash);
                assert!(!g.components.is_empty(), "{name} with {pointer} = {replacement}");
                if let Some(node) = event.pointer_mut(pointer) {
                    *node = original;
                }
            }
        }
    }
}
