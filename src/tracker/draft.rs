//! Pure: the title and Markdown description of a tracker issue created from a Faultline
//! issue. Event data is untrusted: every value from an event goes into a code span or a
//! fenced block (with a fence longer than any backtick run inside), so it cannot mention
//! people, close issues or inject links in GitLab or GitHub.

use crate::model::{Issue, SuspectCommit};

/// A frame as the description lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DraftFrame {
    pub file: String,
    pub line: Option<u32>,
    pub function: Option<String>,
    pub context_line: Option<String>,
}

/// What the description is made of.
pub struct DraftInput<'a> {
    pub issue: &'a Issue,
    pub project_name: &'a str,
    /// The issue's page on Faultline.
    pub url: &'a str,
    /// In-app frames of the latest event, most recent call first.
    pub frames: &'a [DraftFrame],
    pub suspect: Option<&'a SuspectCommit>,
    /// Formats an epoch-ms time (`2026-11-29 10:00 UTC`).
    pub time: &'a dyn Fn(i64) -> String,
}

/// The tracker issue's title: the Faultline issue's title, on one line, at most 255
/// characters (GitLab's limit).
pub fn title(issue: &Issue) -> String {
    let one_line: String = issue.title.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut t: String = one_line.chars().take(255).collect();
    if t.is_empty() {
        t = format!("Faultline issue {}", issue.id);
    }
    t
}

