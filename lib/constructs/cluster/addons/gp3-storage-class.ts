import type * as eks from 'aws-cdk-lib/aws-eks-v2';
import type { ClusterAddon } from './addon';

/** The StorageClass this add-on creates for EBS gp3 volumes. */
export const GP3_STORAGE_CLASS = 'gp3';

/**
 * The EBS CSI driver provisions, EKS ships no gp3 class. Default class so that a PVC without a
 * class gets an encrypted gp3 volume too.
 */
export const gp3StorageClass: ClusterAddon<eks.KubernetesManifest> = {
  id: 'Gp3StorageClass',
  install({ cluster, storageReady }) {
    const manifest = cluster.addManifest(this.id, {
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: {
        name: GP3_STORAGE_CLASS,
        annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' },
      },
      provisioner: 'ebs.csi.aws.com',
      parameters: { type: 'gp3', encrypted: 'true' },
      // Bind where the pod lands, so the volume is created in that pod's AZ.
      volumeBindingMode: 'WaitForFirstConsumer',
      allowVolumeExpansion: true,
      reclaimPolicy: 'Delete',
    });
    manifest.node.addDependency(...storageReady);
    return manifest;
  },
};
