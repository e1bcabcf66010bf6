//! The command line: `faultline [serve|migrate|user|org|project|token|bench|bench-read|seed]`.

use std::io::Read;
use std::net::SocketAddr;

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand};

use crate::model::{self, Project, ProjectKey};
use crate::store::{Db, StoreError};
use crate::{auth, bench, dsn, seed, server};

#[derive(Parser, Debug)]
#[command(name = "faultline", version, about = "Self-hosted error tracking for applications using Sentry SDKs.")]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Settings shared by every command; each can come from a flag or the environment.
#[derive(Args, Debug, Clone)]
pub struct Config {
    /// Database: sqlite://PATH (created if missing) or postgres://USER@HOST/DB.
    #[arg(long, global = true, env = "FAULTLINE_DATABASE_URL", default_value = "sqlite://faultline-data/faultline.db")]
    pub database_url: String,
    /// Address the web server listens on.
    #[arg(long, global = true, env = "FAULTLINE_LISTEN", default_value = "127.0.0.1:8000")]
    pub listen: SocketAddr,
    /// The URL people and SDKs use to reach Faultline (DSNs and links are built from it).
    /// Defaults to http://LISTEN. An https URL makes session cookies Secure.
    #[arg(long, global = true, env = "FAULTLINE_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Behind a reverse proxy: take the client address from the last X-Forwarded-For entry
    /// (used to throttle failed logins per address).
    #[arg(long, global = true, env = "FAULTLINE_TRUST_PROXY")]
    pub trust_proxy: bool,
}

impl Config {
    pub fn public_url(&self) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_string(),
            None if self.listen.ip().is_unspecified() => format!("http://127.0.0.1:{}", self.listen.port()),
            None => format!("http://{}", self.listen),
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the web server, applying pending migrations first (the default command).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage organizations.
    #[command(subcommand)]
    Org(OrgCommand),
    /// Manage projects.
    #[command(subcommand)]
    Project(ProjectCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Load-test a Sentry-compatible ingestion endpoint (any server, not only Faultline):
    /// send a realistic ~8 KB error event at a given concurrency and report events/s and latency.
    /// Does not touch the database.
    Bench(bench::BenchArgs),
    /// Measure the read side (pages, JSON API) of any HTTP server: GET each path from a few
    /// connections and report requests/s, errors and latency percentiles per path.
    /// Does not touch the database.
    BenchRead(bench::read::ReadArgs),
    /// Fill a project with realistic test data (issues on several platforms, users, releases,
    /// environments, tags, over days) through the same store writes as ingestion.
    Seed(seed::SeedArgs),
    /// Measure the CPU cost of ingesting the bench event, per phase, without a server.
    #[command(hide = true)]
    BenchPipeline {
        #[arg(long, default_value_t = 20_000)]
        iterations: u32,
        /// Also time the store: write the event in batches of this size to the database.
        #[arg(long)]
        store_batch: Option<usize>,
    },
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Create a user. The password is read from --password or, without it, from stdin.
    Create {
        #[arg(long)]
        email: String,
        /// Make the user an administrator (sees and manages everything).
        #[arg(long)]
        admin: bool,
        #[arg(long, env = "FAULTLINE_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
    /// List users.
    List,
}

#[derive(Subcommand, Debug)]
pub enum OrgCommand {
    /// Create an organization.
    Create {
        slug: String,
        #[arg(long)]
        name: Option<String>,
    },
    /// List organizations.
    List,
}

#[derive(Subcommand, Debug)]
pub enum ProjectCommand {
    /// Create a project and print its DSN on stdout. Without --org it uses the only
    /// organization, creating one named "default" in an empty database.
    Create {
        slug: String,
        #[arg(long)]
        org: Option<String>,
        #[arg(long)]
        name: Option<String>,
        /// The platform, e.g. python, node, javascript, rust.
        #[arg(long, default_value = "other")]
        platform: String,
    },
    /// List projects with their DSNs.
    List,
    /// Limit the events a project accepts per minute (counted on each node); `off` removes
    /// the limit. Over it, SDKs get 429 with Retry-After and X-Sentry-Rate-Limits.
    RateLimit {
        /// The project's id (the last part of its DSN).
        project_id: i64,
        /// Events per minute, or `off`.
        per_minute: String,
    },
    /// List a project's issues, most recently seen first: id, events, users, level, title.
    Issues {
        project_id: i64,
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
}

#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Create an API token for a user and print it on stdout (it is not shown again).
    Create {
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "cli")]
        label: String,
    },
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = cli.config;
    let command = match cli.command.unwrap_or(Command::Serve) {
        // The load generator talks to a server over HTTP only: no database.
        Command::Bench(args) => return run_bench(args).await,
        Command::BenchRead(args) => return run_bench_read(args).await,
        Command::BenchPipeline { iterations, store_batch } => {
            return bench::pipeline(iterations, store_batch, &config.database_url).await;
        }
        command => command,
    };
    let db = Db::connect(&config.database_url).await.context("cannot open the database")?;
    db.migrate().await.context("cannot migrate the database")?;
    let public_url = config.public_url();
    match command {
        Command::Serve => return server::serve(db, &config).await,
        Command::Migrate => eprintln!("{} database is up to date", db.kind()),
        Command::User(UserCommand::Create { email, admin, password }) => {
            let password = match password {
                Some(p) => p,
                None => read_password_from_stdin()?,
            };
            let user = auth::create_user(&db, &email, &password, admin).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("{}", user.email);
        }
        Command::User(UserCommand::List) => {
            for u in db.list_users().await? {
                println!("{}\t{}", u.email, if u.is_admin { "admin" } else { "user" });
            }
        }
        Command::Org(OrgCommand::Create { slug, name }) => {
            check_slug(&slug)?;
            let org = db.create_org(&slug, name.as_deref().unwrap_or(&slug)).await?;
            println!("{}", org.slug);
        }
        Command::Org(OrgCommand::List) => {
            for o in db.list_orgs().await? {
                println!("{}\t{}", o.slug, o.name);
            }
        }
        Command::Project(ProjectCommand::Create { slug, org, name, platform }) => {
            check_slug(&slug)?;
            let org_id = resolve_org(&db, org.as_deref()).await?;
            let (project, key) = db
                .create_project(org_id, &slug, name.as_deref().unwrap_or(&slug), &platform)
                .await
                .map_err(|e| match e {
                    StoreError::Conflict(m) => anyhow::anyhow!(m),
                    e => e.into(),
                })?;
            println!("{}", project_dsn(&public_url, &project, &key));
        }
        Command::Project(ProjectCommand::List) => {
            let admin = model::User { id: 0, email: String::new(), is_admin: true, created_at: 0 };
            for p in db.projects_visible_to(&admin).await? {
                for k in db.project_keys(p.id).await?.iter().filter(|k| k.is_active) {
                    println!("{}/{}\t{}", p.org_slug, p.slug, project_dsn(&public_url, &p, k));
                }
            }
        }
        Command::Bench(_) | Command::BenchRead(_) | Command::BenchPipeline { .. } => {
            unreachable!("handled before opening the database")
        }
        Command::Seed(args) => {
            let report = seed::run(&db, &args, true).await?;
            print!("{}", report.text());
        }
        Command::Project(ProjectCommand::RateLimit { project_id, per_minute }) => {
            let limit = match per_minute.as_str() {
                "off" | "none" => None,
                n => Some(n.parse::<i64>().ok().filter(|n| *n > 0).with_context(|| {
                    format!("invalid limit {n:?}: a positive number of events per minute, or `off`")
                })?),
            };
            db.set_rate_limit(project_id, limit).await.map_err(|e| match e {
                StoreError::NotFound => anyhow::anyhow!("no project with id {project_id}"),
                e => e.into(),
            })?;
            match limit {
                Some(n) => println!("project {project_id}: at most {n} events per minute"),
                None => println!("project {project_id}: no rate limit"),
            }
        }
        Command::Project(ProjectCommand::Issues { project_id, limit }) => {
            for i in db.project_issues(project_id, limit).await? {
                println!("{}\t{}\t{}\t{}\t{}\t{}", i.id, i.event_count, i.user_count, i.level, i.status, i.title);
            }
        }
        Command::Token(TokenCommand::Create { email, label }) => {
            let Some(user) = db.user_by_email(&model::normalize_email(&email)).await? else {
                bail!("no user with e-mail {email}");
            };
            let (token, digest) = auth::new_api_token();
            db.create_api_token(user.id, &digest, &label).await?;
            println!("{token}");
        }
    }
    db.close().await;
    Ok(())
}

