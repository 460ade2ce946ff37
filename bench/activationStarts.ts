// Activation in code-server's real extension host, over several starts of one code-server:
// "activation request to provider registered" (the extension host's log line asking to activate
// OAuth Anywhere, to the extension's own "Provider registered" line; module loading included) and
// "activate() to provider registered", median over the starts. One start is a reload of the page,
// which starts a new extension host process, so every start loads the bundle from disk afresh.
//
//   npm run bench -- --only activationStarts
//   node --import tsx bench/activationStarts.ts [--starts N] [--against DIR]
//
// --against DIR alternates the current build with the bundles in DIR (the dist/*.js of another
// build) in the same code-server, start by start, so that both see the same machine load. That is
// how the bundle layout was chosen: one dist/extension.js (164 KB) against the OAuth core and the
// QR encoder as bundles of their own, loaded on first use (95 KB at activation, the layout until
// the OAuth core moved into the one bundle). In one run of 2 x 25 alternated starts on a shared
// 2-core machine (load average 6.6 to 11), activation request to provider registered: one bundle
// 121 ms, split 120 ms (medians; single starts 61 to 524 ms). The split would have had to save more
// than 10 ms to be worth its second loading path, so the extension ships as one bundle. Runs of
// 2 x 9 starts on the same machine gave 211 against 119 ms and 133 against 143 ms: with this much
// noise, only many alternated starts say anything.
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { median, type Figure } from './figures.js';

const root = join(__dirname, '..');
/** The end-to-end tier's helpers this bench uses (plain JavaScript in test/e2e/), as typed here. */
interface Helpers {
  provision: () => Promise<unknown>;
  packageExtension: (outDir: string) => Promise<{ vsix: string }>;
  installExtension: (vsix: string, extensionsDir: string, options: { provisioned: unknown }) => Promise<void>;
  startCodeServer: (options: Record<string, unknown>) => Promise<{ url: string; stop(): Promise<void> }>;
  DEFAULT_SETTINGS: Record<string, unknown>;
  launchChromium: (options: { artifactsDir: string }) => Promise<{ page: Page; close(): Promise<void> }>;
  openWorkbench: (page: Page, url: string) => Promise<number>;
  waitForWorkbenchReady: (page: Page) => Promise<void>;
  runFolders: (label: string) => { artifactsDir: string; work: string; userDataDir: string; extensionsDir: string };
  activations: (userDataDir: string) => { at: string; registeredMs: number }[];
  activationRequests: (userDataDir: string) => string[];
  logTimeDiffMs: (from: string, to: string) => number;
  waitForActivations: (userDataDir: string, count: number) => Promise<unknown>;
}
interface Page {
  reload(options: { waitUntil: 'domcontentloaded' }): Promise<unknown>;
}

async function loadHelpers(): Promise<Helpers> {
  const modules = await Promise.all(['provision.mjs', 'extensionPackage.mjs', 'codeServer.mjs', 'browser.mjs', 'runFolders.mjs', 'workbench.mjs'].map((name) => import(pathToFileURL(join(root, 'test/e2e', name)).href) as Promise<object>));
  return Object.assign({}, ...modules) as Helpers;
}

interface Start {
  variant: string;
  requestToRegisteredMs: number;
  activateToRegisteredMs: number;
}

export async function benchActivationStarts(options: { starts?: number; against?: string } = {}): Promise<Figure[]> {
  const starts = options.starts ?? 5;
  const measured = await measure(starts, options.against);
  const figures: Figure[] = [];
  for (const variant of [...new Set(measured.map((start) => start.variant))]) {
    const mine = measured.filter((start) => start.variant === variant);
    const label = variant === 'current' ? '' : ` [${variant}]`;
    figures.push(
      { name: `activation${label}: activation request to provider registered, median`, value: median(mine.map((start) => start.requestToRegisteredMs)), unit: 'ms', note: `${mine.length} starts in one code-server: ${mine.map((start) => start.requestToRegisteredMs).join(', ')}` },
      { name: `activation${label}: activate() to provider registered, median`, value: median(mine.map((start) => start.activateToRegisteredMs)), unit: 'ms', note: `${mine.length} starts` },
    );
  }
  mkdirSync(join(__dirname, 'results'), { recursive: true });
  writeFileSync(join(__dirname, 'results', 'activation-starts.json'), `${JSON.stringify({ at: new Date().toISOString(), starts: measured, figures }, null, 2)}\n`);
  return figures;
}

