/**
 * The OpenAPI 3.1 document, generated from the registry's zod schemas (the same ones the pipeline validates
 * with), so the document cannot drift from the API.
 */
import { z } from 'zod';
import type { AnyCapability, HttpBinding } from '../capability';
import type { Registry } from '../registry';

type Json = Record<string, unknown>;

const errorSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['kind', 'message'],
      properties: {
        kind: { type: 'string', enum: ['unauthenticated', 'unknown-agent', 'unknown-capability', 'forbidden', 'bad-params', 'rate-limited', 'timeout', 'failed', 'not-found', 'too-large', 'unsupported-media-type'] },
        message: { type: 'string', description: 'one line: what is wrong' },
      },
    },
  },
};

const schemaOf = (s: z.ZodType, io: 'input' | 'output'): Json => {
  const j = z.toJSONSchema(s, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as Json;
  delete j.$schema;
  return j;
};

export const pathParams = (path: string): string[] => [...path.matchAll(/:([A-Za-z]+)/g)].map((m) => m[1]!);
export const openApiPath = (path: string): string => path.replace(/:([A-Za-z]+)/g, '{$1}');

function operation(c: AnyCapability, b: HttpBinding): Json {
  const input = schemaOf(c.params, 'input') as { properties?: Record<string, Json>; required?: string[] };
  const inPath = pathParams(b.path);
  const fixed = Object.keys(b.fixed ?? {});
  const rest = Object.entries(input.properties ?? {}).filter(([k]) => !inPath.includes(k) && !fixed.includes(k));
  const parameters = [
    ...inPath.map((name) => ({ name, in: 'path', required: true, schema: input.properties?.[name] ?? { type: 'string' } })),
    ...(b.method === 'GET' ? rest.map(([name, schema]) => ({ name, in: 'query', required: input.required?.includes(name) ?? false, schema })) : []),
  ];
  const body = b.method === 'POST' && rest.length > 0 ? {
    requestBody: {
      required: (input.required ?? []).some((r) => !inPath.includes(r)),
      content: { 'application/json': { schema: { ...input, properties: Object.fromEntries(rest), required: (input.required ?? []).filter((r) => !inPath.includes(r)) } } },
    },
  } : {};
  const err = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });
  return {
    operationId: `${c.name.replace(/[^A-Za-z0-9]+(.)/g, (_, ch: string) => ch.toUpperCase())}${fixed.length ? `_${Object.values(b.fixed!).join('_')}` : ''}`,
    summary: b.summary ?? c.name,
    description: `${c.description}\n\nCapability \`${c.name}\`${c.mutates ? ' (mutating: audited before and after)' : ''}.`,
    tags: [c.name.split(':')[0]],
    'x-capability': c.name,
    security: [{ bearer: [] }],
    ...(parameters.length ? { parameters } : {}),
    ...body,
    responses: {
      200: { description: 'the result', content: { 'application/json': { schema: schemaOf(c.result, 'output') } } },
      400: err('bad parameters (one line naming each bad field)'),
      401: err('no or unknown bearer token'),
      403: err('this agent does not hold the capability, or not for these parameter values'),
      413: err('request body larger than controlCenter.bodyLimitBytes'),
      429: err('this agent\'s rate limit (agents.<name>.rateLimitPerMinute) is used up'),
      502: err('the provider call failed (AWS / Hostinger); the message says why'),
      504: err('the capability did not finish within its time limit'),
    },
  };
}

export function openApiDocument(registry: Registry, info: { version: string; serverUrl?: string }): Json {
  const paths: Record<string, Json> = {};
  for (const c of registry.capabilities) {
    for (const b of c.http) {
      const p = openApiPath(b.path);
      paths[p] = { ...(paths[p] ?? {}), [b.method.toLowerCase()]: operation(c, b) };
    }
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Ziggie control center',
      version: info.version,
      description: 'The agent control plane: every call is authorized per agent, validated, rate limited and audited. See docs/agents.md.',
    },
    ...(info.serverUrl ? { servers: [{ url: info.serverUrl }] } : {}),
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'an agent token (npm run ziggie -- agent token issue --agent NAME)' } },
      schemas: { Error: errorSchema },
    },
  };
}
