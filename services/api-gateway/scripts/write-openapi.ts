/** Regenerates services/api-gateway/openapi.json from the route definitions: `npx tsx services/api-gateway/scripts/write-openapi.ts`. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderOpenApiDocument } from '../src/openapi';
import { ROUTES } from '../src/routes';

const target = join(__dirname, '..', 'openapi.json');
writeFileSync(target, renderOpenApiDocument(ROUTES));
process.stdout.write(`wrote ${target}\n`);
