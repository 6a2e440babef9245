/** How a cross-field rule reports: the offending field's path, its value, and what is wrong. */
export type Report = (path: (string | number)[], input: unknown, message: string) => void;
