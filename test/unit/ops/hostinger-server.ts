/**
 * A local stand-in for the Hostinger API: node:http on 127.0.0.1 and a random port, replaying fixture
 * responses (test/fixtures/hostinger) per "METHOD /path?query". Replies queued for a route are used once each,
 * in order; the last one repeats. Every request is recorded.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

export const FIXTURES = path.join(__dirname, '../../fixtures/hostinger');

export function fixture<T = unknown>(name: string): T {
  return JSON.parse(readFileSync(path.join(FIXTURES, name), 'utf8')) as T;
}

export interface Reply { status: number; body?: unknown; headers?: Record<string, string>; delayMs?: number; raw?: string }

export const reply = (status: number, fixtureName?: string, headers?: Record<string, string>): Reply =>
  ({ status, body: fixtureName ? fixture(fixtureName) : undefined, headers });

export interface Recorded { method: string; url: string; headers: http.IncomingHttpHeaders; body: unknown }

export class FakeHostinger {
  readonly requests: Recorded[] = [];
  private readonly routes = new Map<string, Reply[]>();
  private server?: http.Server;
  url = '';

  on(route: string, ...replies: Reply[]): this {
    this.routes.set(route, [...(this.routes.get(route) ?? []), ...replies]);
    return this;
  }

  calls(route: string): Recorded[] {
    return this.requests.filter((r) => `${r.method} ${r.url}` === route);
  }

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => {
      let data = '';
      req.on('data', (c) => { data += c; });
      req.on('end', () => {
        const route = `${req.method} ${req.url}`;
        this.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: data ? JSON.parse(data) : undefined });
        const queue = this.routes.get(route);
        const r: Reply = queue && queue.length ? (queue.length > 1 ? queue.shift()! : queue[0]) : { status: 404, body: { message: `no route ${route}` } };
        const send = () => {
          res.writeHead(r.status, { 'Content-Type': 'application/json', ...r.headers });
          res.end(r.raw ?? (r.body === undefined ? '' : JSON.stringify(r.body)));
        };
        if (r.delayMs) setTimeout(send, r.delayMs); else send();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}
