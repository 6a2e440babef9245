export * from './acknowledge';
export * from './packs';
export * from './library-findings';
export * from './deploy-time-function';
