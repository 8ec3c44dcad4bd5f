// Reads the fixture plugin's test-only counters (`fixture_counters`, not part of the ABI) from a
// loaded generation. Loading the same shadow copy again only bumps dlopen's refcount; the handle
// is released right after the read so it never keeps an old generation mapped.
import koffi from 'koffi';
import type { PluginGeneration } from '../plugins/library.js';

export interface FixtureCounters {
  generation: number;
  entry_calls: number;
  shutdowns: number;
  live_instances: number;
  instances: Record<'decoder' | 'dsp' | 'source' | 'lyrics' | 'output', number>;
  live_ops: number;
  live_streams: number;
  ops_begun: number;
  cancels_seen: number;
  ops_cancelled: number;
  ops_destroyed_pending: number;
  results_discarded: number;
  notifies: number;
}

export function fixtureCounters(gen: PluginGeneration): FixtureCounters {
  const lib = koffi.load(gen.shadowPath);
  try {
    const read = lib.func('size_t fixture_counters(_Out_ uint8_t *buf, size_t cap)');
    const buf = Buffer.alloc(4096);
    const len = Number(read(buf, buf.length));
    return JSON.parse(buf.subarray(0, len).toString('utf8')) as FixtureCounters;
  } finally {
    lib.unload();
  }
}
