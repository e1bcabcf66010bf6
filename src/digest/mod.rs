//! Digest: the group-commit writer between ingestion and the store.
//!
//! Request handlers parse, normalize and group events on their own tasks, then hand them to
//! one writer task through a bounded queue and wait. The writer takes whatever has queued up
//! (up to [`MAX_BATCH`] events), stores it in one transaction and answers every waiting
//! request once the commit is durable (on SQLite, after the syncer thread has fsynced the
//! WAL, while the writer already runs the next batch: see [`Answer`]). So a 200 always
//! means "on disk", and the cost of a durable commit (fsync) is shared by all the events
//! of a batch. A full queue is answered at once
//! (ingestion turns it into 429 + Retry-After), never by waiting without bound.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use crate::store::ingest::{NewEvent, NewUserReport, Stored};
use crate::store::{Db, StoreError, Writer};

/// Most events stored in one transaction.
pub const MAX_BATCH: usize = 512;
/// Events that may wait for the writer before ingestion answers 429.
pub const QUEUE_CAPACITY: usize = 8192;
/// How often the trend scores are brought to the current hour.
const TREND_REFRESH: Duration = Duration::from_secs(30);
/// How long a request waits for its event's commit before it is answered 429.
pub const ANSWER_DEADLINE: Duration = Duration::from_secs(15);
/// Attempts of a batch whose failure looks transient (busy database, deadlock, lost connection).
const ATTEMPTS: u32 = 6;

#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error("the writer queue is full")]
    Overloaded,
    #[error("the event could not be stored: {0}")]
    Failed(String),
}

enum Job {
    Event(Box<NewEvent>, oneshot::Sender<Result<Stored, String>>),
    Report(NewUserReport, oneshot::Sender<Result<Stored, String>>),
}

/// The handle ingestion holds; cheap to clone.
#[derive(Clone)]
pub struct Digest {
    jobs: mpsc::Sender<Job>,
    counts: Arc<Mutex<HashMap<(i64, String), i64>>>,
}

impl Digest {
    /// Starts the writer on its own thread (and the trend refresher on the current runtime).
    /// The writer stops when every handle is dropped, after storing what is queued.
    pub fn start(db: Db, alerts: Option<crate::alerts::Alerts>) -> Digest {
        let (jobs, rx) = mpsc::channel(QUEUE_CAPACITY);
        let counts = Arc::new(Mutex::new(HashMap::new()));
        tokio::spawn(trend_refresher(db.clone()));
        // The writer runs on a thread of its own, with its own runtime. On the shared runtime
        // it waited behind the request handlers for every statement of a batch (each
        // statement's answer from the database resumes the task), which made a batch take
        // 3.7 ms of which the database needed under 1 and capped ingestion at 4,900 events/s.
        let writer_counts = counts.clone();
        let spawned = std::thread::Builder::new().name("faultline-writer".into()).spawn(move || {
            match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                Ok(rt) => rt.block_on(async move {
                    let rx = Arc::new(tokio::sync::Mutex::new(rx));
                    // Supervised: should a batch panic, its requests are answered 429 (their
                    // answers are dropped, never a false 200) and the writer starts again
                    // with a fresh connection, so ingestion does not stay refused for ever.
                    supervised(|_| {
                        let (db, counts, alerts, rx) = (db.clone(), writer_counts.clone(), alerts.clone(), rx.clone());
                        async move {
                            // A panic drops the guard; the queue outlives it for the next run.
                            let mut rx = rx.lock().await;
                            // Its own connection (see `Db::dedicated_writer`); the shared pool if that fails.
                            let (own, wal) = match db.dedicated_writer().await {
                                Ok(own) => own,
                                Err(e) => {
                                    tracing::warn!("the writer shares the pool: {e}");
                                    (Writer::Pool(db), None)
                                }
                            };
                            writer(own, &mut rx, counts, Answer::start(wal), alerts).await
                        }
                    })
                    .await
                }),
                Err(e) => tracing::error!("cannot start the writer's runtime: {e}"),
            }
        });
        if let Err(e) = spawned {
            tracing::error!("cannot start the writer thread: {e}");
        }
        Digest { jobs, counts }
    }

    /// Queues an event and waits until it is committed.
    pub async fn store_event(&self, event: NewEvent) -> Result<Stored, SubmitError> {
        let (tx, rx) = oneshot::channel();
        self.submit(Job::Event(Box::new(event), tx), rx).await
    }

    /// Queues a user report and waits until it is committed.
    pub async fn store_report(&self, report: NewUserReport) -> Result<(), SubmitError> {
        let (tx, rx) = oneshot::channel();
        self.submit(Job::Report(report, tx), rx).await.map(|_| ())
    }

    async fn submit(&self, job: Job, rx: oneshot::Receiver<Result<Stored, String>>) -> Result<Stored, SubmitError> {
        self.jobs.try_send(job).map_err(|_| SubmitError::Overloaded)?;
        // A writer held up (another process holding the write lock, a stalled disk) makes
        // requests wait at most this long, then they are answered 429: the event may still
        // be stored later (an SDK's retry is then stored once), but no answer waits for ever.
        match tokio::time::timeout(ANSWER_DEADLINE, rx).await {
            Ok(Ok(Ok(stored))) => Ok(stored),
            Ok(Ok(Err(e))) => Err(SubmitError::Failed(e)),
            Ok(Err(_)) => Err(SubmitError::Failed("the writer stopped".into())),
            Err(_) => Err(SubmitError::Overloaded),
        }
    }

    /// Counts `n` accepted items of a type that is not stored (transactions, sessions, ...)
    /// or a refusal; written with the next batch (at most a second later).
    pub fn count(&self, project_id: i64, item_type: &str, n: i64) {
        if let Ok(mut counts) = self.counts.lock() {
            *counts.entry((project_id, item_type.to_string())).or_insert(0) += n;
        }
    }
}

