/**
 * The test config of `.ci/peer-versions.sh`: the workspace config with each vendor SDK (the packages'
 * peer dependencies) resolved from a scratch install of other versions, `ZONEKEEPER_PEER_DIR`, instead
 * of the workspace's devDependencies. Source, tests and testkit all import the SDK by name, so one alias
 * per SDK (and its subpaths) moves every import. The setup file checks that the aliased versions are
 * the ones asked for (`ZONEKEEPER_PEER_VERSIONS`), so a run that silently used the workspace's copy fails.
 */
import { fileURLToPath } from 'node:url';
import { mergeConfig } from 'vitest/config';
import workspace from '../vitest.workspace.ts';

const dir = process.env.ZONEKEEPER_PEER_DIR;
const versions = process.env.ZONEKEEPER_PEER_VERSIONS;
if (!dir || !versions) throw new Error('peer-versions.vitest.ts: run it through .ci/peer-versions.sh');

const names = versions.split(',').map((pin) => pin.slice(0, pin.lastIndexOf('@')));
const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

export default mergeConfig(workspace, {
  resolve: {
    alias: names.map((name) => ({
      find: new RegExp(`^${escapeRegExp(name)}(/.*)?$`),
      replacement: `${dir}/node_modules/${name}$1`,
    })),
  },
  test: { setupFiles: [fileURLToPath(new URL('./peer-versions.setup.ts', import.meta.url))] },
});
