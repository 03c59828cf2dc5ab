/**
 * Vault ACL policies for the fake: parsing (HCL subset, JSON, or a plain object), merging several
 * policies into one ACL, and the per-request decision with Vault's path matching rules.
 *
 * Matching follows Vault's `acl.go`: an exact rule wins; a LIST may also use the exact rule of the path
 * without its trailing slash; otherwise the highest-priority glob (`prefix*`) or segment-wildcard
 * (`a/+/b`) rule that matches is used, ranked by Vault's documented priority rules. A rule containing
 * `deny` denies everything. Rules of policies with the same path are merged (union, `deny` wins).
 *
 * @packageDocumentation
 */

/**
 * A capability in a Vault policy rule. `create` and `update` are distinct: writing a key that does not
 * exist needs `create`, overwriting one needs `update`. `deny` overrides everything else.
 * @public
 */
export type VaultCapability = 'create' | 'read' | 'update' | 'patch' | 'delete' | 'list' | 'sudo' | 'deny';

/**
 * Path rules of one policy, keyed by Vault path pattern (no leading slash, no `/v1/`):
 * `{ 'secret/data/zonekeeper/*': ['create', 'read', 'update'], 'secret/metadata/zonekeeper/*': ['list'] }`.
 * A trailing `*` is a prefix glob; a `+` segment matches exactly one path segment.
 * @public
 */
export type VaultPolicyRules = Readonly<Record<string, readonly VaultCapability[]>>;

const allCapabilities: readonly VaultCapability[] = [
  'create',
  'read',
  'update',
  'patch',
  'delete',
  'list',
  'sudo',
  'deny',
];

/** Legacy `policy = "…"` values and the capabilities they stand for. */
const legacyPolicies: Readonly<Record<string, readonly VaultCapability[]>> = {
  deny: ['deny'],
  read: ['read', 'list'],
  write: ['create', 'read', 'update', 'delete', 'list'],
  sudo: ['create', 'read', 'update', 'delete', 'list', 'sudo'],
};

/**
 * The part of Vault's built-in `default` policy that matters here: a token may look itself up, renew
 * and revoke itself, and ask for its own capabilities.
 */
export const defaultPolicyRules: VaultPolicyRules = {
  'auth/token/lookup-self': ['read'],
  'auth/token/renew-self': ['update'],
  'auth/token/revoke-self': ['update'],
  'sys/capabilities-self': ['update'],
  'sys/internal/ui/resultant-acl': ['read'],
};

/** An error in a policy document; the message says what and where. */
export class PolicyParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PolicyParseError';
  }
}

/** Checks capability names and returns a normalized copy (deduplicated, known names only). */
export function normalizeRules(rules: Readonly<Record<string, readonly string[]>>): VaultPolicyRules {
  const out: Record<string, VaultCapability[]> = {};
  for (const [path, caps] of Object.entries(rules)) {
    if (typeof path !== 'string' || !Array.isArray(caps)) {
      throw new PolicyParseError(`path ${JSON.stringify(path)}: capabilities must be a list`);
    }
    const pattern = path.replace(/^\/+/, '');
    const set = new Set<VaultCapability>(out[pattern] ?? []);
    for (const cap of caps) {
      const name = String(cap).toLowerCase();
      if (!(allCapabilities as readonly string[]).includes(name)) {
        throw new PolicyParseError(
          `path ${JSON.stringify(pattern)}: invalid capability ${JSON.stringify(cap)}`,
        );
      }
      set.add(name as VaultCapability);
    }
    out[pattern] = [...set];
  }
  return out;
}

type Token =
  | { readonly kind: 'string'; readonly value: string; readonly at: number }
  | { readonly kind: 'ident'; readonly value: string; readonly at: number }
  | { readonly kind: 'number'; readonly value: string; readonly at: number }
  | { readonly kind: 'punct'; readonly value: string; readonly at: number };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] ?? '';
    if (/\s/.test(c)) {
      i++;
    } else if (c === '#' || (c === '/' && text[i + 1] === '/')) {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) throw new PolicyParseError(`unterminated comment at offset ${i}`);
      i = end + 2;
    } else if (c === '"') {
      const start = i;
      let value = '';
      i++;
      for (;;) {
        const d = text[i];
        if (d === undefined) throw new PolicyParseError(`unterminated string at offset ${start}`);
        if (d === '"') break;
        if (d === '\\') {
          const e = text[i + 1];
          if (e === 'u') {
            value += String.fromCharCode(Number.parseInt(text.slice(i + 2, i + 6), 16));
            i += 6;
            continue;
          }
          value += e === 'n' ? '\n' : e === 't' ? '\t' : e === 'r' ? '\r' : (e ?? '');
          i += 2;
          continue;
        }
        value += d;
        i++;
      }
      i++;
      tokens.push({ kind: 'string', value, at: start });
    } else if ('{}[]=,:'.includes(c)) {
      tokens.push({ kind: 'punct', value: c, at: i });
      i++;
    } else if (/[A-Za-z_]/.test(c)) {
      const start = i;
      while (i < text.length && /[A-Za-z0-9_-]/.test(text[i] ?? '')) i++;
      tokens.push({ kind: 'ident', value: text.slice(start, i), at: start });
    } else if (/[-0-9]/.test(c)) {
      const start = i;
      i++;
      while (i < text.length && /[0-9.]/.test(text[i] ?? '')) i++;
      tokens.push({ kind: 'number', value: text.slice(start, i), at: start });
    } else {
      throw new PolicyParseError(`unexpected character ${JSON.stringify(c)} at offset ${i}`);
    }
  }
  return tokens;
}

