// The schema helper and the LRC parser, both used on each side of the contract.
import { describe, expect, it } from 'vitest';
import { activeLine, parseLrc } from './lrc.js';
import { parse, s, SchemaError, validate } from './schema.js';

describe('schema', () => {
  const track = s.object({ title: s.string({ max: 5 }), n: s.optional(s.int({ min: 0 })), tags: s.array(s.enum(['a', 'b'])) });

  it('accepts valid values and reports every issue with its path', () => {
    expect(parse(track, { title: 'ok', tags: ['a'] })).toEqual({ title: 'ok', tags: ['a'] });
    const r = validate(track, { title: 'too long', n: 1.5, tags: ['c'], extra: 1 });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.issues.map((i) => i.path).sort()).toEqual(['extra', 'n', 'tags[0]', 'title']);
    expect(() => parse(track, null)).toThrow(SchemaError);
  });

  it('strips unknown keys in strip mode (results) and rejects them in reject mode (arguments)', () => {
    expect(parse(track, { title: 'a', tags: [], more: 1 }, { unknownKeys: 'strip' })).toEqual({ title: 'a', tags: [] });
    expect(validate(track, { title: 'a', tags: [], more: 1 }).ok).toBe(false);
  });

  it('checks tagged unions and JSON values', () => {
    const u = s.tagged('kind', { a: s.object({ kind: s.literal('a'), x: s.number() }), b: s.object({ kind: s.literal('b') }) });
    expect(validate(u, { kind: 'a', x: 1 }).ok).toBe(true);
    expect(validate(u, { kind: 'c' }).ok).toBe(false);
    expect(validate(s.json(), { a: [1, 'x', null, { b: true }] }).ok).toBe(true);
    expect(validate(s.json(), { a: Number.NaN }).ok).toBe(false);
    expect(validate(s.json(), { d: new Date() }).ok).toBe(false);
  });
});

describe('lrc', () => {
  it('parses multi-tag lines, fractions and offsets, sorted by time', () => {
    const lines = parseLrc('[ar:Someone]\n[offset:+500]\n[00:02.5]b\n[00:01.00][00:03.250]a\nno tag\n');
    expect(lines).toEqual([
      { timeMs: 500, text: 'a' },
      { timeMs: 2000, text: 'b' },
      { timeMs: 2750, text: 'a' },
    ]);
  });

  it('finds the active line', () => {
    const lines = parseLrc('[00:01.00]a\n[00:02.00]b\n[00:03.00]c');
    expect(activeLine(lines, 500)).toBe(-1);
    expect(activeLine(lines, 1000)).toBe(0);
    expect(activeLine(lines, 2999)).toBe(1);
    expect(activeLine(lines, 60_000)).toBe(2);
  });
});
