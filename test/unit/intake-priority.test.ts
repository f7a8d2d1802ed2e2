import { describe, expect, it } from 'vitest';
import { IntakePriority } from '../../src/queue/intake-priority.js';
import { MicroBatcher } from '../../src/queue/micro-batcher.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves when `check` is true, polling; fails after `ms`. */
async function until(check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(5);
  }
}

describe('IntakePriority: applying gives way to intake', () => {
  it('lets work through at once while no delivery is in flight', async () => {
    const priority = new IntakePriority({ quietMs: 10, maxDeferMs: 60_000 });
    let through = false;
    const turn = priority.turn().then(() => {
      through = true;
    });
    expect(await turn.then(() => priority.turn())).toBe(false);
    expect(through).toBe(true);
    expect(priority.waited.groups).toBe(0);
  });

  it('holds work while a delivery is in flight and lets it through once intake is quiet', async () => {
    const priority = new IntakePriority({ quietMs: 10, maxDeferMs: 60_000 });
    const done = priority.begin();
    let through = false;
    const turn = priority.turn().then(() => {
      through = true;
    });
    await sleep(50);
    expect(through).toBe(false);
    expect(priority.busy()).toBe(true);
    const ended = performance.now();
    done();
    done(); // a second call changes nothing
    await turn;
    expect(through).toBe(true);
    // Not before the quiet time after the last delivery ended.
    expect(performance.now() - ended).toBeGreaterThanOrEqual(9);
    expect(priority.busy()).toBe(false);
    expect(priority.waited.groups).toBe(1);
  });

  it('never holds work longer than maxDeferMs, however busy intake stays', async () => {
    const priority = new IntakePriority({ quietMs: 10, maxDeferMs: 200 });
    const done = priority.begin(); // never ends during the test
    const since = performance.now();
    expect(await priority.turn(since)).toBe(true);
    expect(performance.now() - since).toBeGreaterThanOrEqual(199);
    expect(priority.busy()).toBe(true);
    // Work that has waited its time already goes through at once.
    const before = priority.waited.ms;
    await priority.turn(since - 1_000);
    expect(priority.waited.ms - before).toBeLessThan(200);
    done();
  });

  it('with maxDeferMs 0 never waits', async () => {
    const priority = new IntakePriority({ maxDeferMs: 0 });
    priority.begin();
    expect(await priority.turn()).toBe(false);
    expect(priority.waited.groups).toBe(0);
  });
});

describe('MicroBatcher with a gate', () => {
  /** A batcher whose handler records its groups and how many ran at once; item 4 is refused. */
  function recording(priority: IntakePriority) {
    const seen = { groups: [] as number[][], running: 0, mostAtOnce: 0 };
    const batcher = new MicroBatcher<number, number>(
      3,
      async (items) => {
        seen.running++;
        seen.mostAtOnce = Math.max(seen.mostAtOnce, seen.running);
        seen.groups.push(items);
        await sleep(5);
        seen.running--;
        return items.map((i) => (i === 4 ? new Error('four is refused') : i * 10));
      },
      (since) => priority.turn(since),
    );
    const submit = (items: number[]) => items.map((i) => batcher.submit(i).catch((e: Error) => e.message));
    return { seen, batcher, submit };
  }

  it('gathers what arrives while intake is busy, then runs it; once quiet, the groups run together', async () => {
    const priority = new IntakePriority({ quietMs: 5, maxDeferMs: 60_000 });
    const { seen, batcher, submit } = recording(priority);
    const done = priority.begin();
    const outcomes = submit([1, 2]);
    await sleep(30);
    // Held: intake is busy.
    expect(seen.groups).toEqual([]);
    outcomes.push(...submit([3, 4, 5, 6, 7]));
    done();
    expect(await Promise.all(outcomes)).toEqual([10, 20, 30, 'four is refused', 50, 60, 70]);
    // Everything that arrived while it was held went in groups of at most 3.
    expect(seen.groups).toEqual([[1, 2, 3], [4, 5, 6], [7]]);
    // Afterwards, with intake quiet, a new item runs without waiting for anything.
    await until(() => !priority.busy());
    expect(await batcher.submit(8)).toBe(80);
    expect(seen.groups.at(-1)).toEqual([8]);
  });

  it('while intake stays busy, runs what waited its longest one group at a time', async () => {
    const priority = new IntakePriority({ quietMs: 5, maxDeferMs: 40 });
    const { seen, submit } = recording(priority);
    const done = priority.begin(); // busy throughout
    const outcomes = submit([1, 2, 3, 4, 5, 6, 7]);
    expect(await Promise.all(outcomes)).toEqual([10, 20, 30, 'four is refused', 50, 60, 70]);
    expect(seen.groups).toEqual([[1, 2, 3], [4, 5, 6], [7]]);
    expect(seen.mostAtOnce).toBe(1);
    expect(priority.waited.groups).toBe(3);
    done();
  });

  it('without a gate still runs a full group at once and the rest in the next turn', async () => {
    const groups: number[][] = [];
    const batcher = new MicroBatcher<number, number>(2, async (items) => {
      groups.push(items);
      return items;
    });
    const all = await Promise.all([1, 2, 3].map((i) => batcher.submit(i)));
    expect(all).toEqual([1, 2, 3]);
    expect(groups).toEqual([[1, 2], [3]]);
  });
});
