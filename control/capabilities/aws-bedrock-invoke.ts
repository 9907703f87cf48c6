import { z } from 'zod';
import { BedrockLimitError, invokeBedrock } from '../../ops/bedrock';
import { defineCapability } from '../capability';
import { ControlError } from '../errors';

export const awsBedrockInvoke = defineCapability({
  name: 'aws:bedrock-invoke',
  description: 'Ask a Bedrock model (only the models in the config\'s allow-list; input size and output tokens capped).',
  params: z.strictObject({
    model: z.string().min(1).max(300).describe('a model id such as anthropic.claude-3-haiku-20240307-v1:0, or its ARN'),
    prompt: z.string().min(1).max(200_000),
    system: z.string().max(20_000).optional(),
    maxTokens: z.number().int().min(1).max(8192).optional(),
  }),
  result: z.object({
    model: z.string(), text: z.string(), stopReason: z.string().nullable(),
    inputTokens: z.number().nullable(), outputTokens: z.number().nullable(),
  }),
  mutates: false,
  // Prompts can carry anything: the audit log gets their length, never their text.
  secretParams: ['prompt', 'system'],
  iam: (config) => config.bedrock.modelArns.map((model) => ({ action: 'bedrock:InvokeModel', resource: model, why: 'a configured model (the allow-list)' })),
  timeoutMs: (ctx) => Math.max(60_000, ctx.settings.requestTimeoutSeconds * 4000),
  http: [{ method: 'POST', path: '/api/aws/bedrock/invoke', summary: 'Invoke an allowed Bedrock model' }],
  target: (p) => p.model,
  async handler(ctx, p, call) {
    const limits = { modelArns: ctx.config.bedrock.modelArns, ...ctx.settings.bedrock };
    try {
      return await invokeBedrock(ctx.clients.bedrock, p, limits, call.signal);
    } catch (err) {
      if (err instanceof BedrockLimitError) throw new ControlError('bad-params', err.message);
      throw err;
    }
  },
});
