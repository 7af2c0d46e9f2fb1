/**
 * @module server/operator-api/console
 * The operator console's static files at `/console`, loaded once, served with a strict CSP.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Request, Response, Server } from 'restify';
import type { Logger } from '../../util/logger.js';
import { send } from './routing.js';

const CONSOLE_DIR = new URL('../../console/', import.meta.url);
const CONTENT_TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
  png: 'image/png',
  ico: 'image/x-icon',
};
/** The console page may load only its own scripts and styles, and talk only to us. */
const CONSOLE_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cache-control': 'no-cache',
};

/** Loads the console's static files once (a few small files, no build step). */
function loadConsoleAssets(logger: Logger): Map<string, { body: Buffer; type: string }> {
  const assets = new Map<string, { body: Buffer; type: string }>();
  let names: string[] = [];
  try {
    names = readdirSync(CONSOLE_DIR);
  } catch (err) {
    logger.error({ err }, 'the operator console files are missing: /console will answer 404');
  }
  for (const name of names) {
    const ext = name.split('.').pop() ?? '';
    const type = CONTENT_TYPES[ext];
    if (type && /^[a-z0-9-]+\.[a-z]+$/.test(name)) assets.set(name, { body: readFileSync(new URL(name, CONSOLE_DIR)), type });
  }
  // The reports page's chart library (chart.js from npm, MIT), served by us: no CDN.
  try {
    const dist = dirname(createRequire(import.meta.url).resolve('chart.js'));
    assets.set('chart.js', { body: readFileSync(join(dist, 'chart.umd.min.js')), type: CONTENT_TYPES.js! });
  } catch (err) {
    logger.error({ err }, 'chart.js is not installed: the console reports page will have no charts (npm install)');
  }
  return assets;
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The server's start page at `/`: what a person who opens the server's address can open (the
 * console, the channels' pages such as the web chat, the health check), instead of a 404.
 */
function startPage(pages: ReadonlyArray<{ title: string; path: string }>): string {
  const links = [{ title: 'Operator console', path: '/console' }, ...pages, { title: 'Health check', path: '/healthz' }]
    .map((p) => `<li><a href="${escapeHtml(p.path)}">${escapeHtml(p.title)}</a> <code>${escapeHtml(p.path)}</code></li>`)
    .join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Sportello</title></head><body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem; line-height: 1.5"><h1>Sportello is running</h1><ul>${links}</ul><p>Documentation: README.md and docs/ in the project.</p></body></html>`;
}

/** Serves the console at `/console` and its files at `/console/:file`, and the start page at `/` (`pages`: the channels' pages). */
export function registerConsole(server: Server, logger: Logger, pages: ReadonlyArray<{ title: string; path: string }> = []): void {
  const start = Buffer.from(startPage(pages));
  server.get('/', async (_req: Request, res: Response) => {
    res.writeHead(200, { 'content-type': CONTENT_TYPES.html!, ...CONSOLE_HEADERS, 'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'" });
    res.end(start);
  });
  const assets = loadConsoleAssets(logger);
  const serveAsset = (name: string, res: Response) => {
    const asset = assets.get(name);
    if (!asset) {
      send(res, 404, { error: 'not found' });
      return;
    }
    res.writeHead(200, { 'content-type': asset.type, ...CONSOLE_HEADERS });
    res.end(asset.body);
  };
  server.get('/console', async (_req: Request, res: Response) => serveAsset('index.html', res));
  server.get('/console/:file', async (req: Request, res: Response) => serveAsset(String(req.params.file ?? ''), res));
}
