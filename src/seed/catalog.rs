//! What the seeded issues are made of: raw events as the Sentry SDKs of five platforms send
//! them (Python, browser JavaScript, Node.js, Java, Go), for exceptions with stack traces and
//! for log messages. Names are drawn from lists so that thousands of issues differ in their
//! exception types and in-app frames, hence in their grouping keys. Per-event fields are
//! left as markers (see `template`).

use serde_json::{json, Map, Value};

use super::rng::Rng;
use super::template::{time_marker, Field};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Platform {
    Python,
    JavaScript,
    Node,
    Java,
    Go,
}

impl Platform {
    /// How common each platform is among the seeded issues.
    pub const WEIGHTS: [(Platform, u32); 5] = [
        (Platform::Python, 30),
        (Platform::JavaScript, 25),
        (Platform::Node, 12),
        (Platform::Java, 18),
        (Platform::Go, 15),
    ];

    pub fn name(self) -> &'static str {
        match self {
            Platform::Python => "python",
            Platform::JavaScript => "javascript",
            Platform::Node => "node",
            Platform::Java => "java",
            Platform::Go => "go",
        }
    }

    /// Browser events carry a browser and the user's address, server events a server name.
    pub fn is_browser(self) -> bool {
        self == Platform::JavaScript
    }
}

const AREAS: [&str; 15] = [
    "orders",
    "cart",
    "checkout",
    "payments",
    "invoices",
    "inventory",
    "users",
    "search",
    "shipping",
    "coupons",
    "notifications",
    "reports",
    "webhooks",
    "auth",
    "catalog",
];
const TEAMS: [&str; 6] = ["checkout", "payments", "growth", "platform", "search", "fulfilment"];
const KEYS: [&str; 16] = [
    "user_id", "order_id", "sku", "currency", "amount", "address", "token", "email", "items", "price", "quantity",
    "country", "coupon", "session", "locale", "status",
];
const MODELS: [&str; 10] =
    ["Order", "User", "Product", "Invoice", "Cart", "Shipment", "Coupon", "Address", "Payment", "Subscription"];
const TABLES: [&str; 8] = ["orders", "users", "line_items", "payments", "invoices", "coupons", "addresses", "sessions"];
const HOSTS: [&str; 6] = [
    "api.stripe.com",
    "rates.example.net",
    "search.internal",
    "auth.example.com",
    "shipping.example.org",
    "cdn.example.com",
];
const WORDS: [&str; 10] = ["N/A", "abc", "null", "undefined", "12,50", "€", "none", "-", "0x1f", "true"];

/// A value text with `{key}`, `{model}`, `{table}`, `{host}`, `{word}`, `{n}`, `{fn}` filled in.
fn fill(format: &str, function: &str, rng: &mut Rng) -> String {
    let mut out = format.to_string();
    for (hole, list) in [
        ("{key}", &KEYS[..]),
        ("{model}", &MODELS[..]),
        ("{table}", &TABLES[..]),
        ("{host}", &HOSTS[..]),
        ("{word}", &WORDS[..]),
    ] {
        while out.contains(hole) {
            out = out.replacen(hole, rng.pick(list), 1);
        }
    }
    while out.contains("{n}") {
        out = out.replacen("{n}", &rng.range(2, 250).to_string(), 1);
    }
    out.replace("{fn}", function)
}

/// An exception type: its name, the module it lives in (when the SDK reports it apart) and
/// the texts its value takes.
type ExceptionKind = (&'static str, Option<&'static str>, &'static [&'static str]);

