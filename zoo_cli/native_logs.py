"""TensorFlow's native log lines, held back from the console.

Importing TensorFlow and finding its devices makes its C++ side write lines such as
`I0000 ... oneDNN custom operations are on`, `failed call to cuInit` (no GPU) and
`All log messages before absl::InitializeLog()` straight to file descriptor 2. They come
from absl's logging, which `TF_CPP_MIN_LOG_LEVEL` does not filter in TF 2.21, so the
only way to hide them is to point descriptor 2 elsewhere.

`held_back()` does that for a whole command: descriptor 2 goes to a temporary file,
while Python's own `sys.stderr` (the CLI's error lines, warnings, tracebacks) keeps
writing to the console through a copy of the original descriptor. If the command ends in
an exception that is a bug (not a user error with its one-line message), the held lines
are printed before its traceback, so a broken install still explains itself.
`zoo --verbose` skips all this.
"""

import contextlib
import io
import os
import sys
import tempfile


def python_stderr_fd():
    """The descriptor behind sys.stderr (2, or the console's copy inside `held_back`),
    or None when sys.stderr is not a file (a test's capture object)."""
    try:
        return sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):
        return None


@contextlib.contextmanager
def held_back(is_user_error):
    """Descriptor 2 to a temporary file for the block, sys.stderr to the console.

    `is_user_error(exception) -> bool`: exceptions for which the held lines are dropped.
    """
    if python_stderr_fd() != 2:
        yield
        return
    sys.stderr.flush()
    console = os.dup(2)
    python_stderr = sys.stderr
    sys.stderr = io.TextIOWrapper(os.fdopen(console, "wb", buffering=0),
                                  encoding=python_stderr.encoding, errors="backslashreplace",
                                  line_buffering=True)
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        try:
            yield
        except Exception as error:
            if is_user_error(error):
                raise
            held.seek(0)
            sys.stderr.write(held.read().decode(errors="replace"))
            raise
        finally:
            sys.stderr.flush()
            os.dup2(sys.stderr.fileno(), 2)
            sys.stderr.close()
            sys.stderr = python_stderr
