/**
 * Writes src/kernels-wasm.ts from src/kernels.wat. Run after editing the .wat:
 * `pnpm --filter @dtrain/parameter-server kernels` (or `npx tsx scripts/assemble-kernels.ts`).
 */
import { writeFile } from 'node:fs/promises';
import { assembleKernels, kernelsModuleSource } from '../src/testing/assemble-kernels.js';

const bytes = await assembleKernels();
const target = new URL('../src/kernels-wasm.ts', import.meta.url);
await writeFile(target, kernelsModuleSource(bytes));
console.log(`wrote ${target.pathname}: ${bytes.length} bytes of WebAssembly`);
