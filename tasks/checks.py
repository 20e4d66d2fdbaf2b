"""One expectation of the quality check, as data: its severity, the great-expectations class it runs, its
arguments and why it holds. Suites (tasks/quality_suites.py) and attribute stages (tasks/attributes/) declare
them; only `speechcraft check` imports great-expectations to run them, so declaring one costs nothing."""
from __future__ import annotations

from dataclasses import dataclass

CRITICAL, WARNING = "critical", "warning"


@dataclass(frozen=True)
class Check:
    severity: str
    expectation: str              # a great_expectations.expectations class name
    kwargs: dict
    why: str

    @property
    def name(self) -> str:
        """Unique within its suite: the expectation, its columns, and its range where it has one."""
        columns = self.kwargs.get("column") or self.kwargs.get("column_list") or \
            [self.kwargs.get("column_A"), self.kwargs.get("column_B")]
        arguments = [", ".join(columns) if isinstance(columns, list) else columns]
        if "min_value" in self.kwargs or "max_value" in self.kwargs:
            arguments.append(f"{self.kwargs.get('min_value', '')}..{self.kwargs.get('max_value', '')}")
        return f"{_snake(self.expectation)}({', '.join(arguments)})"


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")


def critical(expectation: str, why: str, **kwargs) -> Check:
    return Check(CRITICAL, expectation, kwargs, why)


def warning(expectation: str, why: str, **kwargs) -> Check:
    return Check(WARNING, expectation, kwargs, why)


def key_checks(*columns: str) -> list[Check]:
    """The key is present and unique: the upserts' contract."""
    checks = [critical("ExpectColumnValuesToNotBeNull", "every row has its key", column=c) for c in columns]
    if len(columns) == 1:
        checks.append(critical("ExpectColumnValuesToBeUnique", "one row per key: a re-run never duplicates",
                               column=columns[0]))
    else:
        checks.append(critical("ExpectCompoundColumnsToBeUnique", "one row per key: a re-run never duplicates",
                               column_list=list(columns)))
    return checks


def in_vocabulary(column: str, values, what: str) -> Check:
    return critical("ExpectColumnValuesToBeInSet", f"{what} inside its vocabulary (docs/annotation-contract.md)",
                    column=column, value_set=list(values))


def probability(column: str) -> Check:
    return critical("ExpectColumnValuesToBeBetween", "a probability", column=column, min_value=0.0, max_value=1.0)
