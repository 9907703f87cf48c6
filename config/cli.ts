import { ConfigError, configPath, loadConfig } from './load';
import type { ZiggieConfig } from './schema';

/** Load the config for a command-line entry point: on any problem print the lines and exit 2. */
export function loadConfigOrExit(file = configPath()): ZiggieConfig {
  try {
    return loadConfig(file);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  }
}
