// A playbook with no tasks: connect and disconnect (used to measure connection cost alone).
import { definePlaybook, main } from '../provision';
if (require.main === module) void main(definePlaybook({ name: 'empty', tasks: () => [] }));
