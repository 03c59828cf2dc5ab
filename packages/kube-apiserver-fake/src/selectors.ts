/**
 * Label selectors (`app=x,tier!=db,env in (a,b),!legacy`) and field selectors (`metadata.name=x`) as
 * the API server parses them.
 * @internal
 */

/** A selector that could not be parsed (HTTP 400). */
export class SelectorError extends Error {
  override readonly name = 'SelectorError';
}

/** One label requirement. */
export type Requirement =
  | { readonly op: 'exists' | '!'; readonly key: string }
  | { readonly op: '=' | '!='; readonly key: string; readonly value: string }
  | { readonly op: 'in' | 'notin'; readonly key: string; readonly values: readonly string[] }
  | { readonly op: 'gt' | 'lt'; readonly key: string; readonly value: number };

/** A parsed label selector (all requirements must hold). */
export type LabelSelector = readonly Requirement[];

const QUALIFIED_NAME =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function checkKey(key: string): void {
  const name = key.includes('/') ? key.slice(key.indexOf('/') + 1) : key;
  if (!QUALIFIED_NAME.test(key) || name.length > 63 || key.length > 316) {
    throw new SelectorError(
      `unable to parse requirement: key: Invalid value: ${JSON.stringify(key)}: name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`,
    );
  }
}

function checkValue(value: string): void {
  if (value.length > 63 || !LABEL_VALUE.test(value)) {
    throw new SelectorError(
      `unable to parse requirement: values[0][${value}]: Invalid value: ${JSON.stringify(value)}: a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`,
    );
  }
}

type Token =
  | { t: 'id'; v: string }
  | { t: 'op'; v: '=' | '==' | '!=' | '!' | '>' | '<' }
  | { t: '(' | ')' | ',' }
  | { t: 'in' | 'notin' };

function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i] as string;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '(' || c === ')' || c === ',') {
      tokens.push({ t: c });
      i++;
    } else if (c === '!' && input[i + 1] === '=') {
      tokens.push({ t: 'op', v: '!=' });
      i += 2;
    } else if (c === '=' && input[i + 1] === '=') {
      tokens.push({ t: 'op', v: '==' });
      i += 2;
    } else if (c === '=' || c === '!' || c === '>' || c === '<') {
      tokens.push({ t: 'op', v: c });
      i++;
    } else {
      let j = i;
      while (j < input.length && !/[\s(),=!<>]/.test(input[j] as string)) j++;
      const word = input.slice(i, j);
      if (word === 'in' || word === 'notin') tokens.push({ t: word });
      else tokens.push({ t: 'id', v: word });
      i = j;
    }
  }
  return tokens;
}

/** In value position the keywords `in` / `notin` are plain identifiers (like the real parser). */
function asValue(tok: Token | undefined): Token | undefined {
  return tok && (tok.t === 'in' || tok.t === 'notin') ? { t: 'id', v: tok.t } : tok;
}

function describeToken(tok: Token | undefined): string {
  if (!tok) return 'EOS';
  return 'v' in tok ? tok.v : tok.t;
}

/** Parses a label selector; the empty string selects everything. */
export function parseLabelSelector(input: string): LabelSelector {
  const tokens = tokenize(input);
  const reqs: Requirement[] = [];
  let pos = 0;
  const peek = (): Token | undefined => tokens[pos];
  const next = (): Token | undefined => tokens[pos++];
  const fail = (found: Token | undefined, expected: string): never => {
    throw new SelectorError(
      `unable to parse requirement: found '${describeToken(found)}', expected: ${expected}`,
    );
  };
  while (pos < tokens.length) {
    let tok = next();
    let negated = false;
    if (tok?.t === 'op' && tok.v === '!') {
      negated = true;
      tok = next();
    }
    if (tok?.t !== 'id') fail(tok, 'identifier');
    const key = (tok as { v: string }).v;
    checkKey(key);
    const after = peek();
    if (negated) {
      if (after && after.t !== ',') fail(after, "',' or 'end of string'");
      reqs.push({ op: '!', key });
    } else if (!after || after.t === ',') {
      reqs.push({ op: 'exists', key });
    } else if (after.t === 'in' || after.t === 'notin') {
      next();
      if (next()?.t !== '(') fail(tokens[pos - 1], "'('");
      const values: string[] = [];
      for (;;) {
        const v = asValue(next());
        if (v?.t === ')') break;
        if (v?.t === ',') continue;
        if (v?.t !== 'id') fail(v, "',', ')' or identifier");
        const value = (v as { v: string }).v;
        checkValue(value);
        values.push(value);
      }
      reqs.push({ op: after.t, key, values });
    } else if (after.t === 'op') {
      next();
      const v = asValue(peek());
      let value = '';
      if (v?.t === 'id') {
        value = v.v;
        next();
      } else if (after.v === '>' || after.v === '<') {
        fail(v, 'identifier');
      }
      if (after.v === '>' || after.v === '<') {
        const n = Number(value);
        if (!Number.isInteger(n)) {
          throw new SelectorError(
            `unable to parse requirement: for 'Gt', 'Lt' operators, the value must be an integer`,
          );
        }
        reqs.push({ op: after.v === '>' ? 'gt' : 'lt', key, value: n });
      } else if (after.v === '!') {
        fail(after, "'=', '!=', '==', 'in', notin'");
      } else {
        checkValue(value);
        reqs.push({ op: after.v === '!=' ? '!=' : '=', key, value });
      }
    } else {
      fail(after, "'=', '!=', '==', 'in', notin'");
    }
    const sep = peek();
    if (sep) {
      if (sep.t !== ',') fail(sep, "',' or 'end of string'");
      next();
      if (!peek()) fail(undefined, 'identifier');
    }
  }
  return reqs;
}