const PYTHON_EXCEPTIONS: [ExceptionKind; 17] = [
    (
        "ValueError",
        None,
        &["invalid literal for int() with base 10: '{word}'", "could not convert string to float: '{word}'"],
    ),
    ("KeyError", None, &["'{key}'"]),
    (
        "TypeError",
        None,
        &[
            "unsupported operand type(s) for +: 'int' and 'NoneType'",
            "'NoneType' object is not subscriptable",
            "{fn}() missing 1 required positional argument: '{key}'",
        ],
    ),
    ("AttributeError", None, &["'NoneType' object has no attribute '{key}'", "'dict' object has no attribute '{key}'"]),
    ("ZeroDivisionError", None, &["division by zero"]),
    ("IndexError", None, &["list index out of range"]),
    (
        "IntegrityError",
        Some("sqlalchemy.exc"),
        &["(psycopg2.errors.UniqueViolation) duplicate key value violates unique constraint \"{table}_pkey\""],
    ),
    (
        "OperationalError",
        Some("sqlalchemy.exc"),
        &[
            "(psycopg2.OperationalError) server closed the connection unexpectedly",
            "(psycopg2.OperationalError) could not translate host name \"db-{n}\" to address",
        ],
    ),
    (
        "ConnectionError",
        Some("requests.exceptions"),
        &["HTTPSConnectionPool(host='{host}', port=443): Max retries exceeded with url: /v1/{key}"],
    ),
    ("TimeoutError", None, &["timed out", "The read operation timed out"]),
    ("PermissionError", None, &["[Errno 13] Permission denied: '/var/lib/shop/{key}.lock'"]),
    ("ValidationError", Some("pydantic"), &["1 validation error for {model}\n{key}\n  field required"]),
    ("DoesNotExist", Some("app.models"), &["{model} matching query does not exist."]),
    ("JSONDecodeError", Some("json.decoder"), &["Expecting value: line 1 column 1 (char 0)"]),
    ("RuntimeError", None, &["Event loop is closed", "dictionary changed size during iteration"]),
    ("UnicodeDecodeError", None, &["'utf-8' codec can't decode byte 0xff in position {n}: invalid start byte"]),
    ("RecursionError", None, &["maximum recursion depth exceeded while calling a Python object"]),
];

const JS_EXCEPTIONS: [ExceptionKind; 10] = [
    (
        "TypeError",
        None,
        &[
            "Cannot read properties of undefined (reading '{key}')",
            "Cannot read properties of null (reading '{key}')",
            "{fn} is not a function",
            "Failed to fetch",
            "Load failed",
        ],
    ),
    ("ReferenceError", None, &["{key} is not defined"]),
    ("RangeError", None, &["Maximum call stack size exceeded", "Invalid time value"]),
    ("SyntaxError", None, &["Unexpected token '<', \"<!DOCTYPE \"... is not valid JSON"]),
    ("ChunkLoadError", None, &["Loading chunk {n} failed."]),
    ("Error", None, &["Request failed with status code 500", "Network Error", "Minified React error #{n}"]),
    ("AbortError", None, &["The user aborted a request."]),
    ("AxiosError", None, &["Request failed with status code 502", "timeout of 10000ms exceeded"]),
    ("NotAllowedError", None, &["play() failed because the user didn't interact with the document first."]),
    (
        "QuotaExceededError",
        None,
        &["Failed to execute 'setItem' on 'Storage': Setting the value of '{key}' exceeded the quota."],
    ),
];

const NODE_EXCEPTIONS: [ExceptionKind; 8] = [
    ("TypeError", None, &["Cannot read properties of undefined (reading '{key}')", "{fn} is not a function"]),
    (
        "Error",
        None,
        &["connect ECONNREFUSED 10.0.3.{n}:5432", "getaddrinfo ENOTFOUND {host}", "read ECONNRESET", "Invalid token"],
    ),
    ("SequelizeDatabaseError", None, &["relation \"{table}\" does not exist"]),
    ("PrismaClientKnownRequestError", None, &["Unique constraint failed on the fields: (`{key}`)"]),
    ("SyntaxError", None, &["Unexpected end of JSON input"]),
    ("RangeError", None, &["Invalid array length"]),
    ("ValidationError", None, &["\"{key}\" is required"]),
    ("AbortError", None, &["This operation was aborted"]),
];

