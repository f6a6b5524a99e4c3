"""Secret values the tests plant, so that a scan of what the server sends can look for them."""

from __future__ import annotations

__all__ = ["KFP_TOKEN", "MLFLOW_TOKEN", "SECRET_DATA", "SECRET_VALUES"]

# Distinctive enough that no honest answer contains them by chance.
DB_PASSWORD = "s3cr3t-db-password-5f1c"
API_KEY = "api-key-9d2e77b0c4a1"
KFP_TOKEN = "kfp-bearer-token-3a9e61"
MLFLOW_TOKEN = "mlflow-bearer-token-7c04d2"

#: The data of the test Secret, key to plain value.
SECRET_DATA: dict[str, str] = {"password": DB_PASSWORD, "api-key": API_KEY}

#: Label to value: every secret the tests plant, for scans to look for.
SECRET_VALUES: dict[str, str] = {
    "Secret value password": DB_PASSWORD,
    "Secret value api-key": API_KEY,
    "KFP token": KFP_TOKEN,
    "MLflow token": MLFLOW_TOKEN,
}
