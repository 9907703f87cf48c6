import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../../config/load';
import { GPU_CONTROL_FUNCTION } from '../../../stacks/gpu';

const workflow = JSON.parse(readFileSync(path.join(__dirname, '../../../docs/n8n/gpu-comfyui-generate.json'), 'utf8')) as {
  nodes: Array<{ name: string; type: string; parameters: Record<string, unknown> }>;
  connections: Record<string, { main: Array<Array<{ node: string }>> }>;
};

test('every connection names an existing node and every node but the trigger is reached', () => {
  const names = new Set(workflow.nodes.map((n) => n.name));
  const targets = Object.values(workflow.connections).flatMap((c) => c.main.flat().map((t) => t.node));
  expect(targets.filter((t) => !names.has(t))).toEqual([]);
  expect(Object.keys(workflow.connections).filter((s) => !names.has(s))).toEqual([]);
  const trigger = workflow.nodes.find((n) => n.type === 'n8n-nodes-base.webhook')!;
  expect([...names].filter((n) => n !== trigger.name && !targets.includes(n))).toEqual([]);
});

test('it starts the GPU, polls status, queues a prompt and uploads under comfyui/generated/ of the assets bucket', () => {
  const lambdas = workflow.nodes.filter((n) => n.type === 'n8n-nodes-base.awsLambda');
  expect(lambdas.map((n) => n.parameters.function)).toEqual([GPU_CONTROL_FUNCTION, GPU_CONTROL_FUNCTION]);
  expect(lambdas.map((n) => n.parameters.payload)).toEqual([expect.stringContaining("'start'"), expect.stringContaining("'status'")]);
  expect(workflow.nodes.find((n) => n.name === 'Queue prompt')!.parameters.url).toMatch(/\/prompt$/);
  const upload = workflow.nodes.find((n) => n.type === 'n8n-nodes-base.awsS3')!;
  expect(upload.parameters.bucketName).toBe(loadConfig().storage.assetsBucket);
  expect(upload.parameters.fileName).toMatch(/^=comfyui\/generated\//);
});
