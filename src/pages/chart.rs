//! A project's overview chart: its events per hour over the last two days, spiking hours
//! marked, on top of the project's issue list.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::HourBar;

#[server(prefix = "/_fn", endpoint = "project_chart")]
pub async fn project_chart(project_id: i64) -> Result<Vec<HourBar>, AppError> {
    let user = crate::pages::guard::require_user().await?;
    crate::triage::project_chart(&crate::pages::guard::state().db, &user, project_id).await
}

const WIDTH: f64 = 960.0;
const HEIGHT: f64 = 72.0;

/// `12:00–13:00 UTC, 5 hours ago: 40 events (spike)`.
fn bar_label(bar: &HourBar, this_hour: i64) -> String {
    let h = bar.hour.rem_euclid(24);
    let ago = match this_hour - bar.hour {
        0 => "this hour".to_string(),
        1 => "1 hour ago".to_string(),
        n => format!("{n} hours ago"),
    };
    let events = if bar.events == 1 { "1 event".to_string() } else { format!("{} events", bar.events) };
    let spike = if bar.spike { " (spike)" } else { "" };
    format!("{h:02}:00–{:02}:00 UTC, {ago}: {events}{spike}", (h + 1) % 24)
}

#[component]
pub fn ProjectChart(project_id: i64, refresh: Signal<u64>) -> impl IntoView {
    let bars = Resource::new(move || (project_id, refresh.get()), |(id, _)| project_chart(id));
    view! {
        <Suspense>
            {move || Suspend::new(async move {
                // Nothing for a project without events in the last two days.
                let bars = bars.await.ok().filter(|b| b.iter().any(|b| b.events > 0))?;
                let this_hour = bars.last().map(|b| b.hour).unwrap_or_default();
                let total: i64 = bars.iter().map(|b| b.events).sum();
                let day: i64 = bars.iter().filter(|b| b.hour > this_hour - 24).map(|b| b.events).sum();
                let spikes = bars.iter().filter(|b| b.spike).count();
                let max = bars.iter().map(|b| b.events).max().unwrap_or(0).max(1);
                let step = WIDTH / bars.len() as f64;
                Some(view! {
                    <section class="card project-chart" data-testid="project-chart">
                        <h2>"Events per hour"
                            <span class="muted">{format!(" · {day} in the last 24 hours, {total} in 48")}</span>
                            {(spikes > 0).then(|| view! {
                                <span class="badge spiking">{if spikes == 1 { "1 spike".to_string() } else { format!("{spikes} spikes") }}</span>
                            })}
                        </h2>
                        <svg viewBox=format!("0 0 {WIDTH} {HEIGHT}") preserveAspectRatio="none" role="img"
                            aria-label=format!("Events per hour over the last 48 hours, at most {max} in an hour")>
                            {bars.iter().enumerate().map(|(k, b)| {
                                let h = if b.events == 0 { 0.0 } else { (b.events as f64 / max as f64 * (HEIGHT - 2.0)).max(1.5) };
                                view! {
                                    <rect class:spike=b.spike data-hour=b.hour data-events=b.events
                                        x=format!("{:.1}", k as f64 * step + 1.0) y=format!("{:.1}", HEIGHT - h)
                                        width=format!("{:.1}", step - 2.0) height=format!("{h:.1}")>
                                        <title>{bar_label(b, this_hour)}</title>
                                    </rect>
                                }
                            }).collect_view()}
                        </svg>
                        <div class="axis muted"><span>"48 h ago"</span><span>"24 h ago"</span><span>"now"</span></div>
                    </section>
                })
            })}
        </Suspense>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bar_labels() {
        let bar = HourBar { hour: 24 * 1000 + 12, events: 40, spike: true };
        assert_eq!(bar_label(&bar, bar.hour + 5), "12:00–13:00 UTC, 5 hours ago: 40 events (spike)");
        let bar = HourBar { hour: 24 * 1000 + 23, events: 1, spike: false };
        assert_eq!(bar_label(&bar, bar.hour), "23:00–00:00 UTC, this hour: 1 event");
    }
}
