import { describe, expect, it } from 'vitest';
import { runPowerDnsStory } from './powerdns.js';

describe('the demo story on PowerDNS', { timeout: 120_000 }, () => {
  it('ends with dig resolving the Service, an ACME certificate from Pebble, the cross-tenant update refused, and the unused zone gone', async () => {
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
    // ACME DNS-01 through acme's zone on this PowerDNS: Pebble's intermediate signed it, the record is gone.
    expect(out).toMatch(
      /https:\/\/127\.0\.0\.1:\d+\/dir: create-acme-account, order-acme-certificate \(_acme-challenge\.www\.acme\.example\.com\), apply-tls-secret/,
    );
    // Pebble 2.10, like Let's Encrypt's current profiles, leaves the subject empty: the name is the SAN.
    expect(out).toContain(
      'Secret default/web-tls (kubernetes.io/tls): subject (empty); SAN DNS:www.acme.example.com\n',
    );
    expect(out).toMatch(
      /issuer CN=Pebble Intermediate CA [0-9a-f]+ \(Pebble's intermediate, signature verified\)/,
    );
    expect(out).toMatch(/valid \d{4}-\d\d-\d\dT[\d:]+Z → \d{4}-\d\d-\d\dT[\d:]+Z; renew at \d{4}-/);
    expect(out).toContain(
      'dig … _acme-challenge.www.acme.example.com TXT → NXDOMAIN (the challenge record is removed)',
    );
    expect(out).toMatch(
      /nsupdate with acme's key → (REFUSED|NOTAUTH); dig evil\.globex\.example\.com → NXDOMAIN/,
    );
    expect(out).toMatch(/acme: delete FREE_TO_RECREATE/);
    expect(out).toMatch(/globex: keep IN_USE/);
    expect(out).toMatch(/dig www\.acme\.example\.com A → NXDOMAIN; acme\.example\.com NS → NXDOMAIN/);
    // No secret reaches the output.
    expect(secrets).toHaveLength(3);
    expect(secrets[2]).toContain('PRIVATE KEY');
    expect(out).not.toContain('PRIVATE KEY');
    expect(out).not.toContain(secrets[2]?.split('\n')[1]); // the key's first base64 line
    for (const secret of secrets) {
      expect(secret.length).toBeGreaterThan(20);
      expect(out).not.toContain(secret);
    }
  });

  it('fails loudly, naming bash .ci/build-pebble.sh, when Pebble is not built — before any zone', async () => {
    const saved = process.env.ZONEKEEPER_PEBBLE;
    process.env.ZONEKEEPER_PEBBLE = '/nonexistent/zonekeeper-test/pebble';
    try {
      const lines: string[] = [];
      const error = await runPowerDnsStory((l = '') => lines.push(l)).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'UNAVAILABLE' });
      expect((error as Error).message).toContain('bash .ci/build-pebble.sh');
      expect(lines).toEqual([]);
    } finally {
      if (saved === undefined) delete process.env.ZONEKEEPER_PEBBLE;
      else process.env.ZONEKEEPER_PEBBLE = saved;
    }
  });
});
