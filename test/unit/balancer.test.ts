import type { PiscinaTask } from 'piscina';
import { describe, expect, it } from 'vitest';
import { retiringBalancer } from '../../src/pool/balancer.js';

type Worker = { id: number; currentUsage: number };

const task = {} as PiscinaTask;
const idle = (id: number): Worker => ({ id, currentUsage: 0 });
const busy = (id: number): Worker => ({ id, currentUsage: 1 });
const retiringArray = () => new Int32Array(new SharedArrayBuffer(4 * 16));
/** Mark a worker as retiring the way the worker does it. */
const retire = (retiring: Int32Array, id: number) => Atomics.store(retiring, id % retiring.length, id);

describe('retiringBalancer', () => {
  it('returns null when there are no workers', () => {
    expect(retiringBalancer(retiringArray())(task, [])).toBeNull();
  });

  it('takes an idle worker', () => {
    const worker = idle(1);
    expect(retiringBalancer(retiringArray())(task, [worker])).toBe(worker);
  });

  it('skips busy workers', () => {
    const free = idle(3);
    expect(retiringBalancer(retiringArray())(task, [busy(1), busy(2), free])).toBe(free);
  });

  it('returns null when every worker is busy, so the task queues', () => {
    expect(retiringBalancer(retiringArray())(task, [busy(1), busy(2)])).toBeNull();
  });

  it('skips a retiring worker even when it is idle', () => {
    const retiring = retiringArray();
    retire(retiring, 1);
    const other = idle(2);
    expect(retiringBalancer(retiring)(task, [idle(1), other])).toBe(other);
  });

  it('returns null when the only idle worker is retiring', () => {
    const retiring = retiringArray();
    retire(retiring, 5);
    expect(retiringBalancer(retiring)(task, [idle(5), busy(6)])).toBeNull();
  });

  it('does not take a worker for retiring because another worker sharing its slot retires', () => {
    const retiring = retiringArray(); // 16 slots: ids 2 and 18 share slot 2
    retire(retiring, 18);
    const worker = idle(2);
    expect(retiringBalancer(retiring)(task, [worker])).toBe(worker);
  });

  it('takes a worker again once its retiring mark is cleared', () => {
    const retiring = retiringArray();
    const balance = retiringBalancer(retiring);
    const worker = idle(4);
    retire(retiring, 4);
    expect(balance(task, [worker])).toBeNull();
    Atomics.compareExchange(retiring, 4, 4, 0);
    expect(balance(task, [worker])).toBe(worker);
  });

  it('takes the first of several workers that have never run anything', () => {
    const workers = [idle(1), idle(2), idle(3)];
    expect(retiringBalancer(retiringArray())(task, workers)).toBe(workers[0]);
  });

  it('prefers a worker that has never run anything to one that has', () => {
    const balance = retiringBalancer(retiringArray());
    const [a, b] = [idle(1), idle(2)];
    expect(balance(task, [a, b])).toBe(a);
    expect(balance(task, [a, b])).toBe(b);
  });

  it('prefers the worker that has been idle longest', () => {
    const balance = retiringBalancer(retiringArray());
    const [a, b, c] = [idle(1), idle(2), idle(3)];
    // Use them in the order c, a, b: then c has been idle longest.
    expect(balance(task, [busy(1), busy(2), c])).toBe(c);
    expect(balance(task, [a, busy(2), busy(3)])).toBe(a);
    expect(balance(task, [busy(1), b, busy(3)])).toBe(b);
    expect(balance(task, [a, b, c])).toBe(c);
  });

  it('spreads consecutive tasks over all idle workers in turn', () => {
    const balance = retiringBalancer(retiringArray());
    const workers = [idle(1), idle(2), idle(3)];
    const picked = Array.from({ length: 6 }, () => balance(task, workers)?.id);
    expect(picked).toEqual([1, 2, 3, 1, 2, 3]);
  });

  it('prefers a newly started worker to one that has already run', () => {
    const balance = retiringBalancer(retiringArray());
    const old = idle(1);
    expect(balance(task, [old])).toBe(old);
    const replacement = idle(9);
    expect(balance(task, [old, replacement])).toBe(replacement);
  });

  it('still remembers live workers after forgetting many replaced ones', () => {
    const balance = retiringBalancer(retiringArray());
    const live = idle(1);
    expect(balance(task, [live])).toBe(live);
    // Forty short-lived workers come and go next to it, far past the size where old ids are dropped.
    for (let id = 100; id < 140; id += 1) balance(task, [busy(1), idle(id)]);
    const fresh = idle(500);
    expect(balance(task, [live, fresh])).toBe(fresh);
  });

  it('prefers a worker that is up to one still starting, even one idle longer', () => {
    const balance = retiringBalancer(retiringArray());
    const warm = idle(1);
    balance.markUp(1);
    expect(balance(task, [warm])).toBe(warm);
    const starting = idle(2); // never used, so idle longest: without markUp it would win
    expect(balance(task, [starting, warm])).toBe(warm);
    expect(balance(task, [starting, warm])).toBe(warm);
  });

  it('takes a worker still starting when no worker that is up is idle', () => {
    const balance = retiringBalancer(retiringArray());
    balance.markUp(1);
    const starting = idle(2);
    expect(balance(task, [busy(1), starting])).toBe(starting);
  });

  it('spreads tasks over the workers that are up once both are', () => {
    const balance = retiringBalancer(retiringArray());
    balance.markUp(1);
    balance.markUp(2);
    const workers = [idle(1), idle(2)];
    expect(Array.from({ length: 4 }, () => balance(task, workers)?.id)).toEqual([1, 2, 1, 2]);
  });
});
