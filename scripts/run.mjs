#!/usr/bin/env node
// `npm start`, `npm run migrate` and `npm run stockbridge -- <command>`: runs the CLI from the
// built tree (dist/), building it first when TypeScript is installed. The build is incremental (`tsc -b`): an up-to-date tree is checked
// in well under a second, a changed file recompiles only what depends on it.
//
// Plain JavaScript on purpose: it must run, and explain itself, where TypeScript is not installed
// (`NODE_ENV=production npm ci` leaves out devDependencies).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(root, 'dist', 'src', 'cli.js');
const args = process.argv.slice(2);

const fail = (message) => {
  process.stderr.write(`stockbridge: ${message}\n`);
  process.exit(1);
};

/** The TypeScript compiler of this project, or null when devDependencies were left out. */
function typescriptCompiler() {
  try {
    return createRequire(path.join(root, 'package.json')).resolve('typescript/bin/tsc');
  } catch {
    return null;
  }
}

const tsc = typescriptCompiler();
if (tsc) {
  const build = spawnSync(process.execPath, [tsc, '-b', 'tsconfig.build.json'], {
    cwd: root,
    stdio: 'inherit',
  });
  if (build.status !== 0) fail('the build failed (see above); fix it or run `npm run build` to see it again');
} else if (!existsSync(cli)) {
  fail(
    'there is no built tree (dist/) and TypeScript is not installed to build one ' +
      '(NODE_ENV=production npm ci leaves out devDependencies). Production runs from a built tree: ' +
      'build it once with `npm ci && npm run build` (then `npm prune --omit=dev` if you like), ' +
      'or run the Docker image.',
  );
}

// Development on one machine: a local Redis is started when none answers (see src/dev).
if (args[0] === undefined || args[0] === 'start') {
  const { loadConfig } = await import(pathToFileURL(path.join(root, 'dist', 'src', 'config.js')).href);
  let config = null;
  try {
    config = loadConfig(process.env);
  } catch {
    // The CLI reports a bad configuration itself, naming every bad key.
  }
  if (config?.NODE_ENV === 'development' && !config.REDIS_CLUSTER_NODES) {
    const { ensureRedis } = await import(
      pathToFileURL(path.join(root, 'dist', 'src', 'dev', 'local-services.js')).href
    );
    try {
      await ensureRedis(config.REDIS_URL, config.STOCKBRIDGE_DATA_DIR, 'REDIS_URL');
    } catch (err) {
      fail(err.message);
    }
  }
}

// The CLI reads its command from process.argv, as when run as `node dist/src/cli.js <args>`.
process.argv = [process.argv[0], cli, ...args];
await import(pathToFileURL(cli).href);
