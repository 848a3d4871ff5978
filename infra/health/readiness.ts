/**
 * Readiness: may a load balancer send this process traffic? Each check asks one dependency; a
 * critical check that fails makes the process not ready (503), a non-critical one only marks it
 * degraded (still 200), for dependencies the process can work without (the cache: reads fall
 * back to the read model). Once shutdown begins the process is not ready, whatever the checks say,
 * so traffic drains away before the server stops accepting it.
 */
export type CheckStatus = 'up' | 'degraded' | 'down';

export type CheckOutcome = { status: CheckStatus; detail?: Record<string, unknown> };

export type HealthCheck = {
  readonly name: string;
  /** Failing makes the process not ready; otherwise only degraded. */
  readonly critical: boolean;
  /** Resolves with the outcome; throwing (or taking longer than the timeout) means down. */
  run(signal: AbortSignal): Promise<CheckOutcome>;
};

export type CheckReport = CheckOutcome & { critical: boolean; durationMs: number; error?: string };

export type ReadinessReport = {
  ready: boolean;
  /** `down` when not ready, `degraded` when ready with a failing non-critical check. */
  status: CheckStatus;
  draining: boolean;
  checks: Record<string, CheckReport>;
};

export type Readiness = {
  /** Runs every check at once, each bounded by the timeout. */
  check(): Promise<ReadinessReport>;
  /** From now on the process reports not ready: the first step of a graceful shutdown. */
  drain(): void;
  readonly draining: boolean;
};

export const createReadiness = ({
  checks,
  timeoutMs,
}: {
  checks: readonly HealthCheck[];
  timeoutMs: number;
}): Readiness => {
  let draining = false;

  const runOne = async (check: HealthCheck): Promise<CheckReport> => {
    const started = performance.now();
    const timeout = AbortSignal.timeout(timeoutMs);
    const timedOut = new Promise<never>((_, reject) =>
      timeout.addEventListener(
        'abort',
        () => reject(new Error(`no answer within ${timeoutMs} ms (READY_CHECK_TIMEOUT_MS)`)),
        { once: true },
      ),
    );
    const elapsed = () => Math.round((performance.now() - started) * 10) / 10;
    try {
      const outcome = await Promise.race([check.run(timeout), timedOut]);
      return { ...outcome, critical: check.critical, durationMs: elapsed() };
    } catch (error) {
      return {
        status: 'down',
        critical: check.critical,
        durationMs: elapsed(),
        error: error instanceof Error ? error.message : String(error),
      };
    }
  };

  return {
    async check() {
      // Stopping: the answer is no, and the clients the checks use may already be closing.
      if (draining) return { ready: false, status: 'down', draining, checks: {} };
      const reports = await Promise.all(checks.map(runOne));
      const entries = checks.map((check, i) => [check.name, reports[i] as CheckReport] as const);
      const failed = (report: CheckReport) => report.status !== 'up';
      const ready = !reports.some((report) => report.critical && report.status === 'down');
      return {
        ready,
        status: !ready ? 'down' : reports.some(failed) ? 'degraded' : 'up',
        draining,
        checks: Object.fromEntries(entries),
      };
    },
    drain() {
      draining = true;
    },
    get draining() {
      return draining;
    },
  };
};
