// Snapshots by image reference through the official SDK: a real registry (Debian's docker-registry) on 127.0.0.1 with
// basic auth, an image built with umoci and pushed with skopeo (tests/registry/loopback-registry.sh), the SDK's
// registries client (credentials write-only) and createSnapshot with registryId. Nothing leaves loopback.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { SandboxClient, LangSmithResourceCreationError } from "langsmith/sandbox";
import { startServer, boxName } from "./server.mjs";
import { startLoopbackRegistry } from "./registry.mjs";

let loopback;
let server;
let client;
let port;
let password;

before(async () => {
  loopback = startLoopbackRegistry("registry", "carol");
  ({ port, password } = loopback);
  server = await startServer();
  client = new SandboxClient({ apiEndpoint: `${server.endpoint}/v2/sandboxes`, apiKey: server.apiKey });
});
after(async () => {
  await server?.stop();
  loopback?.stop();
});

test("createSnapshot pulls an image from a private registry; a box boots from it with the image's config", async () => {
  const registry = await client.registries.create({ name: boxName("reg"), url: `127.0.0.1:${port}`, username: "carol", password });
  assert.ok(registry.id);
  const listed = JSON.stringify(await client.registries.list());
  assert.ok(listed.includes(registry.id));
  assert.ok(!listed.includes(password), "the password is never returned");

  const name = boxName("pulled");
  const snapshot = await client.createSnapshot(name, `127.0.0.1:${port}/conformance/mini:v1`, 1 << 30, { registryId: registry.id, timeout: 120 });
  assert.equal(snapshot.status, "ready");
  assert.match(snapshot.image_digest, /^sha256:[0-9a-f]{64}$/);

  const box = await client.createSandbox({ snapshotName: name });
  try {
    const result = await box.run("cat /etc/layer2; [ -e /usr/share/gone.txt ] || echo whiteout; echo $FOO; pwd", { shell: "/bin/sh" });
    assert.equal(result.stdout, "layer-two\nwhiteout\nfrom-image\n/srv\n");
  } finally {
    await box.delete().catch(() => {});
  }
});

test("a wrong registry password fails the snapshot with a clear ResourceCreationError", async () => {
  const registry = await client.registries.create({ name: boxName("badreg"), url: `127.0.0.1:${port}`, username: "carol", password: "wrong" });
  await assert.rejects(client.createSnapshot(boxName("denied"), `127.0.0.1:${port}/conformance/mini:v1`, 0, { registryId: registry.id }), (error) => {
    assert.ok(error instanceof LangSmithResourceCreationError, `got ${error?.name}: ${error?.message}`);
    assert.match(error.message, /credentials of registry '.*' were rejected/);
    return true;
  });
});
