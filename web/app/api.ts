/** The page's only network partner: the control-center API, with the viewer's token (kept in sessionStorage). */
const KEY = 'ziggie.token';

export class ApiError extends Error {
  constructor(readonly status: number, readonly kind: string, message: string) {
    super(message);
  }
}

export const token = {
  get: (): string | null => sessionStorage.getItem(KEY),
  set: (t: string): void => sessionStorage.setItem(KEY, t.trim()),
  clear: (): void => sessionStorage.removeItem(KEY),
};

/** One API call with a timeout; an error answer becomes an ApiError carrying the API's own message. */
export async function api<T>(method: 'GET' | 'POST', path: string, body?: unknown, timeoutMs = 20_000): Promise<T> {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), timeoutMs);
  try {
    const res = await fetch(path, {
      method,
      headers: { authorization: `Bearer ${token.get() ?? ''}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: ctl.signal,
    });
    const data = await res.json().catch(() => ({}));
    if (!res.ok) {
      const e = (data as { error?: { kind?: string; message?: string } }).error;
      throw new ApiError(res.status, e?.kind ?? 'failed', e?.message ?? `HTTP ${res.status}`);
    }
    return data as T;
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw new ApiError(0, 'timeout', `${method} ${path}: no answer in ${timeoutMs / 1000} s`);
    throw err;
  } finally {
    clearTimeout(timer);
  }
}
