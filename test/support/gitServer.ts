// A git smart-HTTP server: git's own `git http-backend` (CGI) behind Node's http server. It accepts
// only Basic authentication whose password the test IdP accepts at userinfo (the user name is not
// checked, as forges that take OAuth tokens do), for fetch and push alike.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeServer, listen, subjectAtUserinfo, type SeenRequest } from './resourceServer.js';

export interface GitServer {
  /** `http://127.0.0.1:PORT`: the origin to put in `gitHosts`. */
  origin: string;
  /** The clone URL of a repository created with createRepository. */
  repositoryUrl(name: string): string;
  /** Adds a bare repository with one commit holding `files`. */
  createRepository(name: string, files: Record<string, string>): void;
  /** The root the repositories live in (for inspecting what a push wrote). */
  root: string;
  requests: SeenRequest[];
  close(): Promise<void>;
}

const quietGit = { GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_AUTHOR_NAME: 'Test', GIT_AUTHOR_EMAIL: 'test@example.test', GIT_COMMITTER_NAME: 'Test', GIT_COMMITTER_EMAIL: 'test@example.test' };

export async function startGitServer(options: { userinfoUrl: string; host?: string }): Promise<GitServer> {
  const root = mkdtempSync(join(tmpdir(), 'oauth-anywhere-git-server-'));
  const host = options.host ?? '127.0.0.1';
  const requests: SeenRequest[] = [];
  const server = createServer((req, res) => {
    const seen: SeenRequest = { method: req.method ?? 'GET', path: req.url ?? '/', status: 0 };
    requests.push(seen);
    res.once('finish', () => (seen.status = res.statusCode));
    void serve(req, res, seen).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`git server error: ${String(error)}`);
    });
  });

  async function serve(req: IncomingMessage, res: ServerResponse, seen: SeenRequest): Promise<void> {
    const password = basicPassword(req.headers.authorization);
    if (password !== undefined) seen.token = password;
    const subject = password === undefined ? undefined : await subjectAtUserinfo(options.userinfoUrl, password);
    if (!subject) {
      req.resume();
      res.writeHead(401, { 'www-authenticate': 'Basic realm="OAuth Anywhere test git server"', 'content-type': 'text/plain' });
      res.end(password === undefined ? 'Authentication required.\n' : 'The identity provider does not accept this token.\n');
      return;
    }
    await runBackend(req, res, subject);
  }

  function runBackend(req: IncomingMessage, res: ServerResponse, user: string): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://git.test');
    const backend = spawn('git', ['http-backend'], {
      env: {
        PATH: process.env.PATH,
        ...quietGit,
        GIT_PROJECT_ROOT: root,
        GIT_HTTP_EXPORT_ALL: '1',
        REQUEST_METHOD: req.method ?? 'GET',
        PATH_INFO: decodeURIComponent(url.pathname),
        QUERY_STRING: url.search.slice(1),
        CONTENT_TYPE: req.headers['content-type'] ?? '',
        ...(req.headers['content-length'] ? { CONTENT_LENGTH: req.headers['content-length'] } : {}),
        ...(req.headers['content-encoding'] ? { HTTP_CONTENT_ENCODING: req.headers['content-encoding'] } : {}),
        ...(req.headers['git-protocol'] ? { GIT_PROTOCOL: String(req.headers['git-protocol']) } : {}),
        // http-backend serves receive-pack (push) only to an authenticated user.
        REMOTE_USER: user,
        REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
      },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    req.pipe(backend.stdin);
    return new Promise((resolve, reject) => {
      let head = Buffer.alloc(0);
      let headersDone = false;
      backend.stdout.on('data', (chunk: Buffer) => {
        if (headersDone) return void res.write(chunk);
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n') >= 0 ? head.indexOf('\r\n\r\n') + 4 : head.indexOf('\n\n') >= 0 ? head.indexOf('\n\n') + 2 : -1;
        if (end < 0) return;
        headersDone = true;
        let status = 200;
        for (const line of head.subarray(0, end).toString('latin1').split(/\r?\n/).filter(Boolean)) {
          const colon = line.indexOf(':');
          const name = line.slice(0, colon).trim();
          const value = line.slice(colon + 1).trim();
          if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10);
          else res.setHeader(name, value);
        }
        res.writeHead(status);
        res.write(head.subarray(end));
      });
      backend.once('error', reject);
      backend.once('close', () => {
        res.end();
        resolve();
      });
    });
  }

  const port = await listen(server, host);
  const origin = `http://${host}:${port}`;
  return {
    origin,
    root,
    requests,
    repositoryUrl: (name) => `${origin}/${name}.git`,
    createRepository(name, files) {
      const work = mkdtempSync(join(tmpdir(), 'oauth-anywhere-git-seed-'));
      try {
        const git = (args: string[], cwd: string) => {
          const run = spawnSync('git', args, { cwd, env: { PATH: process.env.PATH, HOME: work, ...quietGit }, encoding: 'utf8' });
          if (run.status !== 0) throw new Error(`git ${args.join(' ')}: ${run.stderr}`);
        };
        mkdirSync(join(work, 'seed'));
        git(['init', '--quiet', '--initial-branch=main'], join(work, 'seed'));
        for (const [file, content] of Object.entries(files)) writeFileSync(join(work, 'seed', file), content);
        git(['add', '.'], join(work, 'seed'));
        git(['commit', '--quiet', '-m', 'First commit'], join(work, 'seed'));
        git(['clone', '--quiet', '--bare', join(work, 'seed'), join(root, `${name}.git`)], work);
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    },
    async close() {
      await closeServer(server);
      rmSync(root, { recursive: true, force: true });
    },
  };
}

function basicPassword(header: string | undefined): string | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : decoded.slice(colon + 1);
}
