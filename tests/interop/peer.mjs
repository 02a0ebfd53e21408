#!/usr/bin/env node
// Openhouse interoperability peer.
//
// A small ActivityPub server built on Fedify (an independent implementation) with one
// `Person` actor. It looks up an Openhouse actor and checks what Fedify makes of it
// (`--mode lookup`), or follows it and waits for its posts (`--mode follow`).
// Every check lands in a JSON report; the exit status is 0 only when all of them pass.
//
// Only loopback addresses are used: the peer refuses to listen on, or talk to, anything
// outside 127.0.0.0/8. Every step is bounded by --timeout.

import { AsyncLocalStorage } from "node:async_hooks";
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import http from "node:http";
import { dirname } from "node:path";
import { inspect, parseArgs } from "node:util";

import {
  createFederation,
  fetchKeyDetailed,
  generateCryptoKeyPair,
  MemoryKvStore,
  parseNodeInfo,
} from "@fedify/fedify";
import * as vocab from "@fedify/vocab";
import { Temporal } from "@js-temporal/polyfill";
import { configure } from "@logtape/logtape";

const USAGE = `usage: node peer.mjs --listen 127.0.0.5:9005 --target <actor URL> [options]

  --listen HOST:PORT     loopback address the peer serves on (required)
  --target URL           the Openhouse actor to test, e.g. http://127.0.0.2:8080/users/acme (required)
  --mode MODE            lookup (default), follow, or serve (only serve the tester actor until
                         --timeout, recording what arrives; --target is then optional)
  --report PATH          write the JSON report there (stdout gets one PASS/FAIL line per check)
  --timeout SECONDS      hard limit for the whole run (default 60)
  --username NAME        the peer's actor name (default tester)
  --expect-type TYPE     require this actor type (Organization, Person, Application, ...)
  --expect-username NAME require this preferredUsername
  --publish-cmd CMD      follow mode: shell command run once the Follow is accepted, to make
                         the target publish a Note (env: PEER_ACTOR, PEER_INBOX, TARGET_ACTOR)
  --reply                follow mode: answer the received Note with a reply and a Like
  --answer-cmd CMD       follow mode with --reply: shell command run after the reply, to make the
                         target answer it (env: REPLY_URL, PEER_ACTOR, TARGET_ACTOR, NOTE_URL);
                         the peer then waits for that answer and checks its inReplyTo and Mention
  --undo                 follow mode: finish with Undo(Follow)
  --settle SECONDS       follow mode: how long to keep listening after the last step (default 3)
  --verbose              print Fedify's debug log to stderr
`;

const EXIT_OK = 0;
const EXIT_FAILED = 1;
const EXIT_TIMEOUT = 2;
const EXIT_USAGE = 3;

// ---------------------------------------------------------------------------------------
// Command line

function parseCommandLine(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      listen: { type: "string" },
      target: { type: "string" },
      mode: { type: "string", default: "lookup" },
      report: { type: "string" },
      timeout: { type: "string", default: "60" },
      username: { type: "string", default: "tester" },
      "expect-type": { type: "string" },
      "expect-username": { type: "string" },
      "publish-cmd": { type: "string" },
      reply: { type: "boolean", default: false },
      "answer-cmd": { type: "string" },
      undo: { type: "boolean", default: false },
      settle: { type: "string", default: "3" },
      verbose: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(EXIT_OK);
  }
  const problems = [];
  if (!values.listen) problems.push("--listen is required");
  if (!values.target && values.mode !== "serve") problems.push("--target is required");
  if (!["lookup", "follow", "serve"].includes(values.mode)) problems.push(`--mode must be lookup, follow or serve, not ${values.mode}`);
  const timeout = Number(values.timeout);
  if (!(timeout > 0 && timeout <= 3600)) problems.push("--timeout must be a number of seconds in (0, 3600]");
  const settle = Number(values.settle);
  if (!(settle >= 0 && settle <= 600)) problems.push("--settle must be a number of seconds in [0, 600]");
  if (values["answer-cmd"] && !values.reply) problems.push("--answer-cmd needs --reply");
  if (!/^[a-z0-9_]{1,30}$/.test(values.username)) problems.push("--username must match [a-z0-9_]{1,30}");

  let listenHost;
  let listenPort;
  if (values.listen) {
    const m = /^(\d+\.\d+\.\d+\.\d+):(\d{1,5})$/.exec(values.listen);
    if (!m || !isLoopbackHost(m[1]) || Number(m[2]) < 1 || Number(m[2]) > 65535) {
      problems.push(`--listen must be a 127.x.y.z:port address, not ${values.listen}`);
    } else {
      listenHost = m[1];
      listenPort = Number(m[2]);
    }
  }
  let target;
  if (values.target) {
    try {
      target = new URL(values.target);
      if (!["http:", "https:"].includes(target.protocol)) problems.push("--target must be an http(s) URL");
      else if (!isLoopbackHost(target.hostname)) problems.push(`--target must be on a loopback address (127.0.0.0/8), not ${target.hostname}`);
    } catch {
      problems.push(`--target is not a URL: ${values.target}`);
    }
  }
  if (problems.length > 0) {
    process.stderr.write(`${problems.map((p) => `error: ${p}`).join("\n")}\n\n${USAGE}`);
    process.exit(EXIT_USAGE);
  }
  return {
    listenHost,
    listenPort,
    origin: `http://${listenHost}:${listenPort}`,
    target,
    mode: values.mode,
    reportPath: values.report,
    timeoutMs: timeout * 1000,
    username: values.username,
    expectType: values["expect-type"],
    expectUsername: values["expect-username"],
    publishCmd: values["publish-cmd"],
    reply: values.reply,
    answerCmd: values["answer-cmd"],
    undo: values.undo,
    settleMs: settle * 1000,
    verbose: values.verbose,
  };
}

function isLoopbackHost(host) {
  const m = /^127\.(\d+)\.(\d+)\.(\d+)$/.exec(host);
  return m != null && m.slice(1).every((n) => Number(n) <= 255);
}

// ---------------------------------------------------------------------------------------
// Report

