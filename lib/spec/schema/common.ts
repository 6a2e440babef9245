/**
 * The value types every section of the spec shares: AWS names and ids, ports, counts, retention
 * periods, durations and CIDR blocks. Each carries its one error message.
 */
import { z } from 'zod';
import { ISO_DURATION, parseCidr } from '../parse';

/** Instance families and sizes we accept; anything else is a typo until proven otherwise. */
export const INSTANCE_FAMILIES = [
  't3', 't3a', 'm5', 'm5a', 'm6i', 'm6a', 'm7i', 'm7a', 'm6g', 'm7g',
  'c5', 'c6i', 'c7i', 'c6g', 'c7g', 'r5', 'r6i', 'r7i', 'r6g', 'r7g',
] as const;
export const INSTANCE_SIZES = [
  'micro', 'small', 'medium', 'large', 'xlarge', '2xlarge', '4xlarge', '8xlarge',
  '12xlarge', '16xlarge', '24xlarge',
] as const;

export const instanceType = z.string().refine(
  (value) => {
    const [family, size, ...rest] = value.split('.');
    return rest.length === 0
      && (INSTANCE_FAMILIES as readonly string[]).includes(family)
      && (INSTANCE_SIZES as readonly string[]).includes(size ?? '');
  },
  { message: `unknown EC2 instance type (expected <family>.<size>, family one of ${INSTANCE_FAMILIES.join(', ')})` },
);

export const awsAccountId = z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id');
export const awsRegion = z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, 'must be an AWS region name such as us-east-1');
export const port = z.number().int().min(1024, 'must be >= 1024 (unprivileged)').max(65535, 'must be <= 65535');
export const positiveInt = z.number().int().min(1, 'must be >= 1');
/** CloudWatch Logs accepts only these retention periods. */
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;
export const logRetentionDays = z.number().refine((d) => (LOG_RETENTION_DAYS as readonly number[]).includes(d), {
  message: `must be a CloudWatch Logs retention period (${LOG_RETENTION_DAYS.join(', ')})`,
});
export const kebabName = z.string().regex(/^[a-z][a-z0-9-]*[a-z0-9]$/, 'must be kebab-case');
export const duration = z.string().regex(ISO_DURATION, 'must be an ISO-8601 duration such as PT1H or PT30M');
// Certificates and roles are named by id/name; their ARNs are derived in the environment's account
// and region and the using stack's partition (lib/constructs/shared/environment-arns.ts), so an account
// override moves them along.
export const acmCertificateId = z.string().regex(
  /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
  'must be an ACM certificate id (the UUID that ends its ARN)',
);
export const iamRoleName = z.string().regex(/^[\w+=,.@-]{1,64}$/, 'must be an IAM role name (no path, at most 64 characters)');

export const cidr = z.string().refine((value) => parseCidr(value) !== undefined, {
  message: 'must be an IPv4 CIDR block such as 10.0.0.0/16',
});

/** Three AZ names; `example` is the one the message shows (one of the region's). */
export function threeAvailabilityZones(example: string) {
  return z.array(z.string().regex(/^[a-z]{2}-[a-z]+-\d[a-z]$/, `must be an AZ name such as ${example}`))
    .length(3, 'must list exactly three availability zones');
}

/**
 * The payment provider's API origin (services/README.md `STRIPE_API_BASE`): HTTPS only (the
 * secret key travels in every request), and an origin only: the client takes host and port, so
 * a path, query or credentials would be silently dropped.
 */
export const httpsOrigin = z.string().superRefine((value, ctx) => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'must be an https URL such as https://api.stripe.com' });
    return;
  }
  if (url.protocol !== 'https:') ctx.addIssue({ code: 'custom', message: `must be an https URL (got ${url.protocol.slice(0, -1)}): the secret key travels in every request` });
  else if (url.username || url.password) ctx.addIssue({ code: 'custom', message: 'must not carry credentials: the key comes from Vault' });
  else if (url.pathname !== '/' || url.search || url.hash || value.endsWith('/')) {
    ctx.addIssue({ code: 'custom', message: 'must be an origin only (https://<host>[:<port>], no path, query or trailing slash)' });
  } else if (!/^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/.test(url.hostname)) {
    ctx.addIssue({ code: 'custom', message: 'must name the provider by DNS name, not an IP address (its addresses change)' });
  }
});
