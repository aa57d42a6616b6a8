// Persistent JavaScript (Node.js vm) interpreter driven by Sandbox.AgentTools over stdin/stdout.
// Protocol: one JSON request per line on stdin: {"id", "code", "out_dir", "env"}.
// After each request the driver writes "\n<marker>\n" to stderr, then "\n<marker><status json>\n" to stdout.
'use strict';
const fs = require('fs');
const path = require('path');
const readline = require('readline');
const util = require('util');
const vm = require('vm');
const { createRequire } = require('module');

const MARK = process.env.SANDBOX_REPL_MARKER || '';
delete process.env.SANDBOX_REPL_MARKER;
const IMAGE_EXT = ['.png', '.jpg', '.jpeg', '.gif', '.webp', '.svg'];

const context = vm.createContext({
  console, process, Buffer, URL, URLSearchParams, TextEncoder, TextDecoder, AbortController, structuredClone,
  setTimeout, clearTimeout, setInterval, clearInterval, setImmediate, clearImmediate, queueMicrotask,
  fetch: globalThis.fetch, require: createRequire(path.join(process.cwd(), '__repl__.js')),
  module: { exports: {} }, __dirname: process.cwd(), __filename: path.join(process.cwd(), '__repl__.js'),
});

let interruptCurrent = null;
process.on('SIGINT', () => { if (interruptCurrent) { interruptCurrent(); } });
process.on('uncaughtException', (e) => { process.stderr.write('Uncaught exception (from earlier code): ' + ((e && e.stack) || String(e)) + '\n'); });
process.on('unhandledRejection', (e) => { process.stderr.write('Unhandled rejection: ' + ((e && e.stack) || String(e)) + '\n'); });

class Interrupted extends Error {}

function images(outDir) {
  try {
    return fs.readdirSync(outDir).sort()
      .filter((n) => IMAGE_EXT.includes(path.extname(n).toLowerCase()))
      .map((n) => path.join(outDir, n));
  } catch { return []; }
}

function finish(id, status, error, imgs) {
  process.stderr.write('\n' + MARK + '\n');
  process.stdout.write('\n' + MARK + JSON.stringify({ id, status, error, images: imgs }) + '\n');
}

async function handle(line, previousOut) {
  const req = JSON.parse(line);
  const outDir = req.out_dir || '/tmp/.sandbox-tools/out/default';
  // One directory per interpreter, emptied before each call (the tool has read the previous call's images by then).
  if (previousOut && previousOut !== outDir) { fs.rmSync(previousOut, { recursive: true, force: true }); }
  let existing = null;
  try { existing = fs.readdirSync(outDir); } catch { fs.mkdirSync(outDir, { recursive: true }); }
  for (const name of existing || []) { fs.rmSync(path.join(outDir, name), { recursive: true, force: true }); }
  Object.assign(process.env, req.env || {});
  process.env.SANDBOX_OUTPUT_DIR = outDir;
  let status = 'ok';
  let error = null;
  try {
    let result;
    try {
      result = vm.runInContext(req.code || '', context, { filename: 'cell.js', breakOnSigint: true });
    } catch (e) {
      // Top-level await: run the cell as an async function (its let/const then stay local to the cell).
      if (!e || e.name !== 'SyntaxError' || !/await is only valid/.test(e.message)) { throw e; }
      result = vm.runInContext('(async () => {\n' + req.code + '\n})()', context, { filename: 'cell.js', breakOnSigint: true });
    }
    if (result && typeof result.then === 'function') {
      result = await new Promise((resolve, reject) => {
        interruptCurrent = () => reject(new Interrupted('interrupted'));
        result.then(resolve, reject);
      });
    }
    if (result !== undefined) { process.stdout.write(util.inspect(result) + '\n'); }
  } catch (e) {
    if (e instanceof Interrupted || (e && e.code === 'ERR_SCRIPT_EXECUTION_INTERRUPTED')) {
      status = 'interrupted';
      error = 'Interrupted';
      process.stderr.write('Interrupted: execution was interrupted\n');
    } else {
      status = 'error';
      error = String((e && e.name) || 'Error') + ': ' + String((e && e.message) || e).slice(0, 1000);
      const stack = String((e && e.stack) || e).split('\n')
        .filter((l) => !l.includes(__filename) && !/\(node:vm:|at node:vm:|sigintHandlersWrap/.test(l)).join('\n');
      process.stderr.write(stack + '\n');
    }
  } finally {
    interruptCurrent = null;
  }
  finish(req.id, status, error, images(outDir));
  return outDir;
}

async function main() {
  const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity, terminal: false });
  let previousOut = null;
  for await (const line of rl) {
    if (!line.trim()) { continue; }
    try {
      previousOut = await handle(line, previousOut);
    } catch (e) {
      finish(null, 'protocol_error', String(e).slice(0, 1000), []);
    }
  }
}

main();
