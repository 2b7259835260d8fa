// Worker threads for any layer: locating a worker module beside its caller and starting
// it, also when the process runs from TypeScript sources (tests, tsx).

import { Worker } from 'node:worker_threads';

/** The worker module `name` beside the module at `metaUrl` (`.ts` when run from TypeScript sources). */
export function workerBeside(metaUrl: string, name: string): URL {
  return new URL(`./${name}${metaUrl.endsWith('.ts') ? '.ts' : '.js'}`, metaUrl);
}

/**
 * Starts a worker thread on `module`. Run from TypeScript sources, a worker does not
 * inherit the TypeScript loader: it registers tsx itself before loading its module.
 */
export function spawnWorker(module: URL): Worker {
  if (!module.pathname.endsWith('.ts')) return new Worker(module);
  const boot = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => { tsx.register(); return import(${JSON.stringify(module.href)}); })`;
  return new Worker(boot, { eval: true });
}
