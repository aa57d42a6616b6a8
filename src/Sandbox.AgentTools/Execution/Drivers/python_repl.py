# Persistent Python interpreter driven by Sandbox.AgentTools over stdin/stdout.
# Protocol: one JSON request per line on stdin: {"id", "code", "out_dir", "env"}.
# After each request the driver writes "\n<marker>\n" to stderr, then "\n<marker><status json>\n" to stdout.
# The marker is random per interpreter and removed from the environment before user code runs.
import ast
import builtins
import io
import json
import os
import shutil
import signal
import sys
import traceback

_MARK = os.environ.pop("SANDBOX_REPL_MARKER", "")
_IMAGE_EXT = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg")
_in = sys.stdin.buffer
_out = sys.__stdout__
_err = sys.__stderr__
_globals = {"__name__": "__main__", "__builtins__": builtins}
_DRIVER = os.path.abspath(__file__)

os.environ.setdefault("MPLBACKEND", "Agg")
sys.stdin = io.StringIO("")


def _no_input(prompt=""):
    raise RuntimeError("input() is not available: this interpreter has no interactive stdin. Pass data in code or files.")


builtins.input = _no_input
signal.signal(signal.SIGINT, signal.default_int_handler)


def _run(code):
    tree = ast.parse(code, "<cell>", "exec")
    last = None
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = ast.Expression(tree.body.pop().value)
    exec(compile(tree, "<cell>", "exec"), _globals)
    if last is not None:
        value = eval(compile(last, "<cell>", "eval"), _globals)
        if value is not None:
            print(repr(value))


def _format_exception(exc):
    te = traceback.TracebackException(type(exc), exc, exc.__traceback__)
    te.stack = traceback.StackSummary.from_list([f for f in te.stack if os.path.abspath(f.filename) != _DRIVER])
    return "".join(te.format())


def _save_figures(out_dir):
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is None:
        return
    try:
        for i, num in enumerate(plt.get_fignums()):
            plt.figure(num).savefig(os.path.join(out_dir, "figure_%d.png" % (i + 1)), format="png", dpi=100, bbox_inches="tight")
        plt.close("all")
    except Exception as exc:  # a broken figure must not lose the call's result
        _err.write("[sandbox] could not save matplotlib figures: %r\n" % (exc,))


def _images(out_dir):
    try:
        names = sorted(os.listdir(out_dir))
    except OSError:
        return []
    return [os.path.join(out_dir, n) for n in names if n.lower().endswith(_IMAGE_EXT)]


def _finish(req_id, status, error, images):
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except Exception:
        pass
    payload = json.dumps({"id": req_id, "status": status, "error": error, "images": images})
    _err.write("\n" + _MARK + "\n")
    _err.flush()
    _out.write("\n" + _MARK + payload + "\n")
    _out.flush()


def _prepare_out_dir(out_dir, previous_out):
    # One directory per interpreter, emptied before each call (the tool has read the previous call's images by then).
    if previous_out and previous_out != out_dir:
        shutil.rmtree(previous_out, ignore_errors=True)
    try:
        names = os.listdir(out_dir)
    except FileNotFoundError:
        os.makedirs(out_dir, exist_ok=True)
        return
    for name in names:
        path = os.path.join(out_dir, name)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            try:
                os.unlink(path)
            except OSError:
                pass


def _handle(line, previous_out):
    req = json.loads(line)
    req_id = req.get("id")
    out_dir = req.get("out_dir") or "/tmp/.sandbox-tools/out/default"
    _prepare_out_dir(out_dir, previous_out)
    for key, value in (req.get("env") or {}).items():
        os.environ[key] = value
    os.environ["SANDBOX_OUTPUT_DIR"] = out_dir
    status, error = "ok", None
    try:
        try:
            _run(req.get("code", ""))
        except KeyboardInterrupt:
            status, error = "interrupted", "KeyboardInterrupt"
            sys.stderr.write("KeyboardInterrupt: execution was interrupted\n")
        except SystemExit as exc:
            status, error = "error", "SystemExit(%r): exit() does not stop the persistent interpreter" % (exc.code,)
        except BaseException as exc:
            status = "error"
            error = (type(exc).__name__ + ": " + str(exc))[:1000]
            sys.stderr.write(_format_exception(exc))
        _save_figures(out_dir)
    except KeyboardInterrupt:
        status, error = "interrupted", "KeyboardInterrupt"
    images = _images(out_dir)
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        _finish(req_id, status, error, images)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)
    return out_dir


def main():
    previous_out = None
    while True:
        try:
            line = _in.readline()
            if not line:
                return
            if not line.strip():
                continue
            previous_out = _handle(line.decode("utf-8"), previous_out)
        except KeyboardInterrupt:
            # An interrupt that arrives between requests (the call had just finished) is ignored.
            continue
        except Exception as exc:
            _finish(None, "protocol_error", repr(exc)[:1000], [])


main()
