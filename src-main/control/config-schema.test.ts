import { describe, expect, it } from 'vitest';
import { schemaProblem, validateConfig } from './config-schema.js';

const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['url'],
  properties: {
    url: { type: 'string', pattern: '^https?://', minLength: 8 },
    timeout_ms: { type: 'integer', minimum: 100, maximum: 60000 },
    format: { enum: ['raw', 'mp3', 'opus'] },
    bands: { type: 'array', maxItems: 2, items: { type: 'object', properties: { gain_db: { type: 'number', minimum: -24, maximum: 24 } } } },
  },
};

describe('validateConfig', () => {
  it('accepts a valid config', () => {
    expect(validateConfig(schema, { url: 'https://music.example', timeout_ms: 5000, format: 'opus', bands: [{ gain_db: -3.5 }] })).toEqual([]);
  });

  it('reports every problem with its path', () => {
    const issues = validateConfig(schema, { url: 'ftp://x', timeout_ms: 12.5, format: 'flac', bands: [{ gain_db: 30 }, {}, {}], extra: 1 });
    expect(issues).toHaveLength(8);
    expect(issues).toEqual(
      expect.arrayContaining([
        { path: 'url', message: 'must have at least 8 characters' },
        { path: 'url', message: 'must match ^https?://' },
        { path: 'timeout_ms', message: 'must be integer, not number' },
        { path: 'timeout_ms', message: 'must be ≥ 100' },
        { path: 'format', message: 'must be one of "raw", "mp3", "opus"' },
        { path: 'bands', message: 'must have at most 2 items' },
        { path: 'bands[0].gain_db', message: 'must be ≤ 24' },
        { path: 'extra', message: 'is not a known setting' },
      ]),
    );
  });

  it('requires required keys and the right top-level type', () => {
    expect(validateConfig(schema, {})).toEqual([{ path: 'url', message: 'is required' }]);
    expect(validateConfig(schema, [])).toEqual([{ path: '(config)', message: 'must be object, not array' }]);
  });

  it('ignores an empty schema', () => {
    expect(validateConfig({}, { anything: true })).toEqual([]);
  });

  // The hand-written subset this replaced ignored all of these.
  it('honours oneOf, $ref/$defs, if/then and formats (draft 2020-12)', () => {
    const s = {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      $defs: { port: { type: 'integer', minimum: 1, maximum: 65535 } },
      properties: {
        port: { $ref: '#/$defs/port' },
        auth: { oneOf: [{ type: 'object', required: ['token'] }, { type: 'object', required: ['user', 'password'] }] },
        url: { type: 'string', format: 'uri' },
        mode: { enum: ['proxy', 'direct'] },
        proxy: { type: 'string' },
      },
      if: { properties: { mode: { const: 'proxy' } }, required: ['mode'] },
      then: { required: ['proxy'] },
    };
    expect(validateConfig(s, { port: 8080, auth: { token: 't' }, url: 'https://x.example/a', mode: 'direct' })).toEqual([]);
    expect(validateConfig(s, { port: 0 })).toEqual([{ path: 'port', message: 'must be ≥ 1' }]);
    expect(validateConfig(s, { auth: { token: 't', user: 'u', password: 'p' } }).some((i) => i.path === 'auth' && /must match exactly one schema/.test(i.message))).toBe(true);
    expect(validateConfig(s, { url: 'not a uri' })).toEqual([{ path: 'url', message: 'must match format "uri"' }]);
    expect(validateConfig(s, { mode: 'proxy' })).toEqual(expect.arrayContaining([{ path: 'proxy', message: 'is required' }]));
  });

  it('reads draft-07 schemas as draft-07 (tuple items)', () => {
    const s = { $schema: 'http://json-schema.org/draft-07/schema#', type: 'array', items: [{ type: 'string' }, { type: 'number' }], additionalItems: false };
    expect(validateConfig(s, ['a', 1])).toEqual([]);
    expect(validateConfig(s, [1, 'a']).length).toBeGreaterThan(0);
    expect(validateConfig(s, ['a', 1, 2]).length).toBeGreaterThan(0);
  });

  it('refuses a schema that is not a JSON Schema, with the reason', () => {
    expect(schemaProblem({ type: 'objekt' })).toMatch(/type/);
    expect(schemaProblem({ properties: { a: { $ref: '#/$defs/missing' } } })).toMatch(/can't resolve reference|missing/);
    expect(schemaProblem([1])).toMatch(/object or a boolean/);
    expect(validateConfig({ minimum: 'three' }, 1)).toEqual([{ path: '(schema)', message: expect.stringMatching(/^the plugin's config schema is invalid: /) }]);
    expect(schemaProblem({ type: 'object', 'x-stellatune-actions': [] })).toBeNull();
  });
});
