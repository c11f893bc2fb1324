"""The warm Glue driver: a long-lived Python process with a running Spark context that runs job scripts one
after another, each as if it had the process to itself. The server's side is :mod:`.glue_warm`.

    python glue_driver.py        (started by the server, never by hand)

Requests come on stdin, one JSON line per run: ``{"token", "script", "argv", "cwd", "python_path"}``. Before a
script runs the driver writes ``<MARKER> start <token>`` on stdout and on stderr; after it, ``<MARKER> end <token>
<exit code>`` on both. What comes between the markers is the run's output (the JVM's and the Python workers'
output reach the same streams). End of stdin (the server is gone) ends the driver.

Per run: a new ``SparkSession`` (its own SQL conf, temporary views and functions) is the default and active one,
so the script's ``SparkSession.builder.getOrCreate()`` returns it; ``stop()`` ends that session only, since the
context is shared. Afterwards the shared state is cleared (cached tables and RDDs, global temporary views, tables
and databases of the catalog, running jobs, the main thread's local properties), and the Python side put back as
it was: ``sys.argv``, ``sys.path``, the environment, the working folder, the root logger, and the modules the run
imported (those of the environment's library folders stay: C extensions such as numpy cannot load twice in one
process). Spark's Python workers are not reused across tasks, so a worker never holds a previous run's modules.
"""

import json
import logging
import os
import runpy
import sys
import sysconfig
import threading
import traceback
from pathlib import Path

MARKER = "\x1eglue-warm-driver"


def submit_args(warehouse_dir: str) -> str:
    """PYSPARK_SUBMIT_ARGS of a driver: defaults under whatever the scripts' builders set."""
    return " ".join(
        [
            # A reused Python worker keeps the modules a UDF imported: a later run would see a previous run's code.
            "--conf spark.python.worker.reuse=false",
            f"--conf spark.sql.warehouse.dir={warehouse_dir}",
            "pyspark-shell",
        ]
    )


