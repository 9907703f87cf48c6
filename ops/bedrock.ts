/**
 * The MCP gateway's AWS bridge: one Bedrock Converse call on a model from the config's allow-list
 * (`bedrock.modelArns`), with the input size and output tokens capped by the config.
 */
import { ConverseCommand, type BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';

export interface BedrockLimits {
  /** Allowed model ARNs (foundation models, inference profiles). */
  modelArns: readonly string[];
  maxTokens: number;
  maxInputChars: number;
}

export interface BedrockAnswer {
  model: string;
  text: string;
  stopReason: string | null;
  inputTokens: number | null;
  outputTokens: number | null;
}

export class BedrockLimitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BedrockLimitError';
  }
}

/** The allowed ARN a request names, by full ARN or by the model id after the `/`. */
export function allowedModel(model: string, arns: readonly string[]): string | undefined {
  return arns.find((arn) => arn === model || arn.slice(arn.indexOf('/') + 1) === model);
}

export function checkBedrockRequest(req: { model: string; prompt: string; system?: string; maxTokens?: number }, limits: BedrockLimits): string {
  const arn = allowedModel(req.model, limits.modelArns);
  if (!arn) {
    const ids = limits.modelArns.map((a) => a.slice(a.indexOf('/') + 1));
    throw new BedrockLimitError(`model ${req.model} is not allowed (bedrock.modelArns allows: ${ids.join(', ') || 'none'})`);
  }
  const chars = req.prompt.length + (req.system?.length ?? 0);
  if (chars > limits.maxInputChars) throw new BedrockLimitError(`input is ${chars} characters; the limit is ${limits.maxInputChars} (controlCenter.bedrock.maxInputChars)`);
  if ((req.maxTokens ?? 0) > limits.maxTokens) throw new BedrockLimitError(`maxTokens ${req.maxTokens} is above the limit ${limits.maxTokens} (controlCenter.bedrock.maxTokens)`);
  return arn;
}

export async function invokeBedrock(client: Pick<BedrockRuntimeClient, 'send'>, req: { model: string; prompt: string; system?: string; maxTokens?: number },
  limits: BedrockLimits, signal?: AbortSignal): Promise<BedrockAnswer> {
  const arn = checkBedrockRequest(req, limits);
  const out = await client.send(new ConverseCommand({
    modelId: arn,
    messages: [{ role: 'user', content: [{ text: req.prompt }] }],
    ...(req.system ? { system: [{ text: req.system }] } : {}),
    inferenceConfig: { maxTokens: Math.min(req.maxTokens ?? limits.maxTokens, limits.maxTokens) },
  }), { abortSignal: signal });
  const text = (out.output?.message?.content ?? []).map((c) => ('text' in c && c.text) || '').join('');
  return {
    model: arn, text, stopReason: out.stopReason ?? null,
    inputTokens: out.usage?.inputTokens ?? null, outputTokens: out.usage?.outputTokens ?? null,
  };
}
