import { describe, expect, it } from 'vitest';
import { validateConfig } from './config-schema.js';

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
    expect(issues).toEqual([
      { path: 'url', message: 'must have at least 8 characters' },
      { path: 'url', message: 'must match ^https?://' },
      { path: 'timeout_ms', message: 'must be integer, not number' },
      { path: 'format', message: 'must be one of "raw", "mp3", "opus"' },
      { path: 'bands', message: 'must have at most 2 items' },
      { path: 'bands[0].gain_db', message: 'must be ≤ 24' },
      { path: 'extra', message: 'is not a known setting' },
    ]);
  });

  it('requires required keys and the right top-level type', () => {
    expect(validateConfig(schema, {})).toEqual([{ path: 'url', message: 'is required' }]);
    expect(validateConfig(schema, [])).toEqual([{ path: '(config)', message: 'must be object, not array' }]);
  });

  it('ignores an empty schema', () => {
    expect(validateConfig({}, { anything: true })).toEqual([]);
  });
});
