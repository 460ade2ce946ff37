/** The QR code encoder, loaded once, on first use (see src/qr.ts). */
export type QrModule = typeof import('./qr.js');

let loading: Promise<QrModule> | undefined;

/** Kept external by esbuild, so this loads dist/qr.js next to dist/extension.js. */
export function loadQr(): Promise<QrModule> {
  loading ??= import('./qr.js');
  return loading;
}
