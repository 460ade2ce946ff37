/** The OAuth core's exports, loaded once, on first use (see src/core.ts). */
export type Core = typeof import('./core.js');

let loading: Promise<Core> | undefined;

/** esbuild keeps `./core.js` external, so this loads dist/core.js next to dist/extension.js. */
export function loadCore(): Promise<Core> {
  loading ??= import('./core.js');
  return loading;
}
