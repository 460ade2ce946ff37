import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Figure } from './figures.js';

const file = join(__dirname, '../.cache/e2e/artifacts/activation.json');

/**
 * Activation is measured where it happens, in code-server's real extension host, by the end-to-end
 * tier; this prints what its last run recorded.
 */
export async function benchActivation(): Promise<Figure[]> {
  if (!existsSync(file)) {
    return [{ name: 'activation (real extension host)', value: Number.NaN, unit: '', note: 'no record: run `npm run test:e2e` first' }];
  }
  const record = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  const number = (key: string) => {
    const value = record[key];
    return typeof value === 'number' ? value : Number.NaN;
  };
  const text = (key: string, fallback: string) => {
    const value = record[key];
    return typeof value === 'string' ? value : fallback;
  };
  const requests = number('idpRequestsDuringActivation');
  const reads = number('secretStorageReadsDuringActivation');
  return [
    { name: 'activation: activate() to provider registered', value: number('providerRegisteredMsAfterActivate'), unit: 'ms', note: `code-server ${text('codeServer', '')} extension host, ${text('measuredAt', 'unknown time')}` },
    { name: 'activation: activation request to provider registered', value: number('activationRequestToRegisteredMs'), unit: 'ms', note: 'as the extension host saw it, module load included' },
    { name: 'activation: HTTP requests to the IdP', value: requests, unit: 'requests', goal: '0', met: requests === 0 },
    { name: 'activation: SecretStorage reads', value: reads, unit: 'reads', goal: '<= 1', met: reads <= 1 },
    ...(Number.isFinite(number('heapAfterActivationKiB')) ? [{ name: 'extension host heap after activation', value: number('heapAfterActivationKiB'), unit: 'KiB' }] : []),
  ];
}
