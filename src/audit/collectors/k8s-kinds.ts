/**
 * Kubernetes kinds nomine knows: where each workload kind keeps its pod template, and the kinds that carry no pod
 * and are skipped on purpose. Anything else in a manifest is an unknown kind and reported as an error, because a
 * typo (`kind: Deploymnet`) would otherwise hide a workload from the audit.
 */

/** Path from the document root to the pod template (`metadata` + `spec`); [] for a Pod itself. */
export const workloadTemplatePaths: Record<string, readonly string[]> = {
  Pod: [],
  Deployment: ['spec', 'template'],
  StatefulSet: ['spec', 'template'],
  DaemonSet: ['spec', 'template'],
  ReplicaSet: ['spec', 'template'],
  ReplicationController: ['spec', 'template'],
  Job: ['spec', 'template'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template'],
  PodTemplate: ['template'],
};

export const nonWorkloadKinds = new Set([
  'Service', 'ConfigMap', 'Secret', 'Namespace', 'ServiceAccount', 'Role', 'RoleBinding', 'ClusterRole', 'ClusterRoleBinding',
  'Ingress', 'IngressClass', 'NetworkPolicy', 'PersistentVolume', 'PersistentVolumeClaim', 'StorageClass', 'HorizontalPodAutoscaler',
  'PodDisruptionBudget', 'LimitRange', 'ResourceQuota', 'CustomResourceDefinition', 'Endpoints', 'EndpointSlice', 'PriorityClass',
  'MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding',
  'APIService', 'Lease', 'RuntimeClass', 'CSIDriver', 'StorageVersionMigration', 'Certificate', 'Issuer', 'ClusterIssuer',
  'KubeProxyConfiguration', 'ClusterConfiguration', 'InitConfiguration', 'JoinConfiguration', 'Kustomization', 'Config',
]);

/** Control-plane components recognised in a static pod by their container's command or name. */
export const controlPlaneComponents = {
  'kube-apiserver': 'k8s.apiserver',
  'kube-controller-manager': 'k8s.controller-manager',
  'kube-scheduler': 'k8s.scheduler',
  etcd: 'k8s.etcd',
} as const;
export type ControlPlaneComponent = keyof typeof controlPlaneComponents;