const JAVA_EXCEPTIONS: [ExceptionKind; 12] = [
    (
        "NullPointerException",
        Some("java.lang"),
        &["Cannot invoke \"com.example.shop.model.{model}.getId()\" because \"{key}\" is null"],
    ),
    (
        "IllegalStateException",
        Some("java.lang"),
        &["{model} is already closed", "Expected BEGIN_OBJECT but was STRING"],
    ),
    ("IllegalArgumentException", Some("java.lang"), &["Unknown currency: {word}", "{key} must not be null"]),
    ("NoSuchElementException", Some("java.util"), &["No value present"]),
    (
        "DataIntegrityViolationException",
        Some("org.springframework.dao"),
        &["could not execute statement; constraint [{table}_pkey]"],
    ),
    (
        "SQLTransientConnectionException",
        Some("java.sql"),
        &["HikariPool-1 - Connection is not available, request timed out after 30000ms."],
    ),
    ("SocketTimeoutException", Some("java.net"), &["Read timed out", "Connect timed out"]),
    (
        "MismatchedInputException",
        Some("com.fasterxml.jackson.databind.exc"),
        &["Cannot deserialize value of type `java.util.ArrayList<{model}>` from Object value"],
    ),
    ("ArrayIndexOutOfBoundsException", Some("java.lang"), &["Index {n} out of bounds for length {n}"]),
    ("ConcurrentModificationException", Some("java.util"), &[]),
    ("NumberFormatException", Some("java.lang"), &["For input string: \"{word}\""]),
    (
        "EntityNotFoundException",
        Some("jakarta.persistence"),
        &["Unable to find com.example.shop.model.{model} with id {n}"],
    ),
];

const GO_EXCEPTIONS: [ExceptionKind; 9] = [
    ("*errors.errorString", None, &["sql: no rows in result set", "record not found"]),
    ("*fmt.wrapError", None, &["fetch {key}: context deadline exceeded", "decode {key}: unexpected EOF"]),
    ("*net.OpError", None, &["dial tcp 10.0.2.{n}:6379: connect: connection refused"]),
    ("*url.Error", None, &["Get \"https://{host}/v1/{key}\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)"]),
    ("*pgconn.PgError", None, &["ERROR: duplicate key value violates unique constraint \"{table}_pkey\" (SQLSTATE 23505)"]),
    ("*json.SyntaxError", None, &["invalid character '<' looking for beginning of value"]),
    ("runtime.boundsError", None, &["runtime error: index out of range [{n}] with length {n}"]),
    ("runtime.Error", None, &["runtime error: invalid memory address or nil pointer dereference"]),
    ("*fs.PathError", None, &["open /etc/shop/{key}.yaml: no such file or directory"]),
];

const FUNCTIONS: [&str; 40] = [
    "create_order",
    "get_cart",
    "apply_coupon",
    "compute_total",
    "charge_card",
    "refund_payment",
    "send_receipt",
    "export_csv",
    "sync_inventory",
    "resolve_user",
    "parse_amount",
    "format_date",
    "load_profile",
    "update_address",
    "search_products",
    "render_invoice",
    "validate_payload",
    "handle_webhook",
    "reserve_stock",
    "ship_order",
    "calculate_tax",
    "fetch_rates",
    "authenticate",
    "refresh_token",
    "list_orders",
    "merge_carts",
    "cancel_order",
    "schedule_delivery",
    "notify_customer",
    "build_report",
    "import_catalog",
    "resize_image",
    "check_fraud",
    "lookup_country",
    "encode_cursor",
    "decode_cursor",
    "flush_cache",
    "track_event",
    "issue_credit",
    "close_session",
];

/// `create_order` → `createOrder` (JavaScript, Java) or `CreateOrder` (Go methods).
fn camel(name: &str, upper_first: bool) -> String {
    let mut out = String::new();
    for (i, part) in name.split('_').enumerate() {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            if i == 0 && !upper_first {
                out.push(first);
            } else {
                out.extend(first.to_uppercase());
            }
            out.extend(chars);
        }
    }
    out
}

