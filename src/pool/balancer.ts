import type { PiscinaTask } from 'piscina';

type BalancerWorker = { id: number; currentUsage: number };

/**
 * Piscina's load balancer, minus workers that are retiring. A worker marks itself in `retiring`
 * (a shared Int32Array) before it returns its last result, so no task is sent to it in the moment
 * between that result and the pool terminating it. Among idle workers it takes one that is up
 * (Piscina also offers workers still restoring Pyodide: a task sent there waits the whole start
 * while a warm worker idles), then the one idle longest, which spreads runs (and the clean-up
 * after each) across the pool.
 */
export function retiringBalancer(retiring: Int32Array) {
  const lastUsed = new Map<number, number>();
  const up = new Set<number>();
  let tick = 0;
  const choose = <W extends BalancerWorker>(_task: PiscinaTask, workers: W[]): W | null => {
    let best: W | null = null;
    const rank = (w: W) => (up.has(w.id) ? 0 : 1);
    for (const worker of workers) {
      if (worker.currentUsage !== 0) continue;
      if (Atomics.load(retiring, worker.id % retiring.length) === worker.id) continue;
      if (best === null || rank(worker) < rank(best) || (rank(worker) === rank(best) && (lastUsed.get(worker.id) ?? 0) < (lastUsed.get(best.id) ?? 0))) {
        best = worker;
      }
    }
    if (best) {
      tick += 1;
      lastUsed.set(best.id, tick);
      if (lastUsed.size > 4 * workers.length + 16 || up.size > 4 * workers.length + 16) {
        const live = new Set(workers.map((w) => w.id));
        for (const id of lastUsed.keys()) if (!live.has(id)) lastUsed.delete(id);
        for (const id of up) if (!live.has(id)) up.delete(id);
      }
    }
    return best;
  };
  return Object.assign(choose, {
    /** The worker with this thread id has finished starting. */
    markUp: (threadId: number) => void up.add(threadId),
  });
}
