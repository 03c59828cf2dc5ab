import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  fromLabelSelectorObject,
  matchesFields,
  matchesLabels,
  parseFieldSelector,
  parseLabelSelector,
  SelectorError,
  selectorString,
} from './selectors.js';

const labels = { app: 'web', tier: 'front', 'example.com/owner': 'zk', n: '5' };

describe('label selectors', () => {
  it.each([
    ['', true],
    ['app=web', true],
    ['app==web', true],
    ['app!=web', false],
    ['app!=db', true],
    ['missing!=x', true],
    ['app in (db, web)', true],
    ['app notin (db,web)', false],
    ['missing notin (x)', true],
    ['tier', true],
    ['!tier', false],
    ['!missing', true],
    ['example.com/owner=zk,app=web', true],
    ['example.com/owner=zk,app=db', false],
    ['n>4,n<6', true],
    ['n>5', false],
    ['empty=', false],
    ['app in (in, web)', true],
  ])('%s → %s', (selector, expected) => {
    expect(matchesLabels(parseLabelSelector(selector), labels)).toBe(expected);
  });

  it('rejects malformed selectors with the API server style of message', () => {
    expect(() => parseLabelSelector('app in web')).toThrow(
      new SelectorError("unable to parse requirement: found 'web', expected: '('"),
    );
    expect(() => parseLabelSelector('a=b,')).toThrow(SelectorError);
    expect(() => parseLabelSelector('bad key=x')).toThrow(SelectorError);
    expect(() => parseLabelSelector('a=has space')).toThrow(SelectorError);
    expect(() => parseLabelSelector('-bad=x')).toThrow(/key: Invalid value: "-bad"/);
    expect(() => parseLabelSelector('n>x')).toThrow(/must be an integer/);
    expect(() => parseLabelSelector('in=x')).toThrow(
      "unable to parse requirement: found 'in', expected: identifier",
    );
  });

  it('matches like a set of equality requirements for any map (property)', () => {
    // `in` / `notin` are keywords, not valid keys (the real parser rejects them too); values may use them.
    const key = fc.stringMatching(/^[a-z][a-z0-9]{0,5}$/).filter((k) => k !== 'in' && k !== 'notin');
    const value = fc.oneof(fc.stringMatching(/^[a-z][a-z0-9]{0,5}$/), fc.constantFrom('in', 'notin'));
    fc.assert(
      fc.property(
        fc.dictionary(key, value, { maxKeys: 5 }),
        fc.dictionary(key, value, { maxKeys: 5 }),
        (wanted, actual) => {
          const sel = Object.entries(wanted)
            .map(([k, v]) => `${k}=${v}`)
            .join(',');
          const expected = Object.entries(wanted).every(([k, v]) => actual[k] === v);
          expect(matchesLabels(parseLabelSelector(sel), actual)).toBe(expected);
        },
      ),
    );
  });

  it('converts metav1.LabelSelector objects', () => {
    const sel = fromLabelSelectorObject({
      matchLabels: { app: 'web' },
      matchExpressions: [
        { key: 'tier', operator: 'In', values: ['front', 'back'] },
        { key: 'legacy', operator: 'DoesNotExist' },
      ],
    });
    expect(selectorString(sel)).toBe('app=web,tier in (back,front),!legacy');
    expect(matchesLabels(sel, labels)).toBe(true);
  });
});

describe('field selectors', () => {
  const supported = ['metadata.name', 'metadata.namespace'];

  it('parses =, == and != on supported fields', () => {
    const reqs = parseFieldSelector('metadata.name=a,metadata.namespace!=b', supported);
    expect(matchesFields(reqs, { 'metadata.name': 'a', 'metadata.namespace': 'c' })).toBe(true);
    expect(matchesFields(reqs, { 'metadata.name': 'a', 'metadata.namespace': 'b' })).toBe(false);
    expect(parseFieldSelector('metadata.name==a', supported)).toEqual([
      { field: 'metadata.name', op: '=', value: 'a' },
    ]);
    expect(parseFieldSelector('', supported)).toEqual([]);
  });

  it('rejects unsupported fields', () => {
    expect(() => parseFieldSelector('spec.nodeName=x', supported)).toThrow(
      'field label not supported: spec.nodeName',
    );
    expect(() => parseFieldSelector('nonsense', supported)).toThrow(SelectorError);
  });
});
