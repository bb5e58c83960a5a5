import { appendFileSync } from 'node:fs';
import type { Reporter, SerializedError, TestModule } from 'vitest/node';

/** Ends the run with the plain line CI reads: `N passed, N failed, N skipped`. */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<SerializedError>): void {
    const count = { passed: 0, failed: 0, skipped: 0, pending: 0 };
    for (const module of modules) {
      for (const test of module.children.allTests()) count[test.result().state]++;
      // A file that fails to import, or a failing beforeAll, fails no test of its own: count it.
      count.failed += module.errors().length + [...module.children.allSuites()].reduce((n, suite) => n + suite.errors().length, 0);
    }
    count.failed += unhandledErrors.length;
    const skipped = count.skipped + count.pending;
    process.stdout.write(`\n${count.passed} passed, ${count.failed} failed, ${skipped} skipped\n`);
    // .ci/run runs two suites and prints their total from these lines.
    if (process.env.PRVNG_TEST_SUMMARY) appendFileSync(process.env.PRVNG_TEST_SUMMARY, `${count.passed} ${count.failed} ${skipped}\n`);
  }
}
