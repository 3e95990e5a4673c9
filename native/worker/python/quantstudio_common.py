"""What QuantStudio's Python runners share: the JSON-lines protocol on stdout, dying with the job process, the
check for the libraries a job needs (named with the exact pip line), the device, memory figures, and the mapping
of library failures to the job's error codes.

Every report is one JSON line on stdout; library output is sent to stderr. A runner reads its job as one JSON line
on stdin and exits at once when stdin closes (the job process is gone, even by SIGKILL).
"""
import json
import os
import sys
import threading
import time

# What QuantStudio follows (README, "Engine"); a missing library is named with its exact pip line.
FOLLOWED = {"gptqmodel": "7.7.0", "transformers": "5.23.0", "bitsandbytes": "0.50.2", "torch": None}
# llm-compressor 0.14.0.1 pins its own torch (<= 2.14) and transformers (<= 5.17): installing it brings them.
LLMCOMPRESSOR_PINS = {"llmcompressor": "0.14.0.1", "compressed_tensors": "0.19.0", "transformers": None, "torch": None}

_stdout = sys.stdout
_lock = threading.Lock()


def emit(message):
    with _lock:
        _stdout.write(json.dumps(message) + "\n")
        _stdout.flush()


class JobError(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


def die_with_parent():
    """The job process owns this one: when it goes (even by SIGKILL) the runner must not keep writing."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes
            import signal

            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except OSError:
            pass

    def watch_stdin():
        sys.stdin.read()
        os._exit(3)

    threading.Thread(target=watch_stdin, daemon=True).start()


def pip_line(packages, followed=FOLLOWED):
    pins = [f"{p}=={followed[p]}" if followed.get(p) else p for p in packages]
    return f"{sys.executable} -m pip install {' '.join(pins)}"


def check_libraries(what, packages, followed=FOLLOWED):
    """Imports nothing yet: names every missing package with the pip line that installs what we follow."""
    import importlib.metadata as metadata
    import importlib.util

    missing = [p for p in packages if importlib.util.find_spec(p) is None]
    if missing:
        raise JobError(
            "MISSING_LIBRARY",
            f"the python backend's {what} needs {', '.join(missing)}, not installed in {sys.executable}; "
            f"install with: {pip_line(missing, followed)}",
        )
    return {p: metadata.version(p) for p in packages}


def device_of(torch):
    return "cuda" if torch.cuda.is_available() else "cpu"


def gpu_names(torch, device):
    """The GPUs torch sees on a CUDA run (what `device_map="auto"` may spread a model over)."""
    if device != "cuda":
        return []
    return [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]


def memory_figures(torch, device):
    if device == "cuda":
        free, total = torch.cuda.mem_get_info()
        return (
            f"{torch.cuda.get_device_name()}: {torch.cuda.memory_allocated() / 2**20:.0f} MiB allocated, "
            f"{torch.cuda.memory_reserved() / 2**20:.0f} MiB reserved, {free / 2**20:.0f} MiB free of {total / 2**20:.0f} MiB"
        )
    import resource

    return f"peak resident memory of this process {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB"


def peak_memory(torch, device):
    """This process's peak resident memory, and on CUDA torch's peak allocation (what the tensors needed)."""
    import resource

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    figures = {"peakRssBytes": rss if sys.platform == "darwin" else rss * 1024}
    if device == "cuda":
        figures["cudaMaxAllocatedBytes"] = torch.cuda.max_memory_allocated()
    return figures


def emit_result(torch, device, libraries, started, report):
    """The runner's last line: where it ran, the libraries it imported, how long it took, its report and peak memory."""
    emit(
        {
            "type": "result",
            "device": device,
            "gpus": gpu_names(torch, device),
            "libraries": libraries,
            "seconds": time.monotonic() - started,
            "report": report,
            **peak_memory(torch, device),
        }
    )


def with_library_errors(torch, device, work):
    """Runs `work`; out-of-memory and CUDA failures become the job's errors, with the device's memory figures."""
    try:
        return work()
    except torch.cuda.OutOfMemoryError as error:
        raise JobError("OUT_OF_MEMORY", f"out of GPU memory: {memory_figures(torch, device)} ({str(error).splitlines()[0]})")
    except MemoryError:
        raise JobError("OUT_OF_MEMORY", f"out of memory on the {device}: {memory_figures(torch, device)}")
    except RuntimeError as error:
        if "CUDA" in str(error):
            raise JobError("CUDA_ERROR", f"CUDA error: {str(error).splitlines()[0]} ({memory_figures(torch, device)})")
        raise


def main(run):
    """Reads the job, runs it, reports a failure as one error line; the exit code says whether it succeeded."""
    line = sys.stdin.readline()
    die_with_parent()
    # Library output (progress bars, logs) must not mix with the JSON lines.
    sys.stdout = sys.stderr
    try:
        job = json.loads(line)
        run(job)
    except JobError as error:
        emit({"type": "error", "code": error.code, "message": str(error)})
        return 1
    except Exception as error:  # noqa: BLE001: any failure of a library is the job's error, named
        emit({"type": "error", "code": "LIBRARY_ERROR", "message": f"{type(error).__name__}: {error}"})
        return 1
    return 0
