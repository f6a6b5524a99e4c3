"""The Kubernetes API as a data scientist uses it: namespaced objects, logs, events, doctor."""
