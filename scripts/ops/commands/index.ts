/**
 * Every ops command. Add a command by writing commands/<name>.ts (an OpsCommand) and one line
 * here.
 */
import type { OpsCommand } from '../command';

export const COMMANDS: readonly OpsCommand<never>[] = [
];
