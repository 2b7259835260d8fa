// Stopping a command cleanly: the first SIGINT or SIGTERM aborts the run (sources stop,
// sinks write what was read and close), a second one exits at once. The exit status then
// says which signal stopped it, as shells expect (128 + signal number: 130, 143).

const CODES = { SIGINT: 130, SIGTERM: 143 } as const;

export class StopSignals {
  private readonly controller = new AbortController();
  private received: keyof typeof CODES | undefined;
  private readonly handlers = new Map<keyof typeof CODES, () => void>();

  /** `onFirst` runs on the first signal (to tell the user what happens now). */
  constructor(onFirst: () => void = () => {}) {
    for (const name of Object.keys(CODES) as (keyof typeof CODES)[]) {
      const handler = () => {
        if (this.received !== undefined) process.exit(CODES[this.received]);
        this.received = name;
        onFirst();
        this.controller.abort();
      };
      this.handlers.set(name, handler);
      process.on(name, handler);
    }
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** 130 after SIGINT, 143 after SIGTERM, undefined when no signal came. */
  get exitCode(): number | undefined {
    return this.received === undefined ? undefined : CODES[this.received];
  }

  dispose(): void {
    for (const [name, handler] of this.handlers) process.off(name, handler);
  }
}
