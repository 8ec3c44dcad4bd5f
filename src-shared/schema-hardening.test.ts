// The schema against hostile input: keys that live on Object.prototype, __proto__ keys that
// JSON.parse makes own keys, and calls whose issue list would dwarf the call itself.
import { describe, expect, it } from 'vitest';
import { newTrack } from './contract.js';
import { MAX_ISSUES, s, validate } from './schema.js';

describe('strict objects and prototype keys', () => {
  const shape = s.object({ title: s.string() });

  it.each(['toString', 'hasOwnProperty', 'valueOf', 'constructor', '__proto__', 'isPrototypeOf'])('refuses %s as an unknown key', (key) => {
    const r = validate(shape, JSON.parse(`{"title":"x","${key}":1}`));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.issues).toContainEqual({ path: key, message: 'is not allowed' });
  });

  it('does not take a required key from the prototype', () => {
    const r = validate(s.object({ toString: s.string() }), {});
    expect(r.ok).toBe(false);
  });

  it('refuses __proto__ inside JSON values, records and open objects, so it is never stored', () => {
    const config = JSON.parse('{"server_url":"x","nested":{"__proto__":{"polluted":true}}}');
    const r = validate(s.jsonObject(), config);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.issues[0]!.path).toBe('.nested.__proto__');
    expect(validate(s.record(s.number()), JSON.parse('{"a":1,"__proto__":2}')).ok).toBe(false);
    expect(validate(s.object({ a: s.number() }, { open: true }), JSON.parse('{"a":1,"__proto__":{"x":1}}')).ok).toBe(false);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('capped issue lists', () => {
  it('400k unknown keys give MAX_ISSUES issues and a count, quickly', () => {
    const input: Record<string, number> = { title: 1 };
    for (let i = 0; i < 400_000; i++) input[`k${i}`] = i;
    const t0 = performance.now();
    const r = validate(s.object({ title: s.string() }), input, { path: 'params' });
    const ms = performance.now() - t0;
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues).toHaveLength(MAX_ISSUES + 1);
    expect(r.issues.at(-1)!.message).toBe(`and ${400_000 + 1 - MAX_ISSUES} more issues`);
    expect(JSON.stringify(r.issues).length).toBeLessThan(4096);
    expect(ms).toBeLessThan(2000);
  });

  it('keeps a huge key name out of the issue path', () => {
    const key = 'k'.repeat(1 << 20);
    const r = validate(s.object({}), { [key]: 1 });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.issues[0]!.path.length).toBeLessThanOrEqual(257);
  });
});

describe("a queue entry's album place", () => {
  const entry = { source: { kind: 'file', path: '/m/a.flac' }, title: 'a' };
  it('takes positive whole track and disc numbers and a bounded album artist', () => {
    expect(validate(newTrack, { ...entry, albumArtist: 'Björk', trackNo: 3, discNo: 2 }).ok).toBe(true);
  });
  it.each([{ trackNo: -1 }, { trackNo: 1.5 }, { discNo: '2' }, { trackNo: null }, { albumArtist: 'x'.repeat(1025) }, { albumArtist: 7 }])('refuses %j', (bad) => {
    const r = validate(newTrack, { ...entry, ...bad });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.issues[0]!.path).toBe(Object.keys(bad)[0]);
  });
});
