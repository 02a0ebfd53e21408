//! The `openhouse` binary itself: commands, their errors, and the first run of `serve`.

use std::{
    io::{BufRead, BufReader},
    process::{Command, Output, Stdio},
    time::Duration,
};

use crate::support::{TestDb, test_database};

/// A data directory and database for running the binary against.
struct Env {
    tmp: tempfile::TempDir,
    database_url: String,
    _db: TestDb,
}

impl Env {
    async fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let (database_url, db) = test_database(&tmp).await;
        Self { tmp, database_url, _db: db }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_openhouse"));
        cmd.args(args)
            .current_dir(self.tmp.path())
            .env_remove("OPENHOUSE_CONFIG")
            .env("OPENHOUSE_DATA_DIR", self.tmp.path().join("data"))
            .env("OPENHOUSE_DATABASE_URL", &self.database_url)
            .env("OPENHOUSE_PUBLIC_URL", "https://community.acme.example")
            .env("RUST_LOG", "warn");
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("the binary runs")
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[tokio::test]
async fn actor_create_and_list() {
    let env = Env::new().await;
    let out = env.run(&[
        "actor",
        "create",
        "acme",
        "--kind",
        "brand",
        "--name",
        "Acme Inc.",
        "--summary",
        "Hi",
        "--field",
        "Website=https://acme.example",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("created brand account @acme@community.acme.example"), "{}", stdout(&out));
    assert!(stdout(&out).contains("https://community.acme.example/users/acme"));

    let out = env.run(&["actor", "create", "beta", "--kind", "product", "--name", "Acme Beta", "--locked"]);
    assert!(out.status.success(), "{}", stderr(&out));

    let out = env.run(&["actor", "list"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let list = stdout(&out);
    assert!(list.contains("@acme@community.acme.example") && list.contains("Acme Inc."), "{list}");
    let beta = list.lines().find(|l| l.contains("@beta@")).unwrap();
    assert!(beta.contains("yes"), "locked shows: {beta}");
}

#[tokio::test]
async fn actor_create_refuses_bad_input_with_a_reason_and_creates_nothing() {
    let env = Env::new().await;
    let cases: &[(&[&str], &str)] = &[
        (&["actor", "create", "Acme", "--kind", "brand", "--name", "Acme"], "lower-case letters"),
        (&["actor", "create", "ac-me", "--kind", "brand", "--name", "Acme"], "may use only"),
        (&["actor", "create", "a_very_long_username_that_goes_on", "--kind", "brand", "--name", "A"], "longer than 30"),
        (&["actor", "create", "acme", "--kind", "robot", "--name", "Acme"], "not an account kind"),
        (&["actor", "create", "acme", "--kind", "instance", "--name", "Acme"], "instance actor"),
        (&["actor", "create", "acme", "--kind", "brand", "--name", "  "], "display name cannot be empty"),
        (&["actor", "create", "acme", "--kind", "brand", "--name", "A", "--field", "nonsense"], "Name=value"),
    ];
    for (args, message) in cases {
        let out = env.run(args);
        assert!(!out.status.success(), "{args:?} should fail");
        assert!(stderr(&out).contains(message), "{args:?}: {}", stderr(&out));
    }
    let list = stdout(&env.run(&["actor", "list"]));
    assert!(list.contains("no accounts yet"), "{list}");
}

#[tokio::test]
async fn a_duplicate_username_is_a_clear_error() {
    let env = Env::new().await;
    assert!(env.run(&["actor", "create", "acme", "--kind", "brand", "--name", "Acme"]).status.success());
    let out = env.run(&["actor", "create", "acme", "--kind", "product", "--name", "Other"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("the username \"acme\" is already taken"), "{}", stderr(&out));
    let list = stdout(&env.run(&["actor", "list"]));
    assert_eq!(list.matches("@acme@").count(), 1, "{list}");
    assert!(!list.contains("Other"));
}

#[tokio::test]
async fn user_create_prints_a_generated_password_or_reads_one() {
    let env = Env::new().await;
    let out = env.run(&["user", "create", "Owner@Acme.example", "--role", "owner"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("created owner user owner@acme.example"), "{text}");
    let password = text.lines().find_map(|l| l.strip_prefix("password: ")).unwrap();
    assert_eq!(password.len(), 24);

    let dup = env.run(&["user", "create", "owner@acme.example", "--role", "admin"]);
    assert!(!dup.status.success());
    assert!(stderr(&dup).contains("already exists"), "{}", stderr(&dup));

    let mut child = env
        .command(&["user", "create", "ed@acme.example", "--role", "editor", "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), b"short\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success());
    assert!(stderr(&out).contains("at least 10 characters"), "{}", stderr(&out));

    for (args, message) in [
        (vec!["user", "create", "not-an-email", "--role", "owner"], "not an e-mail address"),
        (vec!["user", "create", "a@b.example", "--role", "king"], "not a role"),
    ] {
        let out = env.run(&args);
        assert!(!out.status.success());
        assert!(stderr(&out).contains(message), "{args:?}: {}", stderr(&out));
    }
}

#[tokio::test]
async fn check_reports_an_unreachable_database_and_bad_configuration() {
    let env = Env::new().await;
    let ok = env.run(&["check"]);
    assert!(ok.status.success(), "{}", stderr(&ok));
    assert!(stdout(&ok).contains("database: reachable"));

    let out = env
        .command(&["check"])
        .env("OPENHOUSE_DATABASE_URL", "postgres://openhouse@127.0.0.1:1/none")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(stderr(&out).contains("database: cannot open postgres://openhouse@127.0.0.1:1/none"), "{}", stderr(&out));

    let out = env
        .command(&["serve"])
        // Any free port: the default one may be taken on a developer's machine.
        .env("OPENHOUSE_BIND", "127.0.0.1:0")
        .env("OPENHOUSE_DATABASE_URL", "postgres://openhouse:secret@127.0.0.1:1/none")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("cannot open the database"), "{err}");
    assert!(!err.contains("secret"), "passwords are not printed: {err}");

    let out = env.command(&["check"]).env("OPENHOUSE_PUBLIC_URL", "ftp://acme.example").output().unwrap();
    assert!(!out.status.success());
    assert!(stderr(&out).contains("invalid configuration: public_url"), "{}", stderr(&out));

    std::fs::write(env.tmp.path().join("openhouse.toml"), "bind = \"nowhere\"\n").unwrap();
    let out = env.run(&["check"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("invalid configuration: bind"), "{}", stderr(&out));
}

#[tokio::test]
async fn the_public_url_cannot_change_after_the_first_start() {
    let env = Env::new().await;
    assert!(env.run(&["actor", "list"]).status.success());
    let out =
        env.command(&["actor", "list"]).env("OPENHOUSE_PUBLIC_URL", "https://elsewhere.example").output().unwrap();
    assert!(!out.status.success());
    assert!(stderr(&out).contains("cannot change after the first start"), "{}", stderr(&out));
}

#[tokio::test]
async fn serve_prints_the_setup_link_on_first_run_and_stops_on_sigterm() {
    let env = Env::new().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let base = format!("http://127.0.0.1:{port}");
    let mut child = env
        .command(&["serve"])
        .env("OPENHOUSE_BIND", format!("127.0.0.1:{port}"))
        .env("OPENHOUSE_PUBLIC_URL", &base)
        // The request log (tower_http, at debug) must not record the link's token.
        .env("RUST_LOG", "info,tower_http=debug")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let link = loop {
        let line = rx.recv_timeout(Duration::from_secs(60)).expect("serve logs a setup link");
        if let Some(start) = line.find(&format!("{base}/setup?token=")) {
            let rest = &line[start..];
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };
    // Opening the link trades its token for a session cookie and moves on to plain /setup.
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let opened = client.get(&link).send().await.unwrap();
    assert_eq!(opened.status(), 303);
    let cookie = opened.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let page = client.get(format!("{base}/setup")).header("cookie", cookie).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Welcome to Openhouse"));
    // Both requests were logged, by path only.
    let token = link.split("token=").nth(1).unwrap().to_owned();
    let mut finished = 0;
    while finished < 2 {
        let line = rx.recv_timeout(Duration::from_secs(60)).expect("serve logs its requests");
        assert!(!line.contains(&token), "the token reached the log: {line}");
        finished += usize::from(line.contains("finished processing request"));
    }

    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let exit = tokio::task::spawn_blocking(move || child.wait()).await.unwrap().unwrap();
    assert!(exit.success(), "graceful shutdown exits 0: {exit:?}");
}

#[tokio::test]
async fn publish_edit_delete_and_tokens_from_the_command_line() {
    let env = Env::new().await;
    assert!(env.run(&["actor", "create", "acme", "--kind", "brand", "--name", "Acme"]).status.success());
    let dir = env.tmp.path();
    std::fs::write(dir.join("notes.md"), "# Release 2.0\n\nFaster **dashboards**. #release").unwrap();
    std::fs::write(dir.join("logo.png"), include_bytes!("../../frontend/static/avatar.png")).unwrap();
    std::fs::write(dir.join("fake.png"), b"<svg onload=alert(1)>").unwrap();

    let out = env.run(&[
        "publish",
        "--actor",
        "acme",
        "--file",
        "notes.md",
        "--cw",
        "Release notes",
        "--visibility",
        "unlisted",
        "--image",
        "logo.png",
        "--alt",
        "The Acme logo",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), "https://community.acme.example/users/acme/posts/1");
    let media: Vec<_> = std::fs::read_dir(dir.join("data/media")).unwrap().collect();
    assert_eq!(media.len(), 1);

    let later = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339();
    let out = env.run(&["publish", "--actor", "acme", "--file", "notes.md", "--at", &later]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("scheduled for"), "{}", stderr(&out));

    std::fs::write(dir.join("fixed.md"), "Faster dashboards, fixed.").unwrap();
    let out = env.run(&["edit", "1", "--file", "fixed.md", "--no-cw"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = env.run(&["delete", "https://community.acme.example/users/acme/posts/1"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("deleted https://community.acme.example/users/acme/posts/1"));
    let out = env.run(&["delete", "1"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("was deleted"), "{}", stderr(&out));

    let refusals: &[(&[&str], &str)] = &[
        (&["publish", "--actor", "acme", "--file", "notes.md", "--image", "logo.png"], "one --alt for each --image"),
        (&["publish", "--actor", "acme", "--file", "notes.md", "--image", "fake.png", "--alt", "x"], "not a PNG"),
        (&["publish", "--actor", "acme", "--file", "notes.md", "--visibility", "direct"], "unknown visibility"),
        (&["publish", "--actor", "acme", "--file", "notes.md", "--at", "tomorrow"], "RFC 3339"),
        (&["publish", "--actor", "nobody", "--file", "notes.md"], "no account"),
        (&["publish", "--actor", "acme", "--file", "missing.md"], "cannot read"),
        (&["edit", "99", "--file", "notes.md"], "no post"),
    ];
    for (args, message) in refusals {
        let out = env.run(args);
        assert!(!out.status.success(), "{args:?} should fail");
        assert!(stderr(&out).contains(message), "{args:?}: {}", stderr(&out));
    }

    let out = env.run(&["token", "create", "release-pipeline", "--actor", "acme"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let token = stdout(&out).trim().to_owned();
    assert!(token.starts_with("oh_") && token.len() > 40, "{token}");
    let list = stdout(&env.run(&["token", "list"]));
    assert!(list.contains("release-pipeline") && !list.contains(&token), "{list}");
    assert!(env.run(&["token", "revoke", "1"]).status.success());
    assert!(stdout(&env.run(&["token", "list"])).contains("no API tokens"));
}

#[tokio::test]
async fn deliveries_reports_the_queue_and_a_post() {
    let env = Env::new().await;
    assert!(env.run(&["actor", "create", "acme", "--kind", "brand", "--name", "Acme"]).status.success());
    let queue = env.run(&["deliveries"]);
    assert!(queue.status.success(), "{}", stderr(&queue));
    assert!(stdout(&queue).contains("deliveries: 0 delivered, 0 pending, 0 failed"), "{}", stdout(&queue));
    assert!(stdout(&queue).contains("no failing hosts"));

    std::fs::write(env.tmp.path().join("update.md"), "Hello").unwrap();
    assert!(env.run(&["publish", "--actor", "acme", "--file", "update.md"]).status.success());
    let post = env.run(&["deliveries", "1"]);
    assert!(post.status.success(), "{}", stderr(&post));
    assert!(stdout(&post).contains("nothing sent yet"), "no worker ran: {}", stdout(&post));
    let missing = env.run(&["deliveries", "99"]);
    assert!(!missing.status.success());
    assert!(stderr(&missing).contains("no post"), "{}", stderr(&missing));
}

#[tokio::test]
async fn publish_in_reply_to_answers_a_conversation_from_the_command_line() {
    use openhouse::db::{
        entities::{conversations, post_mentions, posts},
        queries,
    };
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

    let env = Env::new().await;
    assert!(env.run(&["actor", "create", "acme", "--kind", "brand", "--name", "Acme"]).status.success());
    std::fs::write(env.tmp.path().join("update.md"), "Version 3 is out").unwrap();
    let out = env.run(&["publish", "--actor", "acme", "--file", "update.md"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let db = sea_orm::Database::connect(&env.database_url).await.unwrap();
    let update = queries::posts::find_by_ap_id(&db, stdout(&out).trim()).await.unwrap().unwrap();
    let brand = queries::actors::find(&db, update.actor_id).await.unwrap().unwrap();
    let eve = crate::threads::remote_actor(&db, "social.example", "eve", "Eve").await;
    let question = crate::threads::remote_reply(&db, &eve, &update, "<p>Does it export CSV?</p>", Some(&brand)).await;

    let mut child = env
        .command(&["publish", "--actor", "acme", "--in-reply-to", &question.ap_id, "--file", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), b"Yes, from the *Export* menu.").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let answer = queries::posts::find_by_ap_id(&db, stdout(&out).trim()).await.unwrap().unwrap();
    assert_eq!(answer.in_reply_to_ap_id.as_deref(), Some(question.ap_id.as_str()));
    assert_eq!(answer.in_reply_to_post_id, Some(question.id));
    assert_eq!(answer.thread_root_id, Some(update.id));
    assert_eq!(answer.depth, 2);
    assert!(answer.content_html.contains("@eve@social.example</a>"), "{}", answer.content_html);
    let mentions =
        post_mentions::Entity::find().filter(post_mentions::Column::PostId.eq(answer.id)).all(&db).await.unwrap();
    assert_eq!(mentions.iter().map(|m| m.href.as_str()).collect::<Vec<_>>(), [eve.ap_id.as_str()]);
    // An edit that leaves the handle out still mentions (and addresses) the person.
    std::fs::write(env.tmp.path().join("fix.md"), "Yes: Export, then CSV.").unwrap();
    let out = env.run(&["edit", &answer.id.to_string(), "--file", "fix.md"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let edited = queries::posts::find(&db, answer.id).await.unwrap().unwrap();
    assert!(edited.content_html.contains("@eve@social.example</a>"), "{}", edited.content_html);
    let mentions =
        post_mentions::Entity::find().filter(post_mentions::Column::PostId.eq(answer.id)).all(&db).await.unwrap();
    assert_eq!(mentions.len(), 1);
    let conversation = conversations::Entity::find().one(&db).await.unwrap().unwrap();
    assert_eq!(conversation.answer_post_id, Some(answer.id));
    assert!(conversation.answered_at.is_some());

    let out = env.run(&[
        "publish",
        "--actor",
        "acme",
        "--in-reply-to",
        "https://community.acme.example/users/acme/posts/999",
        "--file",
        "update.md",
    ]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("there is no post"), "{}", stderr(&out));
    assert_eq!(posts::Entity::find().all(&db).await.unwrap().len(), 3, "nothing stored for the refused reply");
}

#[tokio::test]
async fn follow_requests_are_listed_approved_and_rejected_from_the_command_line() {
    use openhouse::db::{
        entities::{follows, outbox_events},
        queries,
    };
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

    let env = Env::new().await;
    let created = env.run(&["actor", "create", "beta", "--kind", "product", "--name", "Beta", "--locked"]);
    assert!(created.status.success(), "{}", stderr(&created));
    let db = sea_orm::Database::connect(&env.database_url).await.unwrap();
    let beta = queries::actors::find_local_by_username(&db, "beta").await.unwrap().unwrap();
    let mut requests = Vec::new();
    for name in ["ada", "bob"] {
        let fan = crate::threads::remote_actor(&db, "remote.example", name, name).await;
        let follow_id = format!("https://remote.example/follows/{name}");
        queries::follows::insert(
            &db,
            fan.id,
            beta.id,
            &follow_id,
            openhouse::db::entities::follows::FollowState::Pending,
            chrono::Utc::now(),
        )
        .await
        .unwrap();
        let row = follows::Entity::find().filter(follows::Column::FollowApId.eq(follow_id)).one(&db).await.unwrap();
        requests.push(row.unwrap().id.to_string());
    }

    let list = env.run(&["follow-requests", "list", "--actor", "beta"]);
    assert!(list.status.success(), "{}", stderr(&list));
    assert!(stdout(&list).contains("@ada@remote.example") && stdout(&list).contains("@bob@remote.example"));
    assert!(stdout(&list).contains(&requests[0]), "{}", stdout(&list));

    let approve = env.run(&["follow-requests", "approve", &requests[0]]);
    assert!(approve.status.success(), "{}", stderr(&approve));
    assert!(stdout(&approve).contains(&format!("approved follow request {}", requests[0])));
    let reject = env.run(&["follow-requests", "reject", &requests[1]]);
    assert!(reject.status.success(), "{}", stderr(&reject));

    let rows = follows::Entity::find().filter(follows::Column::FolloweeId.eq(beta.id)).all(&db).await.unwrap();
    assert_eq!(rows.len(), 1, "the rejected request is gone");
    assert_eq!(rows[0].state, openhouse::db::entities::follows::FollowState::Accepted);
    for kind in ["follow_accepted", "follow_rejected"] {
        let events = outbox_events::Entity::find().filter(outbox_events::Column::Kind.eq(kind)).count(&db).await;
        assert_eq!(events.unwrap(), 1, "ada hears an Accept, bob a Reject: {kind}");
    }
    let list = env.run(&["follow-requests", "list", "--actor", "beta"]);
    assert!(stdout(&list).contains("no pending follow requests for @beta"), "{}", stdout(&list));

    let again = env.run(&["follow-requests", "approve", &requests[1]]);
    assert!(!again.status.success(), "a request that is gone cannot be approved");
    assert!(!stderr(&again).is_empty());
    let nobody = env.run(&["follow-requests", "list", "--actor", "nobody"]);
    assert!(!nobody.status.success());
    assert!(stderr(&nobody).contains("no account"), "{}", stderr(&nobody));
}
