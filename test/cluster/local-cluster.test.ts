// The two suites that run the real local cluster (scripts/local-cluster), one after the other:
// a machine runs one such cluster at a time (fixed addresses and the state file), so as two test
// files one of them held a jest worker idle for minutes, waiting for the other's cluster to end.
// Each suite starts its own cluster in its beforeAll and ends it in its afterAll.
import { networkPoliciesOnLocalCluster } from './network-policies.suite';
import { platformOnLocalCluster } from './platform.suite';

describe("the charts' NetworkPolicies, tried from probe pods", networkPoliciesOnLocalCluster);
describe('the platform deployed by Flux', platformOnLocalCluster);
