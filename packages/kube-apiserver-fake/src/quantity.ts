/**
 * Kubernetes resource quantities (`resource.Quantity`) as the API server decodes and re-encodes them:
 * `"0.5"` is stored as `"500m"`, `"1024Mi"` as `"1Gi"`, `"1000"` as `"1k"`, and `"100mb"` does not
 * decode. The rules are those documented for `resource.Quantity` (k8s.io/apimachinery): a number with
 * an optional decimal (`n u m "" k M G T P E`), binary (`Ki … Ei`) or exponent (`e3`, `E-2`) suffix;
 * values are rounded up to nano precision; the canonical form keeps the input's format (decimal,
 * binary or exponent) with an integer mantissa and the largest suffix that keeps it an integer; binary
 * values below 1024 or with a fraction are written in decimal.
 * @internal
 */

/** The messages of the real decoder's three errors. */
export const QuantityErrors = {
  format: "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
  numeric: 'unable to parse numeric part of quantity',
  suffix: "unable to parse quantity's suffix",
} as const;

/** A quantity that does not decode. */
export class QuantityError extends Error {}

type Format = 'DecimalSI' | 'BinarySI' | 'DecimalExponent';

/** An exact value: `units × 10^-9` (nano precision, as stored). */
interface Parsed {
  readonly nanos: bigint;
  readonly format: Format;
  /** The input string, when the real parser keeps it as the serialised form (its fast path). */
  readonly kept?: string;
  /** The power of ten of the last significant input digit (e.g. -3 for `1500m`), on the fast path. */
  readonly scale?: number;
}

