//! One event on the issue page: exceptions with their stack traces, the message,
//! breadcrumbs, request, user, tags, contexts, extra data and SDK, rendered from the view
//! model in [`model`]. Every string here came from an SDK: it is rendered as text (Leptos
//! escapes it), never as HTML, and long values are cut with a way to see all of them.

pub mod model;
#[cfg(all(test, feature = "ssr"))]
mod tests;

use leptos::prelude::*;

pub use model::*;

/// A value that may be long: the first `limit` characters with a button to see all.
#[component]
pub fn LongText(#[prop(into)] text: String, #[prop(default = 400)] limit: usize) -> impl IntoView {
    let total = text.chars().count();
    if total <= limit {
        return view! { <span class="long">{text}</span> }.into_any();
    }
    let full = RwSignal::new(false);
    let short: String = text.chars().take(limit).collect();
    view! {
        <span class="long">
            {move || if full.get() { text.clone() } else { format!("{short}…") }}
            " "
            <button type="button" class="link more" on:click=move |_| full.update(|f| *f = !*f)>
                {move || if full.get() { "show less".to_string() } else { format!("show all {total} characters") }}
            </button>
        </span>
    }
    .into_any()
}

/// Keys and values as a two-column table.
#[component]
pub fn KvTable(rows: Vec<Pair>, #[prop(optional)] testid: &'static str) -> impl IntoView {
    view! {
        <table class="kv" data-testid=testid>
            <tbody>
                {rows.into_iter().map(|(k, v)| view! {
                    <tr><th>{k}</th><td><LongText text=v/></td></tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}

/// The whole event, section by section (sections without data are left out).
#[component]
pub fn EventBody(event: EventView) -> impl IntoView {
    let EventView {
        event_id: _,
        timestamp,
        level: _,
        platform: _,
        message,
        exceptions,
        stacktrace,
        breadcrumbs,
        request,
        user,
        tags,
        contexts,
        sdk,
        release,
        environment,
        server_name,
        dist,
        transaction,
        logger,
        extra,
        fingerprint,
        errors,
    } = event;
    let chained = exceptions.len() > 1;
    // Library frames fold away in every trace once the event has frames of the application.
    let fold = exceptions.iter().filter_map(|e| e.stack.as_ref()).chain(stacktrace.as_ref()).any(StackView::has_in_app);
    let n_exceptions = exceptions.len();
    // Message events show their message on top; error events whose message differs from
    // their exception show it too.
    let message = message.filter(|m| !exceptions.iter().any(|e| &e.value == m));
    let mut about: Vec<Pair> = Vec::new();
    for (k, v) in [
        ("release", release),
        ("environment", environment),
        ("server_name", server_name),
        ("dist", dist),
        ("transaction", transaction),
        ("logger", logger),
    ] {
        if let Some(v) = v {
            about.push((k.to_string(), v));
        }
    }
    if !fingerprint.is_empty() {
        about.push(("fingerprint".into(), fingerprint.join(", ")));
    }
    view! {
        {message.map(|m| view! {
            <section class="ev-section" id="message">
                <h3>"Message"</h3>
                <pre class="ev-message"><LongText text=m limit=2000/></pre>
            </section>
        })}
        {(!exceptions.is_empty()).then(|| view! {
            <section class="ev-section" id="exception">
                <h3>{if chained { format!("Exceptions ({n_exceptions}, most recent first)") } else { "Exception".to_string() }}</h3>
                {exceptions.into_iter().enumerate().map(|(i, e)| view! {
                    {(i > 0).then(|| view! { <div class="exc-cause">"caused by"</div> })}
                    <Exception exc=e fold/>
                }).collect_view()}
            </section>
        })}
        {stacktrace.map(|s| view! {
            <section class="ev-section" id="stacktrace">
                <h3>"Stack trace"</h3>
                <StackTrace stack=s fold/>
            </section>
        })}
        {(!breadcrumbs.is_empty()).then(|| view! { <Breadcrumbs crumbs=breadcrumbs event_time=timestamp/> })}
        {request.map(|r| view! { <Request req=r/> })}
        {(!user.is_empty()).then(|| view! {
            <section class="ev-section" id="user">
                <h3>"User"</h3>
                <KvTable rows=user testid="user"/>
            </section>
        })}
        {(!tags.is_empty()).then(|| view! {
            <section class="ev-section" id="tags">
                <h3>"Tags"</h3>
                <ul class="tag-pills" data-testid="event-tags">
                    {tags.into_iter().map(|(k, v)| view! {
                        <li><span class="k">{k}</span><span class="v"><LongText text=v limit=120/></span></li>
                    }).collect_view()}
                </ul>
            </section>
        })}
        {(!contexts.is_empty()).then(|| view! {
            <section class="ev-section" id="contexts">
                <h3>"Contexts"</h3>
                <div class="contexts">
                    {contexts.into_iter().map(|c| view! {
                        <div class="context" data-context=c.key.clone()>
                            <h4>{c.title}</h4>
                            <KvTable rows=c.entries/>
                        </div>
                    }).collect_view()}
                </div>
            </section>
        })}
        {(!extra.is_empty()).then(|| view! {
            <section class="ev-section" id="extra">
                <h3>"Additional data"</h3>
                <KvTable rows=extra/>
            </section>
        })}
        {(!about.is_empty() || sdk.is_some()).then(|| view! {
            <section class="ev-section" id="about">
                <h3>"Release, environment and SDK"</h3>
                <KvTable rows=about/>
                {sdk.map(|s| {
                    let mut rows = vec![("sdk".to_string(), format!("{} {}", s.name, s.version).trim().to_string())];
                    if !s.integrations.is_empty() {
                        rows.push(("integrations".into(), s.integrations.join(", ")));
                    }
                    if !s.packages.is_empty() {
                        rows.push(("packages".into(), s.packages.join(", ")));
                    }
                    view! { <KvTable rows testid="sdk"/> }
                })}
            </section>
        })}
        {(!errors.is_empty()).then(|| view! {
            <section class="ev-section" id="processing-errors">
                <h3>"Processing errors"</h3>
                <p class="muted">"Ingestion dropped or fixed these fields of the payload:"</p>
                <ul class="ev-errors">{errors.into_iter().map(|e| view! { <li><LongText text=e/></li> }).collect_view()}</ul>
            </section>
        })}
    }
    .into_any()
}

/// One exception: type, value, mechanism and stack trace.
#[component]
fn Exception(exc: ExceptionView, fold: bool) -> impl IntoView {
    let unhandled = exc.mechanism.as_ref().and_then(|m| m.handled) == Some(false);
    view! {
        <div class="exception" data-testid="exception">
            <div class="exc-head">
                {(!exc.ty.is_empty()).then(|| view! { <span class="exc-type">{exc.ty.clone()}</span> })}
                {exc.module.clone().map(|m| view! { <span class="exc-module muted">{m}</span> })}
                {exc.mechanism.clone().map(|m| view! {
                    <span class="exc-mech" title=m.description.clone().unwrap_or_default()>
                        "mechanism: "{m.kind}
                    </span>
                })}
                {unhandled.then(|| view! { <span class="badge off">"unhandled"</span> })}
            </div>
            {(!exc.value.is_empty()).then(|| view! { <pre class="exc-value"><LongText text=exc.value.clone() limit=1000/></pre> })}
            {match exc.stack {
                Some(s) => view! { <StackTrace stack=s fold/> }.into_any(),
                None => view! { <p class="muted small">"No stack trace."</p> }.into_any(),
            }}
        </div>
    }
    .into_any()
}

/// Frames newest first (a toggle turns the order around). With `fold` (the event has frames
/// of the application), library frames are folded away, each run of them behind a toggle.
#[component]
pub fn StackTrace(stack: StackView, fold: bool) -> impl IntoView {
    let has_in_app = fold;
    let library = stack.frames.iter().filter(|f| !f.in_app).count();
    let show_library = RwSignal::new(!has_in_app);
    let oldest_first = RwSignal::new(false);
    let focus = stack.focus();
    let frames = stack.frames;
    let n = frames.len();
    let omitted = stack.omitted;
    // In the order sent (oldest first); CSS turns the list around unless `oldest_first`.
    let mut items = Vec::with_capacity(n + 4);
    let mut i = 0;
    while i < n {
        if has_in_app && !frames[i].in_app && (i == 0 || frames[i - 1].in_app) {
            let run = frames[i..].iter().take_while(|f| !f.in_app).count();
            items.push(
                view! {
                    <li class="frame-fold" class:hidden=move || show_library.get()>
                        <button type="button" class="link" on:click=move |_| show_library.set(true)>
                            {if run == 1 { "1 library frame".to_string() } else { format!("{run} library frames") }}
                        </button>
                    </li>
                }
                .into_any(),
            );
        }
        if omitted.is_some() && i == n / 2 {
            items.push(
                view! { <li class="frame-fold muted">{format!("{} frames omitted", omitted.unwrap_or(0))}</li> }
                    .into_any(),
            );
        }
        let f = frames[i].clone();
        let in_app = f.in_app;
        items.push(
            view! {
                <Frame frame=f open=Some(i) == focus hidden=Signal::derive(move || !in_app && !show_library.get())/>
            }
            .into_any(),
        );
        i += 1;
    }
    view! {
        <div class="stacktrace">
            <div class="st-tools">
                {(has_in_app && library > 0).then(|| view! {
                    <button type="button" class="small" data-testid="toggle-library"
                        aria-pressed=move || show_library.get().to_string()
                        on:click=move |_| show_library.update(|s| *s = !*s)>
                        {move || if show_library.get() { format!("Hide {library} library frames") } else { format!("Show {library} library frames") }}
                    </button>
                })}
                <button type="button" class="small" on:click=move |_| oldest_first.update(|o| *o = !*o)>
                    {move || if oldest_first.get() { "Oldest call first" } else { "Most recent call first" }}
                </button>
            </div>
            <ol class="frames" class:newest-first=move || !oldest_first.get()>{items}</ol>
        </div>
    }
    .into_any()
}

/// One frame: where it is, and on demand its source lines and local variables.
#[component]
fn Frame(frame: FrameView, open: bool, hidden: Signal<bool>) -> impl IntoView {
    let expandable = !frame.context.is_empty() || !frame.vars.is_empty();
    let expanded = RwSignal::new(open && expandable);
    let show_vars = RwSignal::new(false);
    let FrameView { file, abs_path, function, module, package, lineno, colno, in_app, instruction_addr, context, vars } =
        frame;
    // Java-style frames name the class in `module`; say it when the file does not.
    let module = module.filter(|m| *m != file);
    let no_file = file.is_empty() && module.is_none();
    let package = package.filter(|p| *p != file && !p.ends_with(&file));
    let n_vars = vars.len();
    let toggle = move || {
        if expandable {
            expanded.update(|e| *e = !*e)
        }
    };
    let where_ = view! {
        <div class="frame-head" class:expandable=expandable
            role=expandable.then_some("button") tabindex=expandable.then_some("0")
            aria-expanded=move || expandable.then(|| expanded.get().to_string())
            on:click=move |_| toggle()
            on:keydown=move |ev| if ev.key() == "Enter" || ev.key() == " " { ev.prevent_default(); toggle() }>
            {(!file.is_empty()).then(|| view! { <span class="frame-file" title=abs_path.clone().unwrap_or_default()>{file}</span> })}
            {module.map(|m| view! { <span class="frame-module">{m}</span> })}
            {function.map(|f| view! { {(!no_file).then_some(" in ")} <span class="frame-fn">{f}</span> })}
            {lineno.map(|l| view! { " at line " <span class="frame-line">{match colno { Some(c) => format!("{l}:{c}"), None => l.to_string() }}</span> })}
            {package.map(|p| view! { <span class="frame-pkg" title=p.clone()>{p.rsplit(['/', '\\']).next().unwrap_or_default().to_string()}</span> })}
            {instruction_addr.map(|a| view! { <span class="frame-addr">{a}</span> })}
            {in_app.then(|| view! { <span class="frame-badge">"in app"</span> })}
            {expandable.then(|| view! { <span class="frame-chevron" aria-hidden="true"></span> })}
        </div>
    }
    .into_any();
    let body = move || {
        expanded.get().then(|| {
            let context = context.clone();
            let vars = vars.clone();
            view! {
                <div class="frame-body">
                    {(!context.is_empty()).then(|| view! {
                        <div class="source" data-testid="source">
                            {context.into_iter().map(|l| view! {
                                <div class="src-line" class:current=l.current>
                                    <span class="ln">{l.lineno.map(|n| n.to_string()).unwrap_or_default()}</span>
                                    <code><LongText text=l.code limit=300/></code>
                                </div>
                            }).collect_view()}
                        </div>
                    })}
                    {(n_vars > 0).then(|| view! {
                        <button type="button" class="small vars-toggle" on:click=move |_| show_vars.update(|s| *s = !*s)>
                            {move || if show_vars.get() { format!("Hide local variables ({n_vars})") } else { format!("Local variables ({n_vars})") }}
                        </button>
                        {move || show_vars.get().then(|| view! { <KvTable rows=vars.clone() testid="vars"/> })}
                    })}
                </div>
            }
            .into_any()
        })
    };
    view! {
        <li class="frame" class:in-app=in_app class:library=!in_app class:hidden=move || hidden.get() class:open=move || expanded.get()>
            {where_}
            {body}
        </li>
    }
    .into_any()
}

/// The breadcrumbs as a timeline up to the error, the last ones shown, earlier on demand.
#[component]
fn Breadcrumbs(crumbs: Vec<Crumb>, event_time: i64) -> impl IntoView {
    const SHOWN: usize = 12;
    let n = crumbs.len();
    let show_all = RwSignal::new(n <= SHOWN);
    let rows = crumbs
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            let early = i + SHOWN < n;
            let time_title = c.time.map(crate::pages::account::format_time).unwrap_or_default();
            let offset = c.offset_ms.map(format_offset).unwrap_or_default();
            view! {
                <tr class=format!("crumb crumb-{}", c.level) class:hidden=move || early && !show_all.get()>
                    <td class="crumb-kind"><span class=format!("crumb-type t-{}", c.kind)>{c.kind.clone()}</span></td>
                    <td class="crumb-cat">{c.category}</td>
                    <td class="crumb-msg">
                        {(!c.message.is_empty()).then(|| view! { <div class="long-mono"><LongText text=c.message.clone() limit=500/></div> })}
                        {(!c.data.is_empty()).then(|| view! {
                            <dl class="crumb-data">
                                {c.data.into_iter().map(|(k, v)| view! { <div><dt>{k}</dt><dd><LongText text=v limit=300/></dd></div> }).collect_view()}
                            </dl>
                        })}
                    </td>
                    <td class="crumb-level">{c.level.clone()}</td>
                    <td class="crumb-time" title=time_title>{offset}</td>
                </tr>
            }
            .into_any()
        })
        .collect_view();
    view! {
        <section class="ev-section" id="breadcrumbs">
            <h3>{format!("Breadcrumbs ({n})")}</h3>
            {(n > SHOWN).then(|| view! {
                <button type="button" class="small" class:hidden=move || show_all.get() on:click=move |_| show_all.set(true)>
                    {format!("Show {} earlier breadcrumbs", n - SHOWN)}
                </button>
            })}
            <table class="crumbs" data-testid="breadcrumbs">
                <thead><tr><th>"Type"</th><th>"Category"</th><th>"Description"</th><th>"Level"</th><th class="crumb-time" title="Relative to the error">"Time"</th></tr></thead>
                <tbody>
                    {rows}
                    <tr class="crumb crumb-error crumb-self">
                        <td class="crumb-kind"><span class="crumb-type t-error">"error"</span></td>
                        <td class="crumb-cat">"exception"</td>
                        <td class="crumb-msg muted">"This event"</td>
                        <td class="crumb-level"></td>
                        <td class="crumb-time" title=crate::pages::account::format_time(event_time)>"0ms"</td>
                    </tr>
                </tbody>
            </table>
        </section>
    }
    .into_any()
}

/// The HTTP request the event happened in.
#[component]
fn Request(req: RequestView) -> impl IntoView {
    let RequestView { method, url, query, fragment, headers, cookies, body, env } = req;
    view! {
        <section class="ev-section" id="request">
            <h3>"Request"</h3>
            <div class="req-line" data-testid="request-line">
                {method.map(|m| view! { <span class="req-method">{m}</span> })}
                {url.map(|u| view! { <span class="req-url"><LongText text=u limit=300/></span> })}
            </div>
            {(!query.is_empty()).then(|| view! { <h4>"Query"</h4><KvTable rows=query/> })}
            {fragment.map(|f| view! { <h4>"Fragment"</h4><p class="long-mono"><LongText text=f/></p> })}
            {body.map(|b| view! { <h4>"Body"</h4><pre class="req-body"><LongText text=b limit=3000/></pre> })}
            {(!headers.is_empty()).then(|| view! { <h4>"Headers"</h4><KvTable rows=headers testid="headers"/> })}
            {(!cookies.is_empty()).then(|| view! { <h4>"Cookies"</h4><KvTable rows=cookies/> })}
            {(!env.is_empty()).then(|| view! { <h4>"Environment"</h4><KvTable rows=env/> })}
        </section>
    }
    .into_any()
}
