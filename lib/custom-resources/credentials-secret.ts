/**
 * The {"username","password"} JSON secrets the deploy-time handlers read (the Kafka topics and
 * warehouse schema functions; each bundles this file). One place for the fetch and the parse, so
 * both report a malformed secret the same way; each handler checks the fields it needs.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

export interface CredentialsSecret {
  readonly username?: unknown;
  readonly password?: unknown;
}

export async function readCredentialsSecret(secretArn: string): Promise<CredentialsSecret> {
  const secret = await new SecretsManagerClient({}).send(new GetSecretValueCommand({ SecretId: secretArn }));
  let parsed: unknown;
  try {
    parsed = JSON.parse(secret.SecretString ?? '');
  } catch {
    throw new Error(`secret ${secretArn} is not JSON {"username","password"}`);
  }
  return (parsed ?? {}) as CredentialsSecret;
}
