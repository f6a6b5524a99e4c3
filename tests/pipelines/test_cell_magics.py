"""`%%kfp_component` and `%%kfp_pipeline` turn cells into KFP components and pipelines."""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from IPython.core.error import UsageError

from jupyter_mlops.magics.kfp import KfpMagics

from .conftest import DOUBLE, PIPELINE, THREE_STEPS, Notebook


def test_a_function_cell_becomes_a_component_bound_under_its_name(notebook: Notebook) -> None:
    _, printed = notebook.printed(
        "%%kfp_component\n"
        "def normalise(values: list, scale: float = 1.0) -> list:\n"
        "    import statistics\n"
        "    mean = statistics.mean(values)\n"
        "    return [(v - mean) * scale for v in values]\n"
    )
    component = notebook.shell.user_ns["normalise"]
    assert printed.strip() == "Component normalise(values, scale) -> Output"
    assert component.component_spec.inputs["scale"].default == 1.0
    assert component.component_spec.outputs["Output"].type == "List"
    # KFP packs the function's source into the component; it comes from the cell.
    assert "statistics.mean(values)" in inspect.getsource(component.python_func)
    command = " ".join(component.component_spec.implementation.container.command)
    assert "def normalise(values: list, scale: float = 1.0) -> list:" in command


def test_artifact_types_need_no_import_as_in_a_component(notebook: Notebook) -> None:
    notebook.cell(
        "%%kfp_component train --base-image python:3.11-slim --packages scikit-learn,pandas\n"
        "def fit(data: Input[Dataset], model: Output[Model], epochs: int = 3):\n"
        "    with open(model.path, 'w') as out:\n"
        "        out.write(open(data.path).read() * epochs)\n"
    )
    spec = notebook.shell.user_ns["train"].component_spec
    assert spec.inputs["data"].type == "system.Dataset@0.0.1"
    assert spec.outputs["model"].type == "system.Model@0.0.1"
    container = spec.implementation.container
    assert container.image == "python:3.11-slim"
    assert "scikit-learn" in " ".join(container.command)


def test_statements_become_the_body_with_declared_inputs_and_outputs(notebook: Notebook) -> None:
    notebook.cell(
        "%%kfp_component summarise --inputs rows:list,label:str "
        "--outputs count:int,mean:float,report:Markdown\n"
        "import statistics\n"
        "count = len(rows)\n"
        "mean = statistics.mean(rows)\n"
        "with open(report.path, 'w') as out:\n"
        "    out.write(f'# {label}: {count} rows')\n"
    )
    spec = notebook.shell.user_ns["summarise"].component_spec
    assert set(spec.inputs) == {"rows", "label"}
    assert {name: out.type for name, out in spec.outputs.items()} == {
        "count": "Integer",
        "mean": "Float",
        "report": "system.Markdown@0.0.1",
    }


def test_a_single_output_is_a_plain_return(notebook: Notebook) -> None:
    notebook.cell(DOUBLE)
    func = notebook.shell.user_ns["double"].python_func
    assert inspect.signature(func).return_annotation is int
    assert inspect.getsource(func).rstrip().endswith("return y")


def test_names_from_the_notebook_are_refused_before_anything_runs(notebook: Notebook) -> None:
    notebook.shell.user_ns["threshold"] = 0.5
    cell = (
        "%%kfp_component keep --inputs values:list --outputs kept:list\n"
        "import math\n"
        "kept = [v for v in values if v > threshold]\n"
        "kept = [math.floor(v) for v in kept if helper(v)]\n"
    )
    with pytest.raises(UsageError) as caught:
        notebook.cell(cell)
    message = str(caught.value)
    # Line 1 of the cell is the %%kfp_component line, as the notebook numbers it.
    assert "threshold (line 3)" in message and "helper (line 4)" in message
    assert "math" not in message.split("import")[0]
    assert "keep" not in notebook.shell.user_ns


def test_a_function_using_a_notebook_import_is_refused(notebook: Notebook) -> None:
    with pytest.raises(UsageError, match=r"uses names .*: json \(line 4\)"):
        notebook.cell(
            "%%kfp_component\nimport json\ndef dump(x: dict) -> str:\n    return json.dumps(x)\n"
        )


