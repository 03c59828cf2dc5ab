/**
 * Kubernetes resource quantities as values, for comparing what zonekeeper renders with what a cluster
 * stores. The API server re-encodes every quantity canonically (`cpu: "0.5"` is stored as `500m`,
 * `memory: "1024Mi"` as `1Gi`) and rounds `ResourceList` entries (container requests and limits) up
 * to milli-units, so the two strings differ while the amounts are equal.
 *
 * @packageDocumentation
 */

const DECIMAL: Readonly<Record<string, number>> = {
  n: -9,
  u: -6,
  m: -3,
  '': 0,
  k: 3,
  M: 6,
  G: 9,
  T: 12,
  P: 15,
  E: 18,
};
const BINARY: Readonly<Record<string, number>> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const FORM = /^([+-]?)(\d*)(?:\.(\d*))?([a-zA-Z]*|[eE][+-]?\d+)$/;

/**
 * The amount of a quantity in nano-units, or `undefined` when `value` is not a quantity.
 * `resourceList` rounds up to milli-units (away from zero), as the API server does for requests and
 * limits.
 * @internal
 */
export function quantityNanos(value: unknown, resourceList = false): bigint | undefined {
  const text =
    typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : undefined;
  if (text === undefined) return undefined;
  const m = FORM.exec(text);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return undefined;
  const [, sign, int = '', frac = '', suffix = ''] = m;
  let exp10: number;
  let exp2 = 0;
  if (suffix in DECIMAL) exp10 = DECIMAL[suffix] as number;
  else if (suffix in BINARY) {
    exp10 = 0;
    exp2 = BINARY[suffix] as number;
  } else if (/^[eE]/.test(suffix)) exp10 = Number(suffix.slice(1));
  else return undefined;
  const digits = BigInt(`${int || '0'}${frac}`) * 2n ** BigInt(exp2);
  const shift = exp10 - frac.length + 9;
  const ceilDiv = (n: bigint, d: bigint) => n / d + (n % d === 0n ? 0n : 1n);
  let nanos = shift >= 0 ? digits * 10n ** BigInt(shift) : ceilDiv(digits, 10n ** BigInt(-shift));
  if (resourceList) nanos = ceilDiv(nanos, 1_000_000n) * 1_000_000n;
  return sign === '-' ? -nanos : nanos;
}

/**
 * Whether two quantities of a `ResourceList` are the same amount once stored (`"0.5"` and `"500m"`,
 * `"1024Mi"` and `"1Gi"`). Values that are not quantities are compared as they are.
 * @public
 */
export function sameResourceQuantity(a: unknown, b: unknown): boolean {
  const x = quantityNanos(a, true);
  const y = quantityNanos(b, true);
  return x !== undefined && y !== undefined ? x === y : a === b;
}