/** Parses the HCL policy syntax Vault documents (`path "…" { capabilities = [ … ] }`). */
function parseHcl(text: string): Record<string, string[]> {
  const tokens = tokenize(text);
  let p = 0;
  const peek = () => tokens[p];
  const next = (): Token => {
    const t = tokens[p++];
    if (t === undefined) throw new PolicyParseError('unexpected end of policy');
    return t;
  };
  const expect = (value: string): void => {
    const t = next();
    if (t.kind !== 'punct' || t.value !== value) {
      throw new PolicyParseError(`expected "${value}" at offset ${t.at}, found ${JSON.stringify(t.value)}`);
    }
  };
  const rules: Record<string, string[]> = {};
  while (p < tokens.length) {
    const key = next();
    if (key.kind !== 'ident' || key.value !== 'path') {
      throw new PolicyParseError(
        `only "path" blocks are supported (found ${JSON.stringify(key.value)} at offset ${key.at})`,
      );
    }
    const pattern = next();
    if (pattern.kind !== 'string')
      throw new PolicyParseError(`expected a quoted path at offset ${pattern.at}`);
    expect('{');
    const caps: string[] = [];
    while (peek()?.value !== '}' || peek()?.kind !== 'punct') {
      const field = next();
      if (field.kind !== 'ident') throw new PolicyParseError(`expected a field name at offset ${field.at}`);
      expect('=');
      if (field.value === 'capabilities') {
        expect('[');
        while (!(peek()?.kind === 'punct' && peek()?.value === ']')) {
          const cap = next();
          if (cap.kind !== 'string')
            throw new PolicyParseError(`expected a quoted capability at offset ${cap.at}`);
          caps.push(cap.value);
          if (peek()?.kind === 'punct' && peek()?.value === ',') p++;
        }
        expect(']');
      } else if (field.value === 'policy') {
        const value = next();
        const legacy = value.kind === 'string' ? legacyPolicies[value.value] : undefined;
        if (legacy === undefined) {
          throw new PolicyParseError(
            `path ${JSON.stringify(pattern.value)}: invalid policy ${JSON.stringify(value.value)}`,
          );
        }
        caps.push(...legacy);
      } else {
        throw new PolicyParseError(
          `path ${JSON.stringify(pattern.value)}: "${field.value}" is not supported by the Vault fake (only capabilities and policy are)`,
        );
      }
    }
    expect('}');
    rules[pattern.value] = [...(rules[pattern.value] ?? []), ...caps];
  }
  return rules;
}

/** Parses Vault's JSON policy syntax (`{"path": {"secret/*": {"capabilities": ["read"]}}}`). */
function parseJsonPolicy(text: string): Record<string, string[]> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    throw new PolicyParseError(`invalid JSON: ${(error as Error).message}`);
  }
  const paths = (doc as { path?: unknown } | null)?.path;
  if (typeof paths !== 'object' || paths === null || Array.isArray(paths)) {
    throw new PolicyParseError('a JSON policy needs a "path" object');
  }
  const rules: Record<string, string[]> = {};
  for (const [pattern, body] of Object.entries(paths as Record<string, unknown>)) {
    const { capabilities, policy, ...rest } = (body ?? {}) as Record<string, unknown>;
    const extra = Object.keys(rest);
    if (extra.length > 0) {
      throw new PolicyParseError(
        `path ${JSON.stringify(pattern)}: "${extra[0]}" is not supported by the Vault fake (only capabilities and policy are)`,
      );
    }
    const caps = Array.isArray(capabilities) ? capabilities.map(String) : [];
    if (policy !== undefined) {
      const legacy = typeof policy === 'string' ? legacyPolicies[policy] : undefined;
      if (legacy === undefined) throw new PolicyParseError(`path ${JSON.stringify(pattern)}: invalid policy`);
      caps.push(...legacy);
    }
    rules[pattern] = caps;
  }
  return rules;
}

/** Parses a policy document in HCL or JSON syntax into path rules. Throws {@link PolicyParseError}. */
export function parsePolicyDocument(text: string): VaultPolicyRules {
  const trimmed = text.trim();
  const raw = trimmed.startsWith('{') ? parseJsonPolicy(trimmed) : parseHcl(trimmed);
  return normalizeRules(raw);
}

interface Rule {
  readonly pattern: string;
  readonly caps: ReadonlySet<VaultCapability>;
}

