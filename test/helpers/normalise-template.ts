/**
 * Snapshots must change only when the infrastructure does: asset hashes (which change with
 * any byte of a bundled handler or of the library) become placeholders.
 */
const ASSET_HASH = /\b[0-9a-f]{64}\b/g;
const ASSET_ZIP = /\b[0-9a-f]{64}\.zip\b/g;

export function normaliseTemplate(template: unknown): unknown {
  if (typeof template === 'string') {
    return template.replace(ASSET_ZIP, '[ASSET].zip').replace(ASSET_HASH, '[ASSET_HASH]');
  }
  if (Array.isArray(template)) return template.map(normaliseTemplate);
  if (template && typeof template === 'object') {
    return Object.fromEntries(Object.entries(template).map(([key, value]) => [
      normaliseTemplate(key) as string, normaliseTemplate(value),
    ]));
  }
  return template;
}
