/**
 * `pnpm demo [--backend memory|emulators|powerdns]`: the whole zonekeeper story in seconds.
 *
 * - `memory` (default): the embedded in-memory ports, a simulated clock starting 2026-03-10 08:00 UTC.
 * - `emulators`: the same story over real HTTP — Route 53 and IAM on moto, Vault and Kubernetes on the
 *   testkit fakes — driven by the real AWS SDK, node-vault and @kubernetes/client-node.
 * - `powerdns`: organisations on a real PowerDNS with one TSIG key each, ExternalDNS (the real binary)
 *   with `--provider=rfc2136`, `dig` answers, and an ACME DNS-01 certificate from a real Pebble (see
 *   powerdns.ts).
 */
import { parseArgs } from 'node:util';
import { createManualClock } from '@zonekeeper/core';
import { createMemoryInventory, createZonekeeper } from 'zonekeeper';
import { startEmulators } from './emulators.js';
import { runPowerDnsStory } from './powerdns.js';
import { runStory } from './story.js';

// The AWS SDK warns once per process that releases after early 2027 need Node 22; the demo pins a
// release that supports Node 20 (docs/decisions.md), so the warning is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const USAGE = `Usage: pnpm demo [--backend memory|emulators|powerdns]

The whole zonekeeper story in seconds: organisations get zones, delegations, scoped credentials in
Vault, ExternalDNS and TLS certificates on their clusters; a key is rotated; the garbage collector
decides over a simulated month what to delete free, what to keep until the charge, and what to delete
just before it.

Options:
  --backend memory     the embedded in-memory ports, a simulated clock (default)
  --backend emulators  the same story over real HTTP: Route 53 and IAM on moto, Vault and Kubernetes
                       on the testkit fakes (needs python3 -m moto.server)
  --backend powerdns   organisations on a real PowerDNS with one TSIG key each, the real ExternalDNS
                       with --provider=rfc2136, dig answers, and an ACME DNS-01 certificate from Pebble
                       (needs pdns-server, bind9-dnsutils, pebble and the ExternalDNS binary:
                       bash .ci/build-external-dns.sh)
  -h, --help           print this help
`;

// `pnpm demo --backend x` forwards a literal `--` before the arguments; drop it.
let values: { backend?: string; help?: boolean };
try {
  ({ values } = parseArgs({
    args: process.argv.slice(2).filter((a) => a !== '--'),
    options: { backend: { type: 'string', default: 'memory' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: false,
  }));
} catch (error) {
  // An unknown option or a missing value: say so with the usage, not a stack trace.
  console.error(`demo: ${(error as Error).message}\n\n${USAGE}`);
  process.exit(2);
}
if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const backend = values.backend;
const print = (line = '') => console.log(line);

if (backend === 'memory') {
  const clock = createManualClock(new Date('2026-03-10T08:00:00.000Z'), { autoAdvance: true });
  const inventory = createMemoryInventory();
  const zk = createZonekeeper({ baseDomain: 'example.com', clock, inventory });
  await runStory({ zk, inventory, clock, backend: 'embedded in-memory ports', print });
} else if (backend === 'emulators') {
  const started = Date.now();
  await using emulators = await startEmulators();
  await runStory({ ...emulators.context, print });
  print(`\n(emulators: ${emulators.describe()}; ${((Date.now() - started) / 1000).toFixed(1)} s)`);
} else if (backend === 'powerdns') {
  const started = Date.now();
  await runPowerDnsStory(print);
  print(`\n(real pdns_server, dig, ExternalDNS and Pebble; ${((Date.now() - started) / 1000).toFixed(1)} s)`);
} else {
  console.error(
    `unknown backend ${JSON.stringify(backend)}: use --backend memory, --backend emulators or --backend powerdns`,
  );
  process.exit(2);
}