def _share_botocore_loaders() -> None:
    """Every run's boto3 session parses botocore's models once between them (``local_platform/botocore_models.py``,
    run from its file: this script stays outside the package, so that no run can import it)."""
    import importlib.util

    path = Path(__file__).resolve().parents[2] / "botocore_models.py"
    spec = importlib.util.spec_from_file_location("_botocore_models", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.share_loaders()


class Driver:
    """The Spark side of the runs. No JVM until a script asks for Spark: the first such run starts the context
    with its own builder's settings (as a cold run would), and the context stays for the runs after it."""

    def __init__(self):
        import boto3  # noqa: F401  (imported once here rather than by every run's script)
        import pyspark.sql.functions  # noqa: F401
        from pyspark import SparkContext
        from pyspark.sql import SparkSession

        _share_botocore_loaders()

        self.base = None  # every run's session is a new session of this one, which no script is given
        self.library_roots = tuple(
            {
                os.path.realpath(path) + os.sep
                for key in ("stdlib", "platstdlib", "purelib", "platlib")
                if (path := sysconfig.get_paths().get(key))
            }
        )
        self._real_methods = (SparkSession.stop, SparkContext.stop, SparkContext._do_init)
        self._stopped_session = None

    @staticmethod
    def context():
        from pyspark import SparkContext

        return SparkContext._active_spark_context

    def healthy(self) -> bool:
        if self.context() is None:
            return True
        try:
            return not self.context()._jsc.sc().isStopped()
        except Exception:  # the JVM is gone
            return False

    def run(self, request: dict) -> int:
        saved = _PythonState.capture()
        self._open_session(request["python_path"])
        try:
            return run_script(request["script"], request["argv"], request["cwd"], request["python_path"])
        finally:
            self._close_session()
            saved.restore(self.library_roots)

    def _open_session(self, python_path: list[str]) -> None:
        from pyspark import SparkContext
        from pyspark.sql import SparkSession

        driver = self

        def stop_session(stopped=None) -> None:
            """What a script's spark.stop() or sc.stop() means here: the run is done with its session."""
            if isinstance(stopped, SparkSession) or SparkSession._instantiatedSession is not None:
                driver._stopped_session = (
                    stopped if isinstance(stopped, SparkSession) else (SparkSession._instantiatedSession)
                )
            driver._clear_default_session()

        real_do_init = self._real_methods[2]

        def start_context(context, *args, **kwargs) -> None:
            """The first Spark run starts the context; its Python workers get the run's path as later ones do."""
            real_do_init(context, *args, **kwargs)
            context._python_includes[:0] = python_path
            driver._saved_environment = dict(context.environment)
            # Sessions take their SQL defaults from the context's conf: this run's builder settings stay this
            # run's (its session has them as options), not every later session's.
            sql_conf = context._jvm.org.apache.spark.sql.internal.SQLConf
            for key, _ in context.getConf().getAll():
                if key.startswith("spark.sql.") and not sql_conf.isStaticConfigKey(key):
                    context._jsc.sc().conf().remove(key)

        SparkSession.stop = stop_session
        SparkContext.stop = stop_session
        SparkContext._do_init = start_context
        self._stopped_session = None
        # Spark's Python workers put these first on their path (what PYTHONPATH gives them on a cold run). Never
        # through the environment: the JVM and its Python daemon would keep the first run's path for good.
        self._python_path = python_path
        context = self.context()
        if context is not None:
            self._make_default(SparkSession(context, jsparkSession=self.base._jsparkSession.newSession()))
            context._python_includes[:0] = python_path

    def _close_session(self) -> None:
        from pyspark import SparkContext
        from pyspark.sql import SparkSession

        SparkSession.stop, SparkContext.stop, SparkContext._do_init = self._real_methods
        context = self.context()
        if context is None or not self.healthy():
            self._clear_default_session()
            return
        del context._python_includes[: len(self._python_path)]
        run_session = SparkSession._instantiatedSession or self._stopped_session
        self._clear_default_session()
        self._stopped_session = None
        context.environment.clear()
        context.environment.update(self._saved_environment)
        context.cancelAllJobs()
        context._jsc.sc().localProperties().remove()
        if self.base is None:
            # This run started the context. Its session's shared state was made with its builder's settings,
            # which sessions made from it would inherit: later runs get sessions of a new one.
            if run_session is not None:
                _clear_shared_state(context, run_session)
            self.base = SparkSession(context)
            self._clear_default_session()
        _clear_shared_state(context, self.base)

    def _make_default(self, session) -> None:
        from pyspark.sql import SparkSession

        SparkSession._instantiatedSession = SparkSession._activeSession = session
        session._jvm.SparkSession.setDefaultSession(session._jsparkSession)
        session._jvm.SparkSession.setActiveSession(session._jsparkSession)

    def _clear_default_session(self) -> None:
        from pyspark.sql import SparkSession, SQLContext

        SparkSession._instantiatedSession = SparkSession._activeSession = None
        SQLContext._instantiatedContext = None
        if self.context() is not None and self.healthy():
            self.context()._jvm.SparkSession.clearDefaultSession()
            self.context()._jvm.SparkSession.clearActiveSession()


def _clear_shared_state(context, session) -> None:
    """What sessions on one shared state share: cached tables, global temporary views, the catalog's tables and
    databases; and persisted RDDs, which the context holds."""
    catalog = session.catalog
    catalog.clearCache()
    for rdd in context._jsc.getPersistentRDDs().values():
        rdd.unpersist()
    for view in catalog.listTables(session.conf.get("spark.sql.globalTempDatabase")):
        catalog.dropGlobalTempView(view.name)
    for database in catalog.listDatabases():
        if database.name != "default":
            session.sql(f"DROP DATABASE IF EXISTS `{database.name}` CASCADE")
    for table in catalog.listTables("default"):
        if not table.isTemporary:
            session.sql(f"DROP TABLE IF EXISTS default.`{table.name}`")


class _PythonState:
    """What a script can change in the interpreter, captured before it runs and put back after."""

    @classmethod
    def capture(cls) -> "_PythonState":
        state = cls()
        state.argv = list(sys.argv)
        state.path = list(sys.path)
        state.modules = set(sys.modules)
        state.environ = dict(os.environ)
        state.cwd = os.getcwd()
        root = logging.getLogger()
        state.root_logger = (list(root.handlers), root.level)
        return state

    def restore(self, library_roots: tuple[str, ...]) -> None:
        sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
        sys.argv[:] = self.argv
        sys.path[:] = self.path
        for name in set(sys.modules) - self.modules:
            if not _from_library(sys.modules.get(name), library_roots):
                del sys.modules[name]
        os.environ.clear()
        os.environ.update(self.environ)
        os.chdir(self.cwd)
        root = logging.getLogger()
        root.handlers[:], level = self.root_logger
        root.setLevel(level)
        if (boto3 := sys.modules.get("boto3")) is not None:
            boto3.DEFAULT_SESSION = None  # a script's setup_default_session() is the script's


def _from_library(module, library_roots: tuple[str, ...]) -> bool:
    """Whether ``module`` was loaded from the environment (stdlib, site-packages) rather than the run's code."""
    if module is None:
        return False
    name = getattr(module, "__name__", "")
    if name in sys.builtin_module_names:
        return True
    files = [getattr(module, "__file__", None), *list(getattr(module, "__path__", []) or [])]
    files = [os.path.realpath(path) for path in files if isinstance(path, str)]
    return bool(files) and all(path.startswith(library_roots) for path in files)


def run_script(script: str, argv: list[str], cwd: str, python_path: list[str]) -> int:
    """Run ``script`` as ``python script argv...`` would in ``cwd`` with ``python_path`` on PYTHONPATH; return
    its exit code. Non-daemon threads it started are waited for, as the interpreter waits for them at exit."""
    os.chdir(cwd)
    sys.argv[:] = [script, *argv]
    sys.path[:0] = [os.path.dirname(script), *python_path]
    threads_before = set(threading.enumerate())
    try:
        runpy.run_path(script, run_name="__main__")
        code = 0
    except SystemExit as exc:
        code = _exit_code(exc.code)
    except BaseException as exc:
        _print_traceback(exc, script)
        code = 1
    for thread in set(threading.enumerate()) - threads_before:
        if not thread.daemon:
            thread.join()
    return code


def _exit_code(code) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)  # as the interpreter does with sys.exit("message")
    return 1


