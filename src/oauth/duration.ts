/** A wait as people say it: "5 minutes", "30 s", "300 ms" (a sub-second wait is never "0 s"). */
export function describeDuration(ms: number): string {
  if (ms >= 120_000 && ms % 60_000 === 0) return `${ms / 60_000} minutes`;
  if (ms >= 1000) return `${Math.round(ms / 1000)} s`;
  return `${ms} ms`;
}