const startedAt = Date.now();
const report = {
  ok: false,
  mode: null,
  target: null,
  peer: null,
  fedify: "@fedify/fedify 2.3.6",
  startedAt: new Date(startedAt).toISOString(),
  finishedAt: null,
  durationMs: null,
  failure: null,
  checks: [],
  received: [],
  unverified: [],
  inboxErrors: [],
  sent: [],
  info: {},
  http: { outgoing: [], incoming: [] },
  logs: [],
};

const MAX_LOG_ENTRIES = 300;
const MAX_TEXT = 2000;

function clip(text, max = MAX_TEXT) {
  const s = String(text);
  return s.length > max ? `${s.slice(0, max)}… (${s.length - max} more characters)` : s;
}

function check(name, ok, detail) {
  report.checks.push({ name, ok: Boolean(ok), detail: clip(detail ?? "") });
  return Boolean(ok);
}

function errorText(error) {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? ` (cause: ${error.cause.message})` : "";
    return `${error.name}: ${error.message}${cause}`;
  }
  return String(error);
}

// ---------------------------------------------------------------------------------------
// Logging: Fedify logs through LogTape. Warnings and errors go to the report and stderr;
// --verbose adds the debug log on stderr.

function renderLogMessage(parts) {
  return parts
    .map((part, i) => {
      if (i % 2 === 0) return String(part);
      if (typeof part === "string") return part;
      if (part instanceof Error) return errorText(part);
      if (part instanceof URL) return part.href;
      return inspect(part, { depth: 3, breakLength: Infinity });
    })
    .join("");
}

async function configureLogging(verbose) {
  await configure({
    contextLocalStorage: new AsyncLocalStorage(),
    sinks: {
      capture(record) {
        const text = renderLogMessage(record.message);
        const rank = { trace: 0, debug: 1, info: 2, warning: 3, error: 4, fatal: 5 }[record.level] ?? 2;
        if (rank >= 3 && report.logs.length < MAX_LOG_ENTRIES) {
          report.logs.push({ level: record.level, category: record.category.join("."), message: clip(text) });
        }
        if (verbose || rank >= 3) {
          process.stderr.write(`[${record.level}] ${record.category.join(".")}: ${clip(text)}\n`);
        }
      },
    },
    loggers: [
      { category: "fedify", lowestLevel: verbose ? "debug" : "warning", sinks: ["capture"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["capture"] },
    ],
  });
}

// ---------------------------------------------------------------------------------------
// Outgoing HTTP: Fedify uses the global fetch. Wrap it to record each exchange (and which
// HTTP signature scheme a request carried) without changing anything about it.

function signatureScheme(headers) {
  if (headers.has("signature-input")) return "rfc9421";
  if (headers.has("signature")) return "draft-cavage";
  return "none";
}

function installFetchRecorder() {
  const originalFetch = globalThis.fetch;
  globalThis.fetch = async function recordedFetch(input, init) {
    const request = input instanceof Request ? input : null;
    const method = (init?.method ?? request?.method ?? "GET").toUpperCase();
    const url = request ? request.url : String(input);
    const headers = new Headers(init?.headers ?? request?.headers ?? {});
    const entry = { at: Date.now() - startedAt, method, url, signature: signatureScheme(headers) };
    if (report.http.outgoing.length < MAX_LOG_ENTRIES) report.http.outgoing.push(entry);
    try {
      const response = await originalFetch(input, init);
      entry.status = response.status;
      entry.contentType = response.headers.get("content-type");
      return response;
    } catch (error) {
      entry.error = errorText(error);
      throw error;
    }
  };
}

// ---------------------------------------------------------------------------------------
// Waiting for activities

const waiters = new Set();

function notifyWaiters() {
  for (const waiter of waiters) {
    const item = report.received.find(waiter.predicate);
    if (item) {
      waiters.delete(waiter);
      clearTimeout(waiter.timer);
      waiter.resolve(item);
    }
  }
}

class StepTimeout extends Error {}

function waitForActivity(label, predicate, deadline) {
  const found = report.received.find(predicate);
  if (found) return Promise.resolve(found);
  return new Promise((resolve, reject) => {
    const waiter = { predicate, resolve };
    waiter.timer = setTimeout(
      () => {
        waiters.delete(waiter);
        reject(new StepTimeout(label));
      },
      Math.max(0, deadline - Date.now()),
    );
    waiters.add(waiter);
  });
}

function sleepUntil(deadline, ms) {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.min(ms, deadline - Date.now()))));
}

function typeName(object) {
  const id = vocab.getTypeId(object)?.href ?? "";
  return id.includes("#") ? id.slice(id.lastIndexOf("#") + 1) : id;
}

function plainContent(value) {
  if (value == null) return null;
  return String(value);
}

// ---------------------------------------------------------------------------------------
// The Fedify server

