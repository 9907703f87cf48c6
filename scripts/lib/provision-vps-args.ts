// The command line of `npm run provision:vps` (scripts/provision-vps.mts), parsed on import: --help, --version and
// usage errors end the process here, before the script loads zx and the playbook.
import { cliErrorCode } from '../../provision/cli';
import { parseProvisionVps } from './provision-vps';

function parse(): ReturnType<typeof parseProvisionVps> {
  try {
    return parseProvisionVps(process.argv);
  } catch (e) {
    return process.exit(cliErrorCode(e));
  }
}

export const options = parse();
