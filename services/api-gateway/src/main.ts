/** api-gateway process entry: validated config, start, stop gracefully on SIGTERM/SIGINT. */
import { loadConfigOrExit } from '../../shared/src/config';
import { runUntilSignal } from '../../shared/src/lifecycle';
import { createLogger } from '../../shared/src/logger';
import { SERVICE_NAME, gatewayEnvSchema } from './config';
import { startGateway } from './service';

async function main(): Promise<void> {
  const config = loadConfigOrExit(gatewayEnvSchema());
  const logger = createLogger({ service: SERVICE_NAME, level: config.LOG_LEVEL });
  const handle = await startGateway(config, { logger });
  runUntilSignal(handle, logger, { graceMs: config.SHUTDOWN_GRACE_MS, endpointDrainMs: config.ENDPOINT_DRAIN_MS });
}

main().catch((err: unknown) => {
  process.stderr.write(`api-gateway failed to start: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
