// Control plane through the official SDK: create, get, list, update, status, stop/start, delete, snapshots,
// and the typed errors the SDK raises for the server's answers.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  SandboxClient,
  LangSmithSandboxAuthenticationError,
  LangSmithResourceNotFoundError,
  LangSmithResourceNameConflictError,
  LangSmithValidationError,
  LangSmithSandboxError,
} from "langsmith/sandbox";
import { startServer, boxName } from "./server.mjs";

let server;
let client;

before(async () => {
  server = await startServer();
  client = new SandboxClient({ apiEndpoint: `${server.endpoint}/v2/sandboxes`, apiKey: server.apiKey });
});
after(async () => { await server?.stop(); });

test("the SDK's environment defaults (0.12: /api/v2/sandboxes) reach the server", async () => {
  const saved = { ...process.env };
  try {
    process.env.LANGSMITH_ENDPOINT = server.endpoint;
    process.env.LANGSMITH_API_KEY = server.apiKey;
    const fromEnv = new SandboxClient();
    const boxes = await fromEnv.listSandboxes();
    assert.ok(Array.isArray(boxes));
  } finally {
    process.env = saved;
  }
});

test("create, get, list, status and delete a box", async () => {
  const name = boxName();
  const box = await client.createSandbox({ name });
  assert.equal(box.name, name);
  assert.equal(box.status, "ready");
  assert.ok(box.id, "box has an id");
  assert.ok(box.dataplane_url && !box.dataplane_url.endsWith("/"), "dataplane_url without trailing slash");

  const fetched = await client.getSandbox(name);
  assert.equal(fetched.id, box.id);
  const listed = await client.listSandboxes();
  assert.ok(listed.some((b) => b.name === name));
  const status = await client.getSandboxStatus(name);
  assert.equal(status.status, "ready");

  await client.deleteSandbox(name);
  await assert.rejects(client.getSandbox(name), (error) => {
    assert.ok(error instanceof LangSmithResourceNotFoundError, `got ${error?.name}`);
    assert.equal(error.resourceType, "sandbox");
    return true;
  });
});

test("create echoes resources, retention, labels and run config", async () => {
  const name = boxName();
  const box = await client.createSandbox({
    name,
    idleTtlSeconds: 600,
    deleteAfterStopSeconds: 3600,
    memBytes: 512 * 1024 * 1024,
    labels: { team: "conformance" },
    runConfig: { work_dir: "/home/user", env_vars: { CONFORMANCE: "1" } },
  });
  try {
    assert.equal(box.idle_ttl_seconds, 600);
    assert.equal(box.delete_after_stop_seconds, 3600);
    assert.equal(box.mem_bytes, 512 * 1024 * 1024);
    assert.equal(box.labels?.team, "conformance");
    const result = await box.run("echo $CONFORMANCE; pwd");
    assert.equal(result.stdout, "1\n/home/user\n");
  } finally {
    await box.delete();
  }
});

test("rename, retention update, and name conflicts", async () => {
  const a = await client.createSandbox({ name: boxName("a") });
  const b = await client.createSandbox({ name: boxName("b") });
  try {
    const renamed = await client.updateSandbox(a.name, { newName: a.name + "-r", idleTtlSeconds: 1200 });
    assert.equal(renamed.name, a.name + "-r");
    assert.equal(renamed.idle_ttl_seconds, 1200);
    await assert.rejects(client.updateSandbox(b.name, { newName: renamed.name }), (error) => {
      assert.ok(error instanceof LangSmithResourceNameConflictError, `got ${error?.name}`);
      return true;
    });
    await assert.rejects(client.updateSandbox("no-such-box-xyz", { idleTtlSeconds: 60 }), LangSmithResourceNotFoundError);
    await client.deleteSandbox(renamed.name);
  } finally {
    await client.deleteSandbox(b.name).catch(() => {});
    await client.deleteSandbox(a.name).catch(() => {});
  }
});