const PY_SOURCE: [&str; 16] = [
    "    order = Order.objects.get(pk=order_id)",
    "    total = sum(line.price * line.quantity for line in cart.lines)",
    "    if not payload:",
    "        raise ValueError(\"empty payload\")",
    "    user = request.user",
    "    amount = Decimal(data[\"amount\"])",
    "    with transaction.atomic():",
    "        stock.reserve(sku, qty)",
    "    resp = session.post(url, json=body, timeout=10)",
    "    resp.raise_for_status()",
    "    return render(request, \"checkout.html\", ctx)",
    "    for item in items:",
    "        item.validate()",
    "    cache.set(key, value, ttl)",
    "    logger.info(\"processed %s\", order.id)",
    "    return result",
];
const JS_SOURCE: [&str; 12] = [
    "  const total = items.reduce((sum, i) => sum + i.price * i.qty, 0);",
    "  const { data } = await api.get(`/orders/${id}`);",
    "  setState((s) => ({ ...s, loading: false }));",
    "  if (!user) return null;",
    "  return items.map((item) => <Row key={item.id} item={item} />);",
    "  const res = await fetch(url, { signal });",
    "  const json = await res.json();",
    "  dispatch({ type: 'cart/update', payload });",
    "  await db.query('SELECT * FROM orders WHERE id = $1', [id]);",
    "  throw new Error(`unexpected status ${res.status}`);",
    "  const price = formatMoney(amount, currency);",
    "  return next(err);",
];
const JAVA_SOURCE: [&str; 8] = [
    "        Order order = orderRepository.findById(id).orElseThrow();",
    "        BigDecimal total = lines.stream().map(Line::total).reduce(BigDecimal.ZERO, BigDecimal::add);",
    "        return ResponseEntity.ok(mapper.toDto(order));",
    "        paymentGateway.charge(customer.getId(), total);",
    "        if (stock.available(sku) < quantity) {",
    "        invoice.setStatus(InvoiceStatus.SENT);",
    "        return client.get().uri(\"/rates\").retrieve().body(Rates.class);",
    "        events.publish(new OrderPlaced(order.getId()));",
];
const GO_SOURCE: [&str; 8] = [
    "\trow := s.db.QueryRowContext(ctx, query, id)",
    "\tif err := json.NewDecoder(r.Body).Decode(&req); err != nil {",
    "\t\treturn nil, fmt.Errorf(\"fetch order: %w\", err)",
    "\tresp, err := s.client.Do(req.WithContext(ctx))",
    "\ttotal := order.Lines[i].Price * int64(order.Lines[i].Qty)",
    "\tdefer rows.Close()",
    "\tif err := s.cache.Set(ctx, key, val, ttl).Err(); err != nil {",
    "\treturn s.repo.Save(ctx, order)",
];

/// A stack frame; in-app frames get source context (and the innermost one its variables).
#[allow(clippy::too_many_arguments)]
fn frame(
    filename: &str,
    abs_path: &str,
    module: Option<&str>,
    function: &str,
    in_app: bool,
    source: &[&str],
    vars: bool,
    rng: &mut Rng,
) -> Value {
    let lineno = rng.range(12, 480);
    let line = |k: i64| source[((lineno + k) as usize) % source.len()];
    let mut f = json!({
        "filename": filename,
        "abs_path": abs_path,
        "function": function,
        "lineno": lineno,
        "in_app": in_app,
        "context_line": line(0),
    });
    if let Some(m) = module {
        f["module"] = json!(m);
    }
    if in_app {
        f["pre_context"] = json!([line(-3), line(-2), line(-1)]);
        f["post_context"] = json!([line(1), line(2), line(3)]);
    }
    if vars {
        f["vars"] = json!({
            "order_id": rng.range(10_000, 999_999).to_string(),
            "user": "<User 4711>",
            "items": "[<Line A-1>, <Line B-7>]",
            "retries": rng.range(0, 3),
        });
    }
    f
}

/// In-app frames between framework frames on the outside and, sometimes, a library frame
/// where the error was raised; `inner` makes the in-app frames (module/file, function).
fn stack(
    outer: &[(&str, &str)],
    libs: &[(&str, &str)],
    rng: &mut Rng,
    mut inner: impl FnMut(&mut Rng, bool) -> Value,
    lib_frame: impl Fn(&str, &str, &mut Rng) -> Value,
) -> Value {
    let mut frames: Vec<Value> = outer.iter().map(|(m, f)| lib_frame(m, f, rng)).collect();
    let in_app = rng.range(2, 5);
    for i in 0..in_app {
        frames.push(inner(rng, i == in_app - 1));
    }
    if rng.chance(0.4) {
        let (m, f) = rng.pick(libs);
        frames.push(lib_frame(m, f, rng));
    }
    json!({ "frames": frames })
}

