/** Rules of the DR region: never an environment's region, its AZs in it. */
import type { EnvironmentSpec, PlatformSpecFields as PlatformSpec } from '../schema';
import type { Report } from './report';

export function checkDrRegionApart(key: string, env: EnvironmentSpec, drRegion: PlatformSpec['drRegion'], issue: Report) {
  if (env.region === drRegion.name) {
    issue(['drRegion', 'name'], drRegion.name, `must differ from the region of environment ${key}: a DR copy in the same region survives nothing`);
  }
}

export function checkDrRegionZones(drRegion: PlatformSpec['drRegion'], issue: Report) {
  drRegion.availabilityZones.forEach((az, i) => {
    if (!az.startsWith(drRegion.name)) issue(['drRegion', 'availabilityZones', i], az, `is not in region ${drRegion.name}`);
  });
}
