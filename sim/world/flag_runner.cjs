// The app's own featureFlags module, run in Node for the drill (sim/world/flag_module.py).
//
// JSON lines over stdin/stdout, one request, one answer:
//   {"op":"load","module":PATH,"export":NAME,"flagKey":KEY,"ids":["id", ...]}
//     -> {"ok":true,"esbuild":VERSION}
//   {"op":"eval","env":{...import.meta.env...},"remote":[null,false,true]}
//     -> {"ok":true,"columns":["0110...", ...]}  one '0'/'1' per user, per remote value
//   any failure -> {"error":"one line"}
//
// The module is bundled once with esbuild's JS API (https://esbuild.github.io/api/):
//   bundle: true     inline its imports (https://esbuild.github.io/api/#bundle)
//   write: false     keep the output in memory (https://esbuild.github.io/api/#write)
//   format: 'cjs', platform: 'node'  so it can run here (https://esbuild.github.io/api/#format,
//                    https://esbuild.github.io/api/#platform)
//   define           `import.meta.env` -> a global this runner sets per state; define accepts
//                    an identifier as the replacement (https://esbuild.github.io/api/#define)
//   plugins          the module's `./analytics` (or `posthog-js`) import resolves to a stand-in
//                    (onResolve/onLoad, https://esbuild.github.io/plugins/)
// Vite replaces import.meta.env statically at build time, so one env per evaluation is what
// a build sees (https://vite.dev/guide/env-and-mode).
'use strict';

const path = require('node:path');
const readline = require('node:readline');

const ENV_GLOBAL = '__DRILL_IMPORT_META_ENV__';
const POSTHOG_GLOBAL = '__DRILL_POSTHOG__';
const POSTHOG_IMPORT = /(^|\/)analytics(\.[cm]?[jt]sx?)?$|^posthog-js$/;

// stdout carries the protocol: whatever the module logs goes to stderr
for (const level of ['log', 'info', 'warn', 'error', 'debug']) {
  console[level] = (...args) => { process.stderr.write(args.map(String).join(' ') + '\n'); };
}

let fn = null;
let ids = [];
let flagKey = 'contacts_redesign';
let current;  // what the stand-in's posthog-js answers for flagKey: undefined, true or false

// posthog-js's isFeatureEnabled / getFeatureFlag, answering from the browser's flag state.
const standIn = {
  isFeatureEnabled: (key) => (key === flagKey ? current : undefined),
  getFeatureFlag: (key) => (key === flagKey ? current : undefined),
  onFeatureFlags: () => () => {},
  capture: () => {},
  identify: () => {},
};
globalThis[POSTHOG_GLOBAL] = standIn;

const standInPlugin = {
  name: 'drill-posthog-stand-in',
  setup(build) {
    build.onResolve({ filter: POSTHOG_IMPORT }, () => ({ path: 'posthog', namespace: 'drill' }));
    build.onLoad({ filter: /.*/, namespace: 'drill' }, () => ({
      contents: `const s = globalThis.${POSTHOG_GLOBAL};\n` +
        'export const analytics = s; export const posthog = s; export default s;\n',
      loader: 'js',
    }));
  },
};

function esbuild() {
  const tools = process.env.DRILL_NODE_TOOLS;
  return require(require.resolve('esbuild', { paths: [path.join(tools, 'node_modules')] }));
}

async function load(req) {
  const esb = esbuild();
  const out = await esb.build({
    entryPoints: [req.module], bundle: true, write: false, format: 'cjs', platform: 'node',
    define: { 'import.meta.env': ENV_GLOBAL }, plugins: [standInPlugin], logLevel: 'silent',
  });
  esb.stop();  // the bundle is made: end esbuild's service process (https://esbuild.github.io/api/#js-details)
  const mod = { exports: {} };
  new Function('module', 'exports', 'require', out.outputFiles[0].text)(mod, mod.exports, require);
  fn = mod.exports[req.export];
  if (typeof fn !== 'function') {
    throw new Error(`exports no function '${req.export}'`);
  }
  ids = req.ids;
  flagKey = req.flagKey;
  return { ok: true, esbuild: esb.version };
}

function column(remote) {
  current = remote === null ? undefined : remote;
  const bits = new Array(ids.length);
  for (let i = 0; i < ids.length; i++) {
    const answer = fn(ids[i]);
    if (typeof answer !== 'boolean') {
      throw new Error(`returned ${typeof answer} (${String(answer)}), not a boolean, ` +
        `for user ${ids[i]}`);
    }
    bits[i] = answer ? '1' : '0';
  }
  return bits.join('');
}

function evaluate(req) {
  globalThis[ENV_GLOBAL] = Object.freeze({ ...req.env });
  return { ok: true, columns: req.remote.map(column) };
}

function oneLine(err) {
  const text = err && err.errors && err.errors.length ? err.errors[0].text : String(err && err.message || err);
  return text.split('\n')[0];
}

async function handle(line) {
  const req = JSON.parse(line);
  try {
    return req.op === 'load' ? await load(req) : evaluate(req);
  } catch (err) {
    return { error: oneLine(err) };
  }
}

const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
let queue = Promise.resolve();
rl.on('line', (line) => {
  queue = queue.then(async () => { process.stdout.write(JSON.stringify(await handle(line)) + '\n'); });
});
