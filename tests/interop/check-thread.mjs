// Converse mode, after the peer: what Openhouse itself shows about the conversation the peer
// had with acme. Prints one PASS/FAIL line per check and a summary; exits 1 when one failed.
//
//   node check-thread.mjs <peer report.json> <Openhouse origin> <API token>
import { readFile } from "node:fs/promises";

const [reportPath, origin, token] = process.argv.slice(2);
if (!reportPath || !origin || !token) {
  process.stderr.write("usage: node check-thread.mjs <report.json> <origin> <api token>\n");
  process.exit(3);
}
const report = JSON.parse(await readFile(reportPath, "utf8"));
const replyId = report.info?.reply?.id;
const noteId = report.info?.reply?.inReplyTo;
const answerId = report.info?.answer?.objectId;
const checks = [];
const check = (name, ok, detail) => checks.push({ name, ok: Boolean(ok), detail });

async function get(url, headers) {
  const response = await fetch(url, { headers, signal: AbortSignal.timeout(10_000), redirect: "manual" });
  return { status: response.status, type: response.headers.get("content-type") ?? "", text: await response.text() };
}

async function eventually(fn, ms = 15_000) {
  const until = Date.now() + ms;
  for (;;) {
    const result = await fn();
    if (result.ok || Date.now() > until) return result;
    await new Promise((r) => setTimeout(r, 300));
  }
}

if (!replyId || !noteId || !answerId) {
  check("openhouse.inputs", false, `the peer report lacks the reply, the Note or the answer: ${JSON.stringify(report.info?.reply)}`);
} else {
  // The update's page shows the reply nested under it, the answer under the reply, one like.
  const page = await eventually(async () => {
    const r = await get(noteId, { accept: "text/html" });
    const replyAt = r.text.indexOf(`data-ap-id="${replyId}"`);
    const answerAt = r.text.indexOf(`data-ap-id="${answerId}"`);
    const likes = /class="count likes"[^>]*data-count="(\d+)"/.exec(r.text)?.[1];
    return { ok: r.status === 200 && replyAt > 0 && answerAt > replyAt && likes === "1", r, replyAt, answerAt, likes };
  });
  check(
    "openhouse.thread",
    page.r.status === 200 && page.replyAt > 0 && page.answerAt > page.replyAt,
    `GET ${noteId} (text/html): ${page.r.status}; reply ${page.replyAt > 0 ? "shown" : "missing"}, answer ${page.answerAt > page.replyAt ? "shown after it" : "missing"}`,
  );
  check("openhouse.likes", page.likes === "1", `like count on the page: ${page.likes ?? "none"}; expected 1`);

  // The conversations API: the reply was answered, by that answer, with a time to respond.
  const api = await eventually(async () => {
    const r = await get(`${origin}/api/v1/conversations?state=answered&actor=acme`, { authorization: `Bearer ${token}` });
    let item = null;
    try {
      item = JSON.parse(r.text).items?.find((i) => i.post?.url === replyId) ?? null;
    } catch {}
    return { ok: r.status === 200 && item?.answer?.url === answerId, r, item };
  });
  const item = api.item;
  check(
    "openhouse.conversation",
    api.r.status === 200 && item != null && item.answered === true && item.answer?.url === answerId,
    `GET /api/v1/conversations?state=answered: ${api.r.status}; ${item ? JSON.stringify({ answered: item.answered, answer: item.answer, author: item.author?.handle }) : "the reply is not listed"}`,
  );
  check(
    "openhouse.conversation.thread_root",
    item?.thread_root?.url === noteId,
    `thread root ${item?.thread_root?.url}; expected ${noteId}`,
  );
  check(
    "openhouse.conversation.response_time",
    typeof item?.time_to_first_response_seconds === "number" && item.time_to_first_response_seconds >= 0,
    `time to first response: ${item?.time_to_first_response_seconds}`,
  );
}

for (const c of checks) process.stdout.write(`${c.ok ? "PASS" : "FAIL"} ${c.name}: ${c.detail}\n`);
const passed = checks.filter((c) => c.ok).length;
process.stdout.write(`openhouse side: ${passed} passed, ${checks.length - passed} failed\n`);
process.exit(passed === checks.length ? 0 : 1);
