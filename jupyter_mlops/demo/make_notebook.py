"""Writes demo.ipynb: `python -m jupyter_mlops.demo.make_notebook` (code reviews better)."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

CELLS: list[tuple[str, str]] = [
    (
        "md",
        "# jupyter-mlops demo\n\n"
        "Kubernetes, Kubeflow Pipelines and MLflow without leaving JupyterLab. Open the **MLOps** "
        "panel in the left sidebar (or run *Open MLOps panel* from the command palette) to watch "
        "the namespace live while you run the cells below.\n\n"
        "This demo needs no cluster: an emulated Kubeflow profile namespace stands in for one, "
        "pipelines run on this machine through `kfp.local`, and MLflow keeps its runs in this "
        "folder. In a Kubeflow notebook the same cells act on the real cluster.",
    ),
    ("code", "%load_ext jupyter_mlops"),
    (
        "md",
        "`%mlops status` says what the sidebar says: the namespace, and whether the cluster, "
        "Kubeflow Pipelines and MLflow answer.",
    ),
    ("code", "%mlops status"),
    (
        "md",
        "## Your namespace\n\n`%k8s` speaks kubectl's everyday verbs. The status column reads "
        "like `kubectl get pod`; the colours say what needs attention.",
    ),
    ("code", "%k8s get pods"),
    (
        "md",
        "Something is stuck. `describe` puts a diagnosis first: here, a volume claim made while "
        "the cluster had no default StorageClass, so no volume is ever made for it (and a "
        "notebook that mounts it would stay Pending); then a notebook asking for more CPU than "
        "the node has free.",
    ),
    ("code", "%k8s describe pvc new-notebook-workspace"),
    ("code", "%k8s describe pod training-notebook-0"),
    (
        "md",
        "Pods come and go: delete one in the sidebar and its Job or Deployment makes another, "
        "under a new name. So the next cells pick pods from the live list, through the same "
        "Python API the magics use, instead of naming them.",
    ),
    (
        "code",
        "from jupyter_mlops.kube.cluster import Cluster\n\n"
        "cluster = Cluster.connect()\n"
        'crashing = cluster.list("pods", selector="job-name=mnist-train").items[0]\n'
        'crashing = crashing["metadata"]["name"]\n'
        "crashing",
    ),
    ("code", "%k8s describe pod {crashing}"),
    (
        "md",
        "The diagnosis says to read the previous log, the output of the container that "
        "crashed: NumPy 2 under a PyTorch built for NumPy 1.x. Pinning `numpy<2` by hand in "
        "the pod is lost at the next restart; the lasting fix is the image.",
    ),
    ("code", "%k8s logs {crashing} --previous --tail 8"),
    ("code", "%k8s events --warnings"),
    (
        "md",
        "The healthy training Deployment prints its metrics per epoch as `name=value`, the "
        "form Katib's metrics collector reads. Follow it live with `%k8s logs POD -f`.",
    ),
    (
        "code",
        'trainers = cluster.list("pods", selector="app=iris-trainer").items\n'
        "if trainers:\n"
        '    for line in cluster.logs(trainers[0]["metadata"]["name"], tail=5):\n'
        "        print(line)\n"
        "else:\n"
        '    print("iris-trainer has no pods: scale it up again in the sidebar")',
    ),
    (
        "md",
        "## A pipeline from notebook cells\n\n"
        "`%%kfp_component` turns a cell into a Kubeflow Pipelines v2 component. Each component "
        "runs on its own, so everything it uses is imported inside it; names taken from the "
        "notebook are reported before anything runs.",
    ),
    (
        "code",
        "%%kfp_component make_data\n"
        "def make_data(n: int, seed: int) -> list:\n"
        "    import random\n\n"
        "    rng = random.Random(seed)\n"
        "    return [[x, 3.0 * x + 1.0 + rng.gauss(0, 0.5)] for x in (i / n for i in range(n))]",
    ),
    (
        "code",
        "%%kfp_component fit\n"
        "def fit(points: list) -> dict:\n"
        "    n = len(points)\n"
        "    mx = sum(p[0] for p in points) / n\n"
        "    my = sum(p[1] for p in points) / n\n"
        "    slope = sum((p[0] - mx) * (p[1] - my) for p in points) / sum(\n"
        "        (p[0] - mx) ** 2 for p in points\n"
        "    )\n"
        "    return {'slope': slope, 'intercept': my - slope * mx}",
    ),
    (
        "code",
        "%%kfp_component evaluate --inputs points:list,model:dict --outputs mse:float\n"
        "errors = [(p[1] - (model['slope'] * p[0] + model['intercept'])) ** 2 for p in points]\n"
        'print(f\'slope {model["slope"]:.2f}, intercept {model["intercept"]:.2f}\')\n'
        "mse = sum(errors) / len(errors)",
    ),
    (
        "md",
        "`%%kfp_pipeline` wires the components; `%kfp run` runs the pipeline here with a live "
        "monitor (tasks, progress, the running task's log), and with `--cluster` on Kubeflow.",
    ),
    (
        "code",
        "%%kfp_pipeline regression --params n:int=200,seed:int=0\n"
        "data = make_data(n=n, seed=seed)\n"
        "model = fit(points=data.output)\n"
        "evaluate(points=data.output, model=model.output)",
    ),
    ("code", "run = %kfp run regression --local --wait\nrun.status"),
    ("code", "%kfp runs"),
    (
        "md",
        "## MLflow\n\nEvery pipeline run is recorded in MLflow with one nested run per task, "
        "tagged with the pipeline run's id, so each side links to the other. Runs logged from "
        "the notebook land in the same store, which the sidebar's MLflow section shows.",
    ),
    ("code", "%mlflow runs kfp/Default"),
    (
        "code",
        "import mlflow\n\n"
        "from jupyter_mlops.config import resolve\n\n"
        "mlflow.set_tracking_uri(resolve().tracking_uri)  # the store the sidebar shows\n"
        'mlflow.set_experiment("learning-rates")\n'
        "ids = []\n"
        "for lr in (0.2, 0.05):\n"
        '    with mlflow.start_run(run_name=f"lr={lr}") as run:\n'
        '        mlflow.log_param("lr", lr)\n'
        '        mlflow.log_metrics({"loss": 1.0})\n'
        "        loss = 1.0\n"
        "        for step in range(1, 40):\n"
        "            loss *= 1 - lr\n"
        '            mlflow.log_metric("loss", loss, step=step)\n'
        "        ids.append(run.info.run_id)",
    ),
    ("code", "%mlflow plot {ids[0]} {ids[1]} --metric loss"),
    (
        "md",
        "## The same in plain Python\n\nEvery magic is a few lines over one API that scripts "
        "can use too.",
    ),
    (
        "code",
        '[(p["metadata"]["name"], p["status"].get("phase")) for p in cluster.list("pods").items]',
    ),
]


def build() -> nbformat.NotebookNode:
    notebook: nbformat.NotebookNode = new_notebook()
    notebook.cells = [
        new_markdown_cell(source) if kind == "md" else new_code_cell(source)
        for kind, source in CELLS
    ]
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return notebook


if __name__ == "__main__":
    nbformat.write(build(), Path(__file__).with_name("demo.ipynb"))
