/**
 * Runs what the person at the other end does (approving at the identity provider, a browser
 * following a redirect) beside the code under test, which waits for its effect rather than for the
 * step itself. A failure of the step still fails the test run, as an uncaught error, instead of
 * vanishing.
 */
export function meanwhile(step: Promise<unknown>): void {
  step.catch((error: unknown) => {
    process.nextTick(() => {
      throw error;
    });
  });
}
