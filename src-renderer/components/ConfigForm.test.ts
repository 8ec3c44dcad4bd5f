// Which schemas the generated form edits, and which fall back to the JSON editor.
import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { ConfigForm, defaultsKeepingSecrets, formable, secretKeys, supportsForm } from './ConfigForm.js';

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

describe('secret fields', () => {
  const schema = {
    type: 'object',
    properties: { username: { type: 'string' }, password: { type: 'string', format: 'password' }, token: { type: 'string', writeOnly: true } },
  };

  it('a stored secret renders as an empty password input saying "stored (unchanged)", with Clear', () => {
    // The core sends the config without its secret fields, and which of them are stored.
    const html = renderToStaticMarkup(createElement(ConfigForm, { schema, config: { username: 'ann' }, defaultConfig: {}, storedSecrets: ['password'], onApply: () => {} }));
    const password = /<input[^>]*id="cf-password"[^>]*>/.exec(html)![0];
    expect(password).toContain('type="password"');
    expect(password).toContain('placeholder="stored (unchanged)"');
    expect(password).toContain('data-secret="stored"');
    expect(password).toContain('value=""');
    expect(html).toContain('>Clear</button>');
    // A secret that is not stored: a plain password input, no Clear.
    const token = /<input[^>]*id="cf-token"[^>]*>/.exec(html)![0];
    expect(token).toContain('type="password"');
    expect(token).toContain('data-secret="none"');
    expect(html.match(/>Clear</g)).toHaveLength(1);
  });

  it('Defaults leave stored secrets alone (Clear removes one)', () => {
    expect(defaultsKeepingSecrets({ username: '', password: '', token: '', port: 4040 }, schema)).toEqual({ username: '', port: 4040 });
    expect(secretKeys(schema)).toEqual(['password', 'token']);
  });
});
