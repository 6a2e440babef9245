/** Disaster recovery: the DR region and the recovery targets of each kind of state. */
import { z } from 'zod';
import { awsRegion, duration, threeAvailabilityZones } from './common';

/** Where standbys and backup copies live; never an environment's own region. */
export const drRegion = z.strictObject({
  name: awsRegion,
  availabilityZones: threeAvailabilityZones('us-west-2a'),
});

export const disasterRecovery = z.record(
  z.enum(['database', 'secrets', 'configuration']),
  z.strictObject({ rpo: duration, rto: duration, strategy: z.string().min(1) }),
);
