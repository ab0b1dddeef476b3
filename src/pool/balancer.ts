import type { PiscinaTask } from 'piscina';

type BalancerWorker = { id: number; currentUsage: number };

/**
 * Piscina's load balancer, minus workers that are retiring. A worker marks itself in `retiring`
 * (a shared Int32Array) before it returns its last result, so no task is sent to it in the moment
 * between that result and the pool terminating it. Among idle workers it takes the one that has
 * been idle longest, which spreads runs (and the clean-up after each) across the pool.
 */
export function retiringBalancer(retiring: Int32Array) {
  const lastUsed = new Map<number, number>();
  let tick = 0;
  return <W extends BalancerWorker>(_task: PiscinaTask, workers: W[]): W | null => {
    let best: W | null = null;
    for (const worker of workers) {
      if (worker.currentUsage !== 0) continue;
      if (Atomics.load(retiring, worker.id % retiring.length) === worker.id) continue;
      if (best === null || (lastUsed.get(worker.id) ?? 0) < (lastUsed.get(best.id) ?? 0)) best = worker;
    }
    if (best) {
      tick += 1;
      lastUsed.set(best.id, tick);
      if (lastUsed.size > 4 * workers.length + 16) {
        const live = new Set(workers.map((w) => w.id));
        for (const id of lastUsed.keys()) if (!live.has(id)) lastUsed.delete(id);
      }
    }
    return best;
  };
}
