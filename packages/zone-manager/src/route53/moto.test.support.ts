/**
 * Test support (not shipped): one moto server per test file, behind the fault-injection proxy, and
 * Route 53 providers pointed at it with fast retries.
 */

import { Route53Client } from '@aws-sdk/client-route-53';
import { type FaultProxy, startFaultProxy } from '@zonekeeper/testkit/fault-proxy';
import { type MotoServer, startMoto } from '@zonekeeper/testkit/moto';
import { createRoute53Provider, type Route53Provider, type Route53ProviderOptions } from './provider.js';
import { createRoute53RetryStrategy } from './retry.js';

export const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

/** Operations that change Route 53 state. */
export const WRITE_OPERATIONS =
  /^(CreateHostedZone|DeleteHostedZone|ChangeTagsForResource|ChangeResourceRecordSets)$/;

export interface Route53Backend {
  readonly moto: MotoServer;
  readonly proxy: FaultProxy;
  /** A provider through the proxy: fast retries (5 attempts, 2–10 ms), 1,000 requests/s unless overridden. */
  provider(options?: Route53ProviderOptions & { readonly maxAttempts?: number }): Route53Provider;
  /** An SDK client straight to moto (no proxy, no limiter), for seeding and inspecting. */
  readonly raw: Route53Client;
  stop(): Promise<void>;
}

export async function startRoute53Backend(seed = 'zone-manager'): Promise<Route53Backend> {
  const moto = await startMoto();
  const proxy = await startFaultProxy({ target: moto.endpoint, seed });
  const raw = new Route53Client({
    region: 'us-east-1',
    endpoint: moto.endpoint,
    credentials,
    maxAttempts: 1,
  });
  return {
    moto,
    proxy,
    raw,
    provider: (options = {}) =>
      createRoute53Provider({
        endpoint: proxy.endpoint,
        credentials,
        requestsPerSecond: 1_000,
        retryStrategy: createRoute53RetryStrategy({
          maxAttempts: options.maxAttempts ?? 5,
          baseDelayMs: 2,
          maxDelayMs: 10,
        }),
        ...options,
      }),
    async stop() {
      raw.destroy();
      await proxy.stop();
      await moto.stop();
    },
  };
}
