/** auth-service process entry (esbuild entry point). */
import { createLogger, loadConfigOrExit, runUntilSignal } from '../../shared/src';
import { authConfigSchema, SERVICE_NAME } from './config';
import { startAuthService } from './service';

async function main(): Promise<void> {
  const config = loadConfigOrExit(authConfigSchema);
  const logger = createLogger({ service: SERVICE_NAME, level: config.LOG_LEVEL });
  const handle = await startAuthService(config, { logger });
  logger.info({ grpcPort: handle.grpcPort, healthPort: handle.healthPort }, 'auth-service started');
  runUntilSignal(handle, logger, { graceMs: config.SHUTDOWN_GRACE_MS, endpointDrainMs: config.ENDPOINT_DRAIN_MS });
}

main().catch((err: unknown) => {
  process.stderr.write(`auth-service failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
