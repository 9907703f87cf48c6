/**
 * The n8n workflows in docs/n8n/, loaded by n8n's own workflow library (n8n-workflow, the version n8n 1.80 uses)
 * with the node type descriptions of n8n-nodes-base at the same version (test/fixtures/n8n/node-types.json,
 * extracted from its npm package by extract-node-types.ts): every node's type and version resolve, n8n finds no
 * parameter issues (required parameters present for the chosen resource/operation), every connection joins
 * existing nodes on outputs the node has, and every node is reached from the trigger. Then what ties them to
 * this deployment: the queue URL, the buckets and the model come from the config.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  NodeHelpers, Workflow, type IConnections, type INode, type INodeType, type INodeTypeDescription, type INodeTypes,
} from 'n8n-workflow';
import { EXAMPLE_CONFIG, loadConfig } from '../../../config/load';
import { ziggieNames } from '../../../shared/names';

const DOCS = path.join(__dirname, '../../../docs/n8n');
const fixture = JSON.parse(readFileSync(path.join(__dirname, '../../fixtures/n8n/node-types.json'), 'utf8')) as {
  package: string; nodes: INodeTypeDescription[];
};
const config = loadConfig(EXAMPLE_CONFIG);

interface WorkflowFile { name: string; nodes: INode[]; connections: IConnections }

const files = readdirSync(DOCS).filter((f) => f.endsWith('.json')).sort();
const load = (f: string) => JSON.parse(readFileSync(path.join(DOCS, f), 'utf8')) as WorkflowFile;

function versions(d: INodeTypeDescription): number[] {
  return Array.isArray(d.version) ? d.version : [d.version];
}

/** n8n's INodeTypes over the fixture's descriptions: the one whose versions include the node's typeVersion. */
const nodeTypes: INodeTypes = {
  getByName: (type) => ({ description: fixture.nodes.find((d) => d.name === type)! }) as INodeType,
  getByNameAndVersion: (type, version) => {
    const d = fixture.nodes.find((x) => x.name === type && (version === undefined || versions(x).includes(version)));
    return (d ? { description: d } : undefined) as INodeType;
  },
  getKnownTypes: () => ({}),
};

test('the fixture is n8n-nodes-base at the version of the configured n8n image', () => {
  const image = config.containers.find((c) => c.name === 'n8n')!.image;
  expect(fixture.package).toBe(`n8n-nodes-base@${image.split(':')[1]}`);
});

test('there are the three workflows: generate, nightly backup status, Bedrock chat', () => {
  expect(files).toEqual(['backup-status.json', 'bedrock-chat.json', 'gpu-comfyui-generate.json']);
});

describe.each(files)('%s', (file) => {
  const wf = load(file);
  const workflow = new Workflow({ id: file, name: wf.name, nodes: wf.nodes, connections: wf.connections, active: false, nodeTypes, settings: {} });

  test('every node type and version resolves in n8n-nodes-base', () => {
    const unresolved = wf.nodes.filter((n) => !nodeTypes.getByNameAndVersion(n.type, n.typeVersion)).map((n) => `${n.name}: ${n.type}@${n.typeVersion}`);
    expect(unresolved).toEqual([]);
  });

  test('n8n reports no parameter issues for any node', () => {
    const issues = wf.nodes.flatMap((n) => {
      const d = nodeTypes.getByNameAndVersion(n.type, n.typeVersion).description;
      const found = NodeHelpers.getNodeParametersIssues(d.properties, n);
      return found ? NodeHelpers.nodeIssuesToString(found, n).map((i) => `${n.name}: ${i}`) : [];
    });
    expect(issues).toEqual([]);
  });

  test('every connection joins existing nodes, on an output the source node has', () => {
    const problems: string[] = [];
    for (const [source, byType] of Object.entries(wf.connections)) {
      const node = workflow.getNode(source);
      if (!node) { problems.push(`no node "${source}"`); continue; }
      const d = nodeTypes.getByNameAndVersion(node.type, node.typeVersion).description;
      const outputs = Array.isArray(d.outputs) ? d.outputs.length : undefined;
      (byType.main ?? []).forEach((targets, index) => {
        if (outputs !== undefined && index >= outputs) problems.push(`${source} has no output ${index}`);
        for (const t of targets ?? []) if (!workflow.getNode(t.node)) problems.push(`${source} → missing "${t.node}"`);
      });
    }
    expect(problems).toEqual([]);
  });

  test('one trigger, and every other node is reached from it', () => {
    const triggers = wf.nodes.filter((n) => /webhook$|Trigger$/.test(n.type) && !/respondToWebhook/.test(n.type));
    expect(triggers).toHaveLength(1);
    const reached = new Set(workflow.getChildNodes(triggers[0]!.name, 'ALL'));
    expect(wf.nodes.map((n) => n.name).filter((n) => n !== triggers[0]!.name && !reached.has(n))).toEqual([]);
  });
});

describe('tied to this deployment', () => {
  const byName = (f: string, name: string) => load(f).nodes.find((n) => n.name === name)!.parameters as Record<string, unknown>;

  test('generate: enqueues on the configured job queue, reads result.json under comfyui/generated/ of the assets bucket, answers the URLs', () => {
    expect(byName('gpu-comfyui-generate.json', 'Enqueue job').queue).toBe(ziggieNames(config).comfyuiJobsQueueUrl);
    const get = byName('gpu-comfyui-generate.json', 'Get result.json');
    expect(get).toMatchObject({ bucketName: config.storage.assetsBucket, fileKey: '=comfyui/generated/{{ $json.jobId }}/result.json' });
    expect(String(byName('gpu-comfyui-generate.json', 'Respond with URLs').responseBody)).toMatch(/outputs: \$json\.outputs/);
  });

  test('backup status: lists the backups bucket', () => {
    expect(byName('backup-status.json', 'List backups').bucketName).toBe(config.storage.backupsBucket);
  });

  test('Bedrock chat: a configured model in the configured region, signed with the AWS credential', () => {
    const call = byName('bedrock-chat.json', 'Bedrock Converse');
    const url = new URL(String(call.url));
    expect(url.host).toBe(`bedrock-runtime.${config.region}.amazonaws.com`);
    const model = decodeURIComponent(url.pathname.split('/')[2]!);
    expect(config.bedrock.modelArns.some((arn) => arn.endsWith(`/${model}`))).toBe(true);
    expect(call).toMatchObject({ authentication: 'predefinedCredentialType', nodeCredentialType: 'aws' });
  });
});
