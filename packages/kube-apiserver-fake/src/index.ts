/**
 * A wire-level Kubernetes API server fake for tests: an in-process `node:https` server (or plain HTTP) on 127.0.0.1
 * that `@kubernetes/client-node` and `kubectl` talk to like to a real kube-apiserver (discovery,
 * OpenAPI, CRUD, selectors, pagination, watch, JSON/merge/strategic-merge patch, server-side apply
 * with field ownership, real `Status` errors, Table output), with a simulated Deployment controller.
 *
 * @packageDocumentation
 */

export type {
  KubernetesFake,
  KubernetesFakeOptions,
  KubernetesObjectFilter,
  PutOptions,
} from './fake.js';
export { startKubernetesFake } from './fake.js';
export type {
  ClientNodeKubeconfigOptions,
  Kubeconfig,
  KubeconfigDocument,
  KubeconfigOptions,
} from './kubeconfig.js';
export type { ContainerLog, PodLogLine, PodLogRequest, PodLogSource } from './pod-logs.js';
export type { KubernetesRequestRecord } from './server.js';
