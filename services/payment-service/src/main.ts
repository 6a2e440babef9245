/** payment-service process entry (esbuild entry point). */
import { createLogger, loadConfigOrExit, runUntilSignal } from '../../shared/src';
import { SERVICE_NAME, paymentServiceEnvSchema, startPaymentService } from './service';

async function main(): Promise<void> {
  const config = loadConfigOrExit(paymentServiceEnvSchema);
  const logger = createLogger({ service: SERVICE_NAME, level: config.LOG_LEVEL });
  try {
    const handle = await startPaymentService(config, { logger });
    runUntilSignal(handle, logger, { graceMs: config.SHUTDOWN_GRACE_MS, endpointDrainMs: config.ENDPOINT_DRAIN_MS });
  } catch (err) {
    logger.fatal({ err }, 'payment-service failed to start');
    logger.flush();
    process.exitCode = 1;
    // Give pino's async destination a moment to write the line, then leave.
    setTimeout(() => process.exit(1), 100);
  }
}

void main();