const decimalSuffixes: Readonly<Record<string, number>> = {
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
const binarySuffixes: Readonly<Record<string, number>> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const SUFFIX_CHARS = 'eEinumkKMGTP';
const INT64_MAX = 2n ** 63n - 1n;

function split(input: string): { negative: boolean; int: string; frac: string; suffix: string } {
  let pos = 0;
  let negative = false;
  if (input[0] === '-' || input[0] === '+') {
    negative = input[0] === '-';
    pos = 1;
  }
  const digits = (from: number): number => {
    let i = from;
    while (i < input.length && (input[i] as string) >= '0' && (input[i] as string) <= '9') i++;
    return i;
  };
  const intEnd = digits(pos);
  const int = input.slice(pos, intEnd);
  let fracEnd = intEnd;
  let frac = '';
  if (input[intEnd] === '.') {
    fracEnd = digits(intEnd + 1);
    frac = input.slice(intEnd + 1, fracEnd);
  }
  let i = fracEnd;
  while (i < input.length && SUFFIX_CHARS.includes(input[i] as string)) i++;
  if (input[i] === '-' || input[i] === '+') i++;
  i = digits(i);
  if (i !== input.length) throw new QuantityError(QuantityErrors.format);
  return { negative, int, frac, suffix: input.slice(fracEnd) };
}

/** Parses a quantity string (or a JSON number's text). @throws QuantityError */
export function parseQuantity(input: string): Parsed {
  if (input.length === 0) throw new QuantityError(QuantityErrors.format);
  const { negative, int, frac, suffix } = split(input);
  let format: Format;
  let exp10 = 0;
  let exp2 = 0;
  if (suffix in decimalSuffixes) {
    format = 'DecimalSI';
    exp10 = decimalSuffixes[suffix] as number;
  } else if (suffix in binarySuffixes) {
    format = 'BinarySI';
    exp2 = binarySuffixes[suffix] as number;
  } else if (/^[eE][-+]?[0-9]+$/.test(suffix)) {
    format = 'DecimalExponent';
    exp10 = Number(suffix.slice(1));
  } else {
    throw new QuantityError(QuantityErrors.suffix);
  }
  if (int === '' && frac === '') throw new QuantityError(QuantityErrors.numeric);
  // value = digits × 10^(exp10 - frac.length) × 2^exp2, rounded up (away from zero) to 10^-9.
  const digitsValue = BigInt(`${int || '0'}${frac}`);
  const numerator = digitsValue * 2n ** BigInt(exp2);
  const toNano = exp10 - frac.length + 9;
  let nanos: bigint;
  if (toNano >= 0) nanos = numerator * 10n ** BigInt(toNano);
  else {
    const div = 10n ** BigInt(-toNano);
    nanos = numerator / div + (numerator % div === 0n ? 0n : 1n);
  }
  if (nanos === 0n) return { nanos: 0n, format: 'DecimalSI' };
  // The real parser's fast path (an int64 mantissa) keeps the input as the serialised string when
  // it already looks canonical.
  const num = int.replace(/^0+/, '') || '0';
  const shifted = `${num}${frac}`;
  let kept: string | undefined;
  let scale: number | undefined;
  if (format === 'BinarySI') {
    const precision = 15 - num.length - Math.trunc((exp2 * 3) / 10) - 1;
    if (frac.length === 0 && precision >= 0 && numerator <= INT64_MAX) {
      scale = 0;
      if ((digitsValue & 7n) !== 0n) kept = input;
    }
  } else {
    const precision = 18 - (num.length + frac.length);
    const s = exp10 - frac.length;
    if (precision >= 0 && s >= -9) {
      scale = s;
      if (s % 3 === 0 && !shifted.endsWith('000') && shifted[0] !== '0') kept = input;
    }
  }
  // Binary values below one unit are written in decimal.
  if (format === 'BinarySI' && nanos < 1_000_000_000n) format = 'DecimalSI';
  return {
    nanos: negative ? -nanos : nanos,
    format,
    ...(kept !== undefined ? { kept } : {}),
    ...(scale !== undefined ? { scale } : {}),
  };
}

/**
 * Rounds up (away from zero) to milli-units, as the defaulting of every `ResourceList` does
 * (container requests and limits, LimitRange, ResourceQuota); a rounded value loses its kept string.
 */
function roundUpToMilli(q: Parsed): Parsed {
  if (q.scale !== undefined && q.scale >= -3) return q;
  const abs = q.nanos < 0n ? -q.nanos : q.nanos;
  const milli = abs / 1_000_000n + (abs % 1_000_000n === 0n ? 0n : 1n);
  const rounded = milli * 1_000_000n;
  return { nanos: q.nanos < 0n ? -rounded : rounded, format: q.format };
}

function decimalForm(nanos: bigint, format: Format): string {
  let mantissa = nanos < 0n ? -nanos : nanos;
  let exponent = -9;
  while (mantissa % 10n === 0n) {
    mantissa /= 10n;
    exponent++;
  }
  while (((exponent % 3) + 3) % 3 !== 0) {
    mantissa *= 10n;
    exponent--;
  }
  const sign = nanos < 0n ? '-' : '';
  if (format === 'DecimalSI') {
    const suffix = Object.entries(decimalSuffixes).find(([, e]) => e === exponent)?.[0];
    if (suffix !== undefined) return `${sign}${mantissa}${suffix}`;
  }
  return exponent === 0 ? `${sign}${mantissa}` : `${sign}${mantissa}e${exponent}`;
}

/** The serialised string of a parsed quantity: the kept input, else the canonical form. */
export function formatQuantity(q: Parsed): string {
  if (q.kept !== undefined) return q.kept;
  if (q.nanos === 0n) return '0';
  let format = q.format;
  const abs = q.nanos < 0n ? -q.nanos : q.nanos;
  if (format === 'BinarySI') {
    if (abs < 1024n * 1_000_000_000n || abs % 1_000_000_000n !== 0n) format = 'DecimalSI';
    else {
      let units = abs / 1_000_000_000n;
      let exp = 0;
      while (exp < 60 && units % 1024n === 0n) {
        units /= 1024n;
        exp += 10;
      }
      const suffix = Object.entries(binarySuffixes).find(([, e]) => e === exp)?.[0] ?? '';
      return `${q.nanos < 0n ? '-' : ''}${units}${suffix}`;
    }
  }
  return decimalForm(q.nanos, format);
}

/** Options of {@link canonicalQuantity}. */
export interface QuantityContext {
  /** The value is an entry of a `ResourceList` (rounded up to milli-units on decode). */
  readonly resourceList?: boolean;
}

/**
 * Decodes a JSON value the way `Quantity.UnmarshalJSON` (plus `ResourceList` defaulting) does and
 * returns the string the API server stores and answers.
 * @throws QuantityError
 */
export function canonicalQuantity(value: unknown, context: QuantityContext = {}): string {
  let text: string;
  if (typeof value === 'number') text = numberText(value);
  else if (typeof value === 'string') text = value.trim();
  else throw new QuantityError(QuantityErrors.format);
  if (text === '0') return '0';
  const parsed = parseQuantity(text);
  return formatQuantity(context.resourceList ? roundUpToMilli(parsed) : parsed);
}

/** A JSON number as its literal text (no exponent for ordinary values). */
function numberText(n: number): string {
  const s = String(n);
  return s.includes('e')
    ? n.toFixed(Math.min(20, Math.max(0, -Math.floor(Math.log10(Math.abs(n))) + 15)))
    : s;
}
