import { parse, type Node } from 'acorn';

/** What a static look at a job module found. Line and column are 1-based. */
export type SourceCheck =
  | { ok: true; exports: string[]; hasCombine: boolean }
  | { ok: false; message: string; line?: number; column?: number };

const REQUIRED_EXPORTS = ['map', 'reduce'] as const;

/**
 * Checks a job module without running it: it must parse as an ES module and export
 * `map` and `reduce` by name. The coordinator never executes job code (only volunteers'
 * workers do), so this check is syntactic; a module that parses but throws at load time
 * fails its first task instead.
 */
export function checkJobSource(source: string): SourceCheck {
  let program: Node & { body: Node[] };
  try {
    program = parse(source, { ecmaVersion: 'latest', sourceType: 'module', locations: true }) as Node & {
      body: Node[];
    };
  } catch (error) {
    const located = error as { message: string; loc?: { line: number; column: number } };
    return {
      ok: false,
      message: `the job module does not parse: ${located.message.replace(/ \(\d+:\d+\)$/, '')}`,
      ...(located.loc ? { line: located.loc.line, column: located.loc.column + 1 } : {}),
    };
  }
  const exported = new Set<string>();
  for (const statement of program.body) collectExportNames(statement, exported);
  const missing = REQUIRED_EXPORTS.filter((name) => !exported.has(name));
  if (missing.length > 0) {
    return {
      ok: false,
      message: `the job module must export ${missing.map((name) => `\`${name}\``).join(' and ')} (e.g. \`export function ${missing[0]}(...) {...}\`)`,
    };
  }
  return { ok: true, exports: [...exported].sort(), hasCombine: exported.has('combine') };
}

// acorn's node types are loose; we read only the fields the ESTree spec guarantees.
interface LooseNode {
  type: string;
  declaration?: LooseNode | null;
  declarations?: { id: LooseNode }[];
  specifiers?: { exported: LooseNode }[];
  id?: LooseNode | null;
  name?: string;
  value?: unknown;
}

function collectExportNames(node: Node, into: Set<string>): void {
  const statement = node as unknown as LooseNode;
  if (statement.type !== 'ExportNamedDeclaration') return;
  const declaration = statement.declaration;
  if (declaration?.type === 'FunctionDeclaration' || declaration?.type === 'ClassDeclaration') {
    if (declaration.id?.name) into.add(declaration.id.name);
  }
  if (declaration?.type === 'VariableDeclaration') {
    for (const declarator of declaration.declarations ?? []) {
      if (declarator.id.type === 'Identifier' && declarator.id.name) into.add(declarator.id.name);
    }
  }
  for (const specifier of statement.specifiers ?? []) {
    const exported = specifier.exported;
    const name = exported.type === 'Identifier' ? exported.name : String(exported.value);
    if (name) into.add(name);
  }
}
