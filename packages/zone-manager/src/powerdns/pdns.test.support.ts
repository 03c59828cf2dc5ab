/**
 * Test support (not shipped): a real PowerDNS server per test file and providers pointed at it.
 */

import { type PowerDnsOptions, type PowerDnsServer, startPowerDns } from '@zonekeeper/testkit/powerdns';
import { createPowerDnsProvider, type PowerDnsProvider, type PowerDnsProviderOptions } from './provider.js';

/** Four name servers, as Route 53 assigns (any number from 1 to 13 works). */
export const TEST_NAME_SERVERS = ['ns1.pdns.test', 'ns2.pdns.test', 'ns3.pdns.test', 'ns4.pdns.test'];

export interface PowerDnsBackend {
  readonly server: PowerDnsServer;
  provider(options?: Partial<PowerDnsProviderOptions>): PowerDnsProvider;
  stop(): Promise<void>;
}

export async function startPowerDnsBackend(options: PowerDnsOptions = {}): Promise<PowerDnsBackend> {
  const server = await startPowerDns(options);
  return {
    server,
    provider: (extra = {}) =>
      createPowerDnsProvider({
        apiUrl: server.apiUrl,
        apiKey: server.apiKey,
        nameServers: TEST_NAME_SERVERS,
        ...extra,
      }),
    stop: () => server.stop(),
  };
}
