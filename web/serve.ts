/**
 * Serve the built cloud page (web/dist/, made by web/build.ts at install) from the control center: `/` and
 * `/assets/*`. The page is public (it holds no data); every figure it shows comes from the token-checked API.
 * A strict Content-Security-Policy: the page loads only its own script and style and talks only to this origin.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { WEB_DIST } from './build';

export const PAGE_ROUTES = ['/', '/assets/app.js', '/assets/app.css'] as const;

const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

export function registerPage(app: FastifyInstance, dist: string = WEB_DIST): void {
  const file = (name: string): Buffer | undefined => {
    try {
      return readFileSync(path.join(dist, name));
    } catch {
      return undefined;
    }
  };
  const send = (name: string, type: string) => async (_req: unknown, reply: import('fastify').FastifyReply) => {
    const body = file(name);
    if (!body) return reply.code(503).type('text/plain').send(`the cloud page is not built: run npm run build:web (web/dist/${name} missing)`);
    return reply.code(200).type(type).header('content-security-policy', CSP).header('x-content-type-options', 'nosniff')
      .header('cache-control', 'no-cache').send(body);
  };
  app.get('/', send('index.html', 'text/html; charset=utf-8'));
  app.get('/assets/app.js', send('app.js', 'text/javascript; charset=utf-8'));
  app.get('/assets/app.css', send('app.css', 'text/css; charset=utf-8'));
}
