/**
 * docs/externaldns.md shows "the package's snapshot, copied verbatim": keep it so, and keep its table of
 * defaults in step with what is rendered.
 */

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { externalDnsArgs, resolveExternalDnsOptions } from '@zonekeeper/externaldns-deployer';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../external-dns/binary.js';

describe('docs/externaldns.md', () => {
  it('holds the default snapshot verbatim, and names every default flag in its table', async () => {
    const doc = await readFile(join(REPO_ROOT, 'docs', 'externaldns.md'), 'utf8');
    const snapshot = await readFile(
      join(
        REPO_ROOT,
        'packages',
        'externaldns-deployer',
        'src',
        '__snapshots__',
        'external-dns.default.yaml',
      ),
      'utf8',
    );
    const blocks = [...doc.matchAll(/^```yaml\n([\s\S]*?)^```$/gm)].map((m) => (m[1] as string).trim());
    expect(blocks).toContain(snapshot.trim());
    const args = externalDnsArgs(
      resolveExternalDnsOptions({
        clusterId: 'prod-eu',
        organization: 'acme',
        zoneName: 'acme.example.com',
        zoneId: 'Z0123456789ABCDEFGHIJ',
        credentials: { accessKeyId: 'AKIA0000000000000000', secretAccessKey: 'placeholder' },
      }),
    );
    for (const flag of new Set(args.map((a) => a.split('=')[0] as string)))
      expect(doc, flag).toContain(`\`${flag}`);
  });
});
