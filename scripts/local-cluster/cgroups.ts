// The local cluster's cgroup root: kubelet (cgroupfs driver) puts every pod under it in each
// hierarchy, so tearing the cluster down is killing what is left in that subtree and removing it.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { sleep } from '../local-stack/process';

/** Mount points of the cgroup hierarchies (v1 controllers, the named systemd one, a v2 `unified`). */
export function cgroupMounts(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n')
    .map((line) => line.split(' '))
    .filter((fields) => {
      const sep = fields.indexOf('-');
      return sep > 0 && (fields[sep + 1] === 'cgroup' || fields[sep + 1] === 'cgroup2');
    })
    .map((fields) => fields[4]!)
    .sort();
}

/** Whether the host runs cgroup v1 (kubelet then needs `failCgroupV1: false`). */
export const isCgroupV1 = () => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((line) => / - cgroup cgroup /.test(line));

/** Creates `/<name>` in every hierarchy; a cpuset child gets its parent's CPUs and memory nodes. */
export async function createCgroupRoot(name: string): Promise<void> {
  for (const mount of cgroupMounts()) {
    const dir = join(mount, name);
    await mkdir(dir, { recursive: true });
    for (const file of ['cpuset.cpus', 'cpuset.mems']) {
      if (existsSync(join(mount, file))) writeFileSync(join(dir, file), readFileSync(join(mount, file)));
    }
  }
}

function subtree(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const children = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).flatMap((e) => subtree(join(dir, e.name)));
  return [...children, dir];
}

function processesIn(dir: string): number[] {
  try {
    return readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** SIGKILLs every process left under `/<name>` and removes the subtree, deepest first. */
export async function removeCgroupRoot(name: string, timeoutMs = 30000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const mount of cgroupMounts()) {
    for (const dir of subtree(join(mount, name))) {
      for (;;) {
        const pids = processesIn(dir);
        for (const pid of pids) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // gone already
          }
        }
        try {
          await rmdir(dir);
          break;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'ENOENT') break;
          if (Date.now() > deadline) throw new Error(`cgroup ${dir} could not be removed (processes ${processesIn(dir).join(' ') || 'none'})`, { cause: error });
          await sleep(100);
        }
      }
    }
  }
}
