/** provision:vps and an agent's deploy: which image a re-run renders (deploy-state.ts), without a host. */
import { createHash } from 'node:crypto';
import { loadConfig, EXAMPLE_CONFIG } from '../../../config/load';
import type { ContainerConfig } from '../../../config/schema';
import { parseDeployState, provisionedImage, type DeployState } from '../../../playbooks/hostinger-vps/deploy-state';
import { composeFile } from '../../../playbooks/hostinger-vps/render';
import { serviceCompose } from '../../../playbooks/hostinger-vps/tasks';
import { replaceImage } from '../../../ops/deploy/hostinger';

const config = loadConfig(EXAMPLE_CONFIG);
const api = config.containers.find((c) => c.name === 'ziggie-api')!;
const NOW = '2026-11-28T12:00:00.000Z';
const state = (s: Partial<DeployState>): DeployState => ({ history: [], ...s });

describe('the rule: the config\'s image unless an agent deployed another since the config last changed', () => {
  test('no record, or a record without a current image: the config\'s image, nothing recorded', () => {
    expect(provisionedImage('api:1', undefined)).toEqual({ image: 'api:1' });
    expect(provisionedImage('api:1', state({}))).toEqual({ image: 'api:1' });
  });

  test('the config unchanged since the deploy: the deployed image stays, nothing recorded', () => {
    expect(provisionedImage('api:1', state({ config: 'api:1', current: 'api:2', previous: 'api:1' })))
      .toEqual({ image: 'api:2', why: 'keeps api:2 (deployed; the config still names api:1)' });
    expect(provisionedImage('api:1', state({ config: 'api:1', current: 'api:1', previous: 'api:2' }))).toEqual({ image: 'api:1' });
  });

  test('the config names a new image: it wins, becomes current, the deployed one previous (for cloud:rollback)', () => {
    const history: DeployState['history'] = [{ image: 'api:2', at: 'x', result: 'deployed' }];
    const d = provisionedImage('api:3', state({ config: 'api:1', current: 'api:2', previous: 'api:1', history }), () => NOW);
    expect(d.image).toBe('api:3');
    expect(d.record).toEqual({ config: 'api:3', current: 'api:3', previous: 'api:2', history: [...history, { image: 'api:3', at: NOW, result: 'provisioned' }] });
    // the config catching up with the deployed image: recorded, previous kept
    expect(provisionedImage('api:2', state({ config: 'api:1', current: 'api:2', previous: 'api:1' }), () => NOW).record)
      .toMatchObject({ config: 'api:2', current: 'api:2', previous: 'api:1' });
  });

  test('a record from before provision:vps kept one: the deploy stays, the config is recorded from now on', () => {
    expect(provisionedImage('api:1', state({ current: 'api:2', previous: 'api:1' })))
      .toEqual({ image: 'api:2', why: 'keeps api:2 (deployed)', record: { config: 'api:1', current: 'api:2', previous: 'api:1', history: [] } });
  });

  test('an unreadable record is an empty history', () => {
    expect(parseDeployState('{nope')).toEqual({ history: [] });
    expect(parseDeployState('{"current":"a:1","config":7}')).toEqual({ current: 'a:1', config: undefined, previous: undefined, history: [] });
  });
});

describe('the compose task reads the record', () => {
  const sha = (s: string): string => createHash('sha256').update(s).digest('hex');
  const facts = (composeText: string, record: DeployState | null) => ({
    containers: { usable: true, states: ['running'] },
    dir: { path: '/opt/ziggie/ziggie-api', type: 'directory' },
    'file:compose.yaml': { path: '/opt/ziggie/ziggie-api/compose.yaml', type: 'file', mode: '0644', sha256: sha(composeText) },
    deployState: record ? Buffer.from(JSON.stringify(record)) : null,
  });
  const env = { check: false, host: { name: 'h', groups: [], vars: {} } };
  const v2 = 'ghcr.io/ziggie/api:v2';

  test('the file cloud:deploy writes is byte for byte what provision:vps renders for that image (a re-run changes nothing)', () => {
    expect(replaceImage(composeFile(api), 'ziggie-api', v2)).toBe(composeFile({ ...api, image: v2 } as ContainerConfig));
    const deployed = replaceImage(composeFile(api), 'ziggie-api', v2);
    const p = serviceCompose(api).plan(facts(deployed, state({ config: api.image, current: v2, previous: api.image })), env);
    expect(p).toMatchObject({ changed: false, msg: `keeps ${v2} (deployed; the config still names ${api.image})` });
  });

  test('a new image in the config rolls the service to it and updates the record after the rollout', () => {
    const deployed = replaceImage(composeFile(api), 'ziggie-api', v2);
    const c3 = { ...api, image: 'ghcr.io/ziggie/api:v3' } as ContainerConfig;
    const p = serviceCompose(c3, () => NOW).plan(facts(deployed, state({ config: api.image, current: v2, previous: api.image })), env);
    expect(p.changed).toBe(true);
    expect(p.msg).toMatch(/^the config now names ghcr\.io\/ziggie\/api:v3 \(was ghcr\.io\/ziggie\/api:1\.0\.0\): it replaces the deployed ghcr\.io\/ziggie\/api:v2; update compose\.yaml/);
    expect(typeof p.apply).toBe('function');
  });

  test('without a record the config\'s image is rendered, as before', () => {
    expect(serviceCompose(api).plan(facts(composeFile(api), null), env)).toEqual({ changed: false });
    expect(serviceCompose(api).plan(facts(replaceImage(composeFile(api), 'ziggie-api', v2), null), env).changed).toBe(true);
  });
});
