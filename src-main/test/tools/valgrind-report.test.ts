// The checker's --valgrind verdict from valgrind's XML report (protocol 4): a report with a frame
// in the plugin's library (loaded as a shadow copy "g1-…-name.so") fails with its stack; node's
// and the host's own reports are counted, not blamed on the author; an unfinished run warns.
// (A real --valgrind run takes about a minute per library, so npm test checks the verdict on a
// report shaped as valgrind writes it; `npm run plugin:check -- --valgrind lib.so` runs it.)
import { describe, expect, it } from 'vitest';
import { parseValgrindXml, valgrindFindings } from '../../tools/plugin-check.js';

const frame = (fn: string, obj: string, file?: string, line?: number): string =>
  `<frame><ip>0x4C2FB0F</ip><obj>${obj}</obj><fn>${fn}</fn>${file ? `<dir>/src</dir><file>${file}</file><line>${line}</line>` : ''}</frame>`;

function report(errors: string[], finished = true): string {
  return `<?xml version="1.0"?>
<valgrindoutput><protocolversion>4</protocolversion><tool>memcheck</tool>
<status><state>RUNNING</state><time>00:00:00:00.1</time></status>
${errors.join('\n')}
${finished ? '<status><state>FINISHED</state><time>00:00:00:40.0</time></status>' : ''}
</valgrindoutput>`;
}

const leakInPlugin = `<error><unique>0x10</unique><tid>3</tid><kind>Leak_DefinitelyLost</kind>
<xwhat><text>2,097,152 bytes in 4 blocks are definitely lost in loss record 9 of 9</text><leakedbytes>2097152</leakedbytes><leakedblocks>4</leakedblocks></xwhat>
<stack>${frame('malloc', '/usr/libexec/valgrind/vgpreload_memcheck-amd64-linux.so')}${frame('list_work', '/tmp/shadow/g1-17171-mx5b-leak.so', 'leak.c', 210)}${frame('start_thread', '/usr/lib/x86_64-linux-gnu/libc.so.6')}</stack></error>`;
const readInPlugin = `<error><unique>0x11</unique><tid>1</tid><kind>InvalidRead</kind><what>Invalid read of size 4</what>
<stack>${frame('parse_tags', '/tmp/shadow/g2-1-x-leak.so', 'tags.c', 77)}</stack></error>`;
const nodesOwn = `<error><unique>0x12</unique><tid>1</tid><kind>Leak_DefinitelyLost</kind>
<xwhat><text>304 bytes in 1 blocks are definitely lost in loss record 1 of 9</text></xwhat>
<stack>${frame('malloc', '/usr/libexec/valgrind/vgpreload_memcheck-amd64-linux.so')}${frame('uv_thread_create', '/usr/bin/node')}</stack></error>`;
// Another library whose name merely contains the plugin's: not the plugin.
const lookalike = `<error><unique>0x13</unique><tid>1</tid><kind>InvalidWrite</kind><what>Invalid write of size 8</what>
<stack>${frame('f', '/usr/lib/libnoleak.so')}</stack></error>`;

describe('valgrind verdict', () => {
  it('parses kind, message and frames (object, function, file:line)', () => {
    const r = parseValgrindXml(report([leakInPlugin, readInPlugin]));
    expect(r.finished).toBe(true);
    expect(r.errors.map((e) => [e.kind, e.what])).toEqual([
      ['Leak_DefinitelyLost', '2,097,152 bytes in 4 blocks are definitely lost in loss record 9 of 9'],
      ['InvalidRead', 'Invalid read of size 4'],
    ]);
    expect(r.errors[0]!.frames[1]).toEqual({ obj: '/tmp/shadow/g1-17171-mx5b-leak.so', fn: 'list_work', where: 'leak.c:210' });
  });

  it('fails what has a frame in the plugin, with the stack; counts the rest', () => {
    const rs = valgrindFindings(report([leakInPlugin, readInPlugin, nodesOwn, lookalike]), '/home/me/build/leak.so');
    expect(rs.map((r) => [r.level, r.detail])).toEqual([
      ['fail', '2,097,152 bytes in 4 blocks are definitely lost in loss record 9 of 9'],
      ['fail', 'memory error in the plugin (InvalidRead): Invalid read of size 4'],
    ]);
    expect(rs[0]!.fix).toContain('list_work (leak.c:210) in g1-17171-mx5b-leak.so');
  });

  it('passes a clean plugin (naming what it did not count) and warns on an unfinished run', () => {
    expect(valgrindFindings(report([nodesOwn]), 'leak.so')).toEqual([
      { level: 'pass', check: 'leaks', step: 'valgrind', detail: "no memory error and nothing definitely lost in leak.so (1 report(s) outside the plugin, e.g. node's own, not counted)" },
    ]);
    expect(valgrindFindings(report([], false), 'leak.so')[0]).toMatchObject({ level: 'warn', detail: expect.stringMatching(/did not report a finished run/) });
  });
});