async function measure(starts: number, against: string | undefined): Promise<Start[]> {
  const { provision, packageExtension, installExtension, startCodeServer, DEFAULT_SETTINGS, launchChromium, openWorkbench, waitForWorkbenchReady, runFolders, activations, activationRequests, logTimeDiffMs, waitForActivations } =
    await loadHelpers();
  const provisioned = await provision();
  const folders = runFolders('activation-starts');
  const { vsix } = await packageExtension(join(folders.work, 'vsix'));
  await installExtension(vsix, folders.extensionsDir, { provisioned });
  const installed = readdirSync(folders.extensionsDir).find((name) => name.startsWith('oauth-anywhere.oauth-anywhere-'));
  if (!installed) throw new Error(`the VSIX did not install into ${folders.extensionsDir}`);
  const installedDist = join(folders.extensionsDir, installed, 'dist');
  const variants = new Map([['current', join(folders.work, 'current')]]);
  cpSync(installedDist, variants.get('current')!, { recursive: true });
  if (against) {
    if (!existsSync(join(against, 'extension.js'))) throw new Error(`--against ${against}: no extension.js there`);
    variants.set(`against ${against}`, against);
  }
  const useVariant = (dir: string) => {
    rmSync(installedDist, { recursive: true, force: true });
    cpSync(dir, installedDist, { recursive: true });
  };

  const server = await startCodeServer({
    provisioned,
    extensionsDir: folders.extensionsDir,
    userDataDir: folders.userDataDir,
    folder: join(folders.work, 'workspace'),
    // A configured provider, as in use; registering it makes no request (the end-to-end tier checks that).
    settings: { ...DEFAULT_SETTINGS, 'oauthAnywhere.issuer': 'http://127.0.0.2:9/bench', 'oauthAnywhere.clientId': 'bench' },
    defaultSettings: false,
    logFile: join(folders.artifactsDir, 'code-server.log'),
  });
  const browser = await launchChromium({ artifactsDir: folders.artifactsDir });
  const order: string[] = [];
  try {
    const { page } = browser;
    // The first start (a cold code-server) is a warm-up and not counted.
    useVariant(variants.get('current')!);
    await openWorkbench(page, server.url);
    await waitForWorkbenchReady(page);
    await waitForActivations(folders.userDataDir, 1);
    order.push('warm-up');
    const names = [...variants.keys()];
    for (let round = 0; round < starts; round++) {
      // Alternate which variant goes first, so neither always follows the other.
      for (const name of round % 2 ? [...names].reverse() : names) {
        useVariant(variants.get(name)!);
        const before = activations(folders.userDataDir).length;
        await page.reload({ waitUntil: 'domcontentloaded' });
        await waitForWorkbenchReady(page);
        await waitForActivations(folders.userDataDir, before + 1);
        order.push(name);
        process.stderr.write(`bench: activation start ${order.length - 1} (${name})\n`);
      }
    }
  } finally {
    await browser.close();
    await server.stop();
  }
  const registered = activations(folders.userDataDir);
  const requested = activationRequests(folders.userDataDir);
  if (registered.length !== order.length || requested.length !== order.length) {
    throw new Error(`expected ${order.length} activations, the logs hold ${registered.length} registrations and ${requested.length} activation requests`);
  }
  return order.flatMap((variant, index) =>
    variant === 'warm-up'
      ? []
      : [{ variant, requestToRegisteredMs: logTimeDiffMs(requested[index]!, registered[index]!.at), activateToRegisteredMs: registered[index]!.registeredMs }],
  );
}

if (require.main === module) {
  const value = (flag: string) => {
    const index = process.argv.indexOf(flag);
    return index > 0 ? process.argv[index + 1] : undefined;
  };
  benchActivationStarts({ starts: Number(value('--starts') ?? 5), against: value('--against') }).then(
    (figures) => {
      for (const figure of figures) console.log(`${figure.name}: ${figure.value} ${figure.unit} (${figure.note ?? ''})`);
      process.exit(0);
    },
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