def test_local_names_of_every_kind_are_not_mistaken_for_notebook_names(notebook: Notebook) -> None:
    notebook.cell(
        "%%kfp_component\n"
        "def busy(items: list) -> int:\n"
        "    from collections import Counter as C\n"
        "    def inner(v, *rest, **extra):\n"
        "        return v\n"
        "    squares = {k: k * k for k in items}\n"
        "    try:\n"
        "        total = sum(inner(v) for v in squares.values())\n"
        "    except ValueError as error:\n"
        "        total = len(str(error))\n"
        "    if (n := len(C(items))) > 1:\n"
        "        total += n\n"
        "    return total\n"
    )
    assert "busy" in notebook.shell.user_ns


def test_a_syntax_error_names_the_cell_line(notebook: Notebook) -> None:
    with pytest.raises(UsageError, match=r"Syntax error in the component cell, line 3:"):
        notebook.cell("%%kfp_component broken --inputs x:int --outputs y:int\ny = x\nif y >\n")
    with pytest.raises(UsageError, match=r"cell, line 3: expected an indented block"):
        notebook.cell("%%kfp_component\ndef f(x: int) -> int:\nreturn x\n")


def test_an_output_the_cell_never_assigns_is_refused(notebook: Notebook) -> None:
    with pytest.raises(UsageError, match=r"never assigns output.* score"):
        notebook.cell("%%kfp_component grade --inputs x:int --outputs score:float\nz = x\n")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("--inputs x --outputs y:int", "should read name:type"),
        ("--inputs x:integer --outputs y:int", "unknown type 'integer'"),
        ("--inputs x:int --outputs y:int --cpu lots", "--cpu 'lots'"),
        ("--inputs x:int --outputs y:int --memory 1Q", "--memory '1Q'"),
        ("--inputs x:int,x:str --outputs y:int", "declared twice"),
        ("--inputs x:int --outputs y:int --colour red", "unrecognized arguments"),
    ],
)
def test_bad_arguments_are_usage_errors(notebook: Notebook, line: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        notebook.cell(f"%%kfp_component named {line}\ny = x\n")


def test_statements_need_a_name(notebook: Notebook) -> None:
    with pytest.raises(UsageError, match="Name the component"):
        notebook.cell("%%kfp_component\ntotal = 1 + 1\n")


def test_resources_apply_to_the_task_in_a_pipeline(notebook: Notebook, tmp_path: Path) -> None:
    notebook.cell(THREE_STEPS)
    notebook.cell(DOUBLE)
    _, printed = notebook.printed(PIPELINE)
    assert printed.strip() == "Pipeline three_steps: 3 task(s): add, double, double-2"
    notebook.cell("%kfp compile three_steps -o compiled/three.yaml")
    spec = yaml.safe_load((tmp_path / "compiled" / "three.yaml").read_text())
    assert spec["pipelineInfo"]["name"] == "three-steps"
    assert spec["root"]["inputDefinitions"]["parameters"]["b"]["defaultValue"] == 2
    executors = spec["deploymentSpec"]["executors"]
    assert executors["exec-double"]["container"]["resources"]["resourceCpuLimit"] == "2"
    assert executors["exec-double"]["container"]["resources"]["resourceMemoryLimit"] == "1G"
    assert "resources" not in executors["exec-add"]["container"]


def test_a_gpu_request_becomes_an_accelerator(notebook: Notebook) -> None:
    notebook.cell("%%kfp_component gpu_step --outputs ok:bool --gpu 1\nok = True\n")
    notebook.cell("%%kfp_pipeline on_gpu\ngpu_step()\n")
    text = notebook.magics.local.compile(notebook.shell.user_ns["on_gpu"])
    resources = yaml.safe_load(text)["deploymentSpec"]["executors"]["exec-gpu-step"]["container"]
    assert resources["resources"]["accelerator"]["resourceCount"] == "1"


def test_a_wiring_mistake_points_at_the_pipeline_cell_line(notebook: Notebook) -> None:
    notebook.cell(THREE_STEPS)
    with pytest.raises(
        UsageError, match=r"Pipeline wrong \(cell line 3\): TypeError: .*unexpected"
    ):
        notebook.cell("%%kfp_pipeline wrong --params a:int\nfirst = add(a=a, b=1)\nadd(a=a, c=2)\n")
    assert "wrong" not in notebook.shell.user_ns


def test_unknown_pipelines_and_commands_are_usage_errors(notebook: Notebook) -> None:
    with pytest.raises(UsageError, match="No pipeline named 'nowhere'"):
        notebook.cell("%kfp run nowhere")
    with pytest.raises(UsageError, match="invalid choice: 'sprint'"):
        notebook.cell("%kfp sprint")
    with pytest.raises(UsageError, match="required: -o/--output"):
        notebook.cell("%kfp compile something")
    with pytest.raises(UsageError, match="not allowed with argument --local"):
        notebook.cell("%kfp run something --local --cluster")


def test_running_on_an_unconfigured_cluster_says_how_and_keeps_the_spec(
    notebook: Notebook, tmp_path: Path
) -> None:
    notebook.cell(THREE_STEPS)
    notebook.cell(DOUBLE)
    notebook.cell(PIPELINE)
    with pytest.raises(UsageError, match="KF_PIPELINES_ENDPOINT") as caught:
        notebook.cell("%kfp run three_steps --cluster --param a=1")
    unsent = list((tmp_path / ".mlops" / "pipelines" / "unsent").glob("three_steps-*.yaml"))
    assert len(unsent) == 1 and str(unsent[0]) in str(caught.value)
    assert yaml.safe_load(unsent[0].read_text())["pipelineInfo"]["name"] == "three-steps"


def test_help_lists_every_command_and_option() -> None:
    doc = KfpMagics.kfp.__doc__ or ""
    for word in ("compile", "runs", "logs", "terminate", "retry", "--wait", "--experiment"):
        assert word in doc
    assert "--inputs" in (KfpMagics.kfp_component.__doc__ or "")


def test_the_magics_module_does_not_import_kfp() -> None:
    probe = (
        "import sys\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "from jupyter_mlops.magics.kfp import KfpMagics\n"
        "InteractiveShell.instance().register_magics(KfpMagics)\n"
        "print(sorted(m for m in ('kfp', 'kubernetes', 'mlflow') if m in sys.modules))\n"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=root, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"


def test_artifact_inputs_of_statements_and_a_component_yaml_file(
    notebook: Notebook, tmp_path: Path
) -> None:
    notebook.cell(
        "%%kfp_component count_rows --inputs data:Dataset --outputs rows:int "
        "--output-yaml components/count_rows.yaml\n"
        "with open(data.path) as lines:\n"
        "    rows = sum(1 for _ in lines)\n"
    )
    spec = notebook.shell.user_ns["count_rows"].component_spec
    assert spec.inputs["data"].type == "system.Dataset@0.0.1"
    written = yaml.safe_load((tmp_path / "components" / "count_rows.yaml").read_text())
    assert written["root"]["inputDefinitions"]["artifacts"]["data"]["artifactType"] == {
        "schemaTitle": "system.Dataset",
        "schemaVersion": "0.0.1",
    }


def test_a_pipeline_returns_what_its_cell_returns(notebook: Notebook) -> None:
    notebook.cell(THREE_STEPS)
    notebook.cell(
        "%%kfp_pipeline summed --params a:int,label:str=total --outputs result:int\n"
        "first = add(a=a, b=1)\n"
        "return add(a=first.output, b=a).output\n"
    )
    text = notebook.magics.local.compile(notebook.shell.user_ns["summed"])
    spec = yaml.safe_load(text)
    assert spec["root"]["outputDefinitions"]["parameters"]["Output"]["parameterType"] == (
        "NUMBER_INTEGER"
    )
    assert spec["root"]["inputDefinitions"]["parameters"]["label"]["defaultValue"] == "total"
