/**
 * Every ops command. Add a command by writing commands/<name>.ts (an OpsCommand) and one line
 * here.
 */
import type { OpsCommand } from '../command';
import { configPublishCommand } from './config-publish';
import { configRestoreCommand } from './config-restore';
import { drStatusCommand } from './dr-status';
import { endpointsCommand } from './endpoints';
import { promoteReplicaCommand } from './promote-replica';
import { restoreCommand } from './restore';
import { vaultFailoverCommand } from './vault-failover';

export const COMMANDS: readonly OpsCommand<unknown>[] = [
  endpointsCommand,
  drStatusCommand,
  promoteReplicaCommand,
  restoreCommand,
  vaultFailoverCommand,
  configPublishCommand,
  configRestoreCommand,
];
