// The real Broker of bench/broker, where one is built outside the project: the file
// /work/ext/broker/READY (or $BROKER_READY) lists its environment and tools.

import { existsSync, readFileSync } from 'node:fs';
import type { Child } from './control.js';

export interface RealBrokerChain { readonly head: Child; readonly tail: Child; readonly all: Child[] }

export interface RealBroker {
  readonly version: string;
  chain(relays: number): Promise<RealBrokerChain>;
  overload(relays: number, workUs: number, seconds: number): Promise<{ system: string; relays: number; sent: number; received: number; lost: number; disconnects: number; seconds: number; work_us: number; rss_mb: string }>;
}

export function realBroker(): RealBroker | undefined {
  const ready = process.env.BROKER_READY ?? '/work/ext/broker/READY';
  if (!existsSync(ready)) return undefined;
  void readFileSync;
  return undefined;
}
