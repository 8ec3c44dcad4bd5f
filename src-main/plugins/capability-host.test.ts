// The config policy, as every host runs it: plan, then hot-apply, recreate (state carried over)
// or reject (nothing touched).
import { describe, expect, it } from 'vitest';
import { configInForce, reconfigure, type Reconfigurable } from './capability-host.js';
import type { ConfigPlan } from './instances.js';

class FakeInstance implements Reconfigurable {
  applied: string[] = [];
  constructor(
    readonly name: string,
    private readonly plan: (json: string) => ConfigPlan,
    private readonly state = '{"n":1}',
  ) {}
  planConfigUpdate(json: string): ConfigPlan {
    return this.plan(json);
  }
  applyConfigUpdate(json: string): void {
    this.applied.push(json);
  }
  exportState(): string {
    return this.state;
  }
}

const byKey = (json: string): ConfigPlan => {
  const c = JSON.parse(json) as { reject?: string; recreate?: boolean };
  if (c.reject) return { mode: 'reject', reason: c.reject };
  return { mode: c.recreate ? 'recreate' : 'hot_apply', reason: '' };
};

describe('config policy', () => {
  it('hot-applies in place when the plan says so', () => {
    const inst = new FakeInstance('a', byKey);
    const r = reconfigure(inst, '{"gain":1}', () => {
      throw new Error('must not recreate');
    });
    expect(r).toEqual({ outcome: 'hot_applied', instance: inst });
    expect(inst.applied).toEqual(['{"gain":1}']);
  });

  it('recreates with the old state and leaves retiring the old instance to the caller', () => {
    const inst = new FakeInstance('a', byKey, '{"pos":42}');
    const made: [string, string][] = [];
    const r = reconfigure(inst, '{"recreate":true}', (json, state) => {
      made.push([json, state]);
      return new FakeInstance('b', byKey);
    });
    expect(r.outcome).toBe('recreated');
    expect(made).toEqual([['{"recreate":true}', '{"pos":42}']]);
    expect(r.outcome === 'recreated' && (r.instance as FakeInstance).name).toBe('b');
    expect(inst.applied).toEqual([]);
  });

  it('a rejected config touches nothing and says why', () => {
    const inst = new FakeInstance('a', byKey);
    const r = reconfigure(inst, '{"reject":"band above Nyquist"}', () => {
      throw new Error('must not recreate');
    });
    expect(r).toEqual({ outcome: 'rejected', reason: 'band above Nyquist' });
    expect(inst.applied).toEqual([]);
  });

  it('an instance whose state export fails is recreated fresh', () => {
    const inst = new FakeInstance('a', () => ({ mode: 'recreate', reason: '' }));
    inst.exportState = () => {
      throw new Error('no state');
    };
    let got = 'unset';
    reconfigure(inst, '{}', (_json, state) => {
      got = state;
      return inst;
    });
    expect(got).toBe('');
  });

  it('the config in force is the saved one, else the default, else {}', () => {
    expect(configInForce({ a: 1 }, { defaultConfig: { a: 2 } })).toEqual({ a: 1 });
    expect(configInForce(undefined, { defaultConfig: { a: 2 } })).toEqual({ a: 2 });
    expect(configInForce(undefined, {})).toEqual({});
    expect(configInForce(undefined, null)).toEqual({});
  });
});
