"""The losslang Jupyter kernel, driven by a real front end's libraries.

The kernel is installed with `losslang jupyter install --prefix TMP` and
started from that kernelspec by jupyter_client (JUPYTER_PATH points at it),
exactly as JupyterLab or nbclient would start it. Run with tests/jupyter/run.sh.
"""

import os
import re
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest
from jupyter_client.manager import KernelManager
from jupyter_client.session import Session

ROOT = Path(__file__).resolve().parents[2]
BINARY = Path(os.environ.get("LOSSLANG", ROOT / "target" / "release" / "losslang"))
NOTEBOOK = ROOT / "docs" / "notebooks" / "minimization-algorithms.ipynb"
TIMEOUT = 30


@pytest.fixture(scope="session")
def kernelspec_dir():
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run(
            [str(BINARY), "jupyter", "install", "--prefix", tmp],
            check=True, capture_output=True, text=True,
        )
        assert "installed the losslang kernel" in out.stdout
        data = Path(tmp) / "share" / "jupyter"
        os.environ["JUPYTER_PATH"] = str(data)
        yield data


@pytest.fixture(scope="module")
def kernel(kernelspec_dir, tmp_path_factory):
    km = KernelManager(kernel_name="losslang")
    km.start_kernel(cwd=str(tmp_path_factory.mktemp("cells")))
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=TIMEOUT)
    yield km, kc
    kc.stop_channels()
    km.shutdown_kernel(now=False)
    assert not km.is_alive()


def run(kc, code, timeout=TIMEOUT):
    """Executes a cell; returns the execute_reply content and the iopub messages."""
    msg_id = kc.execute(code)
    outputs = []
    while True:
        msg = kc.get_iopub_msg(timeout=timeout)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "status":
            if msg["content"]["execution_state"] == "idle":
                break
            continue
        outputs.append(msg)
    reply = kc.get_shell_msg(timeout=timeout)
    assert reply["parent_header"]["msg_id"] == msg_id
    return reply["content"], outputs


def of_type(outputs, kind):
    return [m["content"] for m in outputs if m["msg_type"] == kind]


def stdout(outputs):
    return "".join(c["text"] for c in of_type(outputs, "stream") if c["name"] == "stdout")


def test_kernelspec_runs_this_binary(kernelspec_dir):
    spec = (kernelspec_dir / "kernels" / "losslang" / "kernel.json").read_text()
    assert str(BINARY.resolve()) in spec
    assert '"{connection_file}"' in spec
    assert (kernelspec_dir / "kernels" / "losslang" / "logo-64x64.png").is_file()


def test_kernel_info(kernel):
    _, kc = kernel
    kc.kernel_info()
    reply = kc.get_shell_msg(timeout=TIMEOUT)
    assert reply["content"]["language_info"]["name"] == "losslang"
    assert reply["content"]["protocol_version"] == "5.3"


def test_print_is_a_stream_and_a_bare_last_expression_the_result(kernel):
    _, kc = kernel
    reply, out = run(kc, "param a = 2;\nprint a * 10;\na^2 + 1")
    assert reply["status"] == "ok"
    assert stdout(out) == "20.0\n"
    results = of_type(out, "execute_result")
    assert len(results) == 1
    assert results[0]["data"]["text/plain"] == "5.0"
    assert results[0]["execution_count"] == reply["execution_count"]


def test_a_diagnostic_is_an_error_reply_with_the_rendered_diagnostic(kernel):
    _, kc = kernel
    reply, out = run(kc, "param q = 1;\nprint q + undefined_name;")
    assert reply["status"] == "error"
    assert reply["ename"].startswith("E0")
    tb = "\n".join(reply["traceback"])
    assert "\x1b[" in tb, "the traceback is in ANSI colour"
    plain = re.sub(r"\x1b\[[0-9;]*m", "", tb)
    assert "undefined_name" in plain and "^" in plain
    assert of_type(out, "error")[0]["traceback"] == reply["traceback"]
    # The session goes on after an error.
    reply, out = run(kc, "print q;")
    assert reply["status"] == "ok" and stdout(out) == "1.0\n"


def test_plots_are_shown_inline(kernel):
    _, kc = kernel
    reply, out = run(
        kc,
        "param px = 0; param py = 0;\n"
        "minimize (px - 1)^2 + (py + 1)^2 with adam(lr=0.1) for 50 steps;\n"
        "plot contour (px - 1)^2 + (py + 1)^2 over px in [-2, 2], py in [-2, 2] with path;",
    )
    assert reply["status"] == "ok", reply
    shown = of_type(out, "display_data")
    svg = [d for d in shown if "image/svg+xml" in d["data"]]
    assert svg and svg[-1]["data"]["image/svg+xml"].lstrip().startswith("<")
    reply, out = run(kc, 'plot loss to "loss.png";')
    assert reply["status"] == "ok", reply
    png = [d for d in of_type(out, "display_data") if "image/png" in d["data"]]
    assert png, out


