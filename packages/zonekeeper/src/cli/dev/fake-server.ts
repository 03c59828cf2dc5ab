/**
 * The entry `zonekeeper dev up` runs, detached, for each fake of the local backend:
 *
 * ```sh
 * node fake-server.js vault <name> <ready-file>
 * node fake-server.js kubernetes <cluster-id> <ready-file>
 * ```
 *
 * It starts the Vault fake of `@zonekeeper/testkit/vault` or the Kubernetes API fake of
 * `@zonekeeper/kube-apiserver-fake` on a free port of 127.0.0.1, writes `{ endpoint, token, ca }` to
 * the ready file (mode 0600, atomically) once it listens, and serves until SIGTERM, SIGINT or SIGHUP.
 * The token is never written to stdout or stderr (its log).
 *
 * @internal
 * @packageDocumentation
 */

import { rename, writeFile } from 'node:fs/promises';

interface Running {
  readonly endpoint: string;
  readonly token: string;
  readonly ca?: string | undefined;
  clearRequests(): void;
  stop(): Promise<void>;
}

async function start(kind: string): Promise<Running> {
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
    const fake = await startKubernetesFake();
    return {
      endpoint: fake.endpoint,
      token: fake.token,
      ca: fake.ca,
      clearRequests: () => fake.clearRequests(),
      stop: () => fake.stop(),
    };
  }
  throw new Error(`unknown fake ${JSON.stringify(kind)} (vault or kubernetes)`);
}

async function main(): Promise<void> {
  const [kind = '', name = '', readyFile = ''] = process.argv.slice(2);
  if (name === '' || readyFile === '')
    throw new Error('usage: fake-server <vault|kubernetes> <name> <ready-file>');
  const fake = await start(kind);
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