fn python_exception(rng: &mut Rng) -> (Value, String) {
    let web = rng.chance(0.75);
    let outer: &[(&str, &str)] = if !web {
        &[("celery.app.trace", "trace_task"), ("celery.app.task", "__call__")]
    } else if rng.chance(0.5) {
        &[("django.core.handlers.exception", "inner"), ("django.core.handlers.base", "_get_response")]
    } else {
        &[("flask.app", "full_dispatch_request"), ("flask.app", "dispatch_request")]
    };
    let libs = [
        ("sqlalchemy.engine.base", "_execute_context"),
        ("requests.adapters", "send"),
        ("json.decoder", "raw_decode"),
        ("decimal", "__new__"),
        ("redis.connection", "read_response"),
    ];
    let kinds = ["views", "services", "tasks", "models", "util", "api"];
    let mut last_fn = String::new();
    let st = stack(
        outer,
        &libs,
        rng,
        |rng, innermost| {
            let module = format!("app.{}.{}", rng.pick(&kinds), rng.pick(&AREAS));
            let function = rng.pick(&FUNCTIONS).to_string();
            let file = format!("{}.py", module.replace('.', "/"));
            last_fn = function.clone();
            frame(&file, &format!("/srv/shop/{file}"), Some(&module), &function, true, &PY_SOURCE, innermost, rng)
        },
        |m, f, rng| {
            let file = format!("{}.py", m.replace('.', "/"));
            let abs = format!("/usr/local/lib/python3.12/site-packages/{file}");
            frame(&file, &abs, Some(m), f, false, &PY_SOURCE, false, rng)
        },
    );
    let (ty, module, values) = rng.pick(&PYTHON_EXCEPTIONS);
    let value = fill(rng.pick(values), &last_fn, rng);
    let mut exc = json!({"type": ty, "value": value, "stacktrace": st,
        "mechanism": {"type": if web { "django" } else { "celery" }, "handled": rng.chance(0.2)}});
    if let Some(m) = module {
        exc["module"] = json!(m);
    }
    let transaction = if web {
        format!("/api/{}/{}/", rng.pick(&AREAS), rng.pick(&["", "{id}", "{id}/items", "search", "export"]))
            .replace("//", "/")
    } else {
        format!("app.tasks.{}.{}", rng.pick(&AREAS), rng.pick(&FUNCTIONS))
    };
    (json!({"values": [exc]}), transaction)
}

fn javascript_exception(rng: &mut Rng, browser: bool) -> (Value, String) {
    let dirs: &[&str] = if browser {
        &["components", "hooks", "api", "store", "utils", "pages"]
    } else {
        &["routes", "services", "jobs", "lib", "middleware", "models"]
    };
    let outer: &[(&str, &str)] = if browser {
        &[
            ("node_modules/react-dom/cjs/react-dom.production.min.js", "commitRootImpl"),
            ("node_modules/react-dom/cjs/react-dom.production.min.js", "invokeGuardedCallbackImpl"),
        ]
    } else {
        &[
            ("node:internal/process/task_queues", "processTicksAndRejections"),
            ("/srv/api/node_modules/express/lib/router/layer.js", "handle"),
        ]
    };
    let libs = [
        ("node_modules/axios/lib/core/Axios.js", "request"),
        ("node_modules/lodash/lodash.js", "baseGet"),
        ("node_modules/pg/lib/client.js", "Client._handleErrorMessage"),
        ("node_modules/zod/lib/types.js", "ZodObject._parse"),
    ];
    let mut last_fn = String::new();
    let st = stack(
        outer,
        &libs,
        rng,
        |rng, innermost| {
            let dir = rng.pick(dirs);
            let area = rng.pick(&AREAS);
            let function = camel(rng.pick(&FUNCTIONS), false);
            last_fn = function.clone();
            let (file, abs) = if browser {
                let name = format!("{}{}", camel(area, true), if dir == "components" { ".tsx" } else { ".ts" });
                (
                    format!("app:///src/{dir}/{name}"),
                    format!("https://shop.example.com/static/js/{area}.{:x}.js", rng.below(1 << 24)),
                )
            } else {
                let file = format!("/srv/api/src/{dir}/{area}.js");
                (file.clone(), file)
            };
            let mut f = frame(&file, &abs, None, &function, true, &JS_SOURCE, innermost && !browser, rng);
            f["colno"] = json!(rng.range(5, 80));
            f
        },
        |m, f, rng| {
            let file = if browser { format!("https://shop.example.com/{m}") } else { m.to_string() };
            frame(&file, &file, None, f, false, &JS_SOURCE, false, rng)
        },
    );
    let kinds: &[ExceptionKind] = if browser { &JS_EXCEPTIONS } else { &NODE_EXCEPTIONS };
    let (ty, _, values) = rng.pick(kinds);
    let value = fill(rng.pick(values), &last_fn, rng);
    let mechanism = if browser {
        rng.pick(&["onerror", "onunhandledrejection", "instrument", "generic"])
    } else {
        rng.pick(&["onuncaughtexception", "onunhandledrejection", "express", "generic"])
    };
    let exc = json!({"type": ty, "value": value, "stacktrace": st,
        "mechanism": {"type": mechanism, "handled": mechanism == "generic"}});
    let transaction = if browser {
        format!("/{}{}", rng.pick(&AREAS), rng.pick(&["", "/:id", "/new", "/:id/edit"]))
    } else {
        format!("{} /api/{}{}", rng.pick(&["GET", "POST", "PUT"]), rng.pick(&AREAS), rng.pick(&["", "/:id"]))
    };
    (json!({"values": [exc]}), transaction)
}