/** True when `labels` satisfy every requirement. */
export function matchesLabels(
  selector: LabelSelector,
  labels: Readonly<Record<string, string>> | undefined,
): boolean {
  const l = labels ?? {};
  return selector.every((r) => {
    const has = Object.hasOwn(l, r.key);
    const v = l[r.key];
    switch (r.op) {
      case 'exists':
        return has;
      case '!':
        return !has;
      case '=':
        return has && v === r.value;
      case '!=':
        return !has || v !== r.value;
      case 'in':
        return has && r.values.includes(v as string);
      case 'notin':
        return !has || !r.values.includes(v as string);
      case 'gt':
        return has && Number.isInteger(Number(v)) && Number(v) > r.value;
      case 'lt':
        return has && Number.isInteger(Number(v)) && Number(v) < r.value;
    }
    return false;
  });
}

/** One field requirement. */
export interface FieldRequirement {
  readonly field: string;
  readonly op: '=' | '!=';
  readonly value: string;
}

/** Parses a field selector such as `metadata.name=x,metadata.namespace!=y`. */
export function parseFieldSelector(input: string, supported: readonly string[]): FieldRequirement[] {
  if (input.trim() === '') return [];
  return input.split(',').map((part) => {
    const m = /^\s*([^=!\s]+)\s*(==|=|!=)\s*(.*?)\s*$/.exec(part);
    if (!m) throw new SelectorError(`invalid selector: '${input}'; can't understand '${part}'`);
    const field = m[1] as string;
    if (!supported.includes(field)) throw new SelectorError(`field label not supported: ${field}`);
    return { field, op: m[2] === '!=' ? '!=' : '=', value: (m[3] as string).replace(/\\(.)/g, '$1') };
  });
}

/** True when every field requirement holds. */
export function matchesFields(
  reqs: readonly FieldRequirement[],
  fields: Readonly<Record<string, string>>,
): boolean {
  return reqs.every((r) => (r.op === '=' ? fields[r.field] === r.value : fields[r.field] !== r.value));
}

/** The requirements of a `metav1.LabelSelector` object (matchLabels + matchExpressions). */
export function fromLabelSelectorObject(selector: unknown): LabelSelector {
  if (typeof selector !== 'object' || selector === null) return [];
  const s = selector as { matchLabels?: Record<string, string>; matchExpressions?: unknown[] };
  const reqs: Requirement[] = [];
  for (const [key, value] of Object.entries(s.matchLabels ?? {}))
    reqs.push({ op: '=', key, value: String(value) });
  for (const e of s.matchExpressions ?? []) {
    const expr = e as { key?: string; operator?: string; values?: string[] };
    const key = String(expr.key ?? '');
    switch (expr.operator) {
      case 'In':
        reqs.push({ op: 'in', key, values: expr.values ?? [] });
        break;
      case 'NotIn':
        reqs.push({ op: 'notin', key, values: expr.values ?? [] });
        break;
      case 'Exists':
        reqs.push({ op: 'exists', key });
        break;
      case 'DoesNotExist':
        reqs.push({ op: '!', key });
        break;
    }
  }
  return reqs;
}

/** The string form of a selector object (for `status.selector` of a Scale). */
export function selectorString(selector: LabelSelector): string {
  return selector
    .map((r) => {
      switch (r.op) {
        case 'exists':
          return r.key;
        case '!':
          return `!${r.key}`;
        case '=':
          return `${r.key}=${r.value}`;
        case '!=':
          return `${r.key}!=${r.value}`;
        case 'in':
          return `${r.key} in (${[...r.values].sort().join(',')})`;
        case 'notin':
          return `${r.key} notin (${[...r.values].sort().join(',')})`;
        case 'gt':
          return `${r.key}>${r.value}`;
        case 'lt':
          return `${r.key}<${r.value}`;
      }
      return '';
    })
    .join(',');
}
