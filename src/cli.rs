//! The command line: `openhouse serve | worker | migrate | check | user … | actor … |
//! follow … | publish | edit | delete | token …`.
//!
//! Errors go to stderr and the process exits non-zero; results go to stdout.

use std::{io::Read, path::PathBuf, process::ExitCode};

use anyhow::{Context, anyhow};
use clap::{Args, Parser, Subcommand};

mod publishing;

pub use publishing::{EditArgs, PublishArgs, TokenCommand};

use crate::{
    config::{Config, LogFormat},
    db,
    domain::{ActorKind, Email, ProfileField, Role, Username},
    secrets::{self, Secret},
    services::{accounts, follows, setup, staff},
    startup::{self, Application},
    telemetry,
    urls::Urls,
    workers::Workers,
};

/// Openhouse: your company's community on the fediverse.
#[derive(Debug, Parser)]
#[command(name = "openhouse", version, about)]
pub struct Cli {
    /// Configuration file (default: ./openhouse.toml when present; also OPENHOUSE_CONFIG).
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run migrations, then serve the web site and the federation endpoints, and run the
    /// background workers (inbox, delivery).
    Serve {
        /// Serve the web only; run `openhouse worker` elsewhere for the background work.
        #[arg(long)]
        no_workers: bool,
    },
    /// Run only the background workers (inbox processing, delivery). Several may share one
    /// PostgreSQL database.
    Worker,
    /// Run pending database migrations and exit.
    Migrate,
    /// Check the configuration and that the database is reachable.
    Check,
    /// Manage staff users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage the instance's accounts (brand, products, staff).
    #[command(subcommand)]
    Actor(ActorCommand),
    /// Follow requests waiting for approval on locked accounts.
    #[command(subcommand, name = "follow-requests")]
    FollowRequests(FollowRequestsCommand),
    /// Make one of our accounts follow a remote account (handle `user@host` or actor URL).
    Follow {
        /// Our account that follows.
        #[arg(long)]
        actor: String,
        /// The remote account.
        target: String,
    },
    /// Make one of our accounts stop following a remote account.
    Unfollow {
        /// Our account.
        #[arg(long)]
        actor: String,
        /// The remote account (handle or actor URL).
        target: String,
    },
    /// Publish a post (Markdown) to the account's followers; prints its URL.
    Publish(PublishArgs),
    /// Replace the text of a post; followers get the edit.
    Edit(EditArgs),
    /// Delete a post; followers' servers remove it and its URL answers 410.
    Delete {
        /// The post: its URL or its number.
        post: String,
    },
    /// Manage API tokens (`POST /api/v1/posts` with `Authorization: Bearer …`).
    #[command(subcommand)]
    Token(TokenCommand),
    /// Delivery progress of a post (per host), or, without a post, the queue and failing hosts.
    Deliveries {
        /// The post: its URL or its number.
        post: Option<String>,
    },
}

/// `openhouse follow-requests …`
#[derive(Debug, Subcommand)]
pub enum FollowRequestsCommand {
    /// List pending requests to an account.
    List {
        /// Our (locked) account.
        #[arg(long)]
        actor: String,
    },
    /// Approve a request (by the number `list` shows).
    Approve {
        /// Request number.
        id: i64,
    },
    /// Reject a request.
    Reject {
        /// Request number.
        id: i64,
    },
}

/// `openhouse user …`
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a staff user. Prints a generated password unless --password-stdin is given.
    Create {
        /// Sign-in e-mail address.
        email: String,
        /// owner, admin, moderator or editor.
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// Read the password from the first line of standard input instead.
        #[arg(long)]
        password_stdin: bool,
    },
}

/// `openhouse actor …`
#[derive(Debug, Subcommand)]
pub enum ActorCommand {
    /// Create an account; it is discoverable on the fediverse at once.
    Create(ActorCreate),
    /// List the instance's accounts.
    List,
}

/// Arguments of `openhouse actor create`.
#[derive(Debug, Args)]
pub struct ActorCreate {
    /// The name in the handle: lower-case letters, digits and _, at most 30.
    pub username: String,
    /// brand, product or staff.
    #[arg(long, value_parser = parse_kind)]
    pub kind: ActorKind,
    /// Display name.
    #[arg(long)]
    pub name: String,
    /// Bio (plain text; blank lines separate paragraphs).
    #[arg(long, default_value = "")]
    pub summary: String,
    /// Follow requests wait for staff approval (beta programs).
    #[arg(long)]
    pub locked: bool,
    /// A profile field, `Name=value`; repeat for more (at most 4).
    #[arg(long = "field", value_parser = ProfileField::parse)]
    pub fields: Vec<ProfileField>,
}

