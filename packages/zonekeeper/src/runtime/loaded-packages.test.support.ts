/**
 * Test support (not shipped): run as a child process by `lazy-dependencies.test.ts`. Imports the
 * specifiers given as arguments (`--load <specifier>` additionally imports one, resolved from
 * `@zonekeeper/cert-issuer`, after them) and prints, as one JSON line, the npm packages whose CommonJS
 * modules the process loaded (Node's CommonJS cache also holds the CommonJS modules that ESM imports).
 */

import { createRequire } from 'node:module';

const args = process.argv.slice(2);
const loadIndex = args.indexOf('--load');
const specifiers = loadIndex === -1 ? args : args.slice(0, loadIndex);
for (const specifier of specifiers) await import(specifier);
if (loadIndex !== -1) {
  const fromCertIssuer = createRequire(import.meta.resolve('@zonekeeper/cert-issuer'));
  await import(fromCertIssuer.resolve(args[loadIndex + 1] as string));
}
const packages = new Set<string>();
for (const path of Object.keys(createRequire(import.meta.url).cache)) {
  const match = /.*node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(path);
  if (match) packages.add(match[1] as string);
}
process.stdout.write(`${JSON.stringify([...packages].sort())}\n`);
