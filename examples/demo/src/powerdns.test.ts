import { describe, expect, it } from 'vitest';
import { runPowerDnsStory } from './powerdns.js';

describe('the demo story on PowerDNS', { timeout: 120_000 }, () => {
  it('ends with dig resolving the Service, the cross-tenant update refused, and the unused zone gone', async () => {
    const lines: string[] = [];
    const secrets = await runPowerDnsStory((l = '') => lines.push(l));
    const out = lines.join('\n');
    expect(out).toContain('pricing model: free');
    expect(out).toMatch(
      /acme: zone acme\.example\.com \(P[A-Z2-7]{25}\); NS ns1\.dns\.example\.net\.; key zonekeeper-update\.acme\.example\.com \(store-key, create-key, set-update-keys, set-update-sources\)/,
    );
    expect(out).toContain('--provider=rfc2136');
    expect(out).toMatch(
      /ExternalDNS: Adding RR: www\.acme\.example\.com\.?\s+\d+\s+(?:IN\s+)?A\s+192\.0\.2\.10/,
    );
    expect(out).toMatch(/www\.acme\.example\.com A → NOERROR 192\.0\.2\.10/);
    expect(out).toMatch(/_extdns-a\.www\.acme\.example\.com TXT → NOERROR .*external-dns\/owner=acme-prod/);
    expect(out).toMatch(
      /nsupdate with acme's key → (REFUSED|NOTAUTH); dig evil\.globex\.example\.com → NXDOMAIN/,
    );
    expect(out).toMatch(/acme: delete FREE_TO_RECREATE/);
    expect(out).toMatch(/globex: keep IN_USE/);
    expect(out).toMatch(/dig www\.acme\.example\.com A → NXDOMAIN; acme\.example\.com NS → NXDOMAIN/);
    // No secret reaches the output.
    expect(secrets).toHaveLength(2);
    for (const secret of secrets) {
      expect(secret.length).toBeGreaterThan(20);
      expect(out).not.toContain(secret);
    }
  });
});
