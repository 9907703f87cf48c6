// A playbook with no tasks: connect and disconnect (used to measure connection cost alone).
import { definePlaybook, main } from '../provision/index.js';

await main(definePlaybook({ name: 'empty', tasks: () => [] }));
