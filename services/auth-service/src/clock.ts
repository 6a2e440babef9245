/** The service's notion of "now"; tests pass a controllable clock to step through key rotation. */
export type Clock = () => Date;

export const systemClock: Clock = () => new Date();