def test_minuit_reports_are_text_and_html(kernel):
    _, kc = kernel
    reply, out = run(kc, "param mx = 1; param my = 2;\nminimize (mx - 3)^2 + (my + 1)^2 + mx * my;")
    assert reply["status"] == "ok", reply
    rich = [d for d in of_type(out, "display_data") if "text/html" in d["data"]]
    assert rich, out
    html = rich[-1]["data"]["text/html"]
    assert "<table>" in html and "Valid Minimum" in html and "Hesse Error" in html
    assert "background-color:#92CCA6" in html  # the green validity cell
    assert "Migrad" in rich[-1]["data"]["text/plain"]


def test_completion(kernel):
    _, kc = kernel
    code = "minimize x with ad"
    kc.complete(code, len(code))
    reply = kc.get_shell_msg(timeout=TIMEOUT)["content"]
    assert reply["status"] == "ok"
    assert {"adam", "adamw", "adagrad"} <= set(reply["matches"])
    assert reply["cursor_start"] == len("minimize x with ")
    assert reply["cursor_end"] == len(code)


def test_is_complete(kernel):
    _, kc = kernel
    kc.is_complete("let s = [1,")
    assert kc.get_shell_msg(timeout=TIMEOUT)["content"]["status"] == "incomplete"
    kc.is_complete("let s = [1, 2];")
    assert kc.get_shell_msg(timeout=TIMEOUT)["content"]["status"] == "complete"


def test_inspect_and_history(kernel):
    _, kc = kernel
    kc.inspect("minimize x with adam(lr=0.1)", 17)
    reply = kc.get_shell_msg(timeout=TIMEOUT)["content"]
    assert reply["found"] and reply["data"]["text/plain"].startswith("adam(lr=0.001")
    kc.history(hist_access_type="tail", n=2)
    reply = kc.get_shell_msg(timeout=TIMEOUT)["content"]
    assert reply["status"] == "ok" and len(reply["history"]) == 2


def test_interrupt_stops_a_minimization_keeping_the_best(kernel):
    km, kc = kernel
    run(kc, "param z = 0;")
    start = time.monotonic()
    msg_id = kc.execute("minimize (z - 3)^2 with sgd(lr=1e-7) for 1000000000 steps;")
    time.sleep(1.0)
    km.interrupt_kernel()
    reply = kc.get_shell_msg(timeout=5)
    assert reply["parent_header"]["msg_id"] == msg_id
    assert time.monotonic() - start < 5
    # The long run showed one progress line, updated in place.
    progress = []
    while True:
        msg = kc.get_iopub_msg(timeout=TIMEOUT)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] in ("display_data", "update_display_data"):
            progress.append(msg)
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            break
    assert progress and progress[0]["msg_type"] == "display_data"
    assert "step" in progress[0]["content"]["data"]["text/plain"]
    ids = {m["content"]["transient"]["display_id"] for m in progress}
    assert len(ids) == 1 and len(progress) >= 2
    assert all(m["msg_type"] == "update_display_data" for m in progress[1:])
    reply, out = run(kc, "z")
    z = float(of_type(out, "execute_result")[0]["data"]["text/plain"])
    assert 0 < z < 3


def test_unknown_requests_and_bad_signatures_do_not_end_the_kernel(kernel):
    km, kc = kernel
    msg = kc.session.msg("no_such_request", {})
    kc.shell_channel.send(msg)
    reply = kc.get_shell_msg(timeout=TIMEOUT)
    assert reply["msg_type"] == "no_such_reply"
    assert reply["content"]["status"] == "error"
    # A message signed with another key is dropped, never executed.
    forger = Session(key=b"not the key", session=str(uuid.uuid4()))
    bad = forger.msg("execute_request", {"code": "param forged = 1;", "silent": False})
    forger.send(kc.shell_channel.socket, bad)
    time.sleep(0.5)
    reply, out = run(kc, "print forged;")
    assert reply["status"] == "error", "the forged cell must not have run"
    assert km.is_alive()


def test_the_chapter_notebook_runs_end_to_end(kernelspec_dir, tmp_path):
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert nb.metadata["kernelspec"]["name"] == "losslang"
    client = NotebookClient(nb, timeout=120, kernel_name="losslang",
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    images = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.output_type == "display_data" and "image/svg+xml" in o.data]
    tables = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.output_type == "display_data" and "text/html" in o.data]
    assert len(images) >= 6, "every contour with its path is drawn inline"
    assert len(tables) >= 2, "every Minuit fit is shown as iminuit's tables"
