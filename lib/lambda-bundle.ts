/**
 * Bundles a Lambda written in TypeScript in this repository into the archive
 * Pulumi uploads: one CommonJS file, `index.js`, with its dependencies (the
 * AWS SDK clients included, at the versions the lockfile pins) and the
 * handler exported as in the entry (`index.<export>`, e.g. `index.handler`).
 *
 * The output depends on the sources only: esbuild runs synchronously from the
 * repository's root, so module paths in the bundle are relative to it and
 * never absolute; it writes no timestamp, no source map and no build metadata.
 * Two bundles of the same sources are byte-identical, so an unchanged Lambda
 * plans no change.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { buildSync } from "esbuild";

/** The Lambda runtime the bundles are built for (and the esbuild target that matches it). */
export const LAMBDA_NODE_RUNTIME = "nodejs24.x";
const ESBUILD_TARGET = "node24";

export interface BundleOptions {
  /**
   * Packages left out of the bundle, to be found at run time (e.g. in a layer).
   * @default [] (everything is bundled)
   */
  readonly external?: readonly string[];
  /**
   * Minify the bundle (smaller upload, unreadable stack traces).
   * @default false
   */
  readonly minify?: boolean;
}

/** The repository's root: the nearest directory above this module with a package.json. */
function repositoryRoot(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, "package.json"))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`bundleLambda: no package.json above ${__dirname}`);
    dir = parent;
  }
  return dir;
}

/**
 * Builds the bundle's code for `entry` (a path relative to the repository's
 * root, e.g. `lambdas/deploy-invoker/index.ts`, or absolute), every time it is
 * called; a build error throws with esbuild's messages.
 */
export function buildLambdaCode(entry: string, options: BundleOptions = {}): string {
  const root = repositoryRoot();
  const entryPath = path.resolve(root, entry);
  if (!fs.existsSync(entryPath)) throw new Error(`bundleLambda: entry ${entry} does not exist (${entryPath})`);
  const result = buildSync({
    absWorkingDir: root,
    entryPoints: [path.relative(root, entryPath)],
    bundle: true,
    platform: "node",
    target: ESBUILD_TARGET,
    format: "cjs",
    external: [...(options.external ?? [])].sort(),
    minify: options.minify ?? false,
    sourcemap: false,
    legalComments: "none",
    charset: "utf8",
    write: false,
    metafile: false,
    logLevel: "silent",
  });
  if (result.errors.length > 0 || result.outputFiles.length !== 1) {
    throw new Error(`bundleLambda: ${entry}: ${result.errors.map((e) => e.text).join("; ") || "no single output"}`);
  }
  return result.outputFiles[0].text;
}

const cache = new Map<string, string>();

/** {@link buildLambdaCode}, built once per process, entry and options (each stack's plan asks again). */
export function bundleLambdaCode(entry: string, options: BundleOptions = {}): string {
  const key = JSON.stringify([
    path.resolve(repositoryRoot(), entry),
    [...(options.external ?? [])].sort(),
    options.minify ?? false,
  ]);
  const cached = cache.get(key) ?? buildLambdaCode(entry, options);
  cache.set(key, cached);
  return cached;
}

/** The archive of {@link bundleLambdaCode}: `index.js` only. */
export function bundleLambda(entry: string, options: BundleOptions = {}): pulumi.asset.AssetArchive {
  return new pulumi.asset.AssetArchive({ "index.js": new pulumi.asset.StringAsset(bundleLambdaCode(entry, options)) });
}
