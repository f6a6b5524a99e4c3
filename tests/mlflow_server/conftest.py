"""One real MLflow tracking server for the whole test session."""

from jupyter_mlops.testing.mlflow_server import mlflow_server_fixture

mlflow_server = mlflow_server_fixture(scope="session")
