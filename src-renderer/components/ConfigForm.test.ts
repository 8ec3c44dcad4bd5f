// Which schemas the generated form edits, and which fall back to the JSON editor.
import { describe, expect, it } from 'vitest';
import { formable, supportsForm } from './ConfigForm.js';

describe('config form coverage', () => {
  it('renders plain objects of supported keywords as a form', () => {
    const s = { type: 'object', properties: { url: { type: 'string', format: 'uri' }, gain: { type: 'number', minimum: -1, maximum: 1 }, on: { type: 'boolean' } } };
    expect(supportsForm(s)).toBe(true);
    expect(formable(s.properties.url)).toBe(true);
  });

  it('hands nodes with oneOf, $ref, if/then or tuples to the JSON editor', () => {
    expect(formable({ oneOf: [{ type: 'string' }, { type: 'number' }] })).toBe(false);
    expect(formable({ $ref: '#/$defs/port' })).toBe(false);
    expect(formable({ type: 'array', items: [{ type: 'string' }] })).toBe(false);
    expect(formable({ type: 'array', prefixItems: [{ type: 'string' }] })).toBe(false);
    // A top level that needs them is edited as JSON as a whole.
    expect(supportsForm({ type: 'object', properties: { a: { type: 'string' } }, if: { required: ['a'] }, then: { required: ['b'] } })).toBe(false);
    // …while one such property leaves the rest of the form in place.
    expect(supportsForm({ type: 'object', properties: { a: { type: 'string' }, auth: { anyOf: [{ type: 'string' }, { type: 'null' }] } } })).toBe(true);
  });
});