def _print_traceback(exc: BaseException, script: str) -> None:
    """The traceback a cold run prints: from the script's first frame, without the driver's and runpy's."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != script:
        tb = tb.tb_next
    traceback.print_exception(type(exc), exc, tb or exc.__traceback__)


def _mark(*words: str) -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a script closed it
            pass
    line = " ".join((MARKER, *words)) + "\n"
    for fd in (1, 2):
        os.write(fd, line.encode())


def main() -> int:
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [entry for entry in sys.path if os.path.abspath(entry or ".") != here]
    requests = os.fdopen(os.dup(0), "r")  # the server's; a script reading stdin reads nothing, as on Glue
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    sys.stdin = sys.__stdin__ = open(os.devnull)
    os.environ["PYSPARK_SUBMIT_ARGS"] = submit_args(warehouse_dir=sys.argv[1])
    driver = Driver()
    for line in requests:
        request = json.loads(line)
        _mark("start", request["token"])
        try:
            code = driver.run(request)
        except BaseException:  # the driver's own failure, not the script's: this run fails, the driver ends
            traceback.print_exc()
            _mark("end", request["token"], "1")
            return 1
        _mark("end", request["token"], str(code))
        if not driver.healthy():
            print("the Spark context is gone: this driver ends, the next run starts a new one", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
