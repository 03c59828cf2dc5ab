/**
 * The fleet file's parser: what it accepts (as data), and each refusal naming the file and the field.
 */

import { hasErrorCode } from '@zonekeeper/core';
import { describe, expect, it } from 'vitest';
import { parseFleetFile } from './fleet-file.js';

const FILE = '/etc/zonekeeper/fleet.json';
const ROLE = (id: string) => `arn:aws:iam::${id}:role/zonekeeper`;

function refusal(value: unknown): string {
  try {
    parseFleetFile(typeof value === 'string' ? value : JSON.stringify(value), FILE);
  } catch (error) {
    expect(hasErrorCode(error, 'INVALID_INPUT')).toBe(true);
    return (error as Error).message;
  }
  throw new Error('expected a refusal');
}

describe('parseFleetFile', () => {
  it('accepts accounts with and without roles, quotas, a limiter rate, a parent with its zone id', () => {
    const parsed = parseFleetFile(
      JSON.stringify({
        parent: { account: '222222222222', zoneId: 'Z0123456789ABC' },
        accounts: [
          { id: '111111111111' },
          {
            id: '222222222222',
            roleArn: ROLE('222222222222'),
            externalId: 'platform-42',
            zoneQuota: 1000,
            maxOrganizations: 0,
            requestsPerSecond: 2.5,
            secretPrefix: 'zonekeeper/platforms/example.com',
          },
          { id: 'eu_labs-1', roleArn: ROLE('333333333333') },
        ],
      }),
      FILE,
    );
    expect(parsed).toEqual({
      file: FILE,
      parent: { account: '222222222222', zoneId: 'Z0123456789ABC' },
      accounts: [
        { id: '111111111111' },
        {
          id: '222222222222',
          roleArn: ROLE('222222222222'),
          externalId: 'platform-42',
          zoneQuota: 1000,
          maxOrganizations: 0,
          requestsPerSecond: 2.5,
          secretPrefix: 'zonekeeper/platforms/example.com',
        },
        // A label id may use any account's role.
        { id: 'eu_labs-1', roleArn: ROLE('333333333333') },
      ],
    });
  });

  it.each([
    ['[]', 'must be a JSON object'],
    [{ accounts: [{ id: 'a' }], extra: 1 }, 'unknown key "extra"'],
    [{ accounts: [{}] }, 'accounts[0]'],
    [{ accounts: [{ id: 'a b' }] }, 'accounts[0]'],
    [{ accounts: [{ id: 'a', roleArn: 'arn:aws:iam::12:role/x' }] }, 'roleArn must be'],
    [{ accounts: [{ id: 'a', externalId: 'xyz' }] }, 'externalId needs a roleArn'],
    [{ accounts: [{ id: 'a', zoneQuota: 0 }] }, 'zoneQuota must be an integer ≥ 1'],
    [{ accounts: [{ id: 'a', maxOrganizations: 1.5 }] }, 'maxOrganizations must be an integer ≥ 0'],
    [{ accounts: [{ id: 'a', requestsPerSecond: 0 }] }, 'requestsPerSecond must be a number in (0, 1000]'],
    [{ accounts: [{ id: 'a', secretPrefix: '/abs/../x' }] }, 'secretPrefix must be a secret path'],
    [{ accounts: [{ id: 'a' }], parent: { account: 'a', zoneId: 'Z-1' } }, 'parent.zoneId'],
    [{ accounts: [{ id: 'a' }], parent: { account: 'a', region: 'x' } }, 'parent: unknown key "region"'],
  ])('refuses %j (%s), naming the file', (value, message) => {
    const text = refusal(value);
    expect(text).toContain(FILE);
    expect(text).toContain(message);
  });
});