/// `text` as an inline code span that no backtick inside can close.
pub fn code(text: &str) -> String {
    let text = text.replace(['\n', '\r'], " ");
    let longest = longest_backtick_run(&text);
    let fence = "`".repeat(longest + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') || text.is_empty() { " " } else { "" };
    format!("{fence}{pad}{text}{pad}{fence}")
}

/// `text` as a fenced block that no line inside can close.
fn block(text: &str) -> String {
    let fence = "`".repeat(longest_backtick_run(text).max(2) + 1);
    format!("{fence}\n{}\n{fence}", text.trim_end())
}

fn longest_backtick_run(text: &str) -> usize {
    let (mut longest, mut run) = (0, 0);
    for c in text.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    longest
}

/// The description, in Markdown.
pub fn description(d: &DraftInput) -> String {
    format!("**{}** in {}\n\n{}", code(&d.issue.title), code(d.project_name), facts(d))
}

/// The title of one tracker issue for several Faultline issues of a project: how many, and
/// the first one's title.
pub fn title_many(issues: &[&Issue], project_name: &str) -> String {
    match issues {
        [one] => title(one),
        _ => {
            let first = issues.first().map(|i| title(i)).unwrap_or_default();
            format!("{} errors in {project_name}: {first}", issues.len()).chars().take(255).collect()
        }
    }
}

/// The description of one tracker issue for several Faultline issues (of one project): a
/// section per issue, each as [`description`] gives it.
pub fn description_many(drafts: &[DraftInput]) -> String {
    match drafts {
        [one] => description(one),
        _ => {
            let project = drafts.first().map(|d| d.project_name).unwrap_or_default();
            let mut out = format!("{} errors in {}\n", drafts.len(), code(project));
            for (k, d) in drafts.iter().enumerate() {
                out.push_str(&format!("\n---\n\n### {}. {}\n\n{}", k + 1, code(&d.issue.title), facts(d)));
            }
            out
        }
    }
}

/// Everything of the description after its heading line.
fn facts(d: &DraftInput) -> String {
    let i = d.issue;
    let mut out = String::new();
    if !i.culprit.is_empty() {
        out.push_str(&format!("- **Culprit:** {}\n", code(&i.culprit)));
    }
    let users = if i.user_count == 1 { "1 user".to_string() } else { format!("{} users", i.user_count) };
    let events = if i.event_count == 1 { "1 event".to_string() } else { format!("{} events", i.event_count) };
    out.push_str(&format!("- **Impact:** {events}, {users} affected\n"));
    let seen = |at: i64, release: &Option<String>| match release {
        Some(r) => format!("{} in release {}", (d.time)(at), code(r)),
        None => (d.time)(at),
    };
    out.push_str(&format!("- **First seen:** {}\n", seen(i.first_seen, &i.first_release)));
    out.push_str(&format!("- **Last seen:** {}\n", seen(i.last_seen, &i.last_release)));
    out.push_str(&format!("- **Level:** {}, **status:** {}\n", code(&i.level), i.status));
    if !d.frames.is_empty() {
        out.push_str("\n### Stack trace (application frames, most recent call first)\n\n");
        let mut text = String::new();
        for f in d.frames {
            let at = match f.line {
                Some(l) => format!("{}:{l}", f.file),
                None => f.file.clone(),
            };
            match &f.function {
                Some(func) => text.push_str(&format!("{at} in {func}\n")),
                None => text.push_str(&format!("{at}\n")),
            }
            if let Some(line) = f.context_line.as_deref().map(str::trim).filter(|l| !l.is_empty()) {
                text.push_str(&format!("    {line}\n"));
            }
        }
        out.push_str(&block(&text));
        out.push('\n');
    }
    if let Some(c) = d.suspect {
        out.push_str("\n### Suspect commit\n\n");
        let short: String = c.sha.chars().take(8).collect();
        let sha = match &c.commit_url {
            Some(url) if url.starts_with("https://") || url.starts_with("http://") => format!("[{short}]({url})"),
            _ => code(&short),
        };
        let who = c.author_name.clone().or(c.author_email.clone()).unwrap_or_else(|| "unknown author".into());
        let when = c.committed_at.map(|at| format!(", {}", (d.time)(at))).unwrap_or_default();
        let place = format!("{}{}", c.file, c.line.map(|l| format!(":{l}")).unwrap_or_default());
        out.push_str(&format!(
            "{sha} {} by {}{when}, changed {}\n",
            code(c.message.as_deref().unwrap_or("")),
            code(&who),
            code(&place)
        ));
    }
    out.push_str(&format!("\n[View the issue in Faultline]({})\n", d.url));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issue() -> Issue {
        Issue {
            id: 42,
            project_id: 1,
            title: "ZeroDivisionError: division by zero".into(),
            culprit: "shop.pricing in unit_price".into(),
            kind: "error".into(),
            exception_type: Some("ZeroDivisionError".into()),
            exception_value: Some("division by zero".into()),
            level: "error".into(),
            platform: "python".into(),
            status: "unresolved".into(),
            is_regression: false,
            event_count: 12,
            user_count: 1,
            first_seen: 0,
            last_seen: 3_600_000,
            first_release: Some("shop@1.0".into()),
            last_release: None,
            assignee_id: None,
            assignee_email: None,
            ignore_until: None,
            ignore_until_count: None,
            resolved_in_release: None,
        }
    }

    #[test]
    fn code_spans_cannot_be_closed_from_inside() {
        assert_eq!(code("a"), "`a`");
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("`x`"), "`` `x` ``");
        assert_eq!(code("two\nlines"), "`two lines`");
        assert_eq!(block("x\n```\ny"), "````\nx\n```\ny\n````");
    }

    #[test]
    fn a_description_with_frames_and_a_suspect() {
        let mut i = issue();
        i.title = "Error: @team please `rm -rf` <b>".into();
        let frames = vec![DraftFrame {
            file: "shop/pricing.py".into(),
            line: Some(7),
            function: Some("unit_price".into()),
            context_line: Some("    return total / count".into()),
        }];
        let suspect = SuspectCommit {
            sha: "0123456789abcdef".into(),
            author_name: Some("Ada".into()),
            author_email: None,
            committed_at: Some(0),
            message: Some("Simplify unit_price".into()),
            file: "shop/pricing.py".into(),
            line: Some(7),
            commit_url: Some("https://github.com/acme/shop/commit/0123456789abcdef".into()),
            file_url: None,
            via: "blame".into(),
        };
        let time = |ms: i64| format!("T{}", ms / 1000);
        let d = description(&DraftInput {
            issue: &i,
            project_name: "Shop",
            url: "https://errors.example.com/issues/42",
            frames: &frames,
            suspect: Some(&suspect),
            time: &time,
        });
        assert!(d.starts_with("**``Error: @team please `rm -rf` <b>``** in `Shop`\n"), "{d}");
        assert!(d.contains("- **Impact:** 12 events, 1 user affected\n"));
        assert!(d.contains("- **First seen:** T0 in release `shop@1.0`\n"));
        assert!(d.contains("- **Last seen:** T3600\n"));
        assert!(d.contains("```\nshop/pricing.py:7 in unit_price\n    return total / count\n```"));
        assert!(d.contains(
            "[01234567](https://github.com/acme/shop/commit/0123456789abcdef) `Simplify unit_price` by `Ada`, T0, changed `shop/pricing.py:7`"
        ));
        assert!(d.ends_with("[View the issue in Faultline](https://errors.example.com/issues/42)\n"));
        assert_eq!(title(&i), "Error: @team please `rm -rf` <b>");
        i.title = "x".repeat(300);
        assert_eq!(title(&i).chars().count(), 255);
    }

    #[test]
    fn one_description_for_several_issues() {
        let (a, mut b) = (issue(), issue());
        b.id = 43;
        b.title = "KeyError: 'sku'".into();
        b.culprit = String::new();
        let time = |ms: i64| format!("T{}", ms / 1000);
        let input =
            |i| DraftInput { issue: i, project_name: "Shop", url: "u", frames: &[], suspect: None, time: &time };
        let d = description_many(&[input(&a), input(&b)]);
        assert!(
            d.starts_with(
                "2 errors in `Shop`\n\n---\n\n### 1. `ZeroDivisionError: division by zero`\n\n- **Culprit:**"
            ),
            "{d}"
        );
        assert!(d.contains("\n---\n\n### 2. `KeyError: 'sku'`\n\n- **Impact:** 12 events"), "{d}");
        assert_eq!(d.matches("[View the issue in Faultline](u)").count(), 2);
        assert_eq!(description_many(&[input(&a)]), description(&input(&a)));
        assert_eq!(title_many(&[&a, &b], "Shop"), "2 errors in Shop: ZeroDivisionError: division by zero");
        assert_eq!(title_many(&[&b], "Shop"), "KeyError: 'sku'");
    }
}
