// Starts the standalone Sandbox.Server (built by `dotnet build -c Release`) on a loopback port chosen by the OS,
// with its own temporary data folder, and returns what the official SDK needs to reach it.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { randomBytes } from "node:crypto";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

function serverCommand() {
  for (const config of ["Release", "Debug"]) {
    const dll = join(repoRoot, "src", "Sandbox.Server", "bin", config, "net10.0", "Sandbox.Server.dll");
    if (existsSync(dll)) return ["dotnet", [dll]];
  }
  return ["dotnet", ["run", "--project", join(repoRoot, "src", "Sandbox.Server"), "-c", "Release", "--"]];
}

export async function startServer() {
  const dataDir = mkdtempSync(join(tmpdir(), "sandbox-conformance-"));
  const apiKey = "conformance-" + randomBytes(12).toString("hex");
  const [command, args] = serverCommand();
  const child = spawn(command, [...args, "--urls", "http://127.0.0.1:0", "--data-dir", dataDir], {
    env: { ...process.env, SANDBOX_SERVER_API_KEY: apiKey, DOTNET_NOLOGO: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const abandon = (error) => {
    child.kill("SIGKILL");
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  };
  const endpoint = await new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error("server did not start within 60 s:\n" + output)), 60_000);
    const onData = (chunk) => {
      output += chunk.toString();
      const match = output.match(/LANGSMITH_ENDPOINT=(\S+)/);
      if (match) {
        clearTimeout(timer);
        resolvePromise(match[1].replace(/\/$/, ""));
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", (chunk) => { output += chunk.toString(); });
    child.on("exit", (code) => { clearTimeout(timer); reject(new Error(`server exited with ${code}:\n${output}`)); });
  }).catch(abandon);
  if (output.includes(apiKey)) {
    abandon(new Error("the server printed the configured API key; it must never log a key it was given"));
  }
  return {
    endpoint,          // e.g. http://127.0.0.1:41234 — what LANGSMITH_ENDPOINT should be
    apiKey,
    output: () => output,
    async stop() {
      child.kill("SIGTERM");
      await new Promise((r) => { if (child.exitCode !== null) r(); else child.once("exit", r); setTimeout(r, 10_000); });
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A unique box name for one test. */
export function boxName(prefix = "conf") {
  return `${prefix}-${randomBytes(4).toString("hex")}`;
}
