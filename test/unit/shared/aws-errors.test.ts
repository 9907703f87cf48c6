import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { awsErrorCode } from '../../../shared/aws-errors';

// Real SDK clients against a local server that answers as the services do, so the fields under test are the ones
// the SDK's own deserializers set — not a hand-built guess of them.
let server: Server;
let endpoint: string;
let reply: { status: number; type: string; body: string; headers?: Record<string, string> };
const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'example' };

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(reply.status, { 'content-type': reply.type, ...reply.headers }).end(reply.body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

async function failureOf(send: () => Promise<unknown>): Promise<unknown> {
  try {
    await send();
  } catch (err) {
    return err;
  }
  throw new Error('the call succeeded');
}

describe('awsErrorCode', () => {
  test('an EC2 query-protocol error (XML body) gives its code', async () => {
    reply = {
      status: 400, type: 'text/xml',
      body: '<Response><Errors><Error><Code>InvalidInstanceID.NotFound</Code><Message>The instance ID \'i-1\' does not exist</Message></Error></Errors><RequestID>r-1</RequestID></Response>',
    };
    const ec2 = new EC2Client({ region: 'eu-north-1', endpoint, credentials, maxAttempts: 1 });
    const err = await failureOf(() => ec2.send(new DescribeInstancesCommand({ InstanceIds: ['i-1'] })));
    expect(awsErrorCode(err)).toBe('InvalidInstanceID.NotFound');
  });

  test('a JSON-protocol error (Secrets Manager) gives its code', async () => {
    reply = {
      status: 400, type: 'application/x-amz-json-1.1',
      body: JSON.stringify({ __type: 'ResourceNotFoundException', Message: 'Secrets Manager can\'t find the specified secret.' }),
    };
    const sm = new SecretsManagerClient({ region: 'eu-north-1', endpoint, credentials, maxAttempts: 1 });
    const err = await failureOf(() => sm.send(new GetSecretValueCommand({ SecretId: 'ziggie/x' })));
    expect(awsErrorCode(err)).toBe('ResourceNotFoundException');
  });

  test('a network failure gives the errno, not the generic name "Error"', async () => {
    // The SDK rethrows Node's own socket error (jest's sandbox wraps it, so take it from the socket directly).
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const err = await new Promise<Error>((r) => connect(port, '127.0.0.1').on('error', r));
    expect(err.name).toBe('Error');
    expect(awsErrorCode(err)).toBe('ECONNREFUSED');
  });

  test('no code for values that are not errors or carry no string code', () => {
    expect(awsErrorCode(undefined)).toBeUndefined();
    expect(awsErrorCode('ThrottlingException')).toBeUndefined();
    expect(awsErrorCode({ code: 42 })).toBeUndefined();
  });
});
