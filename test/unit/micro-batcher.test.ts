import { describe, expect, it } from 'vitest';
import { MicroBatcher } from '../../src/queue/micro-batcher.js';
import { waitFor } from '../helpers/wait.js';

/** Resolves when `check` is true (polling every 2 ms, up to 10 s). */
const until = (check: () => boolean) => waitFor(check, { intervalMs: 2, timeoutMs: 10_000 });

/** Lets `n` turns of the event loop pass: a batcher's scheduled start (setImmediate) has run by then. */
async function turns(n = 3): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
}

/**
 * A batcher with a running limit whose groups each wait for the test to release them (`release(n)`
 * ends the n-th group); records the groups and how many ran at once. Item 13 is refused; a group
 * holding 99 fails as a whole.
 */
function held(maxBatch: number, limit: { maxRunning: number; overdueMs: number }) {
  const seen = { groups: [] as number[][], startedAt: [] as number[], running: 0, mostAtOnce: 0 };
  const releases: (() => void)[] = [];
  const batcher = new MicroBatcher<number, number>(
    maxBatch,
    async (items) => {
      seen.running++;
      seen.mostAtOnce = Math.max(seen.mostAtOnce, seen.running);
      seen.groups.push(items);
      seen.startedAt.push(performance.now());
      await new Promise<void>((resolve) => releases.push(resolve));
      seen.running--;
      if (items.includes(99)) throw new Error('the group failed');
      return items.map((i) => (i === 13 ? new Error('thirteen is refused') : i * 10));
    },
    undefined,
    limit,
  );
  const submit = (items: number[]) =>
    items.map((i) => batcher.submit(i).catch((e: Error) => e.message) as Promise<number | string>);
  const release = async (n: number) => {
    await until(() => releases.length > n);
    releases[n]!();
  };
  return { batcher, seen, submit, release };
}

describe('MicroBatcher with a running limit', () => {
  it('runs one group at a time; what arrives meanwhile goes as one group when it ends', async () => {
    const { batcher, seen, submit, release } = held(100, { maxRunning: 1, overdueMs: 60_000 });
    const first = submit([1, 2, 3]);
    await until(() => seen.groups.length === 1);
    // Handed over in three separate turns while the first group runs: none of them starts.
    const later = [...submit([4]), ...submit([5, 13])];
    await turns();
    const more = submit([6]);
    await turns();
    expect(seen.groups).toEqual([[1, 2, 3]]);
    expect(batcher.runningGroups).toBe(1);
    await release(0);
    expect(await Promise.all(first)).toEqual([10, 20, 30]);
    await until(() => seen.groups.length === 2);
    expect(seen.groups[1]).toEqual([4, 5, 13, 6]);
    await release(1);
    expect(await Promise.all([...later, ...more])).toEqual([40, 50, 'thirteen is refused', 60]);
    expect(seen.mostAtOnce).toBe(1);
    expect(batcher.runningGroups).toBe(0);
  });

  it('keeps groups to maxBatch and starts up to maxRunning at once', async () => {
    const { seen, submit, release } = held(2, { maxRunning: 2, overdueMs: 60_000 });
    const all = submit([1, 2, 3, 4, 5]);
    await until(() => seen.groups.length === 2);
    await turns();
    // Two groups of two run; the fifth item waits for one of them.
    expect(seen.groups).toEqual([
      [1, 2],
      [3, 4],
    ]);
    await release(1);
    await until(() => seen.groups.length === 3);
    expect(seen.groups[2]).toEqual([5]);
    await release(0);
    await release(2);
    expect(await Promise.all(all)).toEqual([10, 20, 30, 40, 50]);
    expect(seen.mostAtOnce).toBe(2);
  });

  it('a group that runs past overdueMs stops counting: the next one starts while it still runs', async () => {
    const { batcher, seen, submit, release } = held(100, { maxRunning: 1, overdueMs: 30 });
    const stuck = submit([1]);
    await until(() => seen.groups.length === 1);
    const next = submit([2, 3]);
    // The first group is never released before the second has started: only its age lets it go.
    await until(() => seen.groups.length === 2);
    // Not before the first had run for overdueMs (counted from the groups' own starts).
    expect(seen.startedAt[1]! - seen.startedAt[0]!).toBeGreaterThanOrEqual(29);
    expect(seen.groups[1]).toEqual([2, 3]);
    expect(batcher.runningGroups).toBe(2);
    await release(1);
    expect(await Promise.all(next)).toEqual([20, 30]);
    await release(0);
    expect(await Promise.all(stuck)).toEqual([10]);
  });

  it('a group that fails as a whole fails each of its items, and what waited still runs', async () => {
    const { seen, submit, release } = held(100, { maxRunning: 1, overdueMs: 60_000 });
    const failing = submit([7, 99]);
    await until(() => seen.groups.length === 1);
    const after = submit([8]);
    await turns();
    await release(0);
    expect(await Promise.all(failing)).toEqual(['the group failed', 'the group failed']);
    await release(1);
    expect(await Promise.all(after)).toEqual([80]);
    expect(seen.groups).toEqual([[7, 99], [8]]);
  });

  it('takes a gate or a limit, not both, and at least one running group', () => {
    const handle = async (items: number[]) => items;
    expect(
      () => new MicroBatcher<number, number>(2, handle, async () => false, { maxRunning: 1, overdueMs: 10 }),
    ).toThrow(/not both/);
    expect(
      () => new MicroBatcher<number, number>(2, handle, undefined, { maxRunning: 0, overdueMs: 10 }),
    ).toThrow(/at least 1/);
  });
});
