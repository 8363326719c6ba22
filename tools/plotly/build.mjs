// Builds the partial plotly.js bundle that the charts load (static/vendor/plotly-pais.min.js) and
// its manifest (tools/plotly/bundle.json), from the npm packages pinned in package-lock.json.
//
//   node tools/plotly/build.mjs <bundle.js> <manifest.json>
//
// `make plotly` writes both into the repository; `make plotly-check` writes them into a temporary
// folder and fails unless they are byte-for-byte the committed ones. The build is reproducible:
// the same locked packages and the same esbuild give the same bytes (no date, no path, no
// hash of anything outside the lock goes into the output).
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import * as esbuild from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const [bundlePath, manifestPath] = process.argv.slice(2);
if (!bundlePath || !manifestPath) {
  console.error('usage: node build.mjs <bundle.js> <manifest.json>');
  process.exit(2);
}

const plotlyPackage = JSON.parse(readFileSync(require.resolve('plotly.js/package.json'), 'utf8'));
// The licence asks for its copyright notice in every copy: taken from the package, as it stands.
const plotlyCopyright = readFileSync(join(dirname(require.resolve('plotly.js/package.json')), 'LICENSE'), 'utf8')
  .split('\n')
  .find((line) => line.startsWith('Copyright'));

// The registry requires MapLibre's stylesheet for map subplots only, and we register no map
// trace, so that one stylesheet becomes an empty module (the full bundle injects it as a <style>
// element). Any other stylesheet would be a surprise: the build stops rather than drop it.
const mapStylesheetIsEmpty = {
  name: 'map-stylesheet-is-empty',
  setup(build) {
    build.onResolve({ filter: /\.css$/ }, (args) => {
      if (args.path === 'maplibre-gl/dist/maplibre-gl.css') {
        return { path: args.path, namespace: 'empty-stylesheet' };
      }
      return { errors: [{ text: `unexpected stylesheet ${args.path} in the plotly.js bundle` }] };
    });
    build.onLoad({ filter: /.*/, namespace: 'empty-stylesheet' }, () => ({
      contents: '',
      loader: 'js',
    }));
  },
};

const result = await esbuild.build({
  absWorkingDir: here,
  entryPoints: ['entry.js'],
  write: false,
  outfile: 'plotly-pais.min.js',
  bundle: true,
  minify: true,
  metafile: true,
  // As plotly.js's own esbuild-config.js builds its dist bundles: one global, `Plotly`.
  format: 'iife',
  globalName: 'Plotly',
  target: 'es2016',
  define: { global: 'window', 'define.amd': 'false', 'process.env.NODE_DEBUG': 'false' },
  alias: { stream: 'stream-browserify' },
  plugins: [mapStylesheetIsEmpty],
  legalComments: 'eof',
  banner: {
    js:
      `/*! plotly.js v${plotlyPackage.version} (partial bundle for PAIS: core, scatter and bar), ` +
      `built from the npm package plotly.js@${plotlyPackage.version} by tools/plotly (make plotly). ` +
      `${plotlyCopyright}; MIT license. */`,
  },
  logLevel: 'warning',
});

const [output] = result.outputFiles;
// The trace types in the bundle, read from what esbuild put in it (src/traces/<type>/index.js).
const traces = Object.keys(result.metafile.inputs)
  .map((input) => input.match(/node_modules\/plotly\.js\/src\/traces\/([a-z0-9]+)\/index\.js$/))
  .filter(Boolean)
  .map((match) => match[1])
  .sort();
const lock = JSON.parse(readFileSync(join(here, 'package-lock.json'), 'utf8'));
const manifest = {
  file: 'static/vendor/plotly-pais.min.js',
  source: `plotly.js@${plotlyPackage.version}`,
  plotlyjs_version: plotlyPackage.version,
  esbuild_version: esbuild.version,
  lock_integrity: {
    'plotly.js': lock.packages['node_modules/plotly.js'].integrity,
    esbuild: lock.packages['node_modules/esbuild'].integrity,
  },
  traces,
  bytes: output.contents.length,
  sha256: createHash('sha256').update(output.contents).digest('hex'),
};

writeFileSync(bundlePath, output.contents);
writeFileSync(manifestPath, JSON.stringify(manifest, null, 2) + '\n');
console.log(`${bundlePath}: ${manifest.bytes} bytes, traces ${traces.join(', ')}, sha256 ${manifest.sha256}`);