fn parse_role(s: &str) -> Result<Role, String> {
    s.parse()
}

fn parse_kind(s: &str) -> Result<ActorKind, String> {
    match s.parse()? {
        ActorKind::Instance => Err("the instance actor is created by Openhouse itself".into()),
        kind => Ok(kind),
    }
}

/// Parses the process arguments and runs the command.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs one command.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = Config::load(cli.config.as_deref())?;
    match cli.command {
        Command::Serve { no_workers } => {
            telemetry::init(config.log_format, &config.log_level);
            serve(config, no_workers).await
        }
        Command::Worker => {
            telemetry::init(config.log_format, &config.log_level);
            worker(config).await
        }
        command => {
            // Commands other than serve log only problems, so their output stays readable.
            telemetry::init(LogFormat::Text, "warn");
            match command {
                Command::Migrate => {
                    let db =
                        db::connect(&config).await.with_context(|| format!("cannot open {}", config.database_url))?;
                    db::migrate(&db).await.context("migration failed")?;
                    println!("migrations applied to {}", config.database_url);
                    Ok(())
                }
                Command::Check => check(config).await,
                Command::User(UserCommand::Create { email, role, password_stdin }) => {
                    create_user(config, &email, role, password_stdin).await
                }
                Command::Actor(ActorCommand::Create(args)) => create_actor(config, args).await,
                Command::Actor(ActorCommand::List) => list_actors(config).await,
                Command::FollowRequests(cmd) => follow_requests(config, cmd).await,
                Command::Follow { actor, target } => follow(config, &actor, &target, true).await,
                Command::Unfollow { actor, target } => follow(config, &actor, &target, false).await,
                Command::Publish(args) => publishing::publish(config, args).await,
                Command::Edit(args) => publishing::edit(config, args).await,
                Command::Delete { post } => publishing::delete(config, &post).await,
                Command::Token(cmd) => publishing::token(config, cmd).await,
                Command::Deliveries { post } => publishing::deliveries(config, post.as_deref()).await,
                Command::Serve { .. } | Command::Worker => Ok(()),
            }
        }
    }
}

