export * from './acknowledge';
export * from './packs';
export * from './library-findings';
