import { loadPlatformSpec, PlatformSpecError } from '../../lib/spec';
import { platformSpecData } from '../../lib/spec/platform';
import type { PlatformSpec } from '../../lib/spec';

export type Mutable<T> = { -readonly [K in keyof T]: Mutable<T[K]> };

/** Loads a copy of the spec changed by `edit`, returning the error message (or fails the test). */
export function problemsAfter(edit: (draft: Mutable<PlatformSpec>) => void): string {
  const draft = structuredClone(platformSpecData) as Mutable<PlatformSpec>;
  edit(draft);
  try {
    loadPlatformSpec({ data: draft });
  } catch (error) {
    expect(error).toBeInstanceOf(PlatformSpecError);
    return (error as Error).message;
  }
  throw new Error('the spec loaded although it should have been rejected');
}

/** The services[] entry named `name` of a draft or a copy of the spec (fails the test if none). */
export function serviceEntry<S extends { name: string }>(draft: { services: S[] }, name: string): S {
  const found = draft.services.find((s) => s.name === name);
  if (!found) throw new Error(`no service ${name} in the spec`);
  return found;
}
