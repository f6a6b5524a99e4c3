"""Command line: seed a Kubernetes API server with the Kubeflow fixtures (used by the demo)."""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Sequence

from kubernetes import client, config

from jupyter_mlops.testing.kubeflow.loader import (
    DEFAULT_NAMESPACE,
    DEFAULT_USER,
    SCENARIOS,
    KubeflowFixtureError,
    load_kubeflow,
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m jupyter_mlops.testing.kubeflow",
        description="Seed a Kubernetes API server with a realistic Kubeflow profile namespace.",
    )
    parser.add_argument("--server", help="API server URL; default: the current kubeconfig")
    parser.add_argument("--token", help="bearer token for --server")
    parser.add_argument(
        "--insecure-skip-tls-verify",
        action="store_true",
        help="do not verify the server's certificate",
    )
    parser.add_argument("--namespace", default=DEFAULT_NAMESPACE, help="profile namespace")
    parser.add_argument("--user", default=DEFAULT_USER, help="profile owner's email")
    parser.add_argument(
        "--scenario",
        action="append",
        choices=SCENARIOS,
        help="load only this scenario (repeatable); default: all",
    )
    parser.add_argument(
        "--default-storage-class",
        action="store_true",
        help="make the 'standard' StorageClass the cluster default",
    )
    parser.add_argument(
        "--no-cluster-objects",
        action="store_true",
        help="leave out the Node, StorageClasses and ClusterRoles",
    )
    return parser


def _api_client(args: argparse.Namespace) -> client.ApiClient:
    if not args.server:
        api_client: client.ApiClient = config.new_client_from_config()
        return api_client
    configuration = client.Configuration(host=args.server)
    if args.token:
        configuration.api_key = {"authorization": args.token}
        configuration.api_key_prefix = {"authorization": "Bearer"}
    configuration.verify_ssl = not args.insecure_skip_tls_verify
    return client.ApiClient(configuration)


def main(argv: Sequence[str] | None = None) -> int:
    """Load the fixtures and print what was loaded, one line per kind."""
    args = _parser().parse_args(argv)
    with _api_client(args) as api_client:
        try:
            loaded = load_kubeflow(
                api_client,
                namespace=args.namespace,
                user=args.user,
                default_storage_class=args.default_storage_class,
                scenarios=tuple(args.scenario or SCENARIOS),
                cluster_objects=not args.no_cluster_objects,
            )
        except KubeflowFixtureError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
    created = Counter(obj.kind for obj in loaded if obj.created)
    existing = Counter(obj.kind for obj in loaded if not obj.created)
    for kind in sorted(set(created) | set(existing)):
        print(f"{kind}: {created[kind]} created, {existing[kind]} already there")
    print(f"Loaded {len(loaded)} objects for namespace {loaded.namespace}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
