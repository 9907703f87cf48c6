/**
 * A local SQS + S3 for tests: fauxqs (npm), a maintained emulator that speaks SQS's JSON protocol (what current
 * AWS SDKs and boto3 send) and S3's REST API. fauxqs is ESM-only and jest runs CommonJS, so tests start it as this
 * child process. argv[2]: JSON {port?, host?, region?, queues?, buckets?} (fauxqs's init-config shape). Prints one
 * JSON line {address, port} when listening; stops on SIGTERM or when stdin closes (its parent died).
 */
import { startFauxqs } from 'fauxqs';

const spec = JSON.parse(process.argv[2] ?? '{}');
const server = await startFauxqs({ port: spec.port ?? 0, host: spec.host, defaultRegion: spec.region, logger: false });
server.setup({ queues: spec.queues ?? [], buckets: spec.buckets ?? [] });
process.stdout.write(JSON.stringify({ address: server.address, port: server.port }) + '\n');
const stop = () => server.stop().finally(() => process.exit(0));
process.on('SIGTERM', stop);
process.stdin.on('end', stop);
process.stdin.resume();
