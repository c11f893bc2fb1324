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

MARKER = "\x1eglue-warm-driver"
# Read by the server too: the JVM and the Python workers (daemon included) inherit this process's environment.
STATIC_CONF = {
    "spark.app.name": "local-glue-warm-driver",
    "spark.ui.enabled": "false",
    # A reused Python worker keeps the modules a UDF imported: a later run would see a previous run's code.
    "spark.python.worker.reuse": "false",
}


class Driver:
    def __init__(self, warehouse_dir: str):
        from pyspark import SparkConf, SparkContext
        from pyspark.sql import SparkSession

        conf = SparkConf().setMaster(os.environ.get("SPARK_MASTER", "local[2]")).setAll(STATIC_CONF.items())
        conf.set("spark.sql.warehouse.dir", warehouse_dir)
        self.context = SparkContext(conf=conf)
        self.base = SparkSession(self.context)  # never handed to a script: the root of every run's session
        self._clear_default_session()
        self.library_roots = tuple({os.path.realpath(path) + os.sep for key in ("stdlib", "platstdlib", "purelib",
                                                                                  "platlib")
                                    if (path := sysconfig.get_paths().get(key))})
        self._real_stops = (SparkSession.stop, SparkContext.stop)

    def healthy(self) -> bool:
        try:
            return not self.context._jsc.sc().isStopped()
        except Exception:  # the JVM is gone
            return False

    def run(self, request: dict) -> int:
        saved = _PythonState.capture()
        session = self._open_session(request["python_path"])
        try:
            return run_script(request["script"], request["argv"], request["cwd"], request["python_path"])
        finally:
            self._close_session(session)
            saved.restore(self.library_roots)

    def _open_session(self, python_path: list[str]):
        from pyspark import SparkContext
        from pyspark.sql import SparkSession

        session = SparkSession(self.context, jsparkSession=self.base._jsparkSession.newSession())
        self._make_default(session)
        driver = self

        def stop_session(_self=None) -> None:
            """What a script's spark.stop() or sc.stop() means here: the run is done with its session."""
            driver._clear_default_session()

        SparkSession.stop = stop_session
        SparkContext.stop = stop_session
        # Spark's Python workers put these first on their path (what PYTHONPATH gives them on a cold run).
        self._saved_includes = list(self.context._python_includes)
        self._saved_environment = dict(self.context.environment)
        self.context._python_includes[:0] = python_path
        return session

    def _close_session(self, session) -> None:
        from pyspark import SparkContext
        from pyspark.sql import SparkSession

        SparkSession.stop, SparkContext.stop = self._real_stops
        self.context._python_includes[:] = self._saved_includes
        self.context.environment.clear()
        self.context.environment.update(self._saved_environment)
        self._clear_default_session()
        if not self.healthy():
            return
        self.context.cancelAllJobs()
        self.context._jsc.sc().localProperties().remove()
        catalog = self.base.catalog
        catalog.clearCache()
        for rdd in self.context._jsc.getPersistentRDDs().values():
            rdd.unpersist()
        global_views = self.base.conf.get("spark.sql.globalTempDatabase")
        for view in catalog.listTables(global_views):
            catalog.dropGlobalTempView(view.name)
        for database in catalog.listDatabases():
            if database.name == "default":
                for table in catalog.listTables("default"):
                    if not table.isTemporary:
                        self.base.sql(f"DROP TABLE IF EXISTS default.`{table.name}`")
            else:
                self.base.sql(f"DROP DATABASE IF EXISTS `{database.name}` CASCADE")

    def _make_default(self, session) -> None:
        from pyspark.sql import SparkSession

        SparkSession._instantiatedSession = SparkSession._activeSession = session
        self.context._jvm.SparkSession.setDefaultSession(session._jsparkSession)
        self.context._jvm.SparkSession.setActiveSession(session._jsparkSession)

    def _clear_default_session(self) -> None:
        from pyspark.sql import SparkSession, SQLContext

        SparkSession._instantiatedSession = SparkSession._activeSession = None
        SQLContext._instantiatedContext = None
        if self.healthy():
            self.context._jvm.SparkSession.clearDefaultSession()
            self.context._jvm.SparkSession.clearActiveSession()


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
    driver = Driver(warehouse_dir=sys.argv[1])
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
