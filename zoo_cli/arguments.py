"""Argument types and the parser class of the `zoo` command: every user error is one
line, `zoo COMMAND: error: ... (see zoo COMMAND --help)`, exit status 2."""

import argparse


class OneLineParser(argparse.ArgumentParser):
    """argparse without the usage block on errors; its sub-parsers are of this class too."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def whole_number(low, high):
    """An argparse type: an int from `low` to `high`, else an error argparse prefixes with
    the flag's name."""
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            span = f"from {low} to {high}" if high < 2**63 - 1 else f"of {low} or more"
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number {span}")
        return value

    parse.__name__ = "whole number"
    return parse


def at_least_one(text):
    """The type of counts such as --steps and --epochs: a whole number >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, got {value}")
    return value