fn java_exception(rng: &mut Rng) -> (Value, String) {
    let outer = [
        ("java.lang.Thread", "run"),
        ("org.apache.tomcat.util.threads.ThreadPoolExecutor$Worker", "run"),
        ("org.springframework.web.servlet.FrameworkServlet", "processRequest"),
        ("org.springframework.web.servlet.DispatcherServlet", "doDispatch"),
    ];
    let libs = [
        ("org.hibernate.internal.SessionImpl", "find"),
        ("com.zaxxer.hikari.pool.HikariPool", "getConnection"),
        ("java.util.Optional", "orElseThrow"),
        ("com.fasterxml.jackson.databind.ObjectMapper", "readValue"),
    ];
    let suffixes = ["Service", "Controller", "Repository", "Client", "Mapper", "Validator", "Scheduler", "Handler"];
    let st = stack(
        &outer,
        &libs,
        rng,
        |rng, innermost| {
            let area = rng.pick(&AREAS);
            let class = format!("{}{}", camel(area, true), rng.pick(&suffixes));
            let module = format!("com.example.shop.{area}.{class}");
            let function = camel(rng.pick(&FUNCTIONS), false);
            let file = format!("{class}.java");
            frame(&file, &file, Some(&module), &function, true, &JAVA_SOURCE, innermost, rng)
        },
        |m, f, rng| {
            let file = format!("{}.java", m.rsplit('.').next().unwrap_or(m).split('$').next().unwrap_or(m));
            frame(&file, &file, Some(m), f, false, &JAVA_SOURCE, false, rng)
        },
    );
    let (ty, module, values) = rng.pick(&JAVA_EXCEPTIONS);
    let mut exc =
        json!({"type": ty, "stacktrace": st, "mechanism": {"type": "UncaughtExceptionHandler", "handled": false}});
    if !values.is_empty() {
        exc["value"] = json!(fill(rng.pick(values), "", rng));
    }
    if let Some(m) = module {
        exc["module"] = json!(m);
    }
    let transaction = format!("{} /api/{}", rng.pick(&["GET", "POST", "PUT", "DELETE"]), rng.pick(&AREAS));
    (json!({"values": [exc]}), transaction)
}

