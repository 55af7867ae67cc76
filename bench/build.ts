import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';
import type * as Operators from '../operators/index.js';
import type * as Scheduler from '../src/index.js';
import type * as Sqlite from '../src/sqlite.js';

/** The package as its users load it: `rxjobs` and `rxjobs/operators`. */
export interface Library {
  readonly scheduler: typeof Scheduler;
  readonly operators: typeof Operators;
  readonly sqlite: typeof Sqlite;
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// Inside node_modules, so the compiled files resolve rxjs and cron-parser as the sources do.
const cacheDir = join(root, 'node_modules', '.cache', 'rxjobs-bench');

/**
 * Compiles `src/` and `operators/` with the TypeScript compiler, as `npm run build` does, and
 * imports the result. The bench runs under tsx, whose transform wraps every closure in a
 * `__name()` call (about twice the cost per job here); npm users run tsc's output, so that is
 * what is measured. The competitors are plain JavaScript from node_modules either way.
 */
export async function buildLibrary(): Promise<Library> {
  const config = ts.readConfigFile(join(root, 'tsconfig.build.json'), ts.sys.readFile);
  const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, root);
  const compilerOptions: ts.CompilerOptions = {
    ...options,
    // transpileModule cannot read package.json to tell ESM from CJS; the package is ESM.
    module: ts.ModuleKind.ESNext,
    declaration: false,
    declarationMap: false,
    sourceMap: false,
    noEmit: false,
  };
  mkdirSync(cacheDir, { recursive: true });
  // One directory per run, so two runs at once (a smoke test beside a full run) never share.
  const outDir = mkdtempSync(join(cacheDir, 'build-'));
  process.once('exit', () => rmSync(outDir, { recursive: true, force: true }));
  for (const folder of ['src', 'operators']) {
    mkdirSync(join(outDir, folder), { recursive: true });
    for (const file of readdirSync(join(root, folder))) {
      if (!file.endsWith('.ts') || file.endsWith('.d.ts')) continue;
      const source = readFileSync(join(root, folder, file), 'utf8');
      const { outputText } = ts.transpileModule(source, { compilerOptions, fileName: file });
      writeFileSync(join(outDir, folder, file.replace(/\.ts$/, '.js')), outputText);
    }
  }
  writeFileSync(join(outDir, 'package.json'), '{ "type": "module" }\n');
  const load = (path: string) => import(pathToFileURL(join(outDir, path)).href);
  return {
    scheduler: (await load('src/index.js')) as typeof Scheduler,
    operators: (await load('operators/index.js')) as typeof Operators,
    sqlite: (await load('src/sqlite.js')) as typeof Sqlite,
  };
}
