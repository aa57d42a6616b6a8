// Service URLs and download links through the official SDK (0.12 ServiceUrl API).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { SandboxClient, LangSmithValidationError, LangSmithResourceNotFoundError } from "langsmith/sandbox";
import { request } from "node:http";
import { startServer, boxName } from "./server.mjs";

// GET that resolves every *.localhost name to loopback, as browsers do (glibc's resolver does not).
function getLocal(url, headers = {}) {
  return new Promise((resolvePromise, reject) => {
    const req = request(url, {
      headers,
      lookup: (hostname, options, callback) =>
        options?.all ? callback(null, [{ address: "127.0.0.1", family: 4 }]) : callback(null, "127.0.0.1", 4),
    }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk) => { body += chunk; });
      res.on("end", () => resolvePromise({ status: res.statusCode, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

let server;
let client;
let box;
let web;

async function waitFor(predicate, what, ms = 15_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await predicate()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

before(async () => {
  server = await startServer();
  client = new SandboxClient({ apiEndpoint: `${server.endpoint}/v2/sandboxes`, apiKey: server.apiKey });
  box = await client.createSandbox({ name: boxName("svc") });
  await box.write("/home/user/site/index.html", "<html><body><h1>Hello from the box</h1><a href=\"/page2.html\">next</a></body></html>");
  await box.write("/home/user/site/page2.html", "<html><body><p>Second page</p></body></html>");
  web = await box.run("cd /home/user/site && exec python3 -m http.server 8000 --bind 127.0.0.1", { wait: false, timeout: 0 });
  await waitFor(async () => (await box.run("python3 -c \"import socket; socket.create_connection(('127.0.0.1', 8000), 1)\"")).exit_code === 0, "http.server");
});
after(async () => {
  try { web?.kill(); } catch { /* already gone */ }
  await box?.delete().catch(() => {});
  await server?.stop();
});

test("token service URL serves the box's HTTP service through fetch()", async () => {
  const svc = await client.serviceUrl(box.name, { port: 8000, expiresInSeconds: 600 });
  assert.ok(await svc.token());
  assert.ok(new Date(await svc.expiresAt()).getTime() > Date.now() + 500_000);
  const page = await svc.fetch("/");
  assert.equal(page.status, 200);
  assert.match(await page.text(), /Hello from the box/);
  const second = await svc.fetch("/page2.html");
  assert.match(await second.text(), /Second page/);
});

test("without the token the service answers 401; a forged token is refused", async () => {
  const svc = await client.serviceUrl(box.name, { port: 8000 });
  const base = (await svc.serviceUrl()).replace(/\/+$/, "");
  const bare = await fetch(base + "/", { redirect: "manual" });
  assert.equal(bare.status, 401);
  const forged = await fetch(base + "/", { headers: { "X-Langsmith-Sandbox-Service-Token": (await svc.token()) + "x" } });
  assert.equal(forged.status, 401);
});

test("browser URL exchanges the token for a cookie and redirects to the service", async () => {
  const svc = await client.serviceUrl(box.name, { port: 8000 });
  const browserUrl = await svc.browserUrl();
  const login = await getLocal(browserUrl);
  assert.ok([302, 303, 307].includes(login.status), `status ${login.status}`);
  const cookie = [].concat(login.headers["set-cookie"] ?? [])[0];
  assert.ok(cookie, "a cookie is set");
  assert.match(cookie, /HttpOnly/i);
  const location = new URL(login.headers.location, browserUrl).toString();
  const page = await getLocal(location, { cookie: cookie.split(";")[0] });
  assert.equal(page.status, 200);
  assert.match(page.body, /Hello from the box/);
  const second = await getLocal(new URL("/page2.html", location).toString(), { cookie: cookie.split(";")[0] });
  assert.match(second.body, /Second page/);
  const withoutCookie = await getLocal(location);
  assert.equal(withoutCookie.status, 401);
});

test("nothing listening on the port is reported as not reachable", async () => {
  const svc = await client.serviceUrl(box.name, { port: 8999 });
  const response = await svc.fetch("/");
  assert.equal(response.status, 502);
  assert.match(await response.text(), /not reachable|nothing.*listening|no service/i);
});

test("service URL validation and unknown boxes", async () => {
  await assert.rejects(client.serviceUrl(box.name, { port: 0 }), LangSmithValidationError);
  await assert.rejects(client.serviceUrl("no-such-box-xyz", { port: 8000 }), LangSmithResourceNotFoundError);
});

test("download links serve the file without credentials, with Range", async () => {
  await box.write("/home/user/report.txt", "0123456789");
  const link = await box.generateDownloadURL("/home/user/report.txt", { expiresInSeconds: 600 });
  assert.ok(link.download_url);
  const whole = await fetch(link.download_url);
  assert.equal(whole.status, 200);
  assert.equal(await whole.text(), "0123456789");
  const part = await fetch(link.download_url, { headers: { Range: "bytes=2-4" } });
  assert.equal(part.status, 206);
  assert.equal(await part.text(), "234");
  const forever = await box.generateDownloadURL("/home/user/report.txt");
  assert.equal(forever.expires_at ?? null, null);
});
