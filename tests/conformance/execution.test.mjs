// Command execution through the official SDK over the WebSocket protocol: blocking runs, streaming,
// stdin, kill, timeouts, reconnect from offsets without loss, and pty.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  SandboxClient,
  LangSmithCommandTimeoutError,
  LangSmithSandboxOperationError,
} from "langsmith/sandbox";
import { startServer, boxName } from "./server.mjs";

let server;
let client;
let box;

before(async () => {
  server = await startServer();
  client = new SandboxClient({ apiEndpoint: `${server.endpoint}/api/v2/sandboxes`, apiKey: server.apiKey });
  box = await client.createSandbox({ name: boxName("exec") });
});
after(async () => {
  await box?.delete().catch(() => {});
  await server?.stop();
});

test("run returns stdout, stderr and exit code; non-zero exit is a result", async () => {
  const ok = await box.run("echo out; echo err >&2");
  assert.deepEqual([ok.stdout, ok.stderr, ok.exit_code], ["out\n", "err\n", 0]);
  const failed = await box.run("exit 7");
  assert.equal(failed.exit_code, 7);
  const missing = await box.run("definitely-not-a-command-xyz");
  assert.equal(missing.exit_code, 127);
});

test("env, cwd and shell are honoured", async () => {
  const result = await box.run("echo $GREETING; pwd", { env: { GREETING: "hi" }, cwd: "/tmp" });
  assert.equal(result.stdout, "hi\n/tmp\n");
  const sh = await box.run("echo $0", { shell: "/bin/sh" });
  assert.match(sh.stdout, /sh/);
});

test("streaming delivers chunks with byte offsets in order (callbacks and iteration)", async () => {
  const seen = [];
  const result = await box.run("for i in 1 2 3; do echo line$i; sleep 0.05; done; printf '😀' >&2", {
    onStdout: (data) => seen.push(data),
  });
  assert.equal(seen.join(""), "line1\nline2\nline3\n");
  assert.equal(result.stdout, "line1\nline2\nline3\n");
  assert.equal(result.stderr, "😀");

  const handle = await box.run("printf abc; sleep 0.1; printf def", { wait: false });
  const chunks = [];
  for await (const chunk of handle) chunks.push(chunk);
  const stdout = chunks.filter((c) => c.stream === "stdout");
  assert.equal(stdout.map((c) => c.data).join(""), "abcdef");
  let expected = 0;
  for (const chunk of stdout) {
    assert.equal(chunk.offset, expected);
    expected += Buffer.byteLength(chunk.data, "utf8");
  }
  assert.equal(handle.lastStdoutOffset, 6);
});

test("stdin: closed by default (EOF), and streamed input when kept open", async () => {
  const eof = await box.run("cat; echo done", { timeout: 10 });
  assert.equal(eof.stdout, "done\n");

  const handle = await box.run("read a; read b; echo \"$b $a\"", { wait: false, closeInput: false, timeout: 20 });
  handle.sendInput("first\n");
  handle.sendInput("second\n");
  const result = await handle.result;
  assert.equal(result.stdout, "second first\n");

  const wc = await box.run("wc -c", { wait: false, closeInput: false, timeout: 20 });
  wc.sendInput("12345");
  wc.closeInput();
  assert.equal((await wc.result).stdout.trim(), "5");
});

test("kill ends the whole process tree with a non-zero exit", async () => {
  const handle = await box.run("sleep 300 & sleep 300; echo never", { wait: false, timeout: 0 });
  await handle._ensureStarted?.();
  await new Promise((r) => setTimeout(r, 200));
  handle.kill();
  const result = await handle.result;
  assert.notEqual(result.exit_code, 0);
  assert.doesNotMatch(result.stdout, /never/);
  // Neither the killed command's processes nor zombies of them remain in the box.
  const left = await box.run("ps -eo stat=,args= | awk '$1 ~ /^Z/ || $0 ~ /sleep 300$/' | wc -l");
  assert.equal(left.stdout.trim(), "0");
});

test("timeout raises the command-timeout error and kills the command", async () => {
  await assert.rejects(box.run("sleep 30", { timeout: 1 }), (error) => {
    assert.ok(error instanceof LangSmithCommandTimeoutError, `got ${error?.name}`);
    return true;
  });
});

test("reconnect by command id from offsets loses nothing", async () => {
  const handle = await box.run("for i in $(seq 1 20); do echo n$i; sleep 0.05; done", { wait: false, timeout: 60 });
  const first = [];
  for await (const chunk of handle) {
    first.push(chunk.data);
    if (first.join("").includes("n3\n")) break;
  }
  const offset = Buffer.byteLength(first.join(""), "utf8");
  const commandId = handle.commandId;
  assert.ok(commandId);

  const again = await box.reconnect(commandId, { stdoutOffset: offset, stderrOffset: 0 });
  const rest = [];
  for await (const chunk of again) rest.push(chunk.data);
  const all = first.join("") + rest.join("");
  const expected = Array.from({ length: 20 }, (_, i) => `n${i + 1}\n`).join("");
  assert.equal(all, expected);
});

test("execute with an existing command id attaches instead of running twice", async () => {
  const commandId = "0193a1c2-0000-7000-8000-" + Date.now().toString(16).padStart(12, "0").slice(-12);
  const one = await box.run("echo run >> /home/user/idempotent.log; sleep 0.3; echo hi", { wait: false, commandId });
  const two = await box.run("echo run >> /home/user/idempotent.log; sleep 0.3; echo hi", { wait: false, commandId });
  assert.equal((await one.result).stdout, "hi\n");
  assert.equal((await two.result).stdout, "hi\n");
  const log = await box.run("cat /home/user/idempotent.log | wc -l");
  assert.equal(log.stdout.trim(), "1");
});

test("reconnect to an unknown command id is an operation error", async () => {
  const handle = await box.reconnect("no-such-command-id");
  await assert.rejects(handle.result, (error) => {
    assert.ok(error instanceof LangSmithSandboxOperationError, `got ${error?.name}`);
    assert.match(error.message, /not found/i);
    return true;
  });
});

test("pty allocates a terminal", async () => {
  const result = await box.run("test -t 1 && echo tty || echo notty", { pty: true });
  assert.match(result.stdout, /tty/);
  assert.doesNotMatch(result.stdout, /notty/);
});

test("large output streams completely", async () => {
  const result = await box.run("head -c 3000000 /dev/zero | tr '\\0' 'x'", { timeout: 60 });
  assert.equal(result.stdout.length, 3_000_000);
});
