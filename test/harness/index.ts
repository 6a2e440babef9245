// Real servers on loopback for integration tests (README.md beside this file): the ones
// `npm run dev` shares (scripts/local-stack), and the test-only Vault, kube-apiserver and Flux.
export * from '../../scripts/local-stack';
export { startVault, VAULT_VERSION, type VaultServer, type VaultServerOptions } from '../../scripts/local-stack/vault';
export { startKubeApiServer, KUBERNETES_VERSION, SERVICE_ACCOUNT_ISSUER, type KubeApiServer, type KubeApiServerOptions } from './kube-apiserver';
export {
  startFlux, readyCondition, describeStatus, RECONCILE_REQUEST_ANNOTATION,
  type Flux, type FluxOptions, type FluxKind, type FluxObject, type KubeEvent,
} from './flux';
export { findFluxBinaries } from '../../scripts/gitops/flux-controllers';
