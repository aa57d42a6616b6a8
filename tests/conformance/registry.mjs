// A real registry (Debian's docker-registry) on 127.0.0.1 with basic auth for one user, holding one small image built
// with umoci and pushed with skopeo as conformance/mini:v1 (tests/registry/loopback-registry.sh). Nothing leaves loopback.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { randomBytes } from "node:crypto";

const script = resolve(dirname(fileURLToPath(import.meta.url)), "..", "registry", "loopback-registry.sh");
const registryTool = (...args) => execFileSync("bash", [script, ...args], { encoding: "utf8" }).trim();

/**
 * Starts the registry in a new scratch folder (`work`, also free for the test's own files) and pushes the image.
 * Returns { work, port, user, password, image, stop() }; stop() ends the registry and removes the folder, also after a
 * failed start.
 */
export function startLoopbackRegistry(name, user) {
  const registry = {
    work: mkdtempSync(join(tmpdir(), `conformance-${name}-`)),
    user,
    password: "pw-" + randomBytes(8).toString("hex"),
    stop() {
      registryTool("stop", this.work);
      rmSync(this.work, { recursive: true, force: true });
    },
  };
  try {
    registryTool("image", registry.work);
    registry.port = registryTool("start", registry.work, "basic", user, registry.password);
    registryTool("push", registry.work, registry.port, "mini", "conformance/mini:v1", `${user}:${registry.password}`);
    registry.image = `127.0.0.1:${registry.port}/conformance/mini:v1`;
    return registry;
  } catch (error) {
    registry.stop();
    throw error;
  }
}
