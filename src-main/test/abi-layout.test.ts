// The koffi declarations must describe exactly the C structs: same size, same field offsets.
// The C side is printed by native-plugins/tests/abi_layout.c, compiled by the same build.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import koffi from 'koffi';
import { describe, expect, it } from 'vitest';
import { abiStructs, DecoderProbe, ST_PLUGIN_API_VERSION, StDecoderVtable, StDecoderVtableV9 } from '../plugins/abi.js';
import { toolDir } from './paths.js';

interface CLayout {
  structs: Record<string, { size: number; fields: Record<string, number> }>;
  constants: Record<string, number>;
}

const layout = JSON.parse(execFileSync(path.join(toolDir, 'abi_layout'), { encoding: 'utf8' })) as CLayout;

describe('ABI layout', () => {
  it('declares the same ABI version as the headers', () => {
    expect(layout.constants.ST_PLUGIN_API_VERSION).toBe(ST_PLUGIN_API_VERSION);
  });

  it('declares the probe constants and the decoder vtable sizes with and without the probe slot', () => {
    expect(layout.constants.ST_DECODER_PROBE_BYTES).toBe(DecoderProbe.BYTES);
    expect(layout.constants.ST_DECODER_PROBE_CERTAIN).toBe(DecoderProbe.CERTAIN);
    expect(layout.constants.ST_DECODER_PROBE_NEUTRAL).toBe(DecoderProbe.NEUTRAL);
    expect(layout.constants.ST_DECODER_VTABLE_SIZE_WITH_PROBE).toBe(koffi.sizeof(StDecoderVtable));
    // A plugin built before the slot ends where it begins.
    expect(koffi.sizeof(StDecoderVtableV9)).toBe(layout.structs.st_decoder_vtable_t!.fields.probe);
  });

  it('covers every struct the C probe prints', () => {
    const missing = Object.keys(layout.structs).filter((name) => !(name in abiStructs));
    expect(missing).toEqual([]);
  });

  for (const [name, type] of Object.entries(abiStructs)) {
    it(`${name} matches the C compiler`, () => {
      const c = layout.structs[name];
      expect(c, `${name} is not printed by abi_layout`).toBeDefined();
      expect(koffi.sizeof(type)).toBe(c!.size);
      const jsFields = Object.fromEntries(Object.keys(c!.fields).map((f) => [f, koffi.offsetof(type, f)]));
      expect(jsFields).toEqual(c!.fields);
      expect(Object.keys(koffi.type(type).members ?? {}).sort()).toEqual(Object.keys(c!.fields).sort());
    });
  }
});
