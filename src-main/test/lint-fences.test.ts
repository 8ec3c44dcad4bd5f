// The layer fences hold: ESLint (the project's own config) refuses koffi outside the plugin
// runtime and electron outside the Electron shell, and allows them inside.
import path from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './paths.js';

const eslint = new ESLint({ cwd: repoRoot });

async function restricted(relPath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(repoRoot, relPath) });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('lint fences', () => {
  it('refuses koffi outside src-main/plugins', async () => {
    const snippet = "import koffi from 'koffi';\nexport const lib = koffi.load('x.so');\n";
    expect(await restricted('src-main/engine/sneaky.ts', snippet)).toEqual([expect.stringMatching(/plugin runtime/)]);
    expect(await restricted('src-main/decode-worker/sneaky.ts', snippet)).toHaveLength(1);
    expect(await restricted('src-main/electron/sneaky.ts', snippet)).toHaveLength(1);
    expect(await restricted('src-main/plugins/fine.ts', snippet)).toEqual([]);
  });

  it('refuses electron outside src-main/electron', async () => {
    const snippet = "import { utilityProcess } from 'electron';\nexport const u = utilityProcess;\n";
    expect(await restricted('src-main/engine/sneaky.ts', snippet)).toEqual([expect.stringMatching(/Electron shell/)]);
    expect(await restricted('src-main/plugins/sneaky.ts', snippet)).toHaveLength(1);
    expect(await restricted('src-main/app-core-sneaky.ts', snippet)).toHaveLength(1);
    expect(await restricted('src-main/electron/fine.ts', snippet)).toEqual([]);
  });
});
