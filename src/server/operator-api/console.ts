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

/** Serves the console at `/console` and its files at `/console/:file`. */
export function registerConsole(server: Server, logger: Logger): void {
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
