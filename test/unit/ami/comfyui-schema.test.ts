/** The ComfyUI settings are validated by one schema: the config's section is the playbook's `comfyui` var. */
import { EXAMPLE_CONFIG, loadConfig } from '../../../config/load';
import { comfyuiSchema } from '../../../config/schema';
import { comfyAmiVarsSchema, varsFromConfig } from '../../../playbooks/comfyui-ami';

const defaults = varsFromConfig(loadConfig(EXAMPLE_CONFIG));

const base = { repoUrl: 'https://github.com/comfyanonymous/ComfyUI.git', ref: 'v0.3.0', torchIndexUrl: 'https://download.pytorch.org/whl/cu121' };
const vars = (comfyui: unknown) => ({ ...defaults, comfyui });

test('the playbook validates comfyui with the config schema itself', () => {
  expect(comfyAmiVarsSchema.shape.comfyui).toBe(comfyuiSchema);
});

test.each([
  ['checkpoints/a.safetensors', true],
  ['checkpoints/../../etc/passwd', false],
  ['/abs/path', false],
  ['checkpoints/a..b', false],
])('model dest %s: config and playbook agree (%s)', (dest, ok) => {
  const c = { ...base, models: [{ url: 'https://x/m', sha256: 'a'.repeat(64), dest }] };
  expect(comfyuiSchema.safeParse(c).success).toBe(ok);
  expect(comfyAmiVarsSchema.safeParse(vars(c)).success).toBe(ok);
});
