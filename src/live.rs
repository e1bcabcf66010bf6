//! Live updates for the issue list: a server-sent event stream per browser tab that says
//! "the issues you are looking at changed", so the page refetches without a reload.
//!
//! On one node, the digest (new events) and the triage actions notify at once through an
//! in-process channel. Several nodes share a PostgreSQL database but not this channel, so the
//! stream also polls a cheap fingerprint of the projects' issues every few seconds.

use std::convert::Infallible;
use std::sync::OnceLock;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, Stream};
use serde::Deserialize;
use tokio::sync::broadcast;
use tower_sessions::Session;

use crate::server::{session_user, AppState};

/// At most one message per this interval, however many events arrive.
const MIN_GAP: Duration = Duration::from_millis(1000);
/// How often the fingerprint is polled for changes made by other nodes.
const POLL: Duration = Duration::from_secs(5);

fn channel() -> &'static broadcast::Sender<i64> {
    static CHANNEL: OnceLock<broadcast::Sender<i64>> = OnceLock::new();
    CHANNEL.get_or_init(|| broadcast::channel(1024).0)
}

/// Says that issues of this project changed (new events, new issues, triage).
pub fn notify(project_id: i64) {
    // No receiver (nobody looking) is fine.
    let _ = channel().send(project_id);
}

#[derive(Deserialize)]
pub struct LiveParams {
    project: Option<i64>,
}

/// `GET /_live/issues[?project=ID]`: the stream for one project, or for every project the
/// signed-in user can see.
pub async fn issues_stream(State(state): State<AppState>, session: Session, Query(p): Query<LiveParams>) -> Response {
    let Some(user) = session_user(&state.db, &session).await else {
        return (StatusCode::UNAUTHORIZED, "not signed in").into_response();
    };
    let projects = match crate::access::projects(&state.db, &user, p.project).await {
        Ok(ps) => ps.into_iter().map(|p| p.id).collect::<Vec<_>>(),
        Err(_) => return (StatusCode::NOT_FOUND, "not found").into_response(),
    };
    Sse::new(changes(state, projects)).keep_alive(KeepAlive::default()).into_response()
}

struct Watch {
    state: AppState,
    projects: Vec<i64>,
    rx: broadcast::Receiver<i64>,
    fingerprint: Option<(i64, i64, i64)>,
    last_sent: tokio::time::Instant,
}

fn changes(state: AppState, projects: Vec<i64>) -> impl Stream<Item = Result<Event, Infallible>> {
    let watch =
        Watch { rx: channel().subscribe(), fingerprint: None, last_sent: tokio::time::Instant::now(), state, projects };
    stream::unfold(watch, |mut w| async move {
        if w.fingerprint.is_none() {
            w.fingerprint = w.state.db.issues_fingerprint(&w.projects).await.ok();
        }
        loop {
            let changed = tokio::select! {
                got = w.rx.recv() => match got {
                    Ok(p) => w.projects.contains(&p),
                    Err(broadcast::error::RecvError::Lagged(_)) => true,
                    Err(broadcast::error::RecvError::Closed) => return None,
                },
                _ = tokio::time::sleep(POLL) => {
                    let now = w.state.db.issues_fingerprint(&w.projects).await.ok();
                    let changed = now.is_some() && now != w.fingerprint;
                    if changed {
                        w.fingerprint = now;
                    }
                    changed
                }
            };
            if !changed {
                continue;
            }
            // Coalesce a burst into one message.
            let wait = MIN_GAP.saturating_sub(w.last_sent.elapsed());
            tokio::time::sleep(wait).await;
            while w.rx.try_recv().is_ok() {}
            w.last_sent = tokio::time::Instant::now();
            w.fingerprint = w.state.db.issues_fingerprint(&w.projects).await.ok().or(w.fingerprint);
            return Some((Ok(Event::default().data("changed")), w));
        }
    })
}