async fn serve(config: Config, no_workers: bool) -> anyhow::Result<()> {
    let app = Application::build(config).await?;
    let app = if no_workers { app.without_workers() } else { app };
    let state = app.state().clone();
    let addr = app.local_addr()?;
    tracing::info!(%addr, public_url = %state.urls.origin(), "Openhouse is listening");
    if let Some(token) = setup::issue_token_if_needed(&state.db).await? {
        let link = format!("{}/setup?token={}", state.urls.origin(), token.expose());
        tracing::warn!(
            setup_link = %link,
            "No owner yet. Open {link} to create the owner and the first brand account \
             (or run: openhouse user create you@example.com --role owner)"
        );
    }
    app.run_until_stopped(startup::shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}

async fn worker(config: Config) -> anyhow::Result<()> {
    let state = startup::prepare_state(config).await?;
    tracing::info!("running workers only");
    let limits = crate::federation::delivery::worker::DeliveryLimits::from_config(&state.config);
    let retention = crate::federation::retention::Retention::from_config(&state.config);
    let workers = Workers::start(&state.federation, limits, retention);
    startup::shutdown_signal().await;
    workers.shutdown().await;
    tracing::info!("stopped");
    Ok(())
}

async fn follow_requests(config: Config, cmd: FollowRequestsCommand) -> anyhow::Result<()> {
    let state = startup::prepare_state(config).await?;
    match cmd {
        FollowRequestsCommand::List { actor } => {
            let account = accounts::find(&state.db, &actor)
                .await
                .map_err(|e| anyhow!(e))?
                .ok_or_else(|| anyhow!("no account {actor:?}"))?;
            let pending = follows::pending_for(&state.db, account.id).await.map_err(|e| anyhow!(e))?;
            if pending.is_empty() {
                println!("no pending follow requests for @{}", account.username);
            }
            for (request, from) in pending {
                println!(
                    "{:>6}  @{}@{}  {}  {}",
                    request.id,
                    from.username,
                    from.domain,
                    from.ap_id,
                    request.created_at.format("%Y-%m-%d %H:%M")
                );
            }
        }
        FollowRequestsCommand::Approve { id } => {
            follows::approve(&state.db, id).await.map_err(|e| anyhow!(e))?;
            println!("approved follow request {id}");
        }
        FollowRequestsCommand::Reject { id } => {
            follows::reject(&state.db, id).await.map_err(|e| anyhow!(e))?;
            println!("rejected follow request {id}");
        }
    }
    Ok(())
}

async fn follow(config: Config, actor: &str, target: &str, start: bool) -> anyhow::Result<()> {
    let state = startup::prepare_state(config).await?;
    let local = accounts::find(&state.db, actor)
        .await
        .map_err(|e| anyhow!(e))?
        .ok_or_else(|| anyhow!("no account {actor:?} here"))?;
    let remote = crate::federation::resolve::by_handle_or_url(&state.federation, target).await?;
    if start {
        let row = follows::follow_remote(&state.db, &state.urls, &local, &remote).await.map_err(|e| anyhow!(e))?;
        let status = if row.state == crate::db::entities::follows::FollowState::Accepted {
            "following"
        } else {
            "requested to follow"
        };
        println!("@{} {status} {}", local.username, remote.ap_id);
    } else if follows::unfollow_remote(&state.db, &local, &remote).await.map_err(|e| anyhow!(e))? {
        println!("@{} no longer follows {}", local.username, remote.ap_id);
    } else {
        println!("@{} was not following {}", local.username, remote.ap_id);
    }
    Ok(())
}

async fn check(config: Config) -> anyhow::Result<()> {
    println!("configuration: ok");
    println!("  public_url   {}", config.public_url);
    println!("  bind         {}", config.bind);
    println!("  database_url {}", config.database_url);
    println!("  data_dir     {}", config.data_dir.display());
    let db = db::connect(&config).await.with_context(|| format!("database: cannot open {}", config.database_url))?;
    db::ping(&db).await.context("database: not answering")?;
    println!("database: reachable");
    Ok(())
}

async fn create_user(config: Config, email: &str, role: Role, password_stdin: bool) -> anyhow::Result<()> {
    let email = Email::parse(email).map_err(|e| anyhow!(e))?;
    let (password, generated) = if password_stdin {
        let mut line = String::new();
        std::io::stdin().read_to_string(&mut line).context("cannot read the password from standard input")?;
        let line = line.lines().next().unwrap_or_default().to_owned();
        (Secret::new(line), false)
    } else {
        (Secret::new(secrets::random_password()?), true)
    };
    let state = startup::prepare_state(config).await?;
    let user = staff::create(&state.db, &email, &password, role).await.map_err(|e| anyhow!(e))?;
    println!("created {} user {}", user.role, user.email);
    if generated {
        println!("password: {}", password.expose());
        println!("(shown once; store it in your password manager)");
    }
    Ok(())
}

async fn create_actor(config: Config, args: ActorCreate) -> anyhow::Result<()> {
    let username = Username::parse(&args.username).map_err(|e| anyhow!(e))?;
    let state = startup::prepare_state(config).await?;
    let new = accounts::NewAccount {
        username,
        kind: args.kind,
        display_name: args.name,
        summary: args.summary,
        locked: args.locked,
        fields: args.fields,
    };
    let actor = accounts::create(&state.db, &state.urls, new).await.map_err(|e| anyhow!(e))?;
    println!("created {} account @{}@{}", actor.kind, actor.username, state.urls.handle_domain());
    println!("  id       {}", actor.ap_id);
    println!("  profile  {}", actor.profile_url.as_deref().unwrap_or(&actor.ap_id));
    Ok(())
}

async fn list_actors(config: Config) -> anyhow::Result<()> {
    let state = startup::prepare_state(config).await?;
    let urls: &Urls = &state.urls;
    let actors = accounts::list(&state.db).await.map_err(|e| anyhow!(e))?;
    if actors.is_empty() {
        println!("no accounts yet; create one with: openhouse actor create acme --kind brand --name \"Acme\"");
        return Ok(());
    }
    println!("{:<8} {:<40} {:<7} NAME", "KIND", "HANDLE", "LOCKED");
    for a in actors {
        let handle = format!("@{}@{}", a.username, urls.handle_domain());
        let locked = if a.manually_approves_followers { "yes" } else { "no" };
        println!("{:<8} {:<40} {:<7} {}", a.kind, handle, locked, a.display_name);
    }
    Ok(())
}