/** Merges a capability into an existing rule the way Vault does: `deny` replaces everything. */
function mergeCaps(existing: ReadonlySet<VaultCapability> | undefined, added: readonly VaultCapability[]) {
  const set = new Set<VaultCapability>(existing ?? []);
  for (const cap of added) set.add(cap);
  return set.has('deny') ? new Set<VaultCapability>(['deny']) : set;
}

function firstWildcard(pattern: string): number {
  const segments = pattern.split('/');
  let offset = 0;
  for (const segment of segments) {
    if (segment === '+') return offset;
    offset += segment.length + 1;
  }
  return pattern.endsWith('*') ? pattern.length - 1 : pattern.length;
}

function plusCount(pattern: string): number {
  return pattern.split('/').filter((s) => s === '+').length;
}

/** True if `a` has lower priority than `b` (Vault's documented ordering of non-exact rules). */
function lowerPriority(a: string, b: string): boolean {
  const wa = firstWildcard(a);
  const wb = firstWildcard(b);
  if (wa !== wb) return wa < wb;
  const ga = a.endsWith('*');
  const gb = b.endsWith('*');
  if (ga !== gb) return ga;
  const pa = plusCount(a);
  const pb = plusCount(b);
  if (pa !== pb) return pa > pb;
  if (a.length !== b.length) return a.length < b.length;
  return a < b;
}

function matchesSegments(pattern: string, path: string): boolean {
  const glob = pattern.endsWith('*');
  const patternParts = (glob ? pattern.slice(0, -1) : pattern).split('/');
  const pathParts = path.split('/');
  if (glob ? pathParts.length < patternParts.length : pathParts.length !== patternParts.length) return false;
  return patternParts.every((part, i) => {
    const actual = pathParts[i] ?? '';
    if (part === '+') return true;
    if (glob && i === patternParts.length - 1) return actual.startsWith(part);
    return actual === part;
  });
}

/**
 * A merged ACL over several policies. `root` grants everything, including `sudo`.
 */
export class Acl {
  readonly root: boolean;
  private readonly exact = new Map<string, Rule>();
  private readonly nonExact: Rule[] = [];

  constructor(policies: readonly VaultPolicyRules[], root = false) {
    this.root = root;
    const merged = new Map<string, ReadonlySet<VaultCapability>>();
    for (const rules of policies) {
      for (const [pattern, caps] of Object.entries(rules))
        merged.set(pattern, mergeCaps(merged.get(pattern), caps));
    }
    for (const [pattern, caps] of merged) {
      const rule = { pattern, caps };
      const wildcard = pattern.endsWith('*') || pattern.split('/').includes('+');
      if (wildcard) this.nonExact.push(rule);
      else this.exact.set(pattern, rule);
    }
  }

  /** The capabilities granted on `path` (after Vault's rule selection); `['deny']` when denied. */
  capabilities(path: string, list = false): ReadonlySet<VaultCapability> {
    if (this.root) return new Set(allCapabilities.filter((c) => c !== 'deny'));
    const rule = this.ruleFor(path, list);
    if (rule === undefined) return new Set(['deny']);
    return rule.caps;
  }

  /** Whether `capability` (and `sudo`, when the path needs it) is granted on `path`. */
  allows(path: string, capability: VaultCapability, needsSudo = false, list = false): boolean {
    if (this.root) return true;
    const caps = this.capabilities(path, list);
    if (caps.has('deny')) return false;
    return caps.has(capability) && (!needsSudo || caps.has('sudo'));
  }

  /**
   * Whether anything is granted at or under `prefix` (a mount path such as `secret/`): Vault's check for
   * `sys/internal/ui/mounts/<path>`, which answers a mount to a token that may use some path in it.
   */
  grantsUnder(prefix: string): boolean {
    if (this.root) return true;
    const own = this.capabilities(prefix);
    if (!own.has('deny')) return true;
    for (const rule of [...this.exact.values(), ...this.nonExact]) {
      if (rule.caps.has('deny')) continue;
      const literal = rule.pattern.endsWith('*') ? rule.pattern.slice(0, -1) : rule.pattern;
      if (literal.startsWith(prefix) || (rule.pattern.endsWith('*') && prefix.startsWith(literal)))
        return true;
    }
    return false;
  }

  private ruleFor(path: string, list: boolean): Rule | undefined {
    const exact = this.exact.get(path) ?? (list ? this.exact.get(path.replace(/\/$/, '')) : undefined);
    if (exact !== undefined) return exact;
    let best: Rule | undefined;
    for (const rule of this.nonExact) {
      const simpleGlob = rule.pattern.endsWith('*') && !rule.pattern.split('/').includes('+');
      const matches = simpleGlob
        ? path.startsWith(rule.pattern.slice(0, -1))
        : matchesSegments(rule.pattern, path);
      if (matches && (best === undefined || lowerPriority(best.pattern, rule.pattern))) best = rule;
    }
    return best;
  }
}
