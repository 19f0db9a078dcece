// Transpiles the driver component to an ES module and its core wasm in ./driver (jco's library,
// no CLI): `node build.mjs [path/to/cymysql_driver.wasm]`, after `scripts/build-component`.

import { fileURLToPath } from 'node:url';
import { transpile, writeFiles } from '@bytecodealliance/jco-transpile';

const here = fileURLToPath(new URL('.', import.meta.url));
const component = process.argv[2] ?? `${here}../../target/wasm32-wasip2/guest/cymysql_driver.wasm`;
const { files } = await transpile(component, {
  name: 'cymysql_driver',
  outDir: `${here}driver`,
  // The driver's error record is thrown as it is, not wrapped as `ComponentError` with a payload.
  noComponentErrorWrapping: true,
  wasiShim: true,
  emitTypescriptDeclarations: false,
});
await writeFiles(files, false);
