/**
 * Types of the server's API models. Written by hand from the status route's shape until
 * api/schemas.json exists; then `npm run generate:types` regenerates this file from it.
 */

/** Answer of `GET /mlops/api/status`. */
export interface StatusReport {
  version: string;
  read_only: boolean;
  identity: Identity;
  cluster: BackendStatus;
  pipelines: BackendStatus;
  tracking: BackendStatus;
}

/** Who the extension acts as: the namespace and how it was found. */
export interface Identity {
  namespace: string | null;
  source: 'serviceaccount' | 'config' | 'env' | 'kubeconfig' | 'none';
  in_pod: boolean;
}

/** How one backend (cluster, pipelines, tracking) is reached, and whether it answers. */
export interface BackendStatus {
  mode: 'in-cluster' | 'kubeconfig' | 'remote' | 'local' | 'none';
  reachable: boolean;
  endpoint?: string | null;
  reason?: string | null;
  hint?: string | null;
  checked_at: string;
}

/** Body of every error answer of our routes. */
export interface ErrorBody {
  reason: string;
  message: string;
}
