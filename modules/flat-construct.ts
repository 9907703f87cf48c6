import { Construct, type IConstruct, type Node } from 'constructs';

/**
 * A construct that groups resources without putting its own id into their Terraform addresses: a resource `role`
 * inside `new GpuInstance(stack, 'instance-parts')` keeps the address `aws_iam_role.role` it had when the stack
 * created it directly. Splitting a stack into constructs therefore replaces nothing in a deployed account.
 * Ids inside flat constructs share the stack's namespace; the stack refuses a duplicate (ZiggieStack).
 */
export class FlatConstruct extends Construct {
  private static readonly MARK = Symbol.for('ziggie.FlatConstruct');

  constructor(scope: Construct, id: string) {
    super(scope, id);
    Object.defineProperty(this, FlatConstruct.MARK, { value: true });
  }

  static isFlat(c: IConstruct): boolean {
    return (c as unknown as Record<symbol, unknown>)[FlatConstruct.MARK] === true;
  }
}

/** The path components below `stack` that name an element in Terraform: flat constructs left out. */
export function addressComponents(stack: IConstruct, node: Node): string[] {
  const below = node.scopes.slice(node.scopes.indexOf(stack) + 1);
  return below.filter((scope, i) => i === below.length - 1 || !FlatConstruct.isFlat(scope)).map((scope) => scope.node.id);
}
