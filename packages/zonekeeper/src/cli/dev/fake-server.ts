/**
 * The entry `zonekeeper dev up` runs, detached, for each server of the local backend it provides
 * itself:
 *
 * ```sh
 * node fake-server.js vault <name> <ready-file>
 * node fake-server.js kubernetes <cluster-id> <ready-file> --octet <n> [--external-dns <binary> --aws <url> --output <file> --work <dir>]
 * node fake-server.js dns <name> <ready-file> --aws <url> --region <region>
 * ```
 *
 * It starts the Vault fake of `@zonekeeper/testkit/vault`, the Kubernetes API fake of
 * `@zonekeeper/kube-apiserver-fake` (with the cluster agents of `cluster-agents.ts`: a load-balancer
 * controller, and ExternalDNS when a binary is given) or the DNS server of `dns-server.ts` (answering
 * from moto's Route 53) on a free port of 127.0.0.1, writes `{ endpoint, token, ca }` to the ready file
 * (mode 0600, atomically) once it listens, and serves until SIGTERM, SIGINT or SIGHUP. The token is
 * never written to stdout or stderr (its log).
 *
 * @internal
 * @packageDocumentation
 */

import { appendFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';

interface Running {
  readonly endpoint: string;
  readonly token: string;
  readonly ca?: string | undefined;
  clearRequests(): void;
  stop(): Promise<void>;
}

type Flags = Readonly<Record<string, string | undefined>>;

async function start(kind: string, flags: Flags): Promise<Running> {
  if (kind === 'vault') {
    const { startVaultFake } = await import('@zonekeeper/testkit/vault');
    const fake = await startVaultFake();
    return {
      endpoint: fake.endpoint,
      token: fake.rootToken,
      clearRequests: () => fake.clearRequests(),
      stop: () => fake.stop(),
    };
  }
  if (kind === 'kubernetes') {
    const { startKubernetesFake } = await import('@zonekeeper/kube-apiserver-fake');
    const { startDevClusterAgents } = await import('./cluster-agents.js');
    const fake = await startKubernetesFake();
    const output = flags.output;
    const agents = startDevClusterAgents({
      fake,
      addressOctet: Number(flags.octet ?? '1'),
      ...(flags['external-dns'] !== undefined && output !== undefined
        ? {
            externalDns: {
              binary: flags['external-dns'],
              awsEndpoint: flags.aws ?? '',
              workDir: flags.work ?? '',
              output: (line: string) => appendFileSync(output, `${line}\n`),
            },
          }
        : {}),
      log: (line) => process.stdout.write(`zonekeeper dev: ${line}\n`),
    });
    return {
      endpoint: fake.endpoint,
      token: fake.token,
      ca: fake.ca,
      clearRequests: () => fake.clearRequests(),
      stop: async () => {
        await agents.stop();
        await fake.stop();
      },
    };
  }
  if (kind === 'dns') {
    const { createRoute53Provider } = await import('@zonekeeper/zone-manager/route53');
    const { startDevDnsServer } = await import('./dns-server.js');
    const { DEV_AWS_CREDENTIALS } = await import('./state.js');
    const dns = createRoute53Provider({
      endpoint: flags.aws ?? '',
      region: flags.region ?? 'us-east-1',
      credentials: DEV_AWS_CREDENTIALS,
    });
    const server = await startDevDnsServer({ dns });
    return {
      endpoint: `dns://127.0.0.1:${server.port}`,
      token: '',
      clearRequests: () => {},
      stop: () => server.stop(),
    };
  }
  throw new Error(`unknown fake ${JSON.stringify(kind)} (vault, kubernetes or dns)`);
}

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    args: process.argv.slice(2),
    allowPositionals: true,
    options: Object.fromEntries(
      ['octet', 'external-dns', 'aws', 'output', 'work', 'region'].map((f) => [
        f,
        { type: 'string' as const },
      ]),
    ),
  });
  const [kind = '', name = '', readyFile = ''] = positionals;
  if (name === '' || readyFile === '')
    throw new Error('usage: fake-server <vault|kubernetes|dns> <name> <ready-file> [flags]');
  const fake = await start(kind, values as Flags);
  // The fakes keep a log of every request for test assertions; a long-lived backend drops it.
  setInterval(() => fake.clearRequests(), 60_000).unref();
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`zonekeeper dev: ${kind} fake ${name}: ${signal}, stopping\n`);
    void fake.stop().finally(() => process.exit(0));
  };
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => stop(signal));
  const tmp = `${readyFile}.tmp`;
  await writeFile(tmp, JSON.stringify({ endpoint: fake.endpoint, token: fake.token, ca: fake.ca }), {
    mode: 0o600,
  });
  await rename(tmp, readyFile);
  process.stdout.write(
    `zonekeeper dev: ${kind} fake ${name} listening on ${fake.endpoint} (pid ${process.pid})\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(
    `zonekeeper dev: fake server failed: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
