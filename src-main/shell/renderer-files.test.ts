// The renderer's files as both shells serve them (the browser shell's HTTP server, Electron's
// stellatune:// protocol): any path maps to a file inside the renderer folder or to a status, never
// to a throw; and the page's own CSP is as narrow as the header's.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../app-paths.js';
import { contentSecurityPolicy } from './browser-shell.js';
import { rendererFile } from './renderer-files.js';

const root = path.join(repoRoot, 'dist', 'renderer');

describe('rendererFile', () => {
  it('answers malformed paths with a status', () => {
    const cases: [string, number][] = [
      ['/%ff', 400], ['/%', 400], ['/%00', 400], ['/a%00b.js', 400], ['/index.html%00', 400], ['/%E0%A4%A', 400],
      ['/%C0%AF', 400], ['/..%2f..%2fetc%2fpasswd', 403], ['/a%5c..%5c..', 400], ['index.html', 400], ['*', 400],
      [`/${'a'.repeat(65_536)}`, 414], ['/assets/index.js.map', 404],
    ];
    for (const [raw, status] of cases) expect(rendererFile(root, raw), raw.slice(0, 40)).toEqual({ ok: false, status });
  });

  it('maps good paths inside the folder', () => {
    expect(rendererFile(root, '/')).toEqual({ ok: true, file: path.join(root, 'index.html'), ext: '.html' });
    expect(rendererFile(root, '/assets/a%20b.js')).toEqual({ ok: true, file: path.join(root, 'assets', 'a b.js'), ext: '.js' });
    expect(rendererFile(root, '/../x')).toEqual({ ok: false, status: 403 });
  });
});

describe('packaging', () => {
  it("the page's meta CSP allows nothing the browser shell's header does not", () => {
    const html = fs.readFileSync(path.join(repoRoot, 'src-renderer', 'index.html'), 'utf8');
    const meta = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)?.[1] ?? '';
    const parse = (p: string): Map<string, string> => new Map(p.split(';').map((d) => d.trim().split(/\s+/)).map(([k, ...v]) => [k!, v.join(' ')]));
    const page = parse(meta);
    const header = parse(contentSecurityPolicy('http://127.0.0.1:4321'));
    expect(page.get('default-src')).toBe("'none'");
    expect(meta).not.toContain('*');
    for (const [directive, sources] of page) {
      // 'self' is the page's own origin, which the header spells out for the WebSocket.
      if (directive === 'connect-src') expect(sources).toBe("'self'");
      else expect(header.get(directive), directive).toBe(sources);
    }
    for (const directive of header.keys()) if (directive !== 'frame-ancestors') expect(page.has(directive), directive).toBe(true);
  });

  it('the packaged app has the fuses a release must not have turned off', () => {
    const yml = fs.readFileSync(path.join(repoRoot, 'electron-builder.yml'), 'utf8');
    const block = yml.slice(yml.indexOf('electronFuses:'));
    const fuse = (name: string): string | undefined => new RegExp(`^\\s+${name}:\\s*(\\w+)`, 'm').exec(block)?.[1];
    expect(fuse('runAsNode')).toBe('false');
    expect(fuse('enableNodeCliInspectArguments')).toBe('false');
    expect(fuse('enableNodeOptionsEnvironmentVariable')).toBe('false');
    expect(fuse('grantFileProtocolExtraPrivileges')).toBe('false');
    expect(fuse('onlyLoadAppFromAsar')).toBe('true');
    expect(fuse('enableEmbeddedAsarIntegrityValidation')).toBe('true');
    expect(fuse('enableCookieEncryption')).toBe('true');
  });
});
