//! `openhouse publish | edit | delete | token …`: publishing from a terminal or a release
//! pipeline. Delivery is done by the running server's workers (`serve` or `worker`).

use std::{io::Read, path::PathBuf};

use anyhow::{Context, anyhow, bail};
use chrono::{DateTime, Utc};
use clap::{Args, Subcommand};

use crate::{
    config::Config,
    db::entities::{actors, posts as post_rows},
    domain::Visibility,
    federation::{
        mentions::{resolve_mentions, resolve_mentions_knowing},
        post_by_url::resolve_reply_target,
    },
    services::{
        accounts,
        media::{self, Upload},
        posts::{self, Draft},
        tokens,
    },
    startup,
    state::AppState,
};

/// Arguments of `openhouse publish`.
#[derive(Debug, Args)]
pub struct PublishArgs {
    /// Our account that publishes.
    #[arg(long)]
    pub actor: String,
    /// The text, in Markdown (`-` reads standard input). At most 5,000 characters.
    #[arg(long, value_name = "PATH")]
    pub file: PathBuf,
    /// A content warning shown before the text.
    #[arg(long, value_name = "TEXT")]
    pub cw: Option<String>,
    /// public, unlisted or followers.
    #[arg(long, default_value = "public", value_parser = parse_visibility)]
    pub visibility: Visibility,
    /// An image to attach (PNG, JPEG, GIF or WebP, at most 10 MiB); repeat for up to 4, each with its --alt.
    #[arg(long = "image", value_name = "PATH")]
    pub images: Vec<PathBuf>,
    /// The alt text of each --image, in the same order (at most 1,500 characters).
    #[arg(long = "alt", value_name = "TEXT")]
    pub alts: Vec<String>,
    /// Publish later, at this RFC 3339 time (such as 2026-12-01T09:00:00Z). It goes out then
    /// if `openhouse serve` or `openhouse worker` is running.
    #[arg(long, value_name = "RFC3339", value_parser = parse_time)]
    pub at: Option<DateTime<Utc>>,
    /// Answer this post (its URL: one of ours or a remote one). The reply mentions its author
    /// and is delivered to them as well as to followers.
    #[arg(long, value_name = "URL")]
    pub in_reply_to: Option<String>,
}

/// Arguments of `openhouse edit`.
#[derive(Debug, Args)]
pub struct EditArgs {
    /// The post: its URL or its number.
    pub post: String,
    /// The new text, in Markdown (`-` reads standard input).
    #[arg(long, value_name = "PATH")]
    pub file: PathBuf,
    /// A new content warning (without it, the current one stays).
    #[arg(long, value_name = "TEXT", conflicts_with = "no_cw")]
    pub cw: Option<String>,
    /// Remove the content warning.
    #[arg(long)]
    pub no_cw: bool,
}

/// `openhouse token …`
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token; it is printed once and never stored.
    Create {
        /// What it is for, such as release-pipeline.
        name: String,
        /// Limit it to one account (otherwise it may publish as any of ours).
        #[arg(long)]
        actor: Option<String>,
    },
    /// List API tokens (never the tokens themselves).
    List,
    /// Revoke an API token by the number `list` shows.
    Revoke {
        /// Token number.
        id: i64,
    },
}

fn parse_visibility(s: &str) -> Result<Visibility, String> {
    s.parse()
}

fn parse_time(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| format!("{s:?} is not an RFC 3339 time such as 2026-12-01T09:00:00Z"))
}

fn read_text(path: &PathBuf) -> anyhow::Result<String> {
    if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text).context("cannot read the text from standard input")?;
        return Ok(text);
    }
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

async fn account(state: &AppState, username: &str) -> anyhow::Result<actors::Model> {
    accounts::find(&state.db, username)
        .await
        .map_err(|e| anyhow!(e))?
        .ok_or_else(|| anyhow!("no account {username:?} here"))
}

/// A post named by its URL or number.
async fn post_ref(state: &AppState, reference: &str) -> anyhow::Result<post_rows::Model> {
    let reference = reference.trim();
    let found = match reference.parse::<i64>() {
        Ok(id) => posts::find(&state.db, id).await,
        Err(_) => posts::find_by_url(&state.db, reference.trim_end_matches('/')).await,
    };
    found.map_err(|e| anyhow!(e))?.ok_or_else(|| anyhow!("no post {reference:?} here"))
}

/// `openhouse publish`.
pub async fn publish(config: Config, args: PublishArgs) -> anyhow::Result<()> {
    if args.images.len() != args.alts.len() {
        bail!("give one --alt for each --image (alt text describes the image for people who cannot see it)");
    }
    let text = read_text(&args.file)?;
    let mut uploads = Vec::with_capacity(args.images.len());
    for (path, alt) in args.images.iter().zip(args.alts) {
        let size = std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?.len();
        if size > media::MAX_MEDIA_BYTES as u64 {
            bail!("{} is larger than 10 MiB", path.display());
        }
        let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        uploads.push(Upload { bytes, alt });
    }
    let media_dir = media::media_dir(&config.data_dir);
    let state = startup::prepare_state(config).await?;
    let author = account(&state, &args.actor).await?;
    let in_reply_to = match args.in_reply_to.as_deref() {
        Some(url) => Some(resolve_reply_target(&state.federation, url).await.map_err(|e| anyhow!(e))?),
        None => None,
    };
    let known: Vec<_> = in_reply_to.iter().map(|t| t.author.clone()).collect();
    let mentioned = resolve_mentions_knowing(&state.federation, &text, &known).await.map_err(|e| anyhow!(e))?;
    let draft = Draft {
        text,
        content_warning: args.cw,
        visibility: args.visibility,
        scheduled_at: args.at,
        in_reply_to,
        mentioned,
        uploads,
    };
    let post = posts::publish(&state.db, &state.urls, &media_dir, &author, draft).await.map_err(|e| anyhow!(e))?;
    println!("{}", post.ap_id);
    if let Some(at) = post.scheduled_at.filter(|_| post.published_at.is_none()) {
        eprintln!("scheduled for {}; it goes out then while `openhouse serve` (or `worker`) runs", at.to_rfc3339());
    }
    Ok(())
}

