// Files through the official SDK: text, binary, large, stat, ranged reads, glob, ls, grep, and errors.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { randomBytes, createHash } from "node:crypto";
import { SandboxClient, LangSmithResourceNotFoundError } from "langsmith/sandbox";
import { startServer, boxName } from "./server.mjs";

let server;
let client;
let box;

before(async () => {
  server = await startServer();
  client = new SandboxClient({ apiEndpoint: `${server.endpoint}/v2/sandboxes`, apiKey: server.apiKey });
  box = await client.createSandbox({ name: boxName("files") });
});
after(async () => {
  await box?.delete().catch(() => {});
  await server?.stop();
});

test("text round trip, parent folders created, visible to commands", async () => {
  await box.write("/home/user/deep/er/note.txt", "héllo wörld\n");
  const back = new TextDecoder().decode(await box.read("/home/user/deep/er/note.txt"));
  assert.equal(back, "héllo wörld\n");
  const cat = await box.run("cat /home/user/deep/er/note.txt");
  assert.equal(cat.stdout, "héllo wörld\n");
});

test("relative paths resolve from /home/user", async () => {
  await box.write("relative.txt", "rel");
  const result = await box.run("cat /home/user/relative.txt");
  assert.equal(result.stdout, "rel");
});

test("binary round trip is byte exact", async () => {
  const bytes = new Uint8Array([0, 1, 2, 3, 255, 254, 0x80, 0x0a, 0x0d]);
  await box.write("/home/user/data.bin", bytes);
  assert.deepEqual(new Uint8Array(await box.read("/home/user/data.bin")), bytes);
});

test("a large file (20 MB) round trips intact", async () => {
  const big = randomBytes(20 * 1024 * 1024);
  await box.write("/home/user/big.bin", big, 120);
  const back = await box.read("/home/user/big.bin", 120);
  assert.equal(back.length, big.length);
  assert.equal(createHash("sha256").update(back).digest("hex"), createHash("sha256").update(big).digest("hex"));
  const sum = await box.run("sha256sum /home/user/big.bin | cut -d' ' -f1");
  assert.equal(sum.stdout.trim(), createHash("sha256").update(big).digest("hex"));
});

test("reading a missing file is a not-found error of type file", async () => {
  await assert.rejects(box.read("/home/user/nope.txt"), (error) => {
    assert.ok(error instanceof LangSmithResourceNotFoundError, `got ${error?.name}`);
    assert.equal(error.resourceType, "file");
    return true;
  });
});

test("stat and ranged reads", async () => {
  await box.write("/home/user/range.txt", "0123456789abcdef");
  const stat = await box.stat("/home/user/range.txt");
  assert.equal(stat.size_bytes, 16);
  assert.ok(stat.etag);

  const part = await box.readRange("/home/user/range.txt", { start: 4, end: 7 });
  assert.equal(new TextDecoder().decode(part.content), "4567");
  assert.equal(part.partial, true);
  assert.equal(part.start, 4);
  assert.equal(part.total_bytes, 16);

  const tail = await box.readRange("/home/user/range.txt", { suffixBytes: 3 });
  assert.equal(new TextDecoder().decode(tail.content), "def");

  const same = await box.readRange("/home/user/range.txt", { start: 0, ifNoneMatch: stat.etag });
  assert.equal(same.unchanged, true);

  await assert.rejects(box.readRange("/home/user/range.txt", { start: 100 }));
});

test("glob, ls and grep", async () => {
  await box.write("/home/user/proj/src/app.py", "import os\nprint('hi')\n");
  await box.write("/home/user/proj/src/util.py", "def f():\n    return 'needle'\n");
  await box.write("/home/user/proj/README.md", "needle in docs\n");

  const py = await box.glob("**/*.py", "/home/user/proj");
  assert.deepEqual(py.matches.map((m) => m.path).sort(), ["/home/user/proj/src/app.py", "/home/user/proj/src/util.py"]);
  assert.ok(py.matches.every((m) => m.is_dir === false && m.size_bytes > 0));

  const ls = await box.ls("/home/user/proj");
  const names = ls.matches.map((m) => m.path).sort();
  assert.deepEqual(names, ["/home/user/proj/README.md", "/home/user/proj/src"]);
  assert.equal(ls.matches.find((m) => m.path.endsWith("/src")).is_dir, true);

  const grep = await box.grep("needle", "/home/user/proj");
  assert.deepEqual(grep.matches.map((m) => `${m.path}:${m.line}`).sort(), [
    "/home/user/proj/README.md:1",
    "/home/user/proj/src/util.py:2",
  ]);
  const onlyPy = await box.grep("needle", "/home/user/proj", { glob: "*.py" });
  assert.equal(onlyPy.matches.length, 1);
});