fn go_exception(rng: &mut Rng) -> (Value, String) {
    let outer = [
        ("net/http", "(*conn).serve"),
        ("net/http", "serverHandler.ServeHTTP"),
        ("github.com/go-chi/chi/v5", "(*Mux).ServeHTTP"),
    ];
    let libs = [
        ("database/sql", "(*DB).QueryRowContext"),
        ("github.com/jackc/pgx/v5", "(*Conn).Query"),
        ("encoding/json", "(*decodeState).unmarshal"),
        ("github.com/redis/go-redis/v9", "(*baseClient).process"),
    ];
    let receivers = ["(*Service)", "(*Handler)", "(*Repo)", "(*Client)", "(*Worker)", ""];
    let st = stack(
        &outer,
        &libs,
        rng,
        |rng, innermost| {
            let area = rng.pick(&AREAS);
            let module = format!("github.com/example/shop/internal/{area}");
            let receiver = rng.pick(&receivers);
            let name = camel(rng.pick(&FUNCTIONS), !receiver.is_empty());
            let function = if receiver.is_empty() { name } else { format!("{receiver}.{name}") };
            let file = format!("internal/{area}/{}.go", rng.pick(&["service", "handler", "repo", "client", "worker"]));
            frame(&file, &format!("/build/{file}"), Some(&module), &function, true, &GO_SOURCE, innermost, rng)
        },
        |m, f, rng| {
            let file = format!("{m}/{}.go", m.rsplit('/').next().unwrap_or(m));
            frame(&file, &format!("/usr/local/go/src/{file}"), Some(m), f, false, &GO_SOURCE, false, rng)
        },
    );
    let (ty, _, values) = rng.pick(&GO_EXCEPTIONS);
    let value = fill(rng.pick(values), "", rng);
    let exc = json!({"type": ty, "value": value, "stacktrace": st});
    let transaction = format!("{} /v1/{}", rng.pick(&["GET", "POST", "PATCH"]), rng.pick(&AREAS));
    (json!({"values": [exc]}), transaction)
}

const MESSAGE_SUBJECTS: [&str; 16] = [
    "Payment webhook",
    "Inventory sync",
    "Nightly export",
    "Search reindex",
    "Email delivery",
    "Cache warmup",
    "Rate fetcher",
    "Invoice renderer",
    "Session cleanup",
    "Coupon service",
    "Address validation",
    "Fraud check",
    "Shipment tracker",
    "Report builder",
    "Token refresh",
    "Image resizer",
];
const MESSAGE_PHRASES: [&str; 10] = [
    "took %s ms, above the %s ms budget",
    "failed for account %s",
    "retried %s times before giving up",
    "skipped %s records with invalid data",
    "queue is backing up: %s jobs pending",
    "received an unexpected status %s",
    "fell back to the default configuration after %s errors",
    "is running behind by %s minutes",
    "could not acquire lock %s",
    "returned an empty response for batch %s",
];
const MESSAGE_WORKERS: [&str; 8] =
    ["primary", "replica", "batch", "realtime", "backfill", "scheduler", "fallback", "shadow"];

/// A log message with parameters, as `logging`/`captureMessage` send it.
fn message(rng: &mut Rng) -> (Value, String) {
    let phrase = rng.pick(&MESSAGE_PHRASES);
    let template = format!("{} {} [{}]", rng.pick(&MESSAGE_SUBJECTS), phrase, rng.pick(&MESSAGE_WORKERS));
    let params: Vec<String> = (0..phrase.matches("%s").count()).map(|_| rng.range(2, 9_999).to_string()).collect();
    let transaction = format!("app.tasks.{}.{}", rng.pick(&AREAS), rng.pick(&FUNCTIONS));
    (json!({"message": template, "params": params}), transaction)
}

