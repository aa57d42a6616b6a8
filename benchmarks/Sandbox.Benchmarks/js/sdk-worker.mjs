// The official langsmith JS SDK (the copy tests/conformance installs) driven by the benchmark harness: one JSON request
// per stdin line, one JSON answer per stdout line, so its measurements interleave with the C# client's in one run.
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { createInterface } from "node:readline";
import { readFileSync, writeFileSync } from "node:fs";

const [conformanceDir, endpoint, apiKey] = process.argv.slice(2);
const require = createRequire(conformanceDir + "/package.json");
const { SandboxClient } = await import(pathToFileURL(require.resolve("langsmith/sandbox")).href);
const client = new SandboxClient({ apiEndpoint: `${endpoint}/api/v2/sandboxes`, apiKey });
const boxes = new Map();

async function box(name) {
  if (!boxes.has(name)) boxes.set(name, await client.getSandbox(name));
  return boxes.get(name);
}

const ops = {
  async run({ box: name, cmd }) {
    const b = await box(name);
    const t = performance.now();
    const result = await b.run(cmd, { timeout: 600 });
    return { ms: performance.now() - t, exit: result.exit_code, bytes: Buffer.byteLength(result.stdout) };
  },
  async stream({ box: name, cmd }) {
    const b = await box(name);
    const t = performance.now();
    const result = await b.run(cmd, { timeout: 600 });
    const ms = performance.now() - t;
    return { ms, exit: result.exit_code, bytes: Buffer.byteLength(result.stdout) };
  },
  async throughput({ boxes: names, per }) {
    const list = await Promise.all(names.map(box));
    const t = performance.now();
    await Promise.all(list.map(async (b) => { for (let i = 0; i < per; i++) await b.run("true"); }));
    return { ms: performance.now() - t };
  },
  async create() {
    const t = performance.now();
    const b = await client.createSandbox();
    const ms = performance.now() - t;
    boxes.set(b.name, b);
    return { ms, name: b.name };
  },
  async delete({ box: name }) {
    const t = performance.now();
    await client.deleteSandbox(name);
    boxes.delete(name);
    return { ms: performance.now() - t };
  },
  async createMany({ count, concurrency }) {
    const names = [];
    let next = 0;
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (next < count) {
        next++;
        names.push((await client.createSandbox()).name);
      }
    }));
    return { names };
  },
  async deleteMany({ boxes: names, concurrency }) {
    let next = 0;
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (next < names.length) await client.deleteSandbox(names[next++]);
    }));
    return {};
  },
  async upload({ box: name, path, file }) {
    const b = await box(name);
    const content = readFileSync(file);
    const t = performance.now();
    await b.write(path, content, 600);
    return { ms: performance.now() - t };
  },
  async download({ box: name, path, file }) {
    const b = await box(name);
    const t = performance.now();
    const content = await b.read(path, 600);
    writeFileSync(file, content);
    return { ms: performance.now() - t, bytes: content.length };
  },
};

const lines = createInterface({ input: process.stdin });
process.stdout.write(JSON.stringify({ ready: true }) + "\n");
for await (const line of lines) {
  const request = JSON.parse(line);
  try {
    const answer = await ops[request.op](request);
    process.stdout.write(JSON.stringify(answer) + "\n");
  } catch (error) {
    process.stdout.write(JSON.stringify({ error: String(error?.stack ?? error) }) + "\n");
  }
}
