/**
 * The Flink job's code artifact: where the built jar lives and under which key.
 *
 * Synth must not need Maven or Java (DESIGN.md §6: `npm ci && npm run synth` needs nothing else),
 * so the stack never builds or stages the jar. It names it instead: the key is derived from the
 * hash of the job's sources (analytics/pom.xml and analytics/src/main/**), computed at synth
 * with nothing but Node. `npm run analytics:publish -- <env>` (scripts/analytics/publish.ts)
 * builds the jar with Maven and uploads it to that key in the registry stack's artifacts
 * bucket, before the analytics stack is deployed — the same order as the services' images.
 * A changed source gives a new key, so the application's code location changes in the template
 * (a reviewer sees it) and Managed Flink restarts the job from its latest snapshot.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { EnvironmentSpec, PlatformSpec } from '../spec';

/** The Maven project of the job (analytics/README.md). */
export const ANALYTICS_PROJECT_DIR = path.resolve(__dirname, '..', '..', 'analytics');

/** The shaded jar `mvn package` writes (scripts/analytics/build.sh). */
export const ANALYTICS_JAR = path.join(ANALYTICS_PROJECT_DIR, 'target', 'analytics-job.jar');

/** Inputs of the build that end up in the jar; tests and target/ do not. */
const SOURCE_ROOTS = ['pom.xml', path.join('src', 'main')];

/** Every file of `SOURCE_ROOTS`, as sorted POSIX paths relative to the project. */
export function analyticsSourceFiles(projectDir = ANALYTICS_PROJECT_DIR): string[] {
  const files: string[] = [];
  const walk = (relative: string) => {
    const absolute = path.join(projectDir, relative);
    const stat = fs.statSync(absolute, { throwIfNoEntry: false });
    if (!stat) return;
    if (stat.isDirectory()) {
      for (const entry of fs.readdirSync(absolute)) walk(path.join(relative, entry));
    } else if (stat.isFile()) {
      files.push(relative.split(path.sep).join('/'));
    }
  };
  for (const root of SOURCE_ROOTS) walk(root);
  if (!files.includes('pom.xml')) throw new Error(`${projectDir}/pom.xml is missing: the analytics job's sources are not where lib/analytics/artifact.ts expects them`);
  return files.sort();
}

/**
 * SHA-256 over the sources' relative paths and bytes: the same on every machine and checkout
 * (no mtimes, no absolute paths), different as soon as one byte or name changes.
 */
export function analyticsSourceHash(projectDir = ANALYTICS_PROJECT_DIR): string {
  const hash = createHash('sha256');
  for (const file of analyticsSourceFiles(projectDir)) {
    const bytes = fs.readFileSync(path.join(projectDir, file));
    hash.update(`${file}\0${bytes.length}\0`);
    hash.update(bytes);
  }
  return hash.digest('hex');
}

/** The object key of the jar built from the current sources. */
export function analyticsArtifactKey(projectDir = ANALYTICS_PROJECT_DIR): string {
  return `analytics/analytics-job-${analyticsSourceHash(projectDir).slice(0, 32)}.jar`;
}

/**
 * The registry stack's artifacts bucket. Named from the spec (account and region make it
 * globally unique) so the publish script finds it without describing any stack.
 */
export function artifactsBucketName(spec: PlatformSpec, environment: EnvironmentSpec): string {
  return `${spec.project}-${environment.name}-artifacts-${environment.account}-${environment.region}`;
}
