// The QR code for a device sign-in, as SVG markup (the page around it: deviceCodePage.ts).
import { correction, generate } from 'lean-qr';
import { toSvgSource } from 'lean-qr/extras/svg';

/**
 * SVG markup for `text`: black modules on white with the quiet zone of four modules the standard
 * asks for, so phone cameras read it also on a dark theme. Correction level M survives a glare.
 */
export function qrSvg(text: string): string {
  const code = generate(text, { minCorrectionLevel: correction.M });
  // width/height null: the page sizes it; crisp edges keep the modules sharp at any scale.
  return toSvgSource(code, { on: '#000000', off: '#ffffff', pad: 4, width: null, height: null });
}

/** The module grid (true = dark) without padding, for tests that decode what was drawn. */
export function qrModules(text: string): boolean[][] {
  const code = generate(text, { minCorrectionLevel: correction.M });
  return Array.from({ length: code.size }, (_, y) => Array.from({ length: code.size }, (_, x) => code.get(x, y)));
}