/// Runs `run(attempt)` until it returns; a panic starts it again (after a short pause), so a
/// bug in one batch cannot leave ingestion refused for ever.
async fn supervised<F, Fut>(mut run: F)
where
    F: FnMut(u32) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for attempt in 0.. {
        match futures_util::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(run(attempt))).await {
            Ok(()) => return,
            Err(_) => {
                tracing::error!("the ingestion writer panicked; starting it again");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
}

/// A request's answer, to be sent once its batch is durable.
type Reply = (oneshot::Sender<Result<Stored, String>>, Result<Stored, String>);

/// Sends the answers of committed batches: at once when a commit is durable by itself
/// (PostgreSQL, in-memory SQLite), else after the WAL is synced on the syncer thread.
///
/// The syncer takes every batch committed since its last fsync and syncs once for all of
/// them, while the writer goes on with the next batch: the fsync (about 1 ms on the
/// development VM, the cost of a durable commit) no longer adds to each batch's time. The
/// hand-over holds a few batches at most: when the disk is slower than that, the writer
/// waits, its queue fills and ingestion answers 429, as it does when the writer is behind.
enum Answer {
    Now,
    AfterSync(std::sync::mpsc::SyncSender<Vec<Reply>>),
    /// No syncer thread could be started: the writer syncs before answering.
    SyncFirst(crate::store::WalFile),
}

/// Batches committed but not yet synced that the writer may run ahead by.
const UNSYNCED_BATCHES: usize = 4;

impl Answer {
    fn start(wal: Option<crate::store::WalFile>) -> Answer {
        let Some(wal) = wal else { return Answer::Now };
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Reply>>(UNSYNCED_BATCHES);
        let mut syncer_wal = wal.clone();
        let spawned = std::thread::Builder::new().name("faultline-syncer".into()).spawn(move || {
            while let Ok(mut replies) = rx.recv() {
                while let Ok(more) = rx.try_recv() {
                    replies.extend(more);
                }
                sync_then_send(&mut syncer_wal, replies);
            }
        });
        match spawned {
            Ok(_) => Answer::AfterSync(tx),
            Err(e) => {
                tracing::warn!("cannot start the WAL syncer thread ({e}): the writer syncs each batch itself");
                Answer::SyncFirst(wal)
            }
        }
    }

    fn send(&mut self, replies: Vec<Reply>) {
        match self {
            Answer::Now => {
                for (tx, result) in replies {
                    let _ = tx.send(result);
                }
            }
            Answer::AfterSync(syncer) => {
                if let Err(std::sync::mpsc::SendError(replies)) = syncer.send(replies) {
                    fail(replies, "the WAL syncer stopped");
                }
            }
            Answer::SyncFirst(wal) => sync_then_send(wal, replies),
        }
    }
}

/// Makes every commit so far durable, then sends the answers (an error to each when the
/// sync failed: what was written may not survive a power cut).
fn sync_then_send(wal: &mut crate::store::WalFile, replies: Vec<Reply>) {
    match wal.sync() {
        Ok(()) => {
            for (tx, result) in replies {
                let _ = tx.send(result);
            }
        }
        Err(e) => {
            tracing::error!("syncing the write-ahead log: {e}");
            fail(replies, &format!("the event was written but could not be synced to disk: {e}"));
        }
    }
}

fn fail(replies: Vec<Reply>, why: &str) {
    for (tx, _) in replies {
        let _ = tx.send(Err(why.to_string()));
    }
}

async fn writer(
    db: Writer,
    rx: &mut mpsc::Receiver<Job>,
    counts: Arc<Mutex<HashMap<(i64, String), i64>>>,
    mut answer: Answer,
    alerts: Option<crate::alerts::Alerts>,
) {
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    loop {
        let first = tokio::select! {
            job = rx.recv() => job,
            _ = tokio::time::sleep(Duration::from_secs(1)) => {
                flush_counts(&db, &counts).await;
                continue;
            }
        };
        let Some(first) = first else { break };
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        answer.send(write(&db, std::mem::take(&mut batch), &counts, alerts.as_ref()).await);
    }
    flush_counts(&db, &counts).await;
}

/// Keeps the issues' trend scores current as the hour moves on without events (the writer
/// updates the issues it touches). Runs until the runtime stops.
async fn trend_refresher(db: Db) {
    let mut tick = tokio::time::interval(TREND_REFRESH);
    loop {
        tick.tick().await;
        let hour = crate::store::now_ms().div_euclid(3_600_000);
        match db.refresh_trends(hour).await {
            Ok(0) => {}
            Ok(n) => tracing::debug!("trend scores of {n} issues recomputed for the new hour"),
            Err(e) => tracing::warn!("recomputing trend scores: {e}"),
        }
    }
}

fn take_counts(counts: &Mutex<HashMap<(i64, String), i64>>) -> Vec<(i64, String, i64)> {
    counts.lock().map(|mut c| c.drain().map(|((p, t), n)| (p, t, n)).collect()).unwrap_or_default()
}

fn restore_counts(counts: &Mutex<HashMap<(i64, String), i64>>, taken: Vec<(i64, String, i64)>) {
    if let Ok(mut c) = counts.lock() {
        for (p, t, n) in taken {
            *c.entry((p, t)).or_insert(0) += n;
        }
    }
}

async fn flush_counts(db: &Writer, counts: &Mutex<HashMap<(i64, String), i64>>) {
    let taken = take_counts(counts);
    if taken.is_empty() {
        return;
    }
    if let Err(e) = with_retries(|| db.write_batch(&[], &[], &taken)).await {
        tracing::warn!("storing ingestion counts: {e}");
        restore_counts(counts, taken);
    }
}

/// Stores one batch and returns the answers to its requests. If the batch fails for good,
/// each job is retried alone, so that one bad event cannot cost the others.
async fn write(
    db: &Writer,
    batch: Vec<Job>,
    counts: &Mutex<HashMap<(i64, String), i64>>,
    alerts: Option<&crate::alerts::Alerts>,
) -> Vec<Reply> {
    let mut answers: Vec<Reply> = Vec::with_capacity(batch.len());
    let mut events = Vec::new();
    let mut reports = Vec::new();
    let mut replies = Vec::new();
    let mut report_replies = Vec::new();
    for job in batch {
        match job {
            Job::Event(e, tx) => {
                events.push(*e);
                replies.push(tx);
            }
            Job::Report(r, tx) => {
                reports.push(r);
                report_replies.push(tx);
            }
        }
    }
    let taken = take_counts(counts);
    let started = std::time::Instant::now();
    let result = with_retries(|| db.write_batch(&events, &reports, &taken)).await;
    tracing::debug!(events = events.len(), micros = started.elapsed().as_micros() as u64, "batch written");
    match result {
        Ok(outcomes) => {
            if let Some(alerts) = alerts {
                alerts.observe(signals(&events, &outcomes));
            }
            let mut projects: Vec<i64> = events.iter().map(|e| e.project_id).collect();
            projects.dedup();
            for p in projects {
                crate::live::notify(p);
            }
            for (tx, outcome) in replies.into_iter().zip(outcomes) {
                answers.push((tx, Ok(outcome)));
            }
            for tx in report_replies {
                answers.push((tx, Ok(Stored::Duplicate)));
            }
        }
        Err(e) if events.len() + reports.len() > 1 => {
            tracing::warn!("storing a batch of {} events failed ({e}); storing them one by one", events.len());
            restore_counts(counts, taken);
            for (event, tx) in events.into_iter().zip(replies) {
                let result = with_retries(|| db.write_batch(std::slice::from_ref(&event), &[], &[])).await;
                answers.push((tx, result.map(|mut o| o.remove(0)).map_err(|e| e.to_string())));
            }
            for (report, tx) in reports.into_iter().zip(report_replies) {
                let result = with_retries(|| db.write_batch(&[], std::slice::from_ref(&report), &[])).await;
                answers.push((tx, result.map(|_| Stored::Duplicate).map_err(|e| e.to_string())));
            }
        }
        Err(e) => {
            tracing::error!("storing an event failed: {e}");
            restore_counts(counts, taken);
            for tx in replies.into_iter().chain(report_replies) {
                answers.push((tx, Err(e.to_string())));
            }
        }
    }
    answers
}

/// What the alert engine needs of a batch's stored events (duplicates left out).
fn signals(events: &[NewEvent], outcomes: &[Stored]) -> Vec<crate::alerts::Signal> {
    events
        .iter()
        .zip(outcomes)
        .filter_map(|(e, o)| match o {
            Stored::Event { issue_id, new_issue, regression } => Some(crate::alerts::Signal {
                project_id: e.project_id,
                issue_id: *issue_id,
                new_issue: *new_issue,
                regression: *regression,
                level: e.level.clone(),
                environment: e.environment.clone(),
            }),
            Stored::Duplicate => None,
        })
        .collect()
}

pub(crate) async fn with_retries<T, F, Fut>(mut f: F) -> Result<T, StoreError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, StoreError>>,
{
    let mut attempt = 0;
    loop {
        match f().await {
            Ok(v) => return Ok(v),
            Err(e) if attempt + 1 < ATTEMPTS && is_transient(&e) => {
                attempt += 1;
                tracing::debug!("retrying a batch after a transient error: {e}");
                tokio::time::sleep(Duration::from_millis(20 << attempt)).await;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Errors worth another attempt (see [`StoreError::is_busy`]).
fn is_transient(e: &StoreError) -> bool {
    e.is_busy()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panicking_writer_is_started_again() {
        let mut runs = Vec::new();
        supervised(|attempt| {
            runs.push(attempt);
            async move {
                if attempt < 2 {
                    panic!("a bug in a batch");
                }
            }
        })
        .await;
        assert_eq!(runs, vec![0, 1, 2]);
    }
}