/// The raw event of a new issue on `platform` (a log message when `message_only`), as an SDK
/// would send it, with markers for what differs per event.
pub fn raw_event(platform: Platform, message_only: bool, level: &str, rng: &mut Rng) -> Value {
    let browser = platform.is_browser();
    let mut ev = Map::new();
    let transaction = if message_only {
        let (logentry, transaction) = message(rng);
        ev.insert("logentry".into(), logentry);
        transaction
    } else {
        let (exception, transaction) = match platform {
            Platform::Python => python_exception(rng),
            Platform::JavaScript => javascript_exception(rng, true),
            Platform::Node => javascript_exception(rng, false),
            Platform::Java => java_exception(rng),
            Platform::Go => go_exception(rng),
        };
        ev.insert("exception".into(), exception);
        transaction
    };
    ev.insert("platform".into(), json!(platform.name()));
    ev.insert("level".into(), json!(level));
    ev.insert("release".into(), json!(Field::Release.marker()));
    ev.insert("environment".into(), json!(Field::Environment.marker()));
    ev.insert("transaction".into(), json!(transaction));
    ev.insert(
        "tags".into(),
        json!({"region": Field::Region.marker(), "customer_tier": Field::Tier.marker(), "team": rng.pick(&TEAMS)}),
    );
    let (runtime, sdk) = match platform {
        Platform::Python => (json!({"name": "CPython", "version": "3.12.4"}), ("sentry.python", "2.19.0")),
        Platform::JavaScript => (Value::Null, ("sentry.javascript.react", "8.42.0")),
        Platform::Node => (json!({"name": "node", "version": "v20.11.1"}), ("sentry.javascript.node", "8.42.0")),
        Platform::Java => (json!({"name": "OpenJDK", "version": "21.0.3"}), ("sentry.java.spring-boot", "7.14.0")),
        Platform::Go => (json!({"name": "go", "version": "go1.22.5"}), ("sentry.go", "0.29.1")),
    };
    let mut contexts = Map::new();
    if browser {
        contexts.insert(
            "browser".into(),
            json!({"name": Field::BrowserName.marker(), "version": Field::BrowserVersion.marker()}),
        );
        contexts.insert("os".into(), json!({"name": Field::OsName.marker(), "version": Field::OsVersion.marker()}));
        ev.insert(
            "request".into(),
            json!({"url": format!("https://shop.example.com{transaction}"), "headers": {"Referer": "https://shop.example.com/"}}),
        );
    } else {
        ev.insert("server_name".into(), json!(Field::ServerName.marker()));
        ev.insert("logger".into(), json!(format!("{}.{}", platform.name(), rng.pick(&AREAS))));
        contexts.insert("os".into(), json!({"name": "Linux", "version": "6.1.0"}));
        contexts.insert("runtime".into(), runtime);
        if rng.chance(0.6) {
            ev.insert(
                "request".into(),
                json!({"url": format!("https://api.shop.example.com/{}", rng.pick(&AREAS)), "method": rng.pick(&["GET", "POST"]),
                       "headers": {"Accept": "application/json", "User-Agent": "shop-web/2.4"}}),
            );
        }
    }
    ev.insert("contexts".into(), Value::Object(contexts));
    ev.insert("sdk".into(), json!({"name": sdk.0, "version": sdk.1}));
    let crumbs: Vec<Value> = (0..rng.range(3, 12))
        .rev()
        .map(|i| {
            let at = time_marker((i as u32 + 1) * 850);
            match rng.below(3) {
                0 => json!({"type": "http", "category": "http", "level": "info", "timestamp": at,
                    "data": {"method": "GET", "url": format!("https://{}/v1/{}", rng.pick(&HOSTS), rng.pick(&AREAS)),
                             "status_code": rng.pick(&[200, 200, 201, 404, 500])}}),
                1 => json!({"category": "query", "level": "info", "timestamp": at,
                    "message": format!("SELECT * FROM {} WHERE id = $1", rng.pick(&TABLES))}),
                _ => json!({"category": if browser { "ui.click" } else { "app" }, "level": "info", "timestamp": at,
                    "message": format!("{} {}", rng.pick(&FUNCTIONS), rng.pick(&MODELS))}),
            }
        })
        .collect();
    ev.insert("breadcrumbs".into(), json!({ "values": crumbs }));
    Value::Object(ev)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_values() {
        assert_eq!(camel("create_order", false), "createOrder");
        assert_eq!(camel("create_order", true), "CreateOrder");
        let mut rng = Rng::new(1);
        let v = fill("'{key}' in {fn}: {n}", "f", &mut rng);
        assert!(!v.contains('{') && v.contains(" in f: "), "{v}");
    }

    #[test]
    fn every_platform_makes_an_exception_with_in_app_frames() {
        let mut rng = Rng::new(3);
        for (platform, _) in Platform::WEIGHTS {
            for _ in 0..20 {
                let ev = raw_event(platform, false, "error", &mut rng);
                let frames = ev["exception"]["values"][0]["stacktrace"]["frames"].as_array().unwrap();
                assert!(frames.iter().filter(|f| f["in_app"] == true).count() >= 2);
                assert_eq!(ev["platform"], platform.name());
                assert_eq!(ev.get("server_name").is_some(), !platform.is_browser());
            }
            let ev = raw_event(platform, true, "info", &mut rng);
            assert!(ev["logentry"]["message"].as_str().unwrap().contains("%s"));
        }
    }
}
