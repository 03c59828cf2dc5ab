/**
 * Describing caller-supplied values in error messages, one way everywhere.
 *
 * @packageDocumentation
 */

/** Options of {@link describeValue}. @public */
export interface DescribeValueOptions {
  /**
   * Cut strings longer than this many characters (with `…`). Default: never cut — callers that mask
   * secrets in messages must see whole values.
   */
  readonly maxLength?: number;
}

/**
 * A short description of a value for an error message: strings quoted (`"acme"`), numbers, booleans,
 * `null` and `undefined` as written, arrays as `an array`, objects as `an object`, anything else as
 * `a <type>` (`a function`, `a symbol`). Never call it with a secret.
 *
 * @example
 * ```ts
 * describeValue('acme');      // "acme" (with the quotes)
 * describeValue(42);          // 42
 * describeValue(['a']);       // an array
 * describeValue({});          // an object
 * ```
 * @public
 */
export function describeValue(value: unknown, options: DescribeValueOptions = {}): string {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') {
    const max = options.maxLength;
    return JSON.stringify(max !== undefined && value.length > max ? `${value.slice(0, max)}…` : value);
  }
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