/// `openhouse edit`.
pub async fn edit(config: Config, args: EditArgs) -> anyhow::Result<()> {
    let text = read_text(&args.file)?;
    let state = startup::prepare_state(config).await?;
    let post = post_ref(&state, &args.post).await?;
    let author = author_of(&state, &post).await?;
    let cw = match (args.cw, args.no_cw) {
        (Some(cw), _) => Some(cw),
        (None, true) => None,
        (None, false) => post.summary.clone(),
    };
    let mentions = resolve_mentions(&state.federation, &text).await.map_err(|e| anyhow!(e))?;
    let post = posts::edit(&state.db, &state.urls, &author, post.id, &text, cw.as_deref(), &mentions)
        .await
        .map_err(|e| anyhow!(e))?;
    println!("{}", post.ap_id);
    Ok(())
}

/// The author of a post.
async fn author_of(state: &AppState, post: &post_rows::Model) -> anyhow::Result<actors::Model> {
    let details = posts::details(&state.db, post.id).await.map_err(|e| anyhow!(e))?;
    details.map(|d| d.author).ok_or_else(|| anyhow!("no post {} here", post.id))
}

/// `openhouse delete`.
pub async fn delete(config: Config, reference: &str) -> anyhow::Result<()> {
    let state = startup::prepare_state(config).await?;
    let post = post_ref(&state, reference).await?;
    let author = author_of(&state, &post).await?;
    let post = posts::delete(&state.db, &author, post.id).await.map_err(|e| anyhow!(e))?;
    println!("deleted {}", post.ap_id);
    Ok(())
}

/// `openhouse token …`.
pub async fn token(config: Config, command: TokenCommand) -> anyhow::Result<()> {
    let state = startup::prepare_state(config).await?;
    match command {
        TokenCommand::Create { name, actor } => {
            let actor = match actor {
                Some(username) => Some(account(&state, &username).await?),
                None => None,
            };
            let (row, token) = tokens::create(&state.db, &name, actor.as_ref()).await.map_err(|e| anyhow!(e))?;
            println!("{}", token.expose());
            let scope = actor.map_or_else(|| "any account".to_owned(), |a| format!("@{}", a.username));
            eprintln!("API token {} ({:?}) created for {scope}; it is shown once: store it now", row.id, row.name);
        }
        TokenCommand::List => {
            let rows = tokens::list(&state.db).await.map_err(|e| anyhow!(e))?;
            if rows.is_empty() {
                println!("no API tokens; create one with: openhouse token create release-pipeline");
            }
            for row in rows {
                let used = row
                    .last_used_at
                    .map_or_else(|| "never used".to_owned(), |at| format!("used {}", at.format("%Y-%m-%d %H:%M")));
                let scope = row.actor_id.map_or_else(|| "any account".to_owned(), |id| format!("account #{id}"));
                println!(
                    "{:>6}  {:<30}  {scope:<14}  created {}  {used}",
                    row.id,
                    row.name,
                    row.created_at.format("%Y-%m-%d")
                );
            }
        }
        TokenCommand::Revoke { id } => {
            tokens::revoke(&state.db, id).await.map_err(|e| anyhow!(e))?;
            println!("revoked API token {id}");
        }
    }
    Ok(())
}

/// `openhouse deliveries [<post>]`.
pub async fn deliveries(config: Config, reference: Option<&str>) -> anyhow::Result<()> {
    let state = startup::prepare_state(config).await?;
    let Some(reference) = reference else {
        let queue = crate::services::deliveries::queue(&state.db).await.map_err(|e| anyhow!(e))?;
        let c = &queue.counts;
        println!("deliveries: {} delivered, {} pending, {} failed", c.delivered, c.pending, c.failed);
        if queue.failing_hosts.is_empty() {
            println!("no failing hosts");
        }
        for h in &queue.failing_hosts {
            let status = if h.unavailable {
                "unavailable".to_owned()
            } else if let Some(until) = h.paused_until {
                format!("paused until {}", until.format("%Y-%m-%d %H:%M:%S"))
            } else {
                "retrying".to_owned()
            };
            println!(
                "  {:<40} {:>3} failures in a row, {} failure days, {status}",
                h.host, h.consecutive_failures, h.failure_days
            );
        }
        return Ok(());
    };
    let post = post_ref(&state, reference).await?;
    let progress = crate::services::deliveries::for_post(&state.db, &post).await.map_err(|e| anyhow!(e))?;
    if progress.is_empty() {
        println!("{}: nothing sent yet (scheduled, or not yet picked up by a worker)", post.ap_id);
    }
    for activity in progress {
        let c = &activity.counts;
        println!(
            "{} {}: {} delivered, {} pending, {} failed",
            activity.kind, activity.id, c.delivered, c.pending, c.failed
        );
        for h in activity.hosts {
            let error = h.last_error.map(|e| format!("  ({e})")).unwrap_or_default();
            println!(
                "  {:<40} {} delivered, {} pending, {} failed{error}",
                h.host, h.counts.delivered, h.counts.pending, h.counts.failed
            );
        }
    }
    Ok(())
}
