import { configFor } from '../../../review/checkout';

describe('which config each checkout synthesizes with', () => {
  test('none given: each checkout uses its own example config', () => {
    expect(configFor('/tmp/base', '/repo', {})).toBeUndefined();
  });
  test('a path inside the repository is read from each checkout (base reads base\'s copy)', () => {
    const all = () => true;
    expect(configFor('/tmp/base', '/repo', { ZIGGIE_CONFIG: 'config/prod.yaml' }, all)).toBe('/tmp/base/config/prod.yaml');
    expect(configFor('/repo', '/repo', { ZIGGIE_CONFIG: '/repo/config/prod.yaml' }, all)).toBe('/repo/config/prod.yaml');
  });
  test('an in-repository config the base checkout does not have (gitignored config/ziggie.yaml) is used as is', () => {
    const onlyWorkingTree = (f: string) => f.startsWith('/repo/');
    expect(configFor('/tmp/base', '/repo', { ZIGGIE_CONFIG: 'config/ziggie.yaml' }, onlyWorkingTree)).toBe('/repo/config/ziggie.yaml');
  });
  test('a path outside the repository is used as is on both sides', () => {
    expect(configFor('/tmp/base', '/repo', { ZIGGIE_CONFIG: '/etc/ziggie/prod.yaml' })).toBe('/etc/ziggie/prod.yaml');
    expect(configFor('/tmp/base', '/repo', { ZIGGIE_CONFIG: '../elsewhere.yaml' })).toBe('/elsewhere.yaml');
  });
});
