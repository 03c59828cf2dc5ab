import { describe, expect, it } from 'vitest';
import { canonicalQuantity, QuantityErrors } from './quantity.js';

// Expected values: what a real kube-apiserver 1.32 answered for each input (probed through a
// LimitRange; the differential test in real-apiserver.test.ts re-checks a sample against it).
const resourceList: [unknown, string][] = [
  ['0.1n', '1m'],
  ['1n', '1m'],
  ['5u', '1m'],
  ['0.0000000001', '1m'],
  ['1500m', '1500m'],
  ['0.5', '500m'],
];

const canonical: [unknown, string][] = [
  ['0.5', '500m'],
  [0.5, '500m'],
  ['1024Mi', '1Gi'],
  ['1000', '1k'],
  ['1500m', '1500m'],
  ['1.5', '1500m'],
  ['100m', '100m'],
  ['2', '2'],
  [2, '2'],
  ['128Mi', '128Mi'],
  ['1.5Gi', '1536Mi'],
  ['0.5Ki', '512'],
  ['1536', '1536'],
  ['1Ki', '1Ki'],
  ['1e3', '1e3'],
  ['1.5e3', '1500'],
  ['1E6', '1E6'],
  ['+1Gi', '+1Gi'],
  ['1.0', '1'],
  ['01', '01'],
  ['007k', '007k'],
  ['0', '0'],
  ['0Gi', '0'],
  ['0.0', '0'],
  ['0.1n', '1n'],
  ['1000000k', '1G'],
  ['10Gi', '10Gi'],
  ['2048Ki', '2Mi'],
  ['-1', '-1'],
  ['+1k', '+1k'],
  [' 1Gi ', '1Gi'],
];

describe('quantities', () => {
  it.each(canonical)('%j is stored as %s', (input, expected) => {
    expect(canonicalQuantity(input)).toBe(expected);
  });

  it.each(resourceList)(
    '%j in a ResourceList is stored as %s (rounded up to milli-units)',
    (input, expected) => {
      expect(canonicalQuantity(input, { resourceList: true })).toBe(expected);
    },
  );

  it.each([
    ['100mb', QuantityErrors.format],
    ['1.2.3', QuantityErrors.format],
    ['abc', QuantityErrors.format],
    ['', QuantityErrors.format],
    ['1Mm', QuantityErrors.suffix],
    ['1ki', QuantityErrors.suffix],
  ])('%j does not decode (%s)', (input, message) => {
    expect(() => canonicalQuantity(input)).toThrow(message);
  });
});
