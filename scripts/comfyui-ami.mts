// `node bin/run.mjs scripts/comfyui-ami.mts -i inventory.yaml [--allow-cpu] [--no-cloudwatch-agent] [--config FILE]
//  [--check] [--diff] [--tags watchdog] [-e key=value]`: the ComfyUI AMI playbook against any host, by hand
// (`npm run bake-ami` runs it on a builder instance). docs/bake-ami.md.
import { loadConfigOrExit } from '../config/cli.js';
import { configPath } from '../config/load.js';
import { comfyuiAmiPlaybook, parseComfyAmiCli, varsFromConfig, type ComfyAmiVars } from '../playbooks/comfyui-ami.js';
import { cliErrorCode, runParsed } from '../provision/cli.js';
import { exitWith } from '../shared/cli.js';

let code: number;
try {
  const cli = parseComfyAmiCli(process.argv);
  const config = loadConfigOrExit(cli.configFile ?? configPath());
  const defaults: Partial<ComfyAmiVars> = { ...varsFromConfig(config), allow_cpu: cli.allowCpu, install_cloudwatch_agent: cli.cloudwatchAgent };
  code = await runParsed(comfyuiAmiPlaybook(defaults), cli.options);
} catch (e) {
  code = cliErrorCode(e);
}
await exitWith(code);