test("stop keeps files, start brings the box back ready", async () => {
  const box = await client.createSandbox({ name: boxName() });
  try {
    await box.write("/home/user/kept.txt", "still here");
    await box.stop();
    assert.equal((await client.getSandboxStatus(box.name)).status, "stopped");
    await box.start({ timeout: 60 });
    assert.equal((await client.getSandboxStatus(box.name)).status, "ready");
    const content = new TextDecoder().decode(await box.read("/home/user/kept.txt"));
    assert.equal(content, "still here");
  } finally {
    await box.delete();
  }
});

test("a data-plane request resumes a stopped box", async () => {
  const box = await client.createSandbox({ name: boxName() });
  try {
    await box.stop();
    const result = await box.run("echo resumed");
    assert.equal(result.stdout, "resumed\n");
  } finally {
    await box.delete();
  }
});

test("wrong API key is an authentication error", async () => {
  const bad = new SandboxClient({ apiEndpoint: `${server.endpoint}/v2/sandboxes`, apiKey: "wrong-key" });
  await assert.rejects(bad.listSandboxes(), LangSmithSandboxAuthenticationError);
  const none = new SandboxClient({ apiEndpoint: `${server.endpoint}/v2/sandboxes`, apiKey: "" });
  await assert.rejects(none.listSandboxes(), LangSmithSandboxAuthenticationError);
});

test("invalid create values are validation errors, unknown snapshots are refused", async () => {
  await assert.rejects(client.createSandbox({ name: boxName(), vCpus: -2 }), LangSmithValidationError);
  await assert.rejects(client.createSandbox({ name: "bad name/with slash" }), LangSmithSandboxError);
  await assert.rejects(client.createSandbox({ snapshotName: "no-such-snapshot-xyz" }), LangSmithSandboxError);
});

test("offline-impossible mounts are refused, never silently accepted", async () => {
  await assert.rejects(
    client.createSandbox({
      name: boxName(),
      mountConfig: {
        auth: {},
        mounts: [{ id: "gcs", type: "gcs", mount_path: "/mnt/mounts/g", gcs: { bucket: "b" } }],
      },
    }),
    LangSmithSandboxError,
  );
});

test("snapshots: default listed, unknown id not found, capture a box and boot from the capture", async () => {
  const snapshots = await client.listSnapshots();
  assert.ok(snapshots.some((s) => s.name === "default" && s.status === "ready"), "default snapshot listed");
  await assert.rejects(client.getSnapshot("no-such-snapshot"), (error) => {
    assert.ok(error instanceof LangSmithResourceNotFoundError, `got ${error?.name}`);
    assert.equal(error.resourceType, "snapshot");
    return true;
  });

  const source = await client.createSandbox({ name: boxName("src") });
  let captured;
  try {
    await source.write("/home/user/from-source.txt", "captured content");
    captured = await source.captureSnapshot(boxName("snap"), { timeout: 120 });
    assert.equal(captured.status, "ready");
    const child = await client.createSandbox(captured.id, { name: boxName("child") });
    try {
      const text = new TextDecoder().decode(await child.read("/home/user/from-source.txt"));
      assert.equal(text, "captured content");
    } finally {
      await child.delete();
    }
  } finally {
    await source.delete();
    if (captured) await client.deleteSnapshot(captured.id);
  }
  if (captured) await assert.rejects(client.getSnapshot(captured.id), LangSmithResourceNotFoundError);
});

test("a docker image on a registry the server cannot reach fails with a message naming the registry", async () => {
  // A loopback port nothing listens on: the pull fails at once and no traffic leaves the machine.
  await assert.rejects(client.createSnapshot(boxName("img"), "127.0.0.1:1/library/python:3.12-slim", 1 << 30), (error) => {
    assert.ok(error instanceof LangSmithSandboxError, `got ${error?.name}`);
    assert.match(error.message, /127\.0\.0\.1/);
    assert.match(error.message, /could not be reached/i);
    return true;
  });
});
