// The shared PCM ring through its koffi binding (the C side has its own tests, including two
// processes): copies in and out of JS-owned arrays, gain, the flush epoch, control words, waits.
import { afterEach, describe, expect, it } from 'vitest';
import { Ctl32, Ctl64, PcmRing } from '../../plugins/host-lib.js';

const rings: PcmRing[] = [];
afterEach(() => {
  for (const r of rings.splice(0)) r.close();
});

function pair(capacity: number): { producer: PcmRing; consumer: PcmRing } {
  const name = `/stellatune-test-${process.pid}-${Math.random().toString(36).slice(2)}`;
  const producer = PcmRing.create(name, capacity);
  const consumer = PcmRing.open(name);
  rings.push(consumer, producer);
  return { producer, consumer };
}

describe('PcmRing binding', () => {
  it('moves samples across the wrap, applies gain and reports fill and space', () => {
    const { producer, consumer } = pair(1000);
    const src = Float32Array.from({ length: 700 }, (_, i) => i);
    const dst = new Float32Array(700);
    expect(producer.write(src, 700)).toBe(700);
    expect(consumer.read(dst, 600)).toBe(600);
    expect(producer.write(src, 700)).toBe(700); // wraps
    expect(producer.space).toBe(200);
    expect(consumer.fill).toBe(800);
    expect(consumer.read(dst, 100)).toBe(100);
    expect(dst[99]).toBe(699);
    expect(consumer.read(dst, 700, 0.5)).toBe(700);
    expect(dst[0]).toBe(0);
    expect(dst[699]).toBe(349.5);
    expect(consumer.readIndex).toBe(1400);
    expect(producer.writeIndex).toBe(1400);
  });

  it('a flush discards what was queued before it, not what came after', () => {
    const { producer, consumer } = pair(256);
    const src = Float32Array.from({ length: 100 }, (_, i) => i + 1);
    producer.write(src, 100);
    expect(producer.producerFlush()).toBe(100);
    producer.write(src.subarray(50), 50);
    expect(consumer.consumerSync()).toBe(true);
    expect(consumer.consumerSync()).toBe(false);
    const dst = new Float32Array(100);
    expect(consumer.read(dst, 100)).toBe(50);
    expect(dst[0]).toBe(51);
  });

  it('control words are shared, and waits time out or return at once', () => {
    const { producer, consumer } = pair(128);
    producer.setF(Ctl32.VOLUME, 0.25);
    expect(consumer.getF(Ctl32.VOLUME)).toBe(0.25);
    producer.set64(Ctl64.PLAYED_INDEX, 2 ** 40);
    expect(consumer.get64(Ctl64.PLAYED_INDEX)).toBe(2 ** 40);
    expect(consumer.add32(Ctl32.UNDERRUNS)).toBe(1);
    const t0 = Date.now();
    expect(consumer.waitData(1, 30)).toBe(false);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(25);
    expect(producer.wait32(Ctl32.UNDERRUNS, 0, 1000)).toBe(true); // already changed
    expect(() => PcmRing.open('/stellatune-test-missing-ring')).toThrow(/cannot open/);
  });
});
