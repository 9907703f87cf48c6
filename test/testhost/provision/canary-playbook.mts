/**
 * A playbook that puts a canary secret everywhere a secret can go (inventory var, file content, template,
 * command stdin and env, compose .env, an error message), for the "no secret in any output" test.
 */
import { command, compose, copy, definePlaybook, defineTask, main, reveal, secret, shell, template, type Secret } from '../../../provision/index.js';

export const canaryPlaybook = definePlaybook<{ canary: Secret; fail_at_end?: string }>({
  name: 'canary',
  tasks: (h) => {
    const c = h.vars.canary;
    const plain = reveal(c);
    const also = secret(`${plain}-derived`);
    return [
      copy({ dest: '/srv/pc/secret.env', content: `TOKEN=${plain}\n`, mode: '0600' }),
      template({ dest: '/srv/pc/app.conf', data: { c }, render: 'password={{ c }}\n' }),
      command({ cmd: ['sh', '-c', 'cat > /srv/pc/stdin.txt'], stdin: c, creates: '/srv/pc/stdin.txt' }),
      shell({ cmd: 'printf %s "$TOKEN" > /srv/pc/env.txt', env: { TOKEN: also }, creates: '/srv/pc/env.txt' }),
      compose({ project: 'pcanary', compose: { services: { a: { image: 'local/busybox:latest', command: ['sleep', '3600'], init: true } } }, env: { TOKEN: c }, pull: 'never' }),
      h.vars.fail_at_end === 'yes' &&
        defineTask('fake', 'fails with the secret in its message', {}, {
          plan() {
            throw new Error(`could not use ${plain}`);
          },
        }),
    ];
  },
});

await main(canaryPlaybook);
