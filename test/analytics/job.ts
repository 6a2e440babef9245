/**
 * Builds and runs the analytics Flink job (analytics/) locally for tests: the shaded job jar plus
 * the provided Flink runtime (analytics/target/runtime-lib) on one classpath, on a MiniCluster in
 * the java process, with a `--config` JSON of the runtime property groups.
 */
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { findJava } from '../../scripts/local-stack/kafka';
import { ManagedProcess, REPO_ROOT } from '../../scripts/local-stack/process';

export const ANALYTICS_JAR = join(REPO_ROOT, 'analytics', 'target', 'analytics-job.jar');
export const RUNTIME_LIB = join(REPO_ROOT, 'analytics', 'target', 'runtime-lib');
export const MIGRATIONS_DIR = join(REPO_ROOT, 'analytics', 'warehouse', 'migrations');
export const MAIN_CLASS = 'platform.analytics.AnalyticsJob';

/**
 * The JVM flags of a local run, in one place. No --add-opens: Flink's distribution passes a list
 * of them (`env.java.default-opts.all`) for Kryo, which reflects into JDK classes of types that
 * are not POJOs; every type this job moves is a POJO or a basic type, and the e2e runs pass on
 * Java 17 without any (should a Kryo-serialised type appear, its opens go here). C1 only and a
 * bounded heap: short runs on a shared two-core machine; UTC so nothing depends on the host zone.
 */
export const JAVA_FLAGS: readonly string[] = ['-Xmx768m', '-XX:TieredStopAtLevel=1', '-Duser.timezone=UTC'];

/** Runs scripts/analytics/build.sh (a hash check when nothing changed; mvn package otherwise). */
export async function buildAnalyticsJob(): Promise<void> {
  try {
    await promisify(execFile)('bash', [join(REPO_ROOT, 'scripts', 'analytics', 'build.sh')], { cwd: REPO_ROOT, maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new Error(stderr || (error as Error).message, { cause: error });
  }
}

/** The runtime property groups: {"<group>": {"<key>": "<value>"}}, values strings as on Managed Flink. */
export type PropertyGroups = Record<string, Record<string, string>>;

export interface JobRun {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** stdout and stderr of the run, interleaved. */
  log: string;
}

/**
 * Runs the job with `groups` as its --config until it exits (a bounded run ends at the end offsets
 * it found at start). The JVM runs in its own process group under the harness's watchdog, so it
 * dies with the test process; after `timeoutMs` it is killed and the promise rejects with its log.
 */
export async function runAnalyticsJob(groups: PropertyGroups, workDir: string, name: string, timeoutMs: number): Promise<JobRun> {
  const configFile = join(workDir, `${name}.config.json`);
  const logFile = join(workDir, `${name}.log`);
  await writeFile(configFile, JSON.stringify(groups, null, 2), { mode: 0o600 });
  const job = new ManagedProcess({
    name: `analytics job ${name}`,
    command: findJava(),
    args: [
      ...JAVA_FLAGS,
      `-Dlog4j.configurationFile=${join(__dirname, 'log4j2.properties')}`,
      '-cp', `${ANALYTICS_JAR}:${RUNTIME_LIB}/*`,
      MAIN_CLASS, '--config', configFile,
    ],
    cwd: workDir,
    logFile,
    keepAlive: true,
  });
  job.start();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  try {
    const exit = await Promise.race([job.waitExit(), timedOut]);
    if (job.spawnError) throw job.spawnError;
    if (exit === 'timeout') {
      job.killNow();
      await job.waitExit();
      throw new Error(`analytics job ${name} did not finish within ${timeoutMs} ms; last log lines:\n${tail(await readFile(logFile, 'utf8'))}`);
    }
    return { exitCode: exit.code, signal: exit.signal, log: await readFile(logFile, 'utf8') };
  } finally {
    clearTimeout(timer);
    job.killNow(); // anything the JVM left in its group
  }
}

export function tail(text: string, lines = 40): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}