async function buildFederation(opts, store) {
  const federation = createFederation({
    kv: new MemoryKvStore(),
    origin: opts.origin,
    allowPrivateAddress: true, // loopback only: both ends of this test live on 127.0.0.0/8
    userAgent: { software: "openhouse-interop-peer/1.0" },
  });

  // RSA-2048 like Mastodon's keys (Fedify's own default, 4096 bits, is slow to generate),
  // plus an Ed25519 key for Object Integrity Proofs, as Fedify-based servers publish.
  const rsa = await crypto.subtle.generateKey(
    { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
    true,
    ["sign", "verify"],
  );
  const keyPairs = [rsa, await generateCryptoKeyPair("Ed25519")];
  const published = Temporal.Instant.fromEpochMilliseconds(startedAt);

  federation
    .setActorDispatcher("/users/{identifier}", async (ctx, identifier) => {
      if (identifier !== opts.username) return null;
      const keys = await ctx.getActorKeyPairs(identifier);
      return new vocab.Person({
        id: ctx.getActorUri(identifier),
        preferredUsername: identifier,
        name: "Fedify interop tester",
        summary: "<p>Test peer of the Openhouse interoperability suite, built on Fedify.</p>",
        url: ctx.getActorUri(identifier),
        inbox: ctx.getInboxUri(identifier),
        outbox: ctx.getOutboxUri(identifier),
        followers: ctx.getFollowersUri(identifier),
        following: ctx.getFollowingUri(identifier),
        endpoints: new vocab.Endpoints({ sharedInbox: ctx.getInboxUri() }),
        publicKey: keys[0].cryptographicKey,
        assertionMethods: keys.map((k) => k.multikey),
        manuallyApprovesFollowers: false,
        discoverable: true,
        indexable: true,
        published,
      });
    })
    .setKeyPairsDispatcher((_ctx, identifier) => (identifier === opts.username ? keyPairs : []));

  federation
    .setFollowersDispatcher("/users/{identifier}/followers", (_ctx, identifier) =>
      identifier === opts.username ? { items: store.followers } : null,
    )
    .setCounter((_ctx, identifier) => (identifier === opts.username ? store.followers.length : null));
  federation
    .setFollowingDispatcher("/users/{identifier}/following", (_ctx, identifier) =>
      identifier === opts.username ? { items: store.following } : null,
    )
    .setCounter((_ctx, identifier) => (identifier === opts.username ? store.following.length : null));
  federation
    .setOutboxDispatcher("/users/{identifier}/outbox", (_ctx, identifier) =>
      identifier === opts.username ? { items: store.outbox } : null,
    )
    .setCounter((_ctx, identifier) => (identifier === opts.username ? store.outbox.length : null));

  federation.setNodeInfoDispatcher("/nodeinfo/2.1", () => ({
    software: { name: "openhouse-interop-peer", version: "1.0.0" },
    protocols: ["activitypub"],
    usage: { users: { total: 1, activeHalfyear: 1, activeMonth: 1 }, localPosts: store.outbox.length, localComments: 0 },
  }));

  // Everything the peer sends can be dereferenced, as a real server's objects can.
  const dereferenceable = [
    [vocab.Note, "/notes/{id}"],
    [vocab.Follow, "/follows/{id}"],
    [vocab.Like, "/likes/{id}"],
    [vocab.Create, "/creates/{id}"],
    [vocab.Undo, "/undos/{id}"],
    [vocab.Accept, "/accepts/{id}"],
  ];
  for (const [cls, path] of dereferenceable) {
    federation.setObjectDispatcher(cls, path, (ctx, values) => store.objects.get(ctx.getObjectUri(cls, values).href) ?? null);
  }

  federation
    .setInboxListeners("/users/{identifier}/inbox", "/inbox")
    .on(vocab.Activity, async (ctx, activity) => {
      const entry = {
        at: Date.now() - startedAt,
        inbox: ctx.recipient == null ? "shared" : `personal (${ctx.recipient})`,
        type: typeName(activity),
        id: activity.id?.href ?? null,
        actor: activity.actorId?.href ?? null,
        objectId: activity.objectId?.href ?? null,
        objectType: null,
        content: null,
        attributedTo: null,
        inReplyTo: null,
        to: activity.toIds.map((u) => u.href),
        cc: activity.ccIds.map((u) => u.href),
      };
      try {
        const object = await activity.getObject({ documentLoader: ctx.documentLoader, contextLoader: ctx.contextLoader });
        if (object != null) {
          entry.objectType = typeName(object);
          entry.objectId = object.id?.href ?? entry.objectId;
          if (object instanceof vocab.Object && !(object instanceof vocab.Activity) && !vocab.isActor(object)) {
            entry.content = plainContent(object.content);
            entry.attributedTo = object.attributionId?.href ?? null;
            entry.inReplyTo = object.replyTargetId?.href ?? null;
            entry.objectTo = object.toIds.map((u) => u.href);
            entry.objectCc = object.ccIds.map((u) => u.href);
            entry.objectUrl = object.url instanceof URL ? object.url.href : (object.url?.href?.href ?? null);
            entry.objectPublished = object.published?.toString() ?? null;
            entry.mentions = [];
            for await (const tag of object.getTags({ documentLoader: ctx.documentLoader, contextLoader: ctx.contextLoader })) {
              if (tag instanceof vocab.Mention) entry.mentions.push({ href: tag.href?.href ?? null, name: tag.name?.toString() ?? null });
            }
          } else if (object instanceof vocab.Activity) {
            entry.objectActor = object.actorId?.href ?? null;
            entry.objectObject = object.objectId?.href ?? null;
          }
        }
      } catch (error) {
        entry.objectError = errorText(error);
      }
      report.received.push(entry);
      if (opts.mode === "serve" && activity instanceof vocab.Follow) {
        // Answer outside the inbox request, as a real server's worker would.
        setTimeout(() => void serveAnswerFollow(opts, activity, entry), 50);
      }
      process.stderr.write(`peer: received ${entry.type}${entry.objectType ? `(${entry.objectType})` : ""} ${entry.id} from ${entry.actor}\n`);
      notifyWaiters();
    })
    .onUnverifiedActivity((_ctx, activity, reason) => {
      const entry = {
        at: Date.now() - startedAt,
        type: typeName(activity),
        id: activity.id?.href ?? null,
        actor: activity.actorId?.href ?? null,
        reason: reason.type,
        keyId: reason.keyId?.href ?? null,
      };
      if (reason.type === "keyFetchError") {
        entry.keyFetch = "status" in reason.result ? `HTTP ${reason.result.status}` : errorText(reason.result.error);
      }
      report.unverified.push(entry);
      process.stderr.write(`peer: REFUSED unverifiable ${entry.type} ${entry.id} (${entry.reason})\n`);
      // Returning nothing keeps Fedify's own answer (401).
    })
    .onError((_ctx, error) => {
      report.inboxErrors.push(errorText(error));
    });

  return federation;
}

async function startServer(federation, opts) {
  const MAX_BODY = 1024 * 1024;
  const server = http.createServer(async (req, res) => {
    const entry = { at: Date.now() - startedAt, method: req.method, path: req.url };
    if (report.http.incoming.length < MAX_LOG_ENTRIES) report.http.incoming.push(entry);
    try {
      const chunks = [];
      let size = 0;
      for await (const chunk of req) {
        size += chunk.length;
        if (size > MAX_BODY) {
          entry.status = 413;
          res.writeHead(413, { "content-type": "text/plain" }).end("too large\n");
          return;
        }
        chunks.push(chunk);
      }
      const headers = new Headers();
      for (const [name, value] of Object.entries(req.headers)) {
        if (Array.isArray(value)) for (const v of value) headers.append(name, v);
        else if (value != null) headers.set(name, value);
      }
      entry.signature = signatureScheme(headers);
      entry.accept = headers.get("accept");
      const hasBody = req.method !== "GET" && req.method !== "HEAD";
      const request = new Request(new URL(req.url, opts.origin), {
        method: req.method,
        headers,
        body: hasBody ? Buffer.concat(chunks) : undefined,
      });
      const response = await federation.fetch(request, {
        contextData: undefined,
        onNotFound: () => new Response("not found\n", { status: 404, headers: { "content-type": "text/plain" } }),
        onNotAcceptable: () =>
          new Response("not acceptable\n", { status: 406, headers: { "content-type": "text/plain", vary: "Accept" } }),
      });
      entry.status = response.status;
      const body = Buffer.from(await response.arrayBuffer());
      if (response.status >= 400 && body.length > 0) entry.body = clip(body.toString("utf8"), 500);
      const outHeaders = {};
      response.headers.forEach((value, name) => {
        outHeaders[name] = value;
      });
      res.writeHead(response.status, outHeaders);
      res.end(req.method === "HEAD" ? undefined : body);
    } catch (error) {
      entry.status = 500;
      entry.error = errorText(error);
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
      res.end("internal error\n");
    }
  });
  server.requestTimeout = 15_000;
  server.headersTimeout = 10_000;
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.listenPort, opts.listenHost, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return server;
}

// ---------------------------------------------------------------------------------------
// Serve mode: behave like a minimal server that accepts every follow of its actor and then
// posts one Note to its followers. This lets follow mode be tested against Fedify itself,
// and gives whoever builds Openhouse's outgoing follows a real peer to follow.

async function serveAnswerFollow(opts, follow, entry) {
  const ctx = opts.ctx;
  const me = ctx.getActorUri(opts.username);
  if (follow.objectId?.href !== me.href || follow.actorId == null) return;
  const record = { label: "serve.accept", follower: follow.actorId.href };
  report.sent.push(record);
  try {
    const follower = await ctx.lookupObject(follow.actorId, { crossOrigin: "throw" });
    if (!vocab.isActor(follower)) throw new Error(`${follow.actorId.href} is not an actor`);
    const accept = new vocab.Accept({
      id: ctx.getObjectUri(vocab.Accept, { id: randomUUID() }),
      actor: me,
      object: new vocab.Follow({ id: follow.id, actor: follow.actorId, object: me }),
      to: follower.id,
    });
    opts.store.objects.set(accept.id.href, accept);
    await ctx.sendActivity({ identifier: opts.username }, follower, accept, { immediate: true });
    record.ok = true;
    opts.store.followers.push(follower);
    const noteId = ctx.getObjectUri(vocab.Note, { id: randomUUID() });
    const to = [vocab.PUBLIC_COLLECTION];
    const cc = [ctx.getFollowersUri(opts.username)];
    const note = new vocab.Note({
      id: noteId,
      attribution: me,
      content: "<p>Hello followers: this is the Fedify interop peer posting.</p>",
      url: noteId,
      tos: to,
      ccs: cc,
      published: Temporal.Now.instant(),
    });
    const create = new vocab.Create({
      id: ctx.getObjectUri(vocab.Create, { id: randomUUID() }),
      actor: me,
      object: note,
      tos: to,
      ccs: cc,
      published: note.published,
    });
    opts.store.objects.set(noteId.href, note);
    opts.store.objects.set(create.id.href, create);
    opts.store.outbox.push(create);
    await ctx.sendActivity({ identifier: opts.username }, follower, create, { immediate: true, preferSharedInbox: true });
    report.sent.push({ label: "serve.note", id: create.id.href, ok: true });
  } catch (error) {
    record.ok = false;
    record.error = errorText(error);
    process.stderr.write(`peer: could not answer ${entry.id}: ${record.error}\n`);
  }
}

// ---------------------------------------------------------------------------------------
// Lookup mode: what Fedify makes of the target's discovery documents

async function plainGet(url, accept, deadline) {
  return await fetch(url, {
    headers: { accept },
    redirect: "manual",
    signal: AbortSignal.timeout(Math.max(1, Math.min(10_000, deadline - Date.now()))),
  });
}

const AS_LD = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"';

function isActivityJson(contentType) {
  if (contentType == null) return false;
  const ct = contentType.toLowerCase();
  return ct.startsWith("application/activity+json") || (ct.startsWith("application/ld+json") && ct.includes("https://www.w3.org/ns/activitystreams"));
}

async function lookupChecks(ctx, opts, deadline, step) {
  const target = opts.target;
  const loaderOpts = { documentLoader: ctx.documentLoader, contextLoader: ctx.contextLoader };

  // 1. The raw document, as served for each content type Mastodon and Fedify ask for.
  step("fetch the actor document");
  for (const accept of ["application/activity+json", AS_LD]) {
    const label = accept.startsWith("application/activity") ? "activity+json" : "ld+json";
    try {
      const response = await plainGet(target.href, accept, deadline);
      const ct = response.headers.get("content-type");
      await response.arrayBuffer();
      check(
        `actor.http.${label}`,
        response.status === 200 && isActivityJson(ct),
        `GET with Accept: ${accept} -> HTTP ${response.status}, Content-Type: ${ct}`,
      );
    } catch (error) {
      check(`actor.http.${label}`, false, `GET with Accept: ${accept} failed: ${errorText(error)}`);
    }
  }

  // 2. Fedify's document loader (the one honouring allowPrivateAddress).
  let remoteDoc = null;
  try {
    remoteDoc = await ctx.documentLoader(target.href, { signal: AbortSignal.timeout(Math.max(1, deadline - Date.now())) });
    check("actor.fetch", true, `Fedify's document loader fetched ${remoteDoc.documentUrl}`);
    report.info.actorDocument = remoteDoc.document;
  } catch (error) {
    check("actor.fetch", false, `Fedify's document loader failed on ${target.href}: ${errorText(error)}`);
  }

  // 2b. The same fetch signed by tester, as a server in authorized-fetch mode sends it.
  step("signed fetch of the actor document");
  {
    const mark = report.http.outgoing.length;
    try {
      const signedLoader = await ctx.getDocumentLoader({ identifier: opts.username });
      const signed = await signedLoader(target.href, { signal: AbortSignal.timeout(Math.max(1, deadline - Date.now())) });
      const attempts = report.http.outgoing.slice(mark).filter((e) => e.url === target.href);
      check(
        "actor.fetch.signed",
        signed.document?.id === target.href,
        `signed GET(s) by ${ctx.getActorUri(opts.username).href}: ${attempts.map((a) => `${a.signature}: ${a.status ?? a.error}`).join(", ")}; document id ${signed.document?.id}`,
      );
    } catch (error) {
      const attempts = report.http.outgoing.slice(mark).filter((e) => e.url === target.href);
      check(
        "actor.fetch.signed",
        false,
        `signed GET failed (${attempts.map((a) => `${a.signature}: ${a.status ?? a.error}`).join(", ")}): ${errorText(error)}`,
      );
    }
  }

  // 3. Fedify's JSON-LD processing of that document.
  step("parse the actor document with Fedify");
  if (remoteDoc != null) {
    try {
      const parsed = await vocab.Object.fromJsonLd(remoteDoc.document, { ...loaderOpts, baseUrl: new URL(remoteDoc.documentUrl) });
      check("actor.jsonld", true, `Fedify parsed it as ${typeName(parsed)} (JSON-LD expansion and typing succeeded)`);
    } catch (error) {
      check("actor.jsonld", false, `Fedify's Object.fromJsonLd rejected the document: ${errorText(error)}`);
    }
  }

  // 4. The end-to-end lookup, as any Fedify-based server does it.
  step("lookupObject on the actor URL");
  let actor = null;
  try {
    actor = await ctx.lookupObject(target.href, {
      crossOrigin: "throw",
      signal: AbortSignal.timeout(Math.max(1, deadline - Date.now())),
    });
    check("actor.lookupObject", actor != null, actor != null ? `returned a ${typeName(actor)}` : "lookupObject returned null (see logs)");
  } catch (error) {
    check("actor.lookupObject", false, `lookupObject threw: ${errorText(error)}`);
  }
  if (actor == null) return null;
  if (!vocab.isActor(actor)) {
    check("actor.type", false, `${typeName(actor)} is not an actor type`);
    return null;
  }

  const type = typeName(actor);
  const allowed = opts.expectType ? [opts.expectType] : ["Organization", "Person", "Application"];
  check("actor.type", allowed.includes(type), `type ${type}; expected ${allowed.join(" or ")}`);
  check("actor.id", actor.id?.href === target.href, `id ${actor.id?.href}; expected ${target.href}`);

  const username = actor.preferredUsername == null ? null : String(actor.preferredUsername);
  check(
    "actor.preferredUsername",
    username != null && username.length > 0 && (opts.expectUsername == null || username === opts.expectUsername),
    `preferredUsername ${JSON.stringify(username)}${opts.expectUsername ? `; expected ${JSON.stringify(opts.expectUsername)}` : ""}`,
  );

  const sameOrigin = (url) => url != null && url.origin === target.origin;
  check("actor.inbox", sameOrigin(actor.inboxId), `inbox ${actor.inboxId?.href ?? "missing"}`);
  check("actor.outbox", sameOrigin(actor.outboxId), `outbox ${actor.outboxId?.href ?? "missing"}`);
  check("actor.followers", sameOrigin(actor.followersId), `followers ${actor.followersId?.href ?? "missing"}`);
  check("actor.following", sameOrigin(actor.followingId), `following ${actor.followingId?.href ?? "missing"}`);
  const sharedInbox = actor.endpoints?.sharedInbox ?? null;
  check("actor.endpoints.sharedInbox", sameOrigin(sharedInbox), `endpoints.sharedInbox ${sharedInbox?.href ?? "missing"}`);
  check("actor.discoverable", actor.discoverable === true, `discoverable ${actor.discoverable}`);
  check("actor.indexable", actor.indexable === true, `indexable ${actor.indexable}`);

  // 5. The public key, embedded and as Fedify fetches it to verify a signature.
  step("check the actor's public key");
  try {
    const key = await actor.getPublicKey(loaderOpts);
    const algorithm = key?.publicKey?.algorithm?.name ?? null;
    check(
      "actor.publicKey",
      key != null && key.id != null && key.ownerId?.href === actor.id?.href && algorithm === "RSASSA-PKCS1-v1_5",
      key == null
        ? "no publicKey"
        : `id ${key.id?.href}, owner ${key.ownerId?.href} (actor ${actor.id?.href}), algorithm ${algorithm}`,
    );
    if (key?.id != null) {
      const fetched = await fetchKeyDetailed(key.id, vocab.CryptographicKey, loaderOpts);
      let why = "";
      if (fetched.fetchError != null) {
        why = "status" in fetched.fetchError ? `HTTP ${fetched.fetchError.status}` : errorText(fetched.fetchError.error);
      }
      check(
        "actor.publicKey.fetchKey",
        fetched.key != null && fetched.key.ownerId?.href === actor.id?.href,
        fetched.key != null
          ? `Fedify resolved keyId ${key.id.href} (as when verifying Openhouse's signatures) to a key owned by ${fetched.key.ownerId?.href}`
          : `Fedify could not resolve keyId ${key.id.href}: ${why || "no matching key in the document"}`,
      );
    }
  } catch (error) {
    check("actor.publicKey", false, `getPublicKey threw: ${errorText(error)}`);
  }

  // 6. The collections the actor points to.
  step("dereference the actor's collections");
  for (const [name, id] of [
    ["outbox", actor.outboxId],
    ["followers", actor.followersId],
    ["following", actor.followingId],
  ]) {
    if (id == null) continue;
    try {
      const collection = await ctx.lookupObject(id, { crossOrigin: "throw", signal: AbortSignal.timeout(Math.max(1, deadline - Date.now())) });
      check(
        `collection.${name}`,
        collection instanceof vocab.OrderedCollection && collection.totalItems != null,
        collection == null
          ? `lookupObject(${id.href}) returned null (see logs)`
          : `${typeName(collection)} with totalItems ${collection.totalItems ?? "missing"}`,
      );
    } catch (error) {
      check(`collection.${name}`, false, `lookupObject(${id.href}) threw: ${errorText(error)}`);
    }
  }

  report.info.actor = {
    type,
    id: actor.id?.href,
    preferredUsername: username,
    name: actor.name == null ? null : String(actor.name),
    url: actor.url instanceof URL ? actor.url.href : (actor.url?.href?.href ?? null),
    manuallyApprovesFollowers: actor.manuallyApprovesFollowers,
    publicKeyId: actor.publicKeyId?.href ?? null,
  };

  // 7. WebFinger, both ways.
  step("WebFinger");
  const acct = `acct:${username}@${target.host}`;
  try {
    const jrd = await ctx.lookupWebFinger(actor.id, { signal: AbortSignal.timeout(Math.max(1, deadline - Date.now())) });
    if (jrd == null) {
      check("webfinger.url", false, `Fedify's lookupWebFinger(${actor.id.href}) returned null (see logs)`);
    } else {
      const self = (jrd.links ?? []).find((l) => l.rel === "self" && isActivityJson(l.type));
      const names = [jrd.subject, ...(jrd.aliases ?? [])];
      check(
        "webfinger.url",
        self?.href === actor.id.href && names.includes(acct),
        `Fedify's lookupWebFinger(${actor.id.href}): subject ${jrd.subject}, aliases ${JSON.stringify(jrd.aliases ?? [])}, self ${self?.href ?? "missing"}; expected self ${actor.id.href} and ${acct} among subject/aliases`,
      );
    }
  } catch (error) {
    check("webfinger.url", false, `Fedify's lookupWebFinger(${actor.id.href}) threw: ${errorText(error)}`);
  }
  // Fedify resolves acct: handles over https only, so this one is fetched by hand.
  const wfUrl = new URL("/.well-known/webfinger", target.origin);
  wfUrl.searchParams.set("resource", acct);
  try {
    const response = await plainGet(wfUrl.href, "application/jrd+json", deadline);
    const ct = response.headers.get("content-type");
    const text = await response.text();
    let jrd = null;
    try {
      jrd = JSON.parse(text);
    } catch {
      /* reported below */
    }
    const self = (jrd?.links ?? []).find((l) => l.rel === "self" && isActivityJson(l.type));
    check(
      "webfinger.acct",
      response.status === 200 && jrd != null && jrd.subject === acct && self?.href === actor.id.href,
      `GET ${wfUrl.href} -> HTTP ${response.status}; subject ${jrd?.subject}; self ${self?.href ?? "missing"} (${self?.type ?? "no type"}); expected subject ${acct}, self ${actor.id.href}`,
    );
    check("webfinger.acct.content-type", (ct ?? "").toLowerCase().startsWith("application/jrd+json"), `Content-Type: ${ct}`);
    report.info.webfinger = jrd;
  } catch (error) {
    check("webfinger.acct", false, `GET ${wfUrl.href} failed: ${errorText(error)}`);
  }

  // 8. NodeInfo, through Fedify's parser (its fetcher refuses loopback, so fetched by hand).
  step("NodeInfo");
  try {
    const wk = await plainGet(new URL("/.well-known/nodeinfo", target.origin).href, "application/json", deadline);
    const index = await wk.json();
    const link = (index.links ?? []).find((l) => l.rel === "http://nodeinfo.diaspora.software/ns/schema/2.1");
    if (wk.status !== 200 || link == null) {
      check("nodeinfo", false, `/.well-known/nodeinfo -> HTTP ${wk.status}, no 2.1 link: ${clip(JSON.stringify(index), 500)}`);
    } else {
      const doc = await (await plainGet(link.href, "application/json", deadline)).json();
      const parsed = parseNodeInfo(doc);
      check(
        "nodeinfo",
        parsed != null && parsed.protocols.includes("activitypub"),
        parsed == null
          ? `Fedify's parseNodeInfo rejected ${link.href}: ${clip(JSON.stringify(doc), 500)}`
          : `${link.href}: software ${parsed.software.name} ${parsed.software.version}, protocols ${parsed.protocols.join(",")}`,
      );
    }
  } catch (error) {
    check("nodeinfo", false, `NodeInfo fetch failed: ${errorText(error)}`);
  }

  return actor;
}

// ---------------------------------------------------------------------------------------
// Follow mode

function lastDelivery(inbox, sinceIndex) {
  const entries = report.http.outgoing.slice(sinceIndex).filter((e) => e.method === "POST" && e.url === inbox);
  return entries;
}

async function deliver(ctx, opts, label, activity, recipient, { sharedInbox = false } = {}) {
  const inbox = (sharedInbox ? recipient.endpoints?.sharedInbox : null) ?? recipient.inboxId;
  const mark = report.http.outgoing.length;
  const record = { label, type: typeName(activity), id: activity.id?.href, inbox: inbox?.href ?? null };
  report.sent.push(record);
  try {
    await ctx.sendActivity({ identifier: opts.username }, recipient, activity, {
      immediate: true,
      preferSharedInbox: sharedInbox,
    });
    record.ok = true;
  } catch (error) {
    record.ok = false;
    record.error = errorText(error);
  }
  const attempts = lastDelivery(inbox?.href, mark);
  record.attempts = attempts.map((a) => `${a.signature}: ${a.status ?? a.error}`);
  return check(
    `send.${label}`,
    record.ok,
    `${record.type} ${record.id} -> ${record.inbox}: ${record.attempts.join(", ") || "no request made"}${record.ok ? "" : `; ${record.error}`}`,
  );
}

function runPublishCommand(command, env, deadline) {
  return new Promise((resolve) => {
    const child = spawn("/bin/sh", ["-c", command], {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
      timeout: Math.max(1000, Math.min(120_000, deadline - Date.now())),
      killSignal: "SIGKILL",
    });
    let output = "";
    child.stdout.on("data", (d) => {
      output += d;
    });
    child.stderr.on("data", (d) => {
      output += d;
    });
    child.on("error", (error) => resolve({ code: -1, output: errorText(error) }));
    child.on("close", (code, signal) => resolve({ code: code ?? -1, signal, output }));
  });
}

async function followFlow(ctx, opts, actor, deadline, step) {
  const me = ctx.getActorUri(opts.username);
  const store = opts.store;

  // 1. Follow, signed by Fedify, to the target's own inbox.
  step("send Follow");
  const followId = ctx.getObjectUri(vocab.Follow, { id: randomUUID() });
  const follow = new vocab.Follow({ id: followId, actor: me, object: actor.id, to: actor.id });
  store.objects.set(followId.href, follow);
  if (!(await deliver(ctx, opts, "follow", follow, actor))) return;

  // 2. Accept(Follow) (or Reject) from the target.
  step(`wait for Accept(Follow ${followId.href}) from ${actor.id.href} in ${opts.username}'s inbox`);
  const answer = await waitForActivity(
    "Accept(Follow)",
    (r) => (r.type === "Accept" || r.type === "Reject") && r.objectId === followId.href,
    deadline,
  );
  const accepted = answer.type === "Accept";
  check(
    "follow.accepted",
    accepted && answer.actor === actor.id.href,
    `${answer.type} ${answer.id} from ${answer.actor} for ${answer.objectId} (${answer.inbox} inbox)`,
  );
  if (!accepted) return;
  store.following.push(actor.id);

  // 3. Make the target publish, if told how.
  if (opts.publishCmd) {
    step("run --publish-cmd");
    const result = await runPublishCommand(
      opts.publishCmd,
      { PEER_ACTOR: me.href, PEER_INBOX: ctx.getInboxUri(opts.username).href, TARGET_ACTOR: actor.id.href },
      deadline,
    );
    check(
      "publish-cmd",
      result.code === 0,
      `${opts.publishCmd} -> exit ${result.code}${result.signal ? ` (${result.signal})` : ""}: ${clip(result.output.trim(), 800)}`,
    );
    if (result.code !== 0) return;
  }

  // 4. Create(Note) from the target, to us or to its followers.
  step(`wait for Create(Note) from ${actor.id.href} addressed to ${opts.username} or to ${actor.followersId?.href}`);
  const create = await waitForActivity(
    "Create(Note)",
    (r) => r.type === "Create" && r.actor === actor.id.href && r.objectType === "Note",
    deadline,
  );
  check("note.attributedTo", create.attributedTo === actor.id.href, `attributedTo ${create.attributedTo}; expected ${actor.id.href}`);
  check("note.id.origin", create.objectId != null && new URL(create.objectId).origin === opts.target.origin, `Note id ${create.objectId}`);
  const audience = [...create.to, ...create.cc, ...(create.objectTo ?? []), ...(create.objectCc ?? [])];
  check(
    "note.addressing",
    audience.includes(me.href) || (actor.followersId != null && audience.includes(actor.followersId.href)),
    `to ${JSON.stringify(create.objectTo ?? create.to)}, cc ${JSON.stringify(create.objectCc ?? create.cc)}; expected ${me.href} or ${actor.followersId?.href}`,
  );
  check("note.content", typeof create.content === "string" && create.content.length > 0, `content ${JSON.stringify(create.content)}`);

  // 5. Reply and Like, as a fediverse user would.
  if (opts.reply) {
    step("reply to the Note and like it");
    const noteId = new URL(create.objectId);
    const handle = `@${report.info.actor?.preferredUsername}@${opts.target.host}`;
    const replyId = ctx.getObjectUri(vocab.Note, { id: randomUUID() });
    const to = [vocab.PUBLIC_COLLECTION, actor.id];
    const cc = [ctx.getFollowersUri(opts.username)];
    const reply = new vocab.Note({
      id: replyId,
      attribution: me,
      replyTarget: noteId,
      content: `<p><span class="h-card"><a href="${actor.id.href}" class="u-url mention">${handle}</a></span> Thanks, this works for me. (Fedify interop reply)</p>`,
      tos: to,
      ccs: cc,
      tags: [new vocab.Mention({ href: actor.id, name: handle })],
      published: Temporal.Now.instant(),
    });
    const createReply = new vocab.Create({
      id: ctx.getObjectUri(vocab.Create, { id: randomUUID() }),
      actor: me,
      object: reply,
      tos: to,
      ccs: cc,
      published: reply.published,
    });
    store.objects.set(replyId.href, reply);
    store.objects.set(createReply.id.href, createReply);
    store.outbox.push(createReply);
    await deliver(ctx, opts, "reply", createReply, actor, { sharedInbox: true });

    const like = new vocab.Like({ id: ctx.getObjectUri(vocab.Like, { id: randomUUID() }), actor: me, object: noteId, to: actor.id });
    store.objects.set(like.id.href, like);
    await deliver(ctx, opts, "like", like, actor);
    report.info.reply = { id: replyId.href, inReplyTo: noteId.href };

    // 5b. The target answers the reply (staff replying as the brand), mentioning us.
    if (opts.answerCmd) {
      step("run --answer-cmd");
      const result = await runPublishCommand(
        opts.answerCmd,
        { REPLY_URL: replyId.href, NOTE_URL: noteId.href, PEER_ACTOR: me.href, TARGET_ACTOR: actor.id.href },
        deadline,
      );
      check(
        "answer-cmd",
        result.code === 0,
        `${opts.answerCmd} -> exit ${result.code}${result.signal ? ` (${result.signal})` : ""}: ${clip(result.output.trim(), 800)}`,
      );
      if (result.code !== 0) return;
      step(`wait for Create(Note) from ${actor.id.href} in reply to ${replyId.href}`);
      const answer = await waitForActivity(
        "Create(Note) answering the reply",
        (r) => r.type === "Create" && r.actor === actor.id.href && r.objectType === "Note" && r.inReplyTo === replyId.href,
        deadline,
      );
      report.info.answer = answer;
      check("answer.inReplyTo", answer.inReplyTo === replyId.href, `inReplyTo ${answer.inReplyTo}; expected ${replyId.href}`);
      check("answer.attributedTo", answer.attributedTo === actor.id.href, `attributedTo ${answer.attributedTo}`);
      const mention = (answer.mentions ?? []).find((m) => m.href === me.href);
      check(
        "answer.mention",
        mention != null && typeof mention.name === "string" && mention.name.startsWith(`@${opts.username}@`),
        `Mention tags ${JSON.stringify(answer.mentions)}; expected one with href ${me.href} and name @${opts.username}@…`,
      );
      const answerAudience = [...answer.to, ...answer.cc, ...(answer.objectTo ?? []), ...(answer.objectCc ?? [])];
      check(
        "answer.addressing",
        answerAudience.includes(me.href),
        `to ${JSON.stringify(answer.objectTo ?? answer.to)}, cc ${JSON.stringify(answer.objectCc ?? answer.cc)}; expected ${me.href} (Mastodon notifies only an addressed, mentioned account)`,
      );
    }
  }

  // 6. Unfollow.
  if (opts.undo) {
    step("send Undo(Follow)");
    const undo = new vocab.Undo({ id: ctx.getObjectUri(vocab.Undo, { id: randomUUID() }), actor: me, object: follow, to: actor.id });
    store.objects.set(undo.id.href, undo);
    await deliver(ctx, opts, "undo-follow", undo, actor);
  }

  // 7. Whatever else Openhouse answers (replies, notifications…) lands in `received`.
  if (opts.settleMs > 0) {
    step("settle");
    await sleepUntil(deadline, opts.settleMs);
  }

  // What the Note looks like on Openhouse afterwards (information, not a check).
  if (opts.reply) {
    try {
      const note = await ctx.lookupObject(create.objectId, { signal: AbortSignal.timeout(Math.max(1, Math.min(10_000, deadline - Date.now()))) });
      if (note instanceof vocab.Note) {
        const replies = note.repliesId ? await ctx.lookupObject(note.repliesId).catch(() => null) : null;
        const likes = note.likesId ? await ctx.lookupObject(note.likesId).catch(() => null) : null;
        report.info.noteAfterReply = {
          id: note.id?.href,
          replies: note.repliesId?.href ?? null,
          repliesTotalItems: replies?.totalItems ?? null,
          likes: note.likesId?.href ?? null,
          likesTotalItems: likes?.totalItems ?? null,
        };
      }
    } catch (error) {
      report.info.noteAfterReply = { error: errorText(error) };
    }
  }
}

// ---------------------------------------------------------------------------------------
// Main

async function main() {
  const opts = parseCommandLine(process.argv.slice(2));
  const deadline = startedAt + opts.timeoutMs;
  report.mode = opts.mode;
  report.target = opts.target?.href ?? null;
  report.peer = { actor: `${opts.origin}/users/${opts.username}`, inbox: `${opts.origin}/users/${opts.username}/inbox`, sharedInbox: `${opts.origin}/inbox` };

  await configureLogging(opts.verbose);
  installFetchRecorder();

  let currentStep = "start";
  const step = (name) => {
    currentStep = name;
    process.stderr.write(`peer: ${name}\n`);
  };

  let server = null;
  let finished = false;
  const finish = async (code) => {
    if (finished) return;
    finished = true;
    report.finishedAt = new Date().toISOString();
    report.durationMs = Date.now() - startedAt;
    report.ok = code === EXIT_OK && report.checks.length > 0 && report.checks.every((c) => c.ok);
    if (code === EXIT_OK && !report.ok) code = EXIT_FAILED;
    const json = `${JSON.stringify(report, null, 2)}\n`;
    if (opts.reportPath) {
      await mkdir(dirname(opts.reportPath), { recursive: true });
      await writeFile(opts.reportPath, json);
    }
    for (const c of report.checks) process.stdout.write(`${c.ok ? "PASS" : "FAIL"} ${c.name}: ${c.detail}\n`);
    const passed = report.checks.filter((c) => c.ok).length;
    if (report.failure) process.stdout.write(`peer: ${report.failure}\n`);
    process.stdout.write(`${passed} passed, ${report.checks.length - passed} failed\n`);
    if (server) {
      server.closeAllConnections();
      server.close();
    }
    process.exit(code);
  };

  // The hard limit: whatever hangs, the peer stops by itself.
  setTimeout(() => {
    report.failure = `timed out after ${opts.timeoutMs / 1000}s during step: ${currentStep}`;
    check("timeout", false, report.failure);
    void finish(EXIT_TIMEOUT);
  }, opts.timeoutMs + 2000).unref();

  try {
    opts.store = { objects: new Map(), followers: [], following: [], outbox: [] };
    const federation = await buildFederation(opts, opts.store);
    step(`listen on ${opts.origin}`);
    server = await startServer(federation, opts);
    const ctx = federation.createContext(new URL(opts.origin), undefined);
    opts.ctx = ctx;

    if (opts.mode === "serve") {
      step(`serve ${report.peer.actor} for ${opts.timeoutMs / 1000}s`);
      await sleepUntil(deadline, opts.timeoutMs);
      check("serve", true, `served ${report.peer.actor} for ${opts.timeoutMs / 1000}s; ${report.received.length} activity(ies) received`);
      await finish(EXIT_OK);
      return;
    }

    const actor = await lookupChecks(ctx, opts, deadline, step);
    if (opts.mode === "follow") {
      if (actor == null) {
        check("follow", false, "not attempted: the target actor could not be looked up");
      } else {
        await followFlow(ctx, opts, actor, deadline, step);
      }
    }
    await finish(EXIT_OK);
  } catch (error) {
    if (error instanceof StepTimeout) {
      let hint = "";
      if (report.unverified.length > 0) {
        hint = `; meanwhile ${report.unverified.length} activity(ies) were refused for their signature: ${report.unverified.map((u) => `${u.type} ${u.id} (${u.reason}${u.keyFetch ? `, key ${u.keyId}: ${u.keyFetch}` : ""})`).join("; ")}`;
      } else if (report.inboxErrors.length > 0) {
        hint = `; inbox errors: ${report.inboxErrors.join("; ")}`;
      }
      report.failure = `timed out after ${opts.timeoutMs / 1000}s: missing ${error.message} (step: ${currentStep})${hint}`;
      check(`wait.${error.message}`, false, report.failure);
      await finish(EXIT_TIMEOUT);
    } else {
      report.failure = `internal error during step ${currentStep}: ${errorText(error)}`;
      check("internal", false, `${report.failure}\n${error?.stack ?? ""}`);
      await finish(EXIT_FAILED);
    }
  }
}

await main();