/// `faultline bench`: prints the report; fails only when no event was accepted.
async fn run_bench(args: bench::BenchArgs) -> anyhow::Result<()> {
    let json = args.json;
    let report = bench::run(args).await?;
    print!("{}", report.text());
    if json {
        println!("{}", serde_json::to_string(&report)?);
    }
    if report.accepted == 0 {
        bail!("no event was accepted");
    }
    Ok(())
}

/// `faultline bench-read`: prints the report; fails only when no request succeeded.
async fn run_bench_read(args: bench::read::ReadArgs) -> anyhow::Result<()> {
    let json = args.json;
    let report = bench::read::run(args).await?;
    print!("{}", report.text());
    if json {
        println!("{}", serde_json::to_string(&report)?);
    }
    if report.paths.iter().all(|p| p.ok == 0) {
        bail!("no request succeeded");
    }
    Ok(())
}

fn project_dsn(public_url: &str, project: &Project, key: &ProjectKey) -> String {
    dsn::dsn(public_url, &key.public_key, project.id)
}

fn check_slug(slug: &str) -> anyhow::Result<()> {
    if !model::is_valid_slug(slug) {
        bail!("invalid slug {slug:?}: use 1 to 50 of a-z, 0-9 and '-'");
    }
    Ok(())
}

/// The organization to put a new project in: the named one (created if missing), else the
/// only one, else a new "default" one in an empty database.
async fn resolve_org(db: &Db, slug: Option<&str>) -> anyhow::Result<i64> {
    if let Some(slug) = slug {
        check_slug(slug)?;
        return Ok(match db.org_by_slug(slug).await? {
            Some(org) => org.id,
            None => db.create_org(slug, slug).await?.id,
        });
    }
    let orgs = db.list_orgs().await?;
    match orgs.as_slice() {
        [] => Ok(db.create_org("default", "Default").await?.id),
        [only] => Ok(only.id),
        _ => bail!(
            "there are several organizations ({}): choose one with --org",
            orgs.iter().map(|o| o.slug.as_str()).collect::<Vec<_>>().join(", ")
        ),
    }
}

fn read_password_from_stdin() -> anyhow::Result<String> {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).context("cannot read the password from stdin")?;
    let password = input.lines().next().unwrap_or("").to_string();
    if password.is_empty() {
        bail!("no password: pass --password or write it on stdin");
    }
    Ok(password)
}
