/**
 * Setup file of `.ci/peer-versions.vitest.ts`: every SDK the run is about resolves (through the alias)
 * to the version asked for, before any test of the file runs.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const dir = process.env.ZONEKEEPER_PEER_DIR as string;
for (const pin of (process.env.ZONEKEEPER_PEER_VERSIONS as string).split(',')) {
  const at = pin.lastIndexOf('@');
  const name = pin.slice(0, at);
  const want = pin.slice(at + 1);
  // Resolved as the aliased import does: from the scratch install's root.
  const manifest = createRequire(`${dir}/package.json`).resolve(`${name}/package.json`);
  const { version } = JSON.parse(readFileSync(manifest, 'utf8')) as { version: string };
  if (version !== want) throw new Error(`peer-versions: ${name} is ${version} in ${dir}, not ${want}`);
  // And the module the tests get is that copy, not the workspace's.
  const loaded = (await import(/* @vite-ignore */ name)) as Record<string, unknown>;
  const direct = (await import(
    /* @vite-ignore */ createRequire(`${dir}/package.json`).resolve(name)
  )) as Record<string, unknown>;
  const keys = Object.keys(direct).filter((k) => typeof direct[k] === 'function');
  const key = keys.find((k) => k !== 'default' && k !== 'module.exports') ?? keys[0];
  if (key === undefined || loaded[key] !== direct[key])
    throw new Error(`peer-versions: ${name} did not resolve to the copy in ${dir}`);
}
