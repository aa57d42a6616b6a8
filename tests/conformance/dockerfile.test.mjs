// Snapshots from a Dockerfile through the official SDK's createSnapshotFromDockerfile (spec §6.18): the SDK creates a
// builder box, uploads the context tar, runs its BuildKit script and captures the tag; the local server builds the
// Dockerfile itself (FROM an image pushed to a loopback registry; RUN in a build box; COPY from the context; ENV and
// WORKDIR into the snapshot). Nothing leaves loopback.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync, mkdirSync, symlinkSync } from "node:fs";
import { join, dirname } from "node:path";
import { SandboxClient, LangSmithResourceCreationError } from "langsmith/sandbox";
import { startServer, boxName } from "./server.mjs";
import { startLoopbackRegistry } from "./registry.mjs";

let registry;
let server;
let client;

before(async () => {
  registry = startLoopbackRegistry("dockerfile", "dave");
  server = await startServer();
  client = new SandboxClient({ apiEndpoint: `${server.endpoint}/v2/sandboxes`, apiKey: server.apiKey });
  await client.registries.create({ name: boxName("reg"), url: `127.0.0.1:${registry.port}`, username: registry.user, password: registry.password });
});
after(async () => {
  await server?.stop();
  registry?.stop();
});

function context(files) {
  const dir = mkdtempSync(join(registry.work, "context-"));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    if (content.symlink) symlinkSync(content.symlink, join(dir, path));
    else writeFileSync(join(dir, path), content);
  }
  return dir;
}

test("createSnapshotFromDockerfile: RUN, COPY, ENV and WORKDIR end up in the snapshot and its boxes", async () => {
  const dir = context({
    Dockerfile: [
      `FROM ${registry.image}`,
      "ARG WHO=someone",
      "ENV GREETING=\"hello $WHO\"",
      "WORKDIR /work/app",
      "COPY data/ ./data/",
      "RUN echo \"$GREETING from $(pwd)\" > made.txt",
      "",
    ].join("\n"),
    "data/one.txt": "one\n",
  });
  const log = [];
  const name = boxName("dockerfile");
  const snapshot = await client.createSnapshotFromDockerfile(name, "Dockerfile", {
    context: dir, buildArgs: { WHO: "sdk" }, timeout: 300, onBuildLog: (chunk) => log.push(chunk),
  });
  assert.equal(snapshot.status, "ready");
  assert.equal(snapshot.name, name);
  assert.match(log.join(""), /step 6\/6 RUN echo/);

  const box = await client.createSandbox({ snapshotName: name });
  try {
    const result = await box.run("pwd; echo \"$GREETING\"; cat data/one.txt made.txt", { shell: "/bin/sh" });
    assert.equal(result.stdout, "/work/app\nhello sdk\none\nhello sdk from /work/app\n");
  } finally {
    await box.delete().catch(() => {});
  }
});

test("createSnapshotFromDockerfile: a failing RUN is named in the build log; a COPY out of the context is refused", async () => {
  for (const [files, expected] of [
    [{ Dockerfile: `FROM ${registry.image}\nRUN echo boom >&2; exit 7\n` }, /step 2\/2 RUN echo boom >&2; exit 7 failed with exit 7: boom/],
    [{ Dockerfile: `FROM ${registry.image}\nCOPY link /x\n`, link: { symlink: "/etc/passwd" } }, /COPY source 'link' is outside the build context/],
  ]) {
    const log = [];
    const name = boxName("failing");
    await assert.rejects(client.createSnapshotFromDockerfile(name, "Dockerfile", { context: context(files), timeout: 300, onBuildLog: (c) => log.push(c) }), (error) => {
      assert.ok(error instanceof LangSmithResourceCreationError, `got ${error?.name}: ${error?.message}`);
      return true;
    });
    assert.match(log.join(""), expected);
    const snapshots = await client.listSnapshots();
    assert.ok(!snapshots.some((s) => s.name === name || s.name.startsWith("langsmith-snapshot-build:")), "nothing half-made is left");
  }
});
